"""Let other writers (the Go service during a cut-over) write users this service can serve.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

The trigger ``users_fill_in`` runs before every ``INSERT`` and ``UPDATE`` of ``users`` and fills
in what a writer that knows only the Go service's columns (``name``, ``other``, ``created_at``,
``updated_at``) leaves out. The rule:

- **keys**: a row inserted without ``name_key`` (or with an ``email`` but no ``email_key``), or
  updated to a new ``name`` (``email``) with its key left as it was, gets the key
  ``normalize(lower(btrim(value)), NFC)``. That is the service's own rule (Unicode case folding
  after stripping and NFC, computed in Python) for ASCII and almost all other text, but not for
  the few characters whose case folding differs from their lower case (``ß``, final ``ς``, ...)
  and, under a ``C`` or ``POSIX`` database locale, not beyond ASCII: ``user-service migrate
  rekey`` recomputes every key exactly, and reports the collisions the database's rule missed;
- **version**: ``INSERT`` without one gets the column default 1; an ``UPDATE`` that changes any
  column but the keys and leaves ``version`` as it was gets ``version + 1`` (this service always
  sets the next version itself, so its own writes are left alone, and so are key rewrites);
- **names**: a blank name, or one with a C0 or C1 control character, is refused
  (``check_violation``, ``users_name_readable``), as this service refuses it: it could not read
  the row back;
- **other**: while the database still has the Go service's ``schema_migrations`` (adopted, and
  the Go service may still run on it), a user written by an ``INSERT`` or a change without
  ``other`` is stored with ``''`` instead of ``NULL``, because the Go service reads ``other``
  into a Go ``string``, which cannot hold ``NULL``.

The downgrade drops the trigger and its function; the rows keep what it filled in.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEY = "normalize(lower(btrim({0})), NFC)"
_FUNCTION = f"""
CREATE FUNCTION users_fill_in() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF btrim(NEW.name) = '' OR NEW.name ~ '[\\x01-\\x1f\\x7f-\\x9f]' THEN
        RAISE EXCEPTION 'name % is blank or holds a control character', quote_literal(NEW.name)
            USING ERRCODE = 'check_violation', CONSTRAINT = 'users_name_readable';
    END IF;
    IF TG_OP = 'INSERT' THEN
        IF NEW.name_key IS NULL THEN
            NEW.name_key := {_KEY.format("NEW.name")};
        END IF;
        IF NEW.email IS NOT NULL AND NEW.email_key IS NULL THEN
            NEW.email_key := {_KEY.format("NEW.email")};
        END IF;
    ELSIF NEW.version = OLD.version THEN
        IF to_jsonb(NEW) - 'name_key' - 'email_key'
                IS DISTINCT FROM to_jsonb(OLD) - 'name_key' - 'email_key' THEN
            NEW.version := OLD.version + 1;
            IF NEW.name IS DISTINCT FROM OLD.name AND NEW.name_key = OLD.name_key THEN
                NEW.name_key := {_KEY.format("NEW.name")};
            END IF;
            IF NEW.email IS DISTINCT FROM OLD.email
                    AND NEW.email_key IS NOT DISTINCT FROM OLD.email_key THEN
                NEW.email_key := {_KEY.format("NEW.email")};
            END IF;
        END IF;
    END IF;
    IF NEW.other IS NULL AND (TG_OP = 'INSERT' OR NEW.version <> OLD.version)
            AND to_regclass('schema_migrations') IS NOT NULL THEN
        NEW.other := '';
    END IF;
    RETURN NEW;
END
$$
"""


def upgrade() -> None:
    """Create the function and the trigger."""
    op.execute(_FUNCTION)
    op.execute(
        "CREATE TRIGGER users_fill_in BEFORE INSERT OR UPDATE ON users"
        " FOR EACH ROW EXECUTE FUNCTION users_fill_in()"
    )


def downgrade() -> None:
    """Drop them; what they filled in stays."""
    op.execute("DROP TRIGGER users_fill_in ON users")
    op.execute("DROP FUNCTION users_fill_in()")
