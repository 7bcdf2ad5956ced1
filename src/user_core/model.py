"""The user entity, its value objects and the inputs of the use-cases.

Value objects normalise and validate on construction and keep their limits as ``ClassVar``s, so the
table, the HTTP schema and the tests read each limit from one place.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, Final, TypeVar

from user_core.errors import FieldError, InvalidInput

MIN_USER_ID: Final = 1
"""The smallest id the storage assigns."""
MAX_USER_ID: Final = 2**63 - 1
"""The largest id: PostgreSQL's ``bigint``."""


class InvalidValue(ValueError):
    """A single value breaks its rules; collected into :class:`InvalidInput` by the inputs."""


def check_user_id(user_id: int, field: str = "id") -> int:
    """Return ``user_id`` if it can be a user's id, else raise :class:`InvalidInput`."""
    if not MIN_USER_ID <= user_id <= MAX_USER_ID:
        raise InvalidInput.single(field, f"must be an integer from {MIN_USER_ID} to {MAX_USER_ID}")
    return user_id


# Control, format, surrogate, private-use and unassigned code points, and line/paragraph breaks.
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


# In ASCII only C0 controls and DEL are in those categories: one regex search instead of a
# category look-up per character, for the text that most names and addresses are.
_ASCII_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _has_control_character(text: str) -> bool:
    if text.isascii():
        return _ASCII_CONTROL.search(text) is not None
    return any(unicodedata.category(char) in _FORBIDDEN_CATEGORIES for char in text)


def identity_key(text: str) -> str:
    """The case-insensitive identity of a unique value: Unicode case folding, then NFC.

    Computed here rather than by the database's ``lower()`` because that one depends on the
    server's collation provider and C library (it maps ``Σ`` and ``İ`` differently from one
    server to the next), and uniqueness must not change with the server.
    """
    return unicodedata.normalize("NFC", text.casefold())


@dataclass(frozen=True, slots=True)
class UserName:
    """A user's unique display name: stripped, NFC, 1–100 characters, no control characters."""

    value: str
    MIN_LENGTH: ClassVar[int] = 1
    MAX_LENGTH: ClassVar[int] = 100

    def __post_init__(self) -> None:
        if not isinstance(self.value, str):
            raise InvalidValue("must be a string")
        value = unicodedata.normalize("NFC", self.value.strip())
        if len(value) < self.MIN_LENGTH:
            raise InvalidValue("must not be empty")
        if len(value) > self.MAX_LENGTH:
            raise InvalidValue(f"must be at most {self.MAX_LENGTH} characters")
        if _has_control_character(value):
            raise InvalidValue("must not contain control or unassigned characters")
        object.__setattr__(self, "value", value)

    @property
    def key(self) -> str:
        """What two names must not share: equal ignoring case."""
        return identity_key(self.value)


# RFC 5322 "atext" plus any non-ASCII letter (RFC 6531, internationalised local parts).
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-\u0080-\U0010FFFF]"
_LOCAL_PART = re.compile(rf"{_ATEXT}+(?:\.{_ATEXT}+)*")
_DOMAIN_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_WHITESPACE = re.compile(r"\s")


@dataclass(frozen=True, slots=True)
class EmailAddress:
    """An email address, checked for syntax only (no DNS): ``local@domain``, at most 254 characters.

    The local part is kept as given; the domain is lower-cased. Internationalised domains are
    accepted and checked through their IDNA form.
    """

    value: str
    MAX_LENGTH: ClassVar[int] = 254
    MAX_LOCAL_LENGTH: ClassVar[int] = 64

    def __post_init__(self) -> None:
        if not isinstance(self.value, str):
            raise InvalidValue("must be a string")
        value = self.value.strip()
        local, at, domain = value.rpartition("@")
        if not at or not local or not domain:
            raise InvalidValue("is not a valid email address")
        domain = unicodedata.normalize("NFC", domain).lower()
        value = f"{local}@{domain}"
        if len(value) > self.MAX_LENGTH:
            raise InvalidValue(f"must be at most {self.MAX_LENGTH} characters")
        if (
            len(local) > self.MAX_LOCAL_LENGTH
            or not _LOCAL_PART.fullmatch(local)
            or _has_control_character(local)
            or _WHITESPACE.search(local) is not None
        ):
            raise InvalidValue("is not a valid email address")
        if not _is_valid_domain(domain):
            raise InvalidValue("is not a valid email address")
        object.__setattr__(self, "value", value)

    @property
    def key(self) -> str:
        """What two addresses must not share: equal ignoring case."""
        return identity_key(self.value)


