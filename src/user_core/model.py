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
from typing import Any, ClassVar, Final, Self, get_args, get_type_hints

from user_core import identity
from user_core.errors import FieldError, InvalidInput
from user_core.identity import NotAnIdentity

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


@dataclass(frozen=True, slots=True)
class TextValue:
    """A text value object: normalised on construction, then checked against its limits.

    A subclass states its limits as ``ClassVar``s (read by the table, the HTTP schema and the
    tests too) and, where it has them, its own :meth:`normalise` and :meth:`check` rules.
    """

    value: str
    MIN_LENGTH: ClassVar[int] = 0
    MAX_LENGTH: ClassVar[int]
    CANONICAL: ClassVar[re.Pattern[str] | None] = None
    """Text that :meth:`normalise` keeps as it is and the checks accept (the common ASCII
    forms, spelt out as one pattern): taken as it is, unchecked. A unit test holds each class's
    pattern to its rules."""

    def __post_init__(self) -> None:
        if not isinstance(self.value, str):
            raise InvalidValue("must be a string")
        if self.CANONICAL is not None and self.CANONICAL.fullmatch(self.value):
            return
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

    @classmethod
    def read(cls, text: str) -> Self:
        """A stored value as the service reads it back, even one that today's rules refuse.

        By today's rules if they accept it; else as the rules it may have been stored under did
        (:meth:`stored_form`), so a row written before a rule was added is still served. Raises
        :class:`InvalidValue` (today's reason) only for text no rule ever accepted.
        """
        try:
            return cls(text)
        except InvalidValue:
            value = cls.stored_form(text)
            if value is None:
                raise
        stored = object.__new__(cls)
        object.__setattr__(stored, "value", value)
        return stored

    @classmethod
    def stored_form(cls, text: str) -> str | None:  # noqa: ARG003 (no earlier rules here)
        """The form that earlier rules gave ``text``, or ``None`` if they refused it too."""
        return None

    @classmethod
    def accepts(cls, text: str) -> bool:
        """Whether today's rules accept ``text`` (else :meth:`read` may still serve it)."""
        try:
            cls(text)
        except InvalidValue:
            return False
        return True


@dataclass(frozen=True, slots=True)
class UniqueText(TextValue):
    """A text no two users may share: two values are one when their keys are equal."""

    @classmethod
    def identity_of(cls, text: str) -> str:
        """The key of any text, valid or not (a list filter, a value stored under older rules).

        By default a name's (:func:`user_core.identity.name_key`): PRECIS Nickname, case-folded.
        Computed here rather than by the database's ``lower()``, which depends on the server's
        collation provider and C library, and uniqueness must not change with the server.
        """
        return identity.name_key(text)

    @property
    def key(self) -> str:
        """What two values must not share: see :meth:`identity_of`."""
        return self.identity_of(self.value)


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
    """A user's unique display name, 1–100 characters, one identity as a person reads it.

    Stripped, then the PRECIS Nickname profile (RFC 8266: spaces mapped and collapsed, NFKC, no
    control, invisible or unassigned code points) and one script (UTS #39): see
    :mod:`user_core.identity`. The key is the name case-folded.
    """

    MIN_LENGTH: ClassVar[int] = 1
    MAX_LENGTH: ClassVar[int] = 100
    # Printable ASCII, no space at either end nor two in a row.
    CANONICAL = re.compile(rf"(?=[ -~]{{{MIN_LENGTH},{MAX_LENGTH}}}\Z)[!-~](?:[!-~]| (?=[!-~]))*")

    @classmethod
    def normalise(cls, text: str) -> str:
        try:
            return identity.enforce_name(text.strip())
        except NotAnIdentity as refused:
            raise InvalidValue(str(refused)) from None

    @classmethod
    def check(cls, text: str) -> None:
        """Nothing beyond :meth:`normalise`, which enforced the profile."""

    @classmethod
    def stored_form(cls, text: str) -> str | None:
        # The rule before the identity rules: stripped, NFC, no control characters.
        value = PrintableText.normalise(text)
        try:
            cls.check_length(value)
            PrintableText.check(value)
        except InvalidValue:
            return None
        return value


