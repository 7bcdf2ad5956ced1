"""Pages of users: what a listing asks for, what it returns, and the opaque cursor between pages."""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from user_core.errors import FieldError, InvalidInput
from user_core.model import MAX_USER_ID, MIN_USER_ID, EmailAddress, User, UserName

# The cursor's checksum key. Cursors are not secret (they only say where a page ends); the keyed
# checksum lets the service tell a cursor it issued from one that was edited or truncated.
_CURSOR_KEY = b"user-service/cursor/v1"
_CURSOR_CHECK_BYTES = 6
_ID_BYTES = 8  # a bigint, big-endian


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where the next page starts: after the user with id ``after_id`` (keyset pagination)."""

    after_id: int
    ISSUED_LENGTH: ClassVar[int] = 19
    """Characters of every cursor :meth:`encode` makes."""
    MAX_LENGTH: ClassVar[int] = 32
    """Longer text is refused unread."""
    PATTERN: ClassVar[str] = "^[A-Za-z0-9_-]*$"
    """The characters a cursor is made of (URL-safe base64 without padding)."""

    def encode(self) -> str:
        """The opaque, URL-safe text a client sends back as ``cursor``."""
        payload = self.after_id.to_bytes(_ID_BYTES, "big")
        check = hashlib.blake2b(payload, key=_CURSOR_KEY, digest_size=_CURSOR_CHECK_BYTES).digest()
        return base64.urlsafe_b64encode(payload + check).rstrip(b"=").decode("ascii")

    @classmethod
    def decode(cls, text: str, field: str = "cursor") -> Cursor:
        """Read a cursor made by :meth:`encode`; raise :class:`InvalidInput` for anything else."""
        invalid = InvalidInput.single(field, "is not a cursor this service issued")
        if not text.isascii() or len(text) > cls.MAX_LENGTH:
            raise invalid
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        except (binascii.Error, ValueError):
            raise invalid from None
        payload, check = raw[:_ID_BYTES], raw[_ID_BYTES:]
        expected = hashlib.blake2b(payload, key=_CURSOR_KEY, digest_size=_CURSOR_CHECK_BYTES)
        if len(payload) != _ID_BYTES or check != expected.digest():
            raise invalid
        after_id = int.from_bytes(payload, "big")
        if not MIN_USER_ID <= after_id <= MAX_USER_ID:
            raise invalid
        cursor = cls(after_id)
        if cursor.encode() != text:  # one canonical spelling per cursor
            raise invalid
        return cursor


@dataclass(frozen=True, slots=True)
class PageRequest:
    """What a listing asks for: one page in ascending id order, optionally filtered.

    Either ``offset`` (the original service's paging) or ``cursor`` (keyset paging, stable under
    concurrent inserts and deletes) positions the page, never both. ``name`` and ``email`` match
    whole values by their keys (ignoring case, width and spacing). ``with_total`` asks for the
    number of all matching users.
    """

    limit: int = 10
    offset: int = 0
    cursor: Cursor | None = None
    name: str | None = None
    email: str | None = None
    with_total: bool = False
    MIN_LIMIT: ClassVar[int] = 1
    MAX_LIMIT: ClassVar[int] = 100
    DEFAULT_LIMIT: ClassVar[int] = 10
    MAX_OFFSET: ClassVar[int] = 2**31 - 1

    def __post_init__(self) -> None:
        errors: list[FieldError] = []
        if not self.MIN_LIMIT <= self.limit <= self.MAX_LIMIT:
            errors.append(FieldError("limit", f"must be from {self.MIN_LIMIT} to {self.MAX_LIMIT}"))
        if not 0 <= self.offset <= self.MAX_OFFSET:
            errors.append(FieldError("offset", f"must be from 0 to {self.MAX_OFFSET}"))
        if self.cursor is not None and self.offset:
            errors.append(FieldError("cursor", "cannot be combined with offset"))
        if errors:
            raise InvalidInput(errors)

    @property
    def name_key(self) -> str | None:
        """The name filter as a uniqueness key (see :meth:`UserName.identity_of`), or ``None``."""
        return None if self.name is None else UserName.identity_of(self.name)

    @property
    def email_key(self) -> str | None:
        """The email filter as a uniqueness key (see :meth:`EmailAddress.identity_of`), or ``None``.

        A filter matches a stored value when both have the same key, whether or not the filter
        is a valid value itself.
        """
        return None if self.email is None else EmailAddress.identity_of(self.email)

    @property
    def after_id(self) -> int:
        """Only ids above this one belong to the page (0 when there is no cursor)."""
        return 0 if self.cursor is None else self.cursor.after_id


@dataclass(frozen=True, slots=True)
class Page:
    """One page of users in ascending id order.

    ``next_cursor`` is ``None`` on the last page; ``total`` is ``None`` unless it was asked for.
    """

    users: Sequence[User]
    next_cursor: Cursor | None = None
    total: int | None = None
