"""Request bodies: media type, size limit while streaming, and strict JSON decoding.

msgspec stops at the first error, so a body that fails the fast typed decode is decoded again as
an object of raw values and every field is checked on its own, to report every bad field at once.

A member name given twice in one object is refused, as I-JSON (RFC 7493) requires: msgspec keeps
the last value, and a proxy or firewall that keeps the first would disagree with the service
about what was stored. msgspec cannot tell, so the standard library's C scanner, with a hook on
each object's members, checks a well-formed body (about 2 µs for a user's body) unless a few
substring counts show it cannot repeat a member (:meth:`StrictDecoder.may_repeat_a_member`).
"""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Final, Generic, TypeVar

import msgspec
import msgspec.inspect as mi
from starlette.requests import ClientDisconnect, Request

from user_core import FieldError
from user_http.errors import ContentTooLarge, UnsupportedMediaType
from user_http.schemas import MAX_BODY_BYTES

JSON_MEDIA_TYPES: Final = frozenset({"application/json"})
MERGE_PATCH_MEDIA_TYPES: Final = frozenset({"application/merge-patch+json", "application/json"})

BODY_FIELD: Final = "body"
"""The ``field`` of an error about the body as a whole."""

S = TypeVar("S", bound=msgspec.Struct)

# What msgspec raises for bytes that are not JSON at all: invalid UTF-8 surfaces as
# UnicodeDecodeError, and nesting deeper than the interpreter's recursion limit as RecursionError.
_MALFORMED = (msgspec.DecodeError, UnicodeDecodeError, RecursionError)
_RAW_OBJECT = msgspec.json.Decoder(dict[str, msgspec.Raw])
_TYPE_NAMES: Final[dict[type[mi.Type], str]] = {
    mi.StrType: "a string",
    mi.NoneType: "null",
    mi.IntType: "an integer",
    mi.BoolType: "true or false",
    mi.DateTimeType: "an RFC 3339 date-time with an offset",
}


