"""The stored identity keys of the unique fields: finding collisions, and recomputing every key.

A unique field (``name``, ``email``) is stored with its key (``name_key``, ``email_key``: see
:func:`user_core.model.identity_key`), and the unique constraints are on the keys. Two cases need
every key at once: a legacy database adopted by a migration (rows written under a case-sensitive
rule), and :func:`rekey`, which recomputes each key by the service's current rule (a writer that
left the database to compute it, a Python upgrade with a newer Unicode version). Both refuse to
change anything while two users would share a key, and report every group that does.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from sqlalchemy import Connection, bindparam, func, select, text
from sqlalchemy.dialects.postgresql import aggregate_order_by

from user_core.model import USER_FIELDS, TextValue, identity_key
from user_postgres.tables import key_column, users

REKEY_BATCH_SIZE: Final = 5_000
"""Rows read, and keys rewritten, per statement."""


@dataclass(frozen=True, slots=True)
class KeyCollision:
    """Users whose values of one unique field share a key: ``(id, stored value)`` by id."""

    field: str
    key: str
    users: tuple[tuple[int, str], ...]

    def describe(self) -> str:
        """One line: the field, the shared key, the users' ids and their values."""
        ids = [user_id for user_id, _ in self.users]
        values = ", ".join(repr(value) for _, value in self.users)
        return f"{self.field} {self.key!r}: users {ids} ({values})"


class KeyCollisions(RuntimeError):
    """Users share a key, so nothing was changed; ``collisions`` lists every group."""

    def __init__(self, collisions: Sequence[KeyCollision], doing: str) -> None:
        self.collisions = tuple(collisions)
        fields = sorted({collision.field for collision in self.collisions})
        lines = "\n".join(f"  {collision.describe()}" for collision in self.collisions)
        super().__init__(
            f"cannot {doing}: {len(self.collisions)} groups of users share a "
            f"{' or '.join(fields)} ignoring case, and nothing was changed. Rename all but one "
            f"user of each group, then run it again.\n{lines}"
        )


def stored_collisions(connection: Connection, fields: Iterable[str]) -> list[KeyCollision]:
    """Every group of users whose stored keys of these fields are equal, by field and key."""
    found: list[KeyCollision] = []
    for field in fields:
        key = users.c[key_column(field)]
        value = users.c[field]
        groups = connection.execute(
            select(
                key,
                func.array_agg(aggregate_order_by(users.c.id, users.c.id)),
                func.array_agg(aggregate_order_by(value, users.c.id)),
            )
            .where(key.is_not(None))
            .group_by(key)
            .having(func.count() > 1)
            .order_by(key)
        ).all()
        found.extend(
            KeyCollision(field, shared, tuple(zip(ids, values, strict=True)))
            for shared, ids, values in groups
        )
    return found


@dataclass(frozen=True, slots=True)
class Rekeyed:
    """What :func:`rekey` did: users read, and keys rewritten by field."""

    users: int
    changed: dict[str, int]


def service_key(kind: type[TextValue], stored: str) -> str:
    """The key the service gives a stored value: its rule applied to the value as stored."""
    return identity_key(kind.normalise(stored))


def rekey(connection: Connection) -> Rekeyed:
    """Recompute every unique field's key from the stored values, in the caller's transaction.

    Writes are locked out of ``users`` meanwhile (reads go on). Raises :class:`KeyCollisions`,
    having written nothing, when the new keys would make two users share one.
    """
    unique = [field for field in USER_FIELDS if field.unique]
    connection.execute(text("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE"))
    holders: dict[str, dict[str, list[tuple[int, str]]]] = {
        field.name: defaultdict(list) for field in unique
    }
    changes: dict[str, list[dict[str, object]]] = {field.name: [] for field in unique}
    count = 0
    after_id = 0
    columns = [users.c.id]
    for field in unique:
        columns += [users.c[field.name], users.c[key_column(field.name)]]
    while rows := connection.execute(
        select(*columns).where(users.c.id > after_id).order_by(users.c.id).limit(REKEY_BATCH_SIZE)
    ).all():
        for row_id, *stored in rows:
            for field, value, old_key in zip(unique, stored[::2], stored[1::2], strict=True):
                if value is None:
                    continue
                key = service_key(field.kind, value)
                holders[field.name][key].append((row_id, value))
                if key != old_key:
                    changes[field.name].append({"row_id": row_id, "new_key": key})
        count += len(rows)
        after_id = rows[-1].id
    collisions = [
        KeyCollision(name, key, tuple(holding))
        for name, keys in holders.items()
        for key, holding in sorted(keys.items())
        if len(holding) > 1
    ]
    if collisions:
        raise KeyCollisions(collisions, "recompute the keys")
    for name, rewrites in changes.items():
        for start in range(0, len(rewrites), REKEY_BATCH_SIZE):
            connection.execute(
                users.update()
                .where(users.c.id == bindparam("row_id"))
                .values({key_column(name): bindparam("new_key")}),
                rewrites[start : start + REKEY_BATCH_SIZE],
            )
    return Rekeyed(count, {name: len(rewrites) for name, rewrites in changes.items()})