def _is_valid_domain(domain: str) -> bool:
    if domain.isascii():
        # The IDNA codec leaves ASCII labels as they are; the label pattern checks their length.
        ascii_domain = domain.lower()
    else:
        try:
            ascii_domain = domain.encode("idna").decode("ascii").lower()
        except UnicodeError:
            return False
    labels = ascii_domain.split(".")
    return (
        len(ascii_domain) <= 253
        and len(labels) >= 2
        and all(_DOMAIN_LABEL.fullmatch(label) for label in labels)
        and not labels[-1].isdigit()
    )


@dataclass(frozen=True, slots=True)
class OtherInfo:
    """The original service's free-text field: any text of at most 1,000 characters but NUL.

    NUL is refused because no SQL text column can hold it (PostgreSQL rejects it outright).
    """

    value: str
    MAX_LENGTH: ClassVar[int] = 1000

    def __post_init__(self) -> None:
        if not isinstance(self.value, str):
            raise InvalidValue("must be a string")
        if len(self.value) > self.MAX_LENGTH:
            raise InvalidValue(f"must be at most {self.MAX_LENGTH} characters")
        if "\x00" in self.value:
            raise InvalidValue("must not contain the NUL character")


@dataclass(frozen=True, slots=True)
class User:
    """A stored user. ``version`` starts at 1 and grows by one with every successful change."""

    id: int
    name: UserName
    email: EmailAddress | None
    other: OtherInfo | None
    created_at: datetime
    updated_at: datetime | None
    version: int


class Unset(enum.Enum):
    """The type of :data:`UNSET`."""

    UNSET = enum.auto()


UNSET: Final = Unset.UNSET
"""Marks a field that a patch leaves as it is (``None`` clears an optional field instead)."""

_V = TypeVar("_V")


class _Collector:
    """Builds value objects from raw input, collecting every field's error before raising."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def build(self, field: str, kind: Callable[[str], _V], raw: str) -> _V | None:
        try:
            return kind(raw)
        except InvalidValue as error:
            self.errors.append(FieldError(field, str(error)))
            return None

    def build_or_unset(self, field: str, kind: Callable[[str], _V], raw: str) -> _V | Unset:
        # UNSET stands in for a value that failed; raise_if_any() raises before it is used.
        value = self.build(field, kind, raw)
        return UNSET if value is None else value

    def raise_if_any(self) -> None:
        if self.errors:
            raise InvalidInput(self.errors)


@dataclass(frozen=True, slots=True)
class UserDraft:
    """Everything a client chooses about a user: the input of *create* and of *replace*."""

    name: UserName
    email: EmailAddress | None = None
    other: OtherInfo | None = None

    @classmethod
    def parse(cls, name: str, email: str | None = None, other: str | None = None) -> UserDraft:
        """Validate raw values; raise :class:`InvalidInput` listing every bad field."""
        collect = _Collector()
        valid_name = collect.build("name", UserName, name)
        valid_email = None if email is None else collect.build("email", EmailAddress, email)
        valid_other = None if other is None else collect.build("other", OtherInfo, other)
        collect.raise_if_any()
        assert valid_name is not None  # no errors means every value was built
        return cls(valid_name, valid_email, valid_other)


@dataclass(frozen=True, slots=True)
class UserChanges:
    """The input of *patch*: the fields to change; :data:`UNSET` leaves a field as it is."""

    name: UserName | Unset = UNSET
    email: EmailAddress | Unset | None = UNSET
    other: OtherInfo | Unset | None = UNSET

    @classmethod
    def parse(
        cls,
        name: str | Unset = UNSET,
        email: str | Unset | None = UNSET,
        other: str | Unset | None = UNSET,
    ) -> UserChanges:
        """Validate raw values; raise :class:`InvalidInput` listing every bad field."""
        collect = _Collector()
        changes = cls(
            name=UNSET
            if isinstance(name, Unset)
            else collect.build_or_unset("name", UserName, name),
            email=email
            if email is None or isinstance(email, Unset)
            else collect.build_or_unset("email", EmailAddress, email),
            other=other
            if other is None or isinstance(other, Unset)
            else collect.build_or_unset("other", OtherInfo, other),
        )
        collect.raise_if_any()
        return changes

    @classmethod
    def replacing_with(cls, draft: UserDraft) -> UserChanges:
        """A full replacement: every field set, absent optional ones cleared."""
        return cls(name=draft.name, email=draft.email, other=draft.other)

    def apply_to(self, user: User, now: datetime) -> User:
        """The user after this change, one version later, updated at ``now``."""
        return User(
            id=user.id,
            name=user.name if isinstance(self.name, Unset) else self.name,
            email=user.email if isinstance(self.email, Unset) else self.email,
            other=user.other if isinstance(self.other, Unset) else self.other,
            created_at=user.created_at,
            updated_at=now,
            version=user.version + 1,
        )
