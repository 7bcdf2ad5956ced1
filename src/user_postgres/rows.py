"""Rows ↔ entities: how a user is spread over columns, derived from the domain's field list.

Each field of :data:`~user_core.model.USER_FIELDS` is a column of its own name holding the value
object's text; a unique field also has its identity key in :func:`~user_postgres.tables.key_column`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from user_core.model import USER_FIELDS, User
from user_postgres.tables import key_column

_KEY_COLUMNS: dict[str, str] = {
    field.name: key_column(field.name) for field in USER_FIELDS if field.unique
}


def user_from_row(row: Mapping[Any, Any], checked: Mapping[str, Any] | None = None) -> User:
    """The user in a row of :data:`~user_postgres.statements.USER_COLUMNS`, read by name.

    ``checked`` holds value objects the caller already has by field name (what it has just
    written): one whose text the row holds unchanged is taken as it is, not checked again; any
    other value is read anew (a trigger may have changed it, as the Go cut-over's fills in
    ``other``).
    """
    known = checked or {}
    values: dict[str, Any] = {}
    for field in USER_FIELDS:
        name = field.name
        text = row[name]
        value = known.get(name)
        if text is None:
            values[name] = None
        elif value is not None and value.value == text:
            values[name] = value
        else:
            values[name] = field.kind.read(text)
    return User(
        id=row["id"],
        **values,
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        version=row["version"],
    )


def columns(values: Mapping[str, Any]) -> dict[str, Any]:
    """The column values of these field values (by field name), keys included.

    ``UserDraft.field_values()`` gives every column of a new user; ``UserChanges.field_values()``
    only those a change sets. The caller passes the same values to :func:`user_from_row` after
    the write, so they are computed once.
    """
    columns: dict[str, Any] = {}
    for name, value in values.items():
        columns[name] = None if value is None else value.value
        if (key := _KEY_COLUMNS.get(name)) is not None:
            columns[key] = None if value is None else value.key
    return columns
