"""The user entity, its value objects and the inputs of the use-cases.

Value objects normalise and validate on construction and keep their limits as ``ClassVar``s, so the
table, the HTTP schema and the tests read each limit from one place.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, replace
from dataclasses import fields as dataclass_fields
from datetime import datetime
from types import NoneType
from typing import Any, ClassVar, Final, get_args, get_type_hints

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
class TextValue:
    """A text value object: normalised on construction, then checked against its limits.

    A subclass states its limits as ``ClassVar``s (read by the table, the HTTP schema and the
    tests too) and, where it has them, its own :meth:`normalise` and :meth:`check` rules.
    """

    value: str
    MIN_LENGTH: ClassVar[int] = 0
    MAX_LENGTH: ClassVar[int]

    def __post_init__(self) -> None:
        if not isinstance(self.value, str):
            raise InvalidValue("must be a string")
        value = self.normalise(self.value)
        self.check_length(value)
        self.check(value)
        object.__setattr__(self, "value", value)

    @classmethod
    def normalise(cls, text: str) -> str:
        """The stored form of ``text``; raises :class:`InvalidValue` if it has none."""
        return text

    @classmethod
    def check_length(cls, text: str) -> None:
        """Raise :class:`InvalidValue` unless the normalised text is within the limits."""
        if len(text) < cls.MIN_LENGTH:
            raise InvalidValue(
                "must not be empty"
                if cls.MIN_LENGTH == 1
                else f"must be at least {cls.MIN_LENGTH} characters"
            )
        if len(text) > cls.MAX_LENGTH:
            raise InvalidValue(f"must be at most {cls.MAX_LENGTH} characters")

    @classmethod
    def check(cls, text: str) -> None:
        """Raise :class:`InvalidValue` if the normalised text breaks a rule beyond its length."""


@dataclass(frozen=True, slots=True)
class UniqueText(TextValue):
    """A text no two users may share, compared ignoring case (see :func:`identity_key`)."""

    @property
    def key(self) -> str:
        """What two values must not share: equal ignoring case."""
        return identity_key(self.value)


@dataclass(frozen=True, slots=True)
class PrintableText(TextValue):
    """Text for people to read: surrounding whitespace stripped, NFC, no control characters."""

    @classmethod
    def normalise(cls, text: str) -> str:
        return unicodedata.normalize("NFC", text.strip())

    @classmethod
    def check(cls, text: str) -> None:
        if _has_control_character(text):
            raise InvalidValue("must not contain control or unassigned characters")


@dataclass(frozen=True, slots=True)
class UserName(PrintableText, UniqueText):
    """A user's unique display name: stripped, NFC, 1–100 characters, no control characters."""

    MIN_LENGTH: ClassVar[int] = 1
    MAX_LENGTH: ClassVar[int] = 100


# RFC 5322 "atext" plus any non-ASCII letter (RFC 6531, internationalised local parts).
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-\u0080-\U0010FFFF]"
_LOCAL_PART = re.compile(rf"{_ATEXT}+(?:\.{_ATEXT}+)*")
_DOMAIN_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_WHITESPACE = re.compile(r"\s")
_MAX_DOMAIN_LENGTH = 253  # RFC 1035, in its IDNA (ASCII) form
_MIN_DOMAIN_LABELS = 2  # a host and a top-level domain: no address at a bare TLD
_NOT_AN_ADDRESS = "is not a valid email address"


@dataclass(frozen=True, slots=True)
class EmailAddress(UniqueText):
    """An email address, checked for syntax only (no DNS): ``local@domain``, at most 254 characters.

    The local part is kept as given; the domain is lower-cased. Internationalised domains are
    accepted and checked through their IDNA form.
    """

    MAX_LENGTH: ClassVar[int] = 254
    MAX_LOCAL_LENGTH: ClassVar[int] = 64

    @classmethod
    def normalise(cls, text: str) -> str:
        local, at, domain = text.strip().rpartition("@")
        if not at or not local or not domain:
            raise InvalidValue(_NOT_AN_ADDRESS)
        return f"{local}@{unicodedata.normalize('NFC', domain).lower()}"

    @classmethod
    def check(cls, text: str) -> None:
        local, _, domain = text.rpartition("@")
        if (
            len(local) > cls.MAX_LOCAL_LENGTH
            or not _LOCAL_PART.fullmatch(local)
            or _has_control_character(local)
            or _WHITESPACE.search(local) is not None
            or not _is_valid_domain(domain)
        ):
            raise InvalidValue(_NOT_AN_ADDRESS)


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
        len(ascii_domain) <= _MAX_DOMAIN_LENGTH
        and len(labels) >= _MIN_DOMAIN_LABELS
        and all(_DOMAIN_LABEL.fullmatch(label) for label in labels)
        and not labels[-1].isdigit()
    )


@dataclass(frozen=True, slots=True)
class OtherInfo(TextValue):
    """The original service's free-text field: any text of at most 1,000 characters but NUL.

    NUL is refused because no SQL text column can hold it (PostgreSQL rejects it outright).
    """

    MAX_LENGTH: ClassVar[int] = 1000

    @classmethod
    def check(cls, text: str) -> None:
        if "\x00" in text:
            raise InvalidValue("must not contain the NUL character")


