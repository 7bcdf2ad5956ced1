"""Recompute the name and email keys by the identity rule, and approximate it for other writers.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08

Until this revision two users were one identity when their values were equal ignoring case
(revision 0004). From it on they are one when a person reads them as one (see
``user_core.identity`` and the README's "Identity"): a name is compared in the PRECIS Nickname
profile (RFC 8266: non-ASCII spaces as spaces, runs of spaces as one, NFKC, then case folding),
and an email address by its local part case-folded in NFKC and its domain's IDNA A-label form
(UTS #46: ``bücher.de`` and ``xn--bcher-kva.de`` are one domain, ``example。com`` is
``example.com``). Invisible code points (default-ignorable ones, the braille blank) are left out
of the key of a value stored before they were refused, so ``root`` followed by a Hangul filler is
``root`` too.

Every stored value's key is recomputed here in Python by that rule, frozen below as of this
revision: a migration must compute the same keys whatever later versions of the service do. If
two users would share a key, the upgrade stops before writing anything and
:class:`~user_postgres.keys.KeyCollisions` lists every group of users to rename, as the adoption
of the Go service's database does. Values that the new rules refuse for new input (a name mixing
scripts, ``аdmin`` with a Cyrillic ``а``) stay: the service still reads and serves them, and this
revision logs them.

The ``users_fill_in`` trigger of revision 0006, which fills in the keys of rows written by other
writers (the Go service), gets the closest approximation of the new rule in SQL:
``normalize(lower(btrim(regexp_replace(normalize(value, NFKC), ' {2,}', ' ', 'g'))), NFKC)``.
It differs from the rule for the few characters whose case folding differs from their lower case
(``ß``), for domains written as U-labels (the rule keys them by their A-labels), for invisible
code points, and beyond ASCII under a ``C`` or ``POSIX`` database locale: such keys are
approximations until ``user-service migrate rekey`` recomputes them exactly. The offline
``--sql`` mode, which cannot run Python against the rows, recomputes the keys with the same
approximation.

The downgrade gives back revision 0004's keys (case folding and NFC, computed in Python) and
revision 0006's trigger.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Sequence

import idna
import sqlalchemy as sa
from alembic import context, op
from precis_i18n import get_profile
from precis_i18n.unicode import UnicodeData

from user_core.model import USER_FIELDS
from user_postgres.keys import KeyCollision, KeyCollisions, scan

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_logger = logging.getLogger(__name__)

_BATCH_SIZE = 5_000
_FIELDS = ("name", "email")
_users = sa.table(
    "users",
    sa.column("id", sa.BigInteger),
    sa.column("name", sa.Text),
    sa.column("email", sa.Text),
    sa.column("name_key", sa.Text),
    sa.column("email_key", sa.Text),
)

# A frozen copy of the service's rule as of this revision (what UserName.key and
# EmailAddress.key return for a stored value; the libraries are pinned in pyproject.toml). A
# change of rule needs a new migration.
_NICKNAME_KEY = get_profile("NicknameCaseMapped:CaseFold")
_UCD = UnicodeData()
_BLANK = frozenset({"\u2800", "\U0001d159"})
_SPACES = re.compile(r" {2,}")


def _visible(text: str) -> str:
    return "".join(
        char for char in text if char not in _BLANK and not _UCD.default_ignorable(ord(char))
    )


def _name_key(name: str) -> str:
    text = name.strip()
    if text.isascii():
        return _SPACES.sub(" ", text).lower()
    # The profile's rules applied twice, as its enforcement does, to what a person can see.
    visible = _visible(text)
    return _NICKNAME_KEY.apply_five_rules(_NICKNAME_KEY.apply_five_rules(visible))


def _local_key(local: str) -> str:
    if local.isascii():
        return local.lower()
    folded = unicodedata.normalize("NFKC", _visible(local)).casefold()
    return unicodedata.normalize("NFKC", folded)


def _domain_key(domain: str) -> str:
    if domain.isascii():
        return domain.lower()
    try:
        return idna.encode(domain, uts46=True, std3_rules=True, transitional=False).decode()
    except idna.IDNAError:
        return unicodedata.normalize("NFKC", domain.casefold())


def _email_key(email: str) -> str:
    local, at, domain = email.strip().rpartition("@")
    return f"{_local_key(local)}@{_domain_key(domain)}" if at else _local_key(domain)


def _case_folded_key(text: str) -> str:
    # Revision 0004's rule, for the downgrade.
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", text.strip()).casefold())


_FUNCTION = """
CREATE OR REPLACE FUNCTION users_fill_in() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF btrim(NEW.name) = '' OR NEW.name ~ '[\\x01-\\x1f\\x7f-\\x9f]' THEN
        RAISE EXCEPTION 'name % is blank or holds a control character', quote_literal(NEW.name)
            USING ERRCODE = 'check_violation', CONSTRAINT = 'users_name_readable';
    END IF;
    IF TG_OP = 'INSERT' THEN
        IF NEW.name_key IS NULL THEN
            NEW.name_key := {name_key};
        END IF;
        IF NEW.email IS NOT NULL AND NEW.email_key IS NULL THEN
            NEW.email_key := {email_key};
        END IF;
    ELSIF NEW.version = OLD.version THEN
        IF to_jsonb(NEW) - 'name_key' - 'email_key'
                IS DISTINCT FROM to_jsonb(OLD) - 'name_key' - 'email_key' THEN
            NEW.version := OLD.version + 1;
            IF NEW.name IS DISTINCT FROM OLD.name AND NEW.name_key = OLD.name_key THEN
                NEW.name_key := {name_key};
            END IF;
            IF NEW.email IS DISTINCT FROM OLD.email
                    AND NEW.email_key IS NOT DISTINCT FROM OLD.email_key THEN
                NEW.email_key := {email_key};
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
# The identity rule as far as SQL goes (see the docstring), and revision 0006's.
_IDENTITY_KEY = (
    "normalize(lower(btrim(regexp_replace(normalize({0}, NFKC), ' {{2,}}', ' ', 'g'))), NFKC)"
)
_CASE_FOLDED_KEY = "normalize(lower(btrim({0})), NFC)"
_SET_KEYS = "UPDATE users SET name_key = {0}, email_key = {1}"