async def read_body(request: Request, media_types: Collection[str]) -> bytes:
    """The body, if its media type is one of ``media_types`` and it fits in the limit.

    A body without ``Content-Type`` is taken as JSON, as the original service's clients send it
    (Go's ``http.Post`` with a nil content type, ``http.NewRequest``): what is then not JSON is
    refused by the decoding (``400``). A declared type that is not one of ``media_types`` is
    ``415``. A ``Content-Length`` over the limit is refused before reading; without one, reading
    stops at the first byte past the limit.
    """
    content_type = request.headers.get("content-type")
    if (
        content_type is not None
        and content_type not in media_types
        and not _is_acceptable(content_type, media_types)
    ):
        raise UnsupportedMediaType(
            f"The body must be {' or '.join(sorted(media_types))} (UTF-8), "
            f"not {content_type or 'an empty Content-Type'}."
        )
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _too_large()
    # The ASGI messages read as Request.stream() reads them, without an async generator.
    chunks: list[bytes] = []
    size = 0
    more_body = True
    while more_body:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect
        chunk: bytes = message.get("body", b"")
        more_body = message.get("more_body", False)
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _too_large()
        chunks.append(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _too_large() -> ContentTooLarge:
    return ContentTooLarge(f"The body must be at most {MAX_BODY_BYTES} bytes.")


def _is_acceptable(content_type: str, media_types: Collection[str]) -> bool:
    media_type, _, parameters = content_type.partition(";")
    if media_type.strip().lower() not in media_types:
        return False
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() != "utf-8":
            return False
    return True


class BodyErrors(Exception):
    """A body that does not fit its Struct: every type error, and the values that were fine."""

    def __init__(self, errors: list[FieldError], well_typed: dict[str, object]) -> None:
        super().__init__(f"{len(errors)} type errors")
        self.errors = errors
        self.well_typed = well_typed


class StrictDecoder(Generic[S]):
    """Decodes JSON into ``struct`` or raises :class:`BodyErrors` naming every bad field."""

    def __init__(self, struct: type[S]) -> None:
        self._decoder = msgspec.json.Decoder(struct)
        self._fields = [
            (field.encode_name, field.required, msgspec.json.Decoder(field.type), field.type)
            for field in msgspec.structs.fields(struct)
        ]
        self.field_order: dict[str, int] = {
            name: index for index, (name, *_) in enumerate(self._fields)
        }
        self._quoted_names = (
            tuple(f'"{name}"'.encode() for name in self.field_order) if _flat(struct) else None
        )

    def decode(self, body: bytes) -> S:
        """The decoded body; raises :class:`BodyErrors` if anything is wrong with it."""
        try:
            decoded = self._decoder.decode(body)
        except msgspec.ValidationError:
            pass  # find every problem, not only the first
        except _MALFORMED:
            raise _malformed() from None
        else:
            if self.may_repeat_a_member(body) and (repeated := _repeated_member(body)) is not None:
                raise BodyErrors([_repeated_error(repeated)], {})
            return decoded
        raise self._every_error(body)

    def may_repeat_a_member(self, body: bytes) -> bool:
        """Whether a body that decoded may still repeat a member, so that it needs the scan.

        It holds one flat object of known members (the struct's fields are scalars, and it
        forbids others), and without a backslash each member's name is spelt as it is: one that
        appears quoted at most once is not repeated. A few substring counts, where the scan
        costs more than the rest of the decoding.
        """
        if self._quoted_names is None or b"\\" in body:
            return True
        return max(map(body.count, self._quoted_names), default=0) > 1

    def _every_error(self, body: bytes) -> BodyErrors:
        try:
            given = _RAW_OBJECT.decode(body)
        except msgspec.ValidationError:
            return BodyErrors([FieldError(BODY_FIELD, "must be a JSON object")], {})
        except _MALFORMED:
            return _malformed()
        errors: list[FieldError] = []
        well_typed: dict[str, object] = {}
        for name, required, decoder, kind in self._fields:
            raw = given.get(name)
            if raw is None:
                if required:
                    errors.append(FieldError(name, "is required"))
                continue
            try:
                well_typed[name] = decoder.decode(raw)
            except (msgspec.ValidationError, *_MALFORMED):
                errors.append(FieldError(name, _expectation(kind)))
        errors.extend(
            FieldError(name, "is not a known field")
            for name in given
            if name not in self.field_order
        )
        if (repeated := _repeated_member(body)) is not None:
            errors.append(_repeated_error(repeated))
        return BodyErrors(errors, well_typed)


class _RepeatedMember(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _refuse_repeated_members(members: list[tuple[str, object]]) -> None:
    if len(members) > 1:
        seen: set[str] = set()
        for name, _ in members:
            if name in seen:
                raise _RepeatedMember(name)
            seen.add(name)


_MEMBERS_CHECK = json.JSONDecoder(object_pairs_hook=_refuse_repeated_members)


def _repeated_member(body: bytes) -> str | None:
    """The first member name that an object of the well-formed JSON ``body`` repeats, if any."""
    try:
        _MEMBERS_CHECK.decode(body.decode())
    except _RepeatedMember as repeated:
        return repeated.name
    except (ValueError, RecursionError):
        return None  # msgspec accepted it: as strict JSON, it was well-formed
    return None


def _repeated_error(name: str) -> FieldError:
    return FieldError(name, "is given more than once (RFC 7493: member names must be unique)")


def _malformed() -> BodyErrors:
    return BodyErrors([FieldError(BODY_FIELD, "is not well-formed UTF-8 JSON")], {})


def _flat(struct: type[msgspec.Struct]) -> bool:
    """Whether ``struct`` takes a JSON object of its own scalar fields only."""
    if not struct.__struct_config__.forbid_unknown_fields:
        return False
    for field in msgspec.structs.fields(struct):
        info = _unwrapped(mi.type_info(field.type))
        options = info.types if isinstance(info, mi.UnionType) else (info,)
        if not all(type(_unwrapped(option)) in _TYPE_NAMES for option in options):
            return False
    return True


def _expectation(kind: object) -> str:
    info = _unwrapped(mi.type_info(kind))
    options = info.types if isinstance(info, mi.UnionType) else (info,)
    return "must be " + " or ".join(_type_name(_unwrapped(option)) for option in options)


def _type_name(info: mi.Type) -> str:
    if isinstance(info, mi.IntType) and info.ge is not None and info.le is not None:
        return f"an integer from {info.ge} to {info.le}"
    return _TYPE_NAMES.get(type(info), "valid")


def _unwrapped(info: mi.Type) -> mi.Type:
    while isinstance(info, mi.Metadata):
        info = info.type
    return info