class Unset(enum.Enum):
    """The type of :data:`UNSET`."""

    UNSET = enum.auto()


UNSET: Final = Unset.UNSET
"""Marks a field that a patch leaves as it is (``None`` clears an optional field instead)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class UserDraft:
    """Everything a client chooses about a user: the input of *create* and of *replace*.

    Its fields are the user's fields (:data:`USER_FIELDS` is read from them): a field is declared
    here, on :class:`User` and on :class:`UserChanges`, and a unit test checks the three agree.
    """

    name: UserName
    email: EmailAddress | None = None
    other: OtherInfo | None = None

    @classmethod
    def parse(cls, **raw: str | Unset | None) -> UserDraft:
        """Validate raw values by field name; raise :class:`InvalidInput` listing every bad one.

        An absent optional field is ``None``; an absent required one is an error.
        """
        return cls(**_parse(raw, complete=True))

    def field_values(self) -> dict[str, Any]:
        """Every field's value object (or ``None``), by field name."""
        return {field.name: getattr(self, field.name) for field in USER_FIELDS}


@dataclass(frozen=True, slots=True, kw_only=True)
class User:
    """A stored user. ``version`` starts at 1 and grows by one with every successful change."""

    id: int
    name: UserName
    email: EmailAddress | None
    other: OtherInfo | None
    created_at: datetime
    updated_at: datetime | None
    version: int

    @classmethod
    def from_draft(cls, draft: UserDraft, *, id: int, created_at: datetime) -> User:
        """A user just created from ``draft``: version 1, never updated."""
        return cls(id=id, **draft.field_values(), created_at=created_at, updated_at=None, version=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class UserChanges:
    """The input of *patch*: the fields to change; :data:`UNSET` leaves a field as it is."""

    name: UserName | Unset = UNSET
    email: EmailAddress | Unset | None = UNSET
    other: OtherInfo | Unset | None = UNSET

    @classmethod
    def parse(cls, **raw: str | Unset | None) -> UserChanges:
        """Validate raw values by field name; raise :class:`InvalidInput` listing every bad one.

        An absent field (or one given as :data:`UNSET`) stays as it is.
        """
        return cls(**_parse(raw, complete=False))

    @classmethod
    def replacing_with(cls, draft: UserDraft) -> UserChanges:
        """A full replacement: every field set, absent optional ones cleared."""
        return cls(**draft.field_values())

    def field_values(self) -> dict[str, Any]:
        """The value object (or ``None``) of each field this change sets, by field name."""
        values = {field.name: getattr(self, field.name) for field in USER_FIELDS}
        return {name: value for name, value in values.items() if value is not UNSET}

    def apply_to(self, user: User, now: datetime) -> User:
        """The user after this change, one version later, updated at ``now``."""
        return replace(user, **self.field_values(), updated_at=now, version=user.version + 1)


@dataclass(frozen=True, slots=True)
class UserField:
    """One field a client chooses: its name, its value object, and whether it may be ``None``."""

    name: str
    kind: type[TextValue]
    optional: bool

    @property
    def unique(self) -> bool:
        """Whether no two users may share a value of this field (ignoring case)."""
        return issubclass(self.kind, UniqueText)

    def key_of(self, user: User) -> str | None:
        """The identity key of ``user``'s value of this field: ``None`` unless unique and set."""
        value = getattr(user, self.name)
        return value.key if isinstance(value, UniqueText) else None


def _user_fields() -> tuple[UserField, ...]:
    """Read from :class:`UserDraft`'s annotations: ``Kind`` required, ``Kind | None`` optional."""
    hints = get_type_hints(UserDraft)
    user_fields = []
    for field in dataclass_fields(UserDraft):
        hint = hints[field.name]
        (kind,) = [arg for arg in get_args(hint) if arg is not NoneType] or [hint]
        user_fields.append(UserField(field.name, kind, optional=hint is not kind))
    return tuple(user_fields)


USER_FIELDS: Final = _user_fields()
"""The fields a client chooses, in :class:`UserDraft`'s order: what every adapter maps."""


def _parse(raw: Mapping[str, str | Unset | None], *, complete: bool) -> dict[str, Any]:
    """Value objects from raw values by field name, collecting every field's error first.

    ``complete``: every field gets a value (``None`` when an optional one is absent), as a draft
    needs; otherwise only the given ones, as changes need.
    """
    unknown = raw.keys() - {field.name for field in USER_FIELDS}
    if unknown:
        raise TypeError(f"not fields of a user: {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {}
    errors: list[FieldError] = []
    for field in USER_FIELDS:
        given = raw.get(field.name, UNSET)
        if given is UNSET:
            if complete and field.optional:
                values[field.name] = None
            elif complete:
                errors.append(FieldError(field.name, "is required"))
        elif given is None:
            if field.optional:
                values[field.name] = None
            else:
                errors.append(FieldError(field.name, "must be a string"))
        else:
            try:
                values[field.name] = field.kind(given)
            except InvalidValue as error:
                errors.append(FieldError(field.name, str(error)))
    if errors:
        raise InvalidInput(errors)
    return values
