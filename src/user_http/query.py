"""The query of ``GET /users``, parsed strictly into a ``PageRequest``; every bad one listed."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final
from urllib.parse import parse_qsl, quote, urlencode

from user_core import Cursor, FieldError, InvalidInput, PageRequest

LIST_PARAMETERS: Final = ("limit", "offset", "cursor", "name", "email", "total")
"""Every query parameter ``GET /users`` knows; any other one is ``400``."""

_KNOWN = frozenset(LIST_PARAMETERS)
_BOOLEANS: Final = {"true": True, "false": False}


def query_items(query_string: bytes) -> list[tuple[str, str]]:
    """The ``(name, value)`` pairs of a raw query string; raises ``InvalidInput`` unless UTF-8.

    Starlette's own parsing replaces bytes that are not UTF-8 with U+FFFD, so ``?name=%FF``
    would quietly look for a user named "\ufffd"; here it is refused.
    """
    try:
        return parse_qsl(query_string.decode("latin-1"), keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        raise InvalidInput.single("query", "must be UTF-8 once percent-decoded") from None


def page_request(items: Iterable[tuple[str, str]]) -> PageRequest:
    """The page asked for by the query's ``(name, value)`` pairs; raises ``InvalidInput``."""
    errors: list[FieldError] = []
    given: dict[str, str] = {}
    for name, value in items:
        if name not in _KNOWN:
            _add(errors, FieldError(name, "is not a known parameter"))
        elif name in given:
            _add(errors, FieldError(name, "must be given at most once"))
        else:
            given[name] = value
    limit = _integer(given, "limit", PageRequest.DEFAULT_LIMIT, errors)
    offset = _integer(given, "offset", 0, errors)
    cursor = None
    if "cursor" in given:
        try:
            cursor = Cursor.decode(given["cursor"])
        except InvalidInput as invalid:
            errors.extend(invalid.errors)
        if "offset" in given:
            _add(errors, FieldError("cursor", "cannot be combined with offset"))
            offset = 0  # reported once, here, rather than again by PageRequest
    with_total = _BOOLEANS.get(given.get("total", "false"))
    if with_total is None:
        _add(errors, FieldError("total", "must be true or false"))
    try:
        request = PageRequest(
            limit=limit,
            offset=offset,
            cursor=cursor,
            name=given.get("name"),
            email=given.get("email"),
            with_total=bool(with_total),
        )
    except InvalidInput as invalid:
        for error in invalid.errors:
            _add(errors, error)
    if errors:
        raise InvalidInput(errors)
    return request


def next_page_query(request: PageRequest, cursor: Cursor) -> str:
    """The query string of the page after ``request``'s, with the same limit and filters."""
    pairs: list[tuple[str, str]] = [("limit", str(request.limit))]
    if request.name is not None:
        pairs.append(("name", request.name))
    if request.email is not None:
        pairs.append(("email", request.email))
    if request.with_total:
        pairs.append(("total", "true"))
    pairs.append(("cursor", cursor.encode()))
    return urlencode(pairs, quote_via=quote)


def _integer(given: dict[str, str], name: str, default: int, errors: list[FieldError]) -> int:
    text = given.get(name)
    if text is None:
        return default
    digits = text.removeprefix("-")
    if digits.isascii() and digits.isdigit():
        try:
            return int(text)
        except ValueError:  # beyond the interpreter's digit limit: still not a usable integer
            pass
    _add(errors, FieldError(name, "must be an integer"))
    return default


def _add(errors: list[FieldError], error: FieldError) -> None:
    if error not in errors:
        errors.append(error)
