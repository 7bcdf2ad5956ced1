"""From a request's path and body to the core's inputs, reporting every bad field at once.

A body may carry the resource's output-only fields back (:class:`~user_http.schemas.OutputOnly`):
they are ignored, except that on a write to ``/users/{id}`` an ``id`` other than the path's is
an error and a ``version`` becomes the version the write is conditional on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import msgspec

from user_core import (
    MAX_USER_ID,
    MIN_USER_ID,
    USER_FIELDS,
    FieldError,
    InvalidInput,
    UserChanges,
    UserDraft,
)
from user_http.body import BodyErrors, StrictDecoder
from user_http.schemas import OutputOnly, UserInput, UserMergePatch

T = TypeVar("T")
_USER_FIELD_NAMES = frozenset(field.name for field in USER_FIELDS)
_INPUT = StrictDecoder(UserInput)
_PATCH = StrictDecoder(UserMergePatch)
_MAX_ID_DIGITS = len(str(MAX_USER_ID))
_BAD_ID = f"must be a decimal integer from {MIN_USER_ID} to {MAX_USER_ID}"


def user_id(text: str) -> int:
    """The id in a path; anything but a decimal integer in the id range is ``InvalidInput``."""
    digits = text.lstrip("0")
    if not (text.isascii() and text.isdigit() and len(digits) <= _MAX_ID_DIGITS):
        raise InvalidInput.single("id", _BAD_ID)
    value = int(digits or "0")
    if not MIN_USER_ID <= value <= MAX_USER_ID:
        raise InvalidInput.single("id", _BAD_ID)
    return value


@dataclass(frozen=True, slots=True)
class Sent(Generic[T]):
    """What a body asks for, and the ``version`` of the user it says it was read at (if any)."""

    value: T
    version: int | None


def user_draft(body: bytes, target: int | None = None) -> Sent[UserDraft]:
    """The draft in a ``POST`` body, or in a ``PUT`` body for the user ``target``.

    With ``target``, an ``id`` in the body must be ``target`` and a ``version`` is returned;
    without, both are ignored.
    """
    try:
        given = _INPUT.decode(body)
    except BodyErrors as failure:
        raise _every_error(failure, _INPUT.field_order, target) from None
    draft = _checked(given, _INPUT.field_order, target, UserDraft.parse)
    return Sent(draft, _version(given, target))


def canonical_input(body: bytes) -> bytes:
    """A ``POST`` body that :func:`user_draft` accepted, in canonical form.

    The user's fields in the schema's order, an absent optional field as ``null``, no
    insignificant whitespace, without the ignored output-only fields: two bodies with the same
    values have the same canonical form.
    """
    given = _INPUT.decode(body)
    return msgspec.json.encode({field.name: getattr(given, field.name) for field in USER_FIELDS})


def user_changes(body: bytes, target: int) -> Sent[UserChanges]:
    """The changes in a ``PATCH`` body (a JSON merge patch) for the user ``target``."""
    try:
        given = _PATCH.decode(body)
    except BodyErrors as failure:
        raise _every_error(failure, _PATCH.field_order, target) from None
    changes = _checked(given, _PATCH.field_order, target, UserChanges.parse)
    return Sent(changes, _version(given, target))


def _user_values(given: msgspec.Struct) -> dict[str, Any]:
    """The given values of the user's own fields, by name."""
    return {
        name: value
        for name in _USER_FIELD_NAMES
        if (value := getattr(given, name)) is not msgspec.UNSET
    }


def _checked(
    given: OutputOnly, field_order: dict[str, int], target: int | None, parse: Callable[..., T]
) -> T:
    """``parse`` of the user's fields, with the id check's error listed among theirs."""
    errors = _id_errors(given.id, target)
    try:
        parsed = parse(**_user_values(given))
    except InvalidInput as invalid:
        raise _sorted([*errors, *invalid.errors], field_order) from None
    if errors:
        raise InvalidInput(errors)
    return parsed


def _id_errors(sent_id: object, target: int | None) -> list[FieldError]:
    if target is None or sent_id is msgspec.UNSET or sent_id == target:
        return []
    return [FieldError("id", f"must be {target}, the id in the path, when given")]


def _version(given: OutputOnly, target: int | None) -> int | None:
    return None if target is None or given.version is msgspec.UNSET else given.version


def _every_error(
    failure: BodyErrors, field_order: dict[str, int], target: int | None
) -> InvalidInput:
    """The type errors of the body and the value errors of its well-typed fields, in one list."""
    errors = list(failure.errors)
    given = failure.well_typed
    errors.extend(_id_errors(given.get("id", msgspec.UNSET), target))
    # UserChanges checks each given field by the same value objects as UserDraft does, and
    # unlike UserDraft.parse it needs no value for the fields that had a type error.
    well_typed = {
        field.name: value
        for field in USER_FIELDS
        if isinstance(value := given.get(field.name), str) or (value is None and field.optional)
        if field.name in given
    }
    try:
        UserChanges.parse(**well_typed)
    except InvalidInput as invalid:
        errors.extend(invalid.errors)
    return _sorted(errors, field_order)


def _sorted(errors: list[FieldError], field_order: dict[str, int]) -> InvalidInput:
    unknown = len(field_order)
    errors.sort(key=lambda error: field_order.get(error.field, unknown))
    return InvalidInput(errors)
