"""Entity tags and the conditional request headers that carry them (RFC 9110, section 13).

A user's ``ETag`` is its version, strong and quoted: ``"3"``. ``If-None-Match`` uses the weak
comparison and ignores a header it cannot parse (it only saves a transfer); ``If-Match`` uses the
strong comparison, and a header it cannot parse is ``400``: it guards a write, and answering
``412`` would send the client to re-read and retry with the same broken header.
"""

from __future__ import annotations

import re
from typing import Final, Literal

from user_core import InvalidInput

ANY: Final = "*"
"""``If-Match: *`` or ``If-None-Match: *``: any current representation."""

# entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE, in a comma-separated list that may have empty items.
_ENTITY_TAG = re.compile(r'[ \t]*(W/)?"([\x21\x23-\x7e\x80-\xff]*)"[ \t]*(?:,|$)')
_SEPARATORS = frozenset(" \t,")
_WHITESPACE = " \t"  # HTTP's optional whitespace; str.strip() would drop more (NBSP, NEL, ...)
_TAG_PATTERN = r'(W/)?"[\x21\x23-\x7E\x80-\xFF]*"'

ENTITY_TAGS_PATTERN: Final = (
    rf"^([ \t]*\*[ \t]*|[ \t,]*{_TAG_PATTERN}([ \t]*,[ \t,]*{_TAG_PATTERN})*[ \t,]*)$"
)
"""What :func:`parse_entity_tags` accepts, as a JSON Schema ``pattern`` for the document."""
_MAX_VERSION_DIGITS = 19


def etag(version: int) -> str:
    """The strong entity tag of this version of a user."""
    return f'"{version}"'


def parse_entity_tags(header: str) -> Literal["*"] | list[tuple[bool, str]] | None:
    """``*``, the list of ``(weak, opaque tag)`` in ``header``, or ``None`` if it is malformed."""
    if header.strip(_WHITESPACE) == ANY:
        return ANY
    tags: list[tuple[bool, str]] = []
    position = _skip_separators(header, 0)
    while position < len(header):
        match = _ENTITY_TAG.match(header, position)
        if match is None:
            return None
        tags.append((match[1] is not None, match[2]))
        position = _skip_separators(header, match.end())
    return tags if tags else None


def _skip_separators(header: str, position: int) -> int:
    while position < len(header) and header[position] in _SEPARATORS:
        position += 1
    return position


def none_match(header: str | None, version: int) -> bool:
    """Whether ``If-None-Match: header`` matches this version (weak comparison): ``304``."""
    return none_match_tag(header, str(version))


def none_match_tag(header: str | None, current: str) -> bool:
    """Whether ``If-None-Match: header`` matches the tag whose opaque part is ``current``.

    The weak comparison, as for :func:`none_match`; for representations that are not a user's.
    """
    if header is None:
        return False
    tags = parse_entity_tags(header)
    if tags is None:
        return False
    if tags == ANY:
        return True
    return any(opaque == current for _, opaque in tags)


def if_match_versions(header: str | None) -> Literal["*"] | frozenset[int] | None:
    """The versions ``If-Match: header`` accepts (strong comparison); ``None`` when absent.

    Weak tags and tags that are no version of ours can never match, so they add nothing; an
    empty set therefore means no current user satisfies the header.
    """
    if header is None:
        return None
    tags = parse_entity_tags(header)
    if tags is None:
        raise InvalidInput.single("If-Match", 'must be "*" or a list of entity tags such as "3"')
    if tags == ANY:
        return ANY
    return frozenset(
        version for weak, opaque in tags if not weak and (version := _version(opaque)) is not None
    )


def _version(opaque: str) -> int | None:
    """The version whose tag this is, if it is one: a canonical positive decimal integer."""
    if not (opaque.isascii() and opaque.isdigit() and len(opaque) <= _MAX_VERSION_DIGITS):
        return None
    version = int(opaque)
    return version if version > 0 and opaque == str(version) else None
