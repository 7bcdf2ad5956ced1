"""The stored users checked against the service's rules: key collisions, unreadable values, rekey.

A unique field (``name``, ``email``) is stored with its key (``name_key``, ``email_key``: see
:meth:`user_core.model.UniqueText.identity_of` and :mod:`user_core.identity`), and the unique
constraints are on the keys. Rows that another writer stored need checking at once: a legacy
database adopted by a migration (written under a case-sensitive rule, with values the service may
refuse), and :func:`rekey`, which recomputes each key by the service's current rule (a writer
that left the database to compute it, a Python upgrade with a newer Unicode version, a new
identity rule). Both refuse to change anything while two users would share a key or a value is
one the service cannot read, and report every one.

A value that today's rules refuse but an earlier rule accepted (a name mixing scripts, stored
before the identity rules) is no obstacle: the service reads and serves it as stored
(:meth:`~user_core.model.TextValue.read`), its key computed by today's rule, and :func:`scan`
lists it apart (``kept``) so an operator can ask its user to choose another.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Final

from sqlalchemy import Connection, bindparam, func, select, text
from sqlalchemy.dialects.postgresql import aggregate_order_by

from user_core.model import USER_FIELDS, InvalidValue, UniqueText, UserField
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


@dataclass(frozen=True, slots=True)
class UnreadableValue:
    """A stored value the service refuses, so it could not serve the user."""

    user_id: int
    field: str
    value: str | None
    reason: str

    def describe(self) -> str:
        """One line: the user, the field, its value and what is wrong with it."""
        return f"user {self.user_id}: {self.field} {self.value!r} {self.reason}"


class KeyCollisions(RuntimeError):
    """Users share a key, or hold values the service refuses: nothing was changed.

    ``collisions`` lists every group of users sharing a key, ``unreadable`` every bad value.
    """

    def __init__(
        self,
        collisions: Sequence[KeyCollision],
        doing: str,
        unreadable: Sequence[UnreadableValue] = (),
    ) -> None:
        self.collisions = tuple(collisions)
        self.unreadable = tuple(unreadable)
        problems = []
        if self.collisions:
            fields = list(dict.fromkeys(collision.field for collision in self.collisions))
            problems.append(
                f"{_counted(len(self.collisions), 'group')} of users share "
                f"{' or '.join(_with_article(field) for field in fields)} as the service compares "
                f"them, ignoring case, width and spacing (rename all but one user of each group)"
            )
        if self.unreadable:
            problems.append(
                f"{_counted(len(self.unreadable), 'value')} "
                f"{'breaks' if len(self.unreadable) == 1 else 'break'} the service's rules "
                f"(correct each)"
            )
        problems_found: list[KeyCollision | UnreadableValue] = [*self.collisions, *self.unreadable]
        lines = "\n".join(f"  {problem.describe()}" for problem in problems_found)
        super().__init__(
            f"cannot {doing}: {'; '.join(problems)}. Nothing was changed; run it again once "
            f"they are fixed.\n{lines}"
        )


def _with_article(noun: str) -> str:
    return f"an {noun}" if noun[0] in "aeiou" else f"a {noun}"


def _counted(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


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


@dataclass(slots=True)
class StoredUsers:
    """What :func:`scan` found: the users read, keys to rewrite, and what stops a change."""

    count: int = 0
    rewrites: dict[str, list[dict[str, object]]] = dataclass_field(default_factory=dict)
    collisions: list[KeyCollision] = dataclass_field(default_factory=list)
    unreadable: list[UnreadableValue] = dataclass_field(default_factory=list)
    kept: list[UnreadableValue] = dataclass_field(default_factory=list)
    """Values today's rules refuse, read and served as stored: no obstacle, but worth a rename."""

    def refuse(self, doing: str) -> None:
        """Raise :class:`KeyCollisions` for ``doing`` if anything stops it."""
        if self.collisions or self.unreadable:
            raise KeyCollisions(self.collisions, doing, self.unreadable)


def scan(connection: Connection, fields: Sequence[UserField] = USER_FIELDS) -> StoredUsers:
    """Read every user's ``fields`` as the service reads them, and their keys by its rule.

    ``fields`` are the ones stored in columns already (a migration passes those it has); a
    unique field's key column is compared when it exists.
    """
    columns = _existing_columns(connection)
    selected = [users.c.id, *(users.c[each.name] for each in fields)]
    keyed = [each for each in fields if each.unique and key_column(each.name) in columns]
    selected += [users.c[key_column(each.name)] for each in keyed]
    holders: dict[str, dict[str, list[tuple[int, str]]]] = defaultdict(lambda: defaultdict(list))
    found = StoredUsers(rewrites={each.name: [] for each in keyed})
    after_id = 0
    while rows := connection.execute(
        select(*selected).where(users.c.id > after_id).order_by(users.c.id).limit(REKEY_BATCH_SIZE)
    ).all():
        for row_id, *stored in rows:
            values = dict(zip([each.name for each in fields], stored[: len(fields)], strict=True))
            old_keys = dict(zip([each.name for each in keyed], stored[len(fields) :], strict=True))
            for each in fields:
                value = values[each.name]
                if value is None:
                    if not each.optional:
                        found.unreadable.append(
                            UnreadableValue(row_id, each.name, None, "is required")
                        )
                    continue
                try:
                    read = each.kind(value)
                except InvalidValue as error:
                    try:
                        read = each.kind.read(value)
                    except InvalidValue:
                        found.unreadable.append(
                            UnreadableValue(row_id, each.name, value, str(error))
                        )
                        continue
                    found.kept.append(UnreadableValue(row_id, each.name, value, str(error)))
                if isinstance(read, UniqueText):
                    holders[each.name][read.key].append((row_id, value))
                    if each.name in old_keys and read.key != old_keys[each.name]:
                        found.rewrites[each.name].append({"row_id": row_id, "new_key": read.key})
        after_id = rows[-1].id
        found.count += len(rows)
    found.collisions.extend(
        KeyCollision(name, key, tuple(holding))
        for name, keys in holders.items()
        for key, holding in sorted(keys.items())
        if len(holding) > 1
    )
    return found


def _existing_columns(connection: Connection) -> set[str]:
    return set(
        connection.execute(
            text(
                "SELECT column_name FROM information_schema.columns"
                " WHERE table_schema = current_schema() AND table_name = 'users'"
            )
        ).scalars()
    )


@dataclass(frozen=True, slots=True)
class Rekeyed:
    """What :func:`rekey` did: users read, keys rewritten by field, values kept as stored."""

    users: int
    changed: dict[str, int]
    kept: tuple[UnreadableValue, ...] = ()


def rekey(connection: Connection) -> Rekeyed:
    """Recompute every unique field's key from the stored values, in the caller's transaction.

    Writes are locked out of ``users`` meanwhile (reads go on). Raises :class:`KeyCollisions`,
    having written nothing, when the new keys would make two users share one, or a stored value
    is one the service refuses.
    """
    connection.execute(text("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE"))
    found = scan(connection)
    found.refuse("recompute the keys")
    for name, rewrites in found.rewrites.items():
        for start in range(0, len(rewrites), REKEY_BATCH_SIZE):
            connection.execute(
                users.update()
                .where(users.c.id == bindparam("row_id"))
                .values({key_column(name): bindparam("new_key")}),
                rewrites[start : start + REKEY_BATCH_SIZE],
            )
    changed = {name: len(rewrites) for name, rewrites in found.rewrites.items()}
    return Rekeyed(found.count, changed, tuple(found.kept))
