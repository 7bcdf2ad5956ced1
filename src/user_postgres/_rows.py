"""Rows ↔ entities: the only place that knows how a user is spread over columns."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row

from user_core.model import (
    EmailAddress,
    OtherInfo,
    Unset,
    User,
    UserChanges,
    UserDraft,
    UserName,
)


def user_from_row(row: Row[*tuple[Any, ...]]) -> User:
    """The user in a row of :data:`~user_postgres._statements.USER_COLUMNS`."""
    user_id, name, email, other, created_at, updated_at, version = row
    return User(
        id=user_id,
        name=UserName(name),
        email=None if email is None else EmailAddress(email),
        other=None if other is None else OtherInfo(other),
        created_at=created_at,
        updated_at=updated_at,
        version=version,
    )


def changed_columns(changes: UserChanges) -> dict[str, Any]:
    """The column values that ``changes`` sets, keys included; untouched columns are absent."""
    values: dict[str, Any] = {}
    if not isinstance(changes.name, Unset):
        values["name"] = changes.name.value
        values["name_key"] = changes.name.key
    if not isinstance(changes.email, Unset):
        values["email"] = None if changes.email is None else changes.email.value
        values["email_key"] = None if changes.email is None else changes.email.key
    if not isinstance(changes.other, Unset):
        values["other"] = None if changes.other is None else changes.other.value
    return values


def draft_columns(draft: UserDraft) -> dict[str, Any]:
    """The column values of a new user made from ``draft``, keys included."""
    return changed_columns(UserChanges.replacing_with(draft))