# RFC 5322 "atext", and with any non-ASCII letter (RFC 6531, internationalised local parts).
_ASCII_ATEXT_CHARACTERS = r"A-Za-z0-9!#$%&'*+/=?^_`{|}~\-"
_ASCII_ATEXT = rf"[{_ASCII_ATEXT_CHARACTERS}]"
_ATEXT = rf"[{_ASCII_ATEXT_CHARACTERS}\u0080-\U0010FFFF]"
_LOCAL_PART = re.compile(rf"{_ATEXT}+(?:\.{_ATEXT}+)*")
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_DOMAIN = re.compile(rf"{_LABEL}(?:\.{_LABEL})+")  # a host and a top-level domain at least
_WHITESPACE = re.compile(r"\s")
_MAX_DOMAIN_LENGTH = 253  # RFC 1035, in its IDNA (ASCII) form
_NOT_AN_ADDRESS = "is not a valid email address"


@dataclass(frozen=True, slots=True)
class EmailAddress(UniqueText):
    """An email address, checked for syntax only (no DNS): ``local@domain``, at most 254 characters.

    The local part is kept as given; the domain is mapped by UTS #46 (lower case, full-width
    dots as dots), its labels kept as U-labels or A-labels as given, and checked through IDNA
    2008. The key is the local part case-folded in NFKC ``@`` the domain's A-label form, so one
    mailbox has one key (see :mod:`user_core.identity`).
    """

    MAX_LENGTH: ClassVar[int] = 254
    MAX_LOCAL_LENGTH: ClassVar[int] = 64
    # An ASCII dot-atom, @, two or more lower-case labels (no A-label: IDNA checks those), the
    # last not all digits.
    CANONICAL = re.compile(
        rf"(?=[!-~]{{1,{MAX_LENGTH}}}\Z)(?=[^@]{{1,{MAX_LOCAL_LENGTH}}}@)"
        rf"{_ASCII_ATEXT}+(?:\.{_ASCII_ATEXT}+)*@(?!.*xn--)(?:{_LABEL}\.)+(?![0-9]+\Z){_LABEL}"
    )

    @classmethod
    def normalise(cls, text: str) -> str:
        local, at, domain = text.strip().rpartition("@")
        if not at or not local or not domain:
            raise InvalidValue(_NOT_AN_ADDRESS)
        try:
            return f"{local}@{identity.map_domain(domain)}"
        except NotAnIdentity:
            raise InvalidValue(_NOT_AN_ADDRESS) from None

    @classmethod
    def check(cls, text: str) -> None:
        local, _, domain = text.rpartition("@")
        if (
            len(local) > cls.MAX_LOCAL_LENGTH
            or not _LOCAL_PART.fullmatch(local)
            # In ASCII the pattern itself has no control character nor whitespace.
            or (
                not local.isascii()
                and (_has_control_character(local) or _WHITESPACE.search(local) is not None)
            )
        ):
            raise InvalidValue(_NOT_AN_ADDRESS)
        try:
            identity.check_local_part(local)
            ascii_domain = identity.ascii_domain(domain)
        except NotAnIdentity as refused:
            raise InvalidValue(str(refused)) from None
        if not _is_valid_domain(ascii_domain):
            raise InvalidValue(_NOT_AN_ADDRESS)

    @classmethod
    def identity_of(cls, text: str) -> str:
        """The local part case-folded in NFKC, ``@``, the domain in its A-label form."""
        if text.isascii():  # an ASCII domain is its A-label form
            return text.strip().lower()
        local, at, domain = text.strip().rpartition("@")
        if not at:
            return identity.local_part_key(domain)
        return f"{identity.local_part_key(local)}@{identity.domain_key(domain)}"

    @classmethod
    def stored_form(cls, text: str) -> str | None:
        # The rule before the identity rules let through what IDNA 2003 did, in any script:
        # read such an address as stored, as long as it is one.
        local, at, domain = text.strip().rpartition("@")
        value = f"{local}@{unicodedata.normalize('NFC', domain).lower()}"
        if not at or not local or not domain or len(value) > cls.MAX_LENGTH:
            return None
        return None if _has_control_character(value) else value


def _is_valid_domain(ascii_domain: str) -> bool:
    return (
        len(ascii_domain) <= _MAX_DOMAIN_LENGTH
        and _DOMAIN.fullmatch(ascii_domain) is not None
        and not ascii_domain.rpartition(".")[2].isdigit()
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
        """Whether no two users may share a value of this field (by its key)."""
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
_FIELD_NAMES: Final = frozenset(field.name for field in USER_FIELDS)


def _parse(raw: Mapping[str, str | Unset | None], *, complete: bool) -> dict[str, Any]:
    """Value objects from raw values by field name, collecting every field's error first.

    ``complete``: every field gets a value (``None`` when an optional one is absent), as a draft
    needs; otherwise only the given ones, as changes need.
    """
    if not raw.keys() <= _FIELD_NAMES:
        unknown = raw.keys() - _FIELD_NAMES
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
