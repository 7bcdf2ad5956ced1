"""The JSON of the wire contract (the user resource, the page) to and from `user_core` objects.

Field names come from :data:`user_core.USER_FIELDS`, so a field added to the domain travels
without a change here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from user_core import (
    USER_FIELDS,
    Cursor,
    Page,
    PageRequest,
    User,
    UserChanges,
    UserDraft,
    UserField,
)


def body_of(values: UserDraft | UserChanges) -> dict[str, str | None]:
    """The JSON body of ``values``, ``null`` for an absent optional field.

    A draft (``POST /users``, ``PUT /users/{id}``) gives every field; changes give only the fields
    they set, which is the JSON merge patch of ``PATCH /users/{id}``.
    """
    return {
        name: None if value is None else value.value
        for name, value in values.field_values().items()
    }


def user_of(resource: Mapping[str, Any]) -> User:
    """The domain user in a user resource.

    An optional field the resource lacks is ``None``: a server older than this client, which does
    not know the field yet, still answers with users this client can read.
    """
    texts: dict[str, Any] = {
        field.name: None if (value := _text(resource, field)) is None else field.kind(value)
        for field in USER_FIELDS
    }
    updated_at = resource["updated_at"]
    return User(
        id=int(resource["id"]),
        **texts,
        created_at=datetime.fromisoformat(resource["created_at"]),
        updated_at=None if updated_at is None else datetime.fromisoformat(updated_at),
        version=int(resource["version"]),
    )


def _text(resource: Mapping[str, Any], field: UserField) -> Any:
    return resource.get(field.name) if field.optional else resource[field.name]


def page_of(body: Mapping[str, Any]) -> Page:
    """The domain page in a ``GET /users`` body."""
    cursor = body.get("next_cursor")
    total = body.get("total")
    return Page(
        users=[user_of(resource) for resource in body["users"]],
        next_cursor=None if cursor is None else Cursor.decode(cursor, "next_cursor"),
        total=None if total is None else int(total),
    )


def page_query(request: PageRequest) -> dict[str, str]:
    """The query parameters of ``GET /users`` for this request (defaults left out)."""
    query = {"limit": str(request.limit)}
    if request.offset:
        query["offset"] = str(request.offset)
    if request.cursor is not None:
        query["cursor"] = request.cursor.encode()
    if request.name is not None:
        query["name"] = request.name
    if request.email is not None:
        query["email"] = request.email
    if request.with_total:
        query["total"] = "true"
    return query
