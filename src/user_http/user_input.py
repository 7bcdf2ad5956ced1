"""From a request's path and body to the core's inputs, reporting every bad field at once."""

from __future__ import annotations

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
from user_http.body import BODY_FIELD, BodyErrors, StrictDecoder
from user_http.schemas import UserInput, UserMergePatch

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


def user_draft(body: bytes) -> UserDraft:
    """The draft in a ``POST`` or ``PUT`` body."""
    try:
        given = _INPUT.decode(body)
    except BodyErrors as failure:
        raise _every_error(failure, _INPUT.field_order) from None
    return UserDraft.parse(**msgspec.structs.asdict(given))


def canonical_input(body: bytes) -> bytes:
    """A ``POST`` body that :func:`user_draft` accepted, in canonical form.

    Fields in the schema's order, an absent optional field as ``null``, no insignificant
    whitespace: two bodies with the same values have the same canonical form.
    """
    return msgspec.json.encode(_INPUT.decode(body))


def user_changes(body: bytes) -> UserChanges:
    """The changes in a ``PATCH`` body (a JSON merge patch)."""
    try:
        given = _PATCH.decode(body)
    except BodyErrors as failure:
        raise _every_error(failure, _PATCH.field_order) from None
    given_fields = msgspec.structs.asdict(given)
    return UserChanges.parse(
        **{name: value for name, value in given_fields.items() if value is not msgspec.UNSET}
    )


def _every_error(failure: BodyErrors, field_order: dict[str, int]) -> InvalidInput:
    """The type errors of the body and the value errors of its well-typed fields, in one list."""
    errors = list(failure.errors)
    given = failure.well_typed
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
    if not errors:
        # The typed decode saw a value that the object decode overwrote: a repeated field.
        errors.append(FieldError(BODY_FIELD, "must not repeat a field"))
    unknown = len(field_order)
    errors.sort(key=lambda error: field_order.get(error.field, unknown))
    return InvalidInput(errors)