def _fill_in_function(key: str) -> str:
    return _FUNCTION.replace("{name_key}", key.format("NEW.name")).replace(
        "{email_key}", key.format("NEW.email")
    )


def upgrade() -> None:
    """Recompute the keys (refusing collisions), then the trigger's approximation of them."""
    if context.is_offline_mode():
        op.execute(_SET_KEYS.format(_IDENTITY_KEY.format("name"), _IDENTITY_KEY.format("email")))
    else:
        connection = op.get_bind()
        _log_kept(connection)
        _rekey(connection, _name_key, _email_key, "compare names and emails as one identity each")
    op.execute(_fill_in_function(_IDENTITY_KEY))


def downgrade() -> None:
    """Revision 0004's keys and revision 0006's trigger."""
    if context.is_offline_mode():
        keys = (_CASE_FOLDED_KEY.format("name"), _CASE_FOLDED_KEY.format("email"))
        op.execute(_SET_KEYS.format(*keys))
    else:
        _rekey(op.get_bind(), _case_folded_key, _case_folded_key, "compare names ignoring case")
    op.execute(_fill_in_function(_CASE_FOLDED_KEY))


def _log_kept(connection: sa.Connection) -> None:
    # By the service's rules of the day: what it reads as stored, though it would refuse it now.
    found = scan(connection, [field for field in USER_FIELDS if field.name in {"name", "email"}])
    for value in found.kept:
        _logger.warning(
            "Kept as stored, though new values like it are refused: %s", value.describe()
        )


def _rekey(
    connection: sa.Connection,
    name_key: Callable[[str], str],
    email_key: Callable[[str], str],
    doing: str,
) -> None:
    """Compute every key by the rule given; if none is shared, write those that changed."""
    holders: dict[tuple[str, str], list[tuple[int, str]]] = defaultdict(list)
    rewrites: list[dict[str, object]] = []
    after_id = 0
    while rows := connection.execute(
        sa.select(_users.c.id, _users.c.name, _users.c.email, _users.c.name_key, _users.c.email_key)
        .where(_users.c.id > after_id)
        .order_by(_users.c.id)
        .limit(_BATCH_SIZE)
    ).all():
        for row_id, name, email, old_name_key, old_email_key in rows:
            new_name_key = name_key(name)
            new_email_key = None if email is None else email_key(email)
            holders["name", new_name_key].append((row_id, name))
            if email is not None and new_email_key is not None:
                holders["email", new_email_key].append((row_id, email))
            if (new_name_key, new_email_key) != (old_name_key, old_email_key):
                rewrites.append(
                    {"row_id": row_id, "new_name_key": new_name_key, "new_email_key": new_email_key}
                )
        after_id = rows[-1].id
    collisions = [
        KeyCollision(field, key, tuple(users))
        for (field, key), users in sorted(
            holders.items(), key=lambda item: _FIELDS.index(item[0][0])
        )
        if len(users) > 1
    ]
    if collisions:
        raise KeyCollisions(collisions, doing)
    # A row's new key could be another row's old key only if the two were one identity by both
    # rules, which the unique constraints and the check above refuse: so they hold row by row.
    for start in range(0, len(rewrites), _BATCH_SIZE):
        connection.execute(
            _users.update()
            .where(_users.c.id == sa.bindparam("row_id"))
            .values(name_key=sa.bindparam("new_name_key"), email_key=sa.bindparam("new_email_key")),
            rewrites[start : start + _BATCH_SIZE],
        )
