"""Hypothesis strategies for the user domain: valid raw inputs, near-duplicates and invalid inputs.

Raw strategies produce what a client sends (``str``); the domain objects are built from them the
way an adapter would, so the strategies exercise normalisation too.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from typing import Any

from hypothesis import strategies as st

from user_core.model import (
    UNSET,
    USER_FIELDS,
    EmailAddress,
    InvalidValue,
    OtherInfo,
    TextValue,
    Unset,
    UserChanges,
    UserDraft,
    UserField,
    UserName,
)

# Letters, marks, numbers, punctuation, symbols and spaces from the whole of Unicode: everything a
# name may hold. Control, format, surrogate, private-use and unassigned characters are excluded.
_NAME_CHARACTERS = st.characters(categories=["L", "M", "N", "P", "S", "Zs"])

# A name is in one script (user_core.identity): the letters of one script at a time, with the
# digits, punctuation, symbols and spaces that go with any (Common), non-ASCII spaces included.
_SCRIPT_LETTERS = [
    st.characters(min_codepoint=0x41, max_codepoint=0x24F, categories=["Lu", "Ll"]),  # Latin
    st.characters(min_codepoint=0x386, max_codepoint=0x3CE, categories=["Lu", "Ll"]),  # Greek
    st.characters(min_codepoint=0x400, max_codepoint=0x4FF, categories=["Lu", "Ll"]),  # Cyrillic
    st.characters(min_codepoint=0x5D0, max_codepoint=0x5EA),  # Hebrew
    st.characters(min_codepoint=0x620, max_codepoint=0x64A, categories=["Lo"]),  # Arabic
    st.characters(min_codepoint=0x905, max_codepoint=0x939),  # Devanagari
    st.characters(min_codepoint=0xAC00, max_codepoint=0xD7A3),  # Hangul syllables
    # Japanese: Hiragana, Katakana and Han (and Latin, which one script with them may hold).
    st.characters(min_codepoint=0x3041, max_codepoint=0x3096)
    | st.characters(min_codepoint=0x30A1, max_codepoint=0x30FA)
    | st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
    | st.sampled_from(string.ascii_letters),
]
_COMMON_CHARACTERS = st.sampled_from(string.digits + string.punctuation + "  \u00a0\u3000😀€·")


def _is_valid(kind: type[TextValue], raw: str) -> bool:
    try:
        kind(raw)
    except InvalidValue:
        return False
    return True


def raw_names() -> st.SearchStrategy[str]:
    """Any text that is a valid name once normalised (Unicode included, surrounding spaces too).

    Names in one script (with digits, punctuation, symbols and spaces of any kind), and short
    ones of any characters a name may hold.
    """
    one_script = st.sampled_from(_SCRIPT_LETTERS).flatmap(
        lambda letters: st.text(
            letters | _COMMON_CHARACTERS, min_size=1, max_size=UserName.MAX_LENGTH
        )
    )
    short = st.text(_NAME_CHARACTERS, min_size=1, max_size=3)
    return (one_script | short).filter(lambda raw: _is_valid(UserName, raw))


def names() -> st.SearchStrategy[UserName]:
    """Valid, normalised names."""
    return raw_names().map(UserName)


def _random_case(text: str) -> st.SearchStrategy[str]:
    flips = st.lists(st.booleans(), min_size=len(text), max_size=len(text))
    return flips.map(
        lambda upper: "".join(
            c.upper() if u else c.lower() for c, u in zip(text, upper, strict=True)
        )
    )


# What a person reads as the same name: full-width letters, and spaces of other kinds or more.
_LOOK_ALIKE = {" ": ["\u00a0", "\u3000", "  "], **{c: [chr(ord(c) + 0xFEE0)] for c in "abeo"}}


def _look_alike(text: str) -> st.SearchStrategy[str]:
    alike = [st.sampled_from([char, *_LOOK_ALIKE.get(char, [])]) for char in text]
    return st.tuples(*alike).map("".join)


def colliding_names() -> st.SearchStrategy[UserName]:
    """Names from a small pool in random letter case, width and spacing: duplicates are frequent."""
    pool = st.sampled_from(
        ["alice", "bob", "zoë", "straße", "ǆemal", "łukasz", "σίσυφος", "jane doe"]
    )
    return pool.flatmap(_random_case).flatmap(_look_alike).map(UserName)


_LOCAL_CHARACTERS = string.ascii_letters + string.digits + "!#$%&'*+/=?^_`{|}~-"
_LABEL = st.from_regex(r"\A[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,10}[a-zA-Z0-9])?\Z")


def raw_emails() -> st.SearchStrategy[str]:
    """Syntactically valid addresses in mixed case (dot-atom local parts, ASCII domains)."""
    atoms = st.text(_LOCAL_CHARACTERS, min_size=1, max_size=12)
    local = st.lists(atoms, min_size=1, max_size=3).map(".".join)
    top_level = st.text(string.ascii_letters, min_size=2, max_size=6)
    domain = st.tuples(st.lists(_LABEL, min_size=1, max_size=3), top_level).map(
        lambda parts: ".".join([*parts[0], parts[1]])
    )
    return st.tuples(local, domain).map("@".join).filter(lambda raw: _is_valid(EmailAddress, raw))


def emails() -> st.SearchStrategy[EmailAddress]:
    """Valid email addresses."""
    return raw_emails().map(EmailAddress)


def colliding_emails() -> st.SearchStrategy[EmailAddress]:
    """Addresses from a small pool in random letter case, so that duplicates are frequent."""
    pool = st.sampled_from(
        [
            "ann@example.com",
            "bo@example.org",
            "Ünal@beispiel.de",
            # One mailbox, its domain as a U-label, an A-label, and with an ideographic dot.
            "jo@bücher.de",
            "jo@xn--bcher-kva.de",
            "jo@bücher\u3002de",
        ]
    )
    return pool.flatmap(_random_case).map(EmailAddress)


def others() -> st.SearchStrategy[OtherInfo]:
    """Free text up to the limit, any Unicode but surrogates and NUL."""
    characters = st.characters(codec="utf-8", exclude_characters="\x00")
    return st.text(characters, max_size=OtherInfo.MAX_LENGTH).map(OtherInfo)


_REGISTERED: dict[type[TextValue], Callable[[], st.SearchStrategy[Any]]] = {
    UserName: names,
    EmailAddress: emails,
    OtherInfo: others,
}


def values_of(kind: type[TextValue]) -> st.SearchStrategy[Any]:
    """Valid values of a value object: its own strategy above, else text within its limits.

    A new field is generated, and so covered by the contract suite, without a strategy of its
    own; give it one here when its rules refuse most text (as an email address's do).
    """
    registered = _REGISTERED.get(kind)
    if registered is not None:
        return registered()
    text = st.text(_NAME_CHARACTERS, min_size=kind.MIN_LENGTH, max_size=kind.MAX_LENGTH)
    return text.filter(lambda raw: _is_valid(kind, raw)).map(kind)


def _field_values(
    field: UserField, overrides: Mapping[str, st.SearchStrategy[Any] | None]
) -> st.SearchStrategy[Any]:
    override = overrides.get(field.name)
    values = values_of(field.kind) if override is None else override
    return st.none() | values if field.optional else values


def drafts(
    name_values: st.SearchStrategy[UserName] | None = None,
    email_values: st.SearchStrategy[EmailAddress] | None = None,
) -> st.SearchStrategy[UserDraft]:
    """Inputs of *create* and *replace*; pass the colliding strategies to provoke duplicates."""
    overrides = {"name": name_values, "email": email_values}
    return st.builds(
        UserDraft, **{field.name: _field_values(field, overrides) for field in USER_FIELDS}
    )


def changes(
    name_values: st.SearchStrategy[UserName] | None = None,
    email_values: st.SearchStrategy[EmailAddress] | None = None,
) -> st.SearchStrategy[UserChanges]:
    """Inputs of *patch*: any subset of the fields, ``None`` clearing the optional ones."""
    overrides = {"name": name_values, "email": email_values}
    unset: st.SearchStrategy[Unset] = st.just(UNSET)
    return st.builds(
        UserChanges,
        **{field.name: unset | _field_values(field, overrides) for field in USER_FIELDS},
    )


def invalid_raw_names() -> st.SearchStrategy[str]:
    """Names the spec rejects: blank, too long, holding a control or invisible character, or
    mixing scripts."""
    blank = st.text(" \t\n\u3000", max_size=5)
    too_long = st.text(string.ascii_letters, min_size=UserName.MAX_LENGTH + 1, max_size=300)
    control = st.tuples(
        raw_names(), st.sampled_from("\x00\x07\x1b\x7f\u200b\u2028\u3164\u2800\ufe0f\u034f")
    ).map(lambda parts: parts[0][:50] + parts[1] + "x")
    # A Latin name with one letter of a look-alike script in it.
    mixed = st.tuples(
        st.text(string.ascii_lowercase, min_size=1, max_size=20), st.sampled_from("аеорсхαο")
    ).map(lambda parts: parts[1] + parts[0])
    return st.one_of(blank, too_long, control, mixed)


def invalid_raw_emails() -> st.SearchStrategy[str]:
    """Addresses the spec rejects: no ``@``, empty parts, bad domains, too long."""
    word = st.text(string.ascii_lowercase, min_size=1, max_size=10)
    return st.one_of(
        word,
        word.map(lambda w: f"{w}@"),
        word.map(lambda w: f"@{w}.com"),
        word.map(lambda w: f"{w}@{w}"),
        word.map(lambda w: f"{w}@-{w}.com"),
        word.map(lambda w: f"{w}..{w}@example.com"),
        word.map(lambda w: f"{w} {w}@example.com"),
        word.map(lambda w: f"{w}@example.com".rjust(EmailAddress.MAX_LENGTH + 1, "a")),
    )


def invalid_raw_others() -> st.SearchStrategy[str]:
    """Free text past its limit."""
    return st.text(min_size=OtherInfo.MAX_LENGTH + 1, max_size=OtherInfo.MAX_LENGTH + 50)
