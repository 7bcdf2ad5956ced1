"""Value objects and inputs normalise and validate exactly as the API spec says."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from user_core import EmailAddress, FieldError, InvalidInput, OtherInfo, UserDraft, UserName
from user_core.model import UNSET, InvalidValue, TextValue, UserChanges, check_user_id
from user_core.testing import strategies


@given(strategies.raw_names())
def test_name_normalisation_is_idempotent(raw: str) -> None:
    once = UserName(raw)
    assert UserName(once.value) == once


@given(strategies.raw_names())
def test_a_valid_name_is_stripped_nfkc_single_spaced_and_within_limits(raw: str) -> None:
    name = UserName(raw)
    assert name.value == name.value.strip()
    assert unicodedata.is_normalized("NFKC", name.value)
    assert "  " not in name.value
    assert UserName.MIN_LENGTH <= len(name.value) <= UserName.MAX_LENGTH


@given(strategies.invalid_raw_names())
def test_invalid_names_are_rejected(raw: str) -> None:
    with pytest.raises(InvalidValue):
        UserName(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  porucznik  ", "porucznik"),
        ("Zoe\u0308", "Zoë"),  # decomposed diaeresis becomes one code point (NFC)
        ("ｇuest", "guest"),  # full-width letters are their plain ones (NFKC)
        ("jane \u00a0 doe", "jane doe"),  # any spaces between words are one space
        ("x" * 100, "x" * 100),
        ("  " + "x" * 100 + "  ", "x" * 100),
    ],
)
def test_names_are_normalised(raw: str, expected: str) -> None:
    assert UserName(raw).value == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "must not be empty"),
        ("   ", "must not be empty"),
        ("x" * 101, "must be at most 100 characters"),
        ("a\x00b", "must not contain control or unassigned characters"),
        ("a\u2028b", "must not contain control or unassigned characters"),
        ("a\u200bb", "must not contain invisible characters"),
    ],
)
def test_name_errors_say_what_is_wrong(raw: str, message: str) -> None:
    with pytest.raises(InvalidValue, match=message):
        UserName(raw)


def test_names_differing_only_in_case_share_a_key() -> None:
    assert UserName("STRASSE").key == UserName("straße").key
    assert UserName("ΣΊΣΥΦΟΣ").key == UserName("σίσυφος").key
    assert UserName("Ada").key != UserName("Adam").key


@given(strategies.raw_emails())
def test_email_normalisation_is_idempotent_and_lowercases_the_domain(raw: str) -> None:
    email = EmailAddress(raw)
    assert EmailAddress(email.value) == email
    local, _, domain = email.value.rpartition("@")
    assert local == raw.strip().rpartition("@")[0]
    assert domain == domain.lower()


@given(strategies.invalid_raw_emails())
def test_invalid_emails_are_rejected(raw: str) -> None:
    with pytest.raises(InvalidValue):
        EmailAddress(raw)


@pytest.mark.parametrize(
    "raw",
    [
        "a@b.co",
        "first.last+tag@Example.COM",
        "o'neil@example.org",
        "用户@例子.中国",
        "x@xn--bcher-kva.de",
    ],
)
def test_valid_emails_are_accepted(raw: str) -> None:
    assert EmailAddress(raw).value.rpartition("@")[0] == raw.rpartition("@")[0]


@pytest.mark.parametrize(
    "raw",
    [
        "plain",
        "@example.com",
        "a@",
        "a@b",
        "a..b@example.com",
        ".a@example.com",
        "a b@example.com",
        "a@-example.com",
        "a@example..com",
        "a@example.123",
        "a\x00@example.com",
        "x" * 65 + "@example.com",
        "a@" + "b" * 250 + ".com",
    ],
)
def test_malformed_emails_are_rejected(raw: str) -> None:
    with pytest.raises(InvalidValue):
        EmailAddress(raw)


def test_other_is_free_text_of_at_most_1000_characters() -> None:
    assert OtherInfo(" \n any text \t ").value == " \n any text \t "
    assert len(OtherInfo("x" * 1000).value) == 1000
    with pytest.raises(InvalidValue, match="at most 1000"):
        OtherInfo("x" * 1001)


@given(
    name=strategies.invalid_raw_names(),
    email=strategies.invalid_raw_emails(),
    other=strategies.invalid_raw_others(),
)
def test_a_draft_reports_every_invalid_field_at_once(name: str, email: str, other: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        UserDraft.parse(name=name, email=email, other=other)
    assert [error.field for error in raised.value.errors] == ["name", "email", "other"]


@given(name=strategies.raw_names(), email=st.none() | strategies.raw_emails())
def test_a_draft_accepts_exactly_valid_values(name: str, email: str | None) -> None:
    draft = UserDraft.parse(name=name, email=email)
    assert draft.name == UserName(name)
    assert draft.email == (None if email is None else EmailAddress(email))


def test_changes_keep_unset_fields_apart_from_cleared_ones() -> None:
    changes = UserChanges.parse(email=None)
    assert (changes.name, changes.email, changes.other) == (UNSET, None, UNSET)


def test_changes_report_every_invalid_field() -> None:
    with pytest.raises(InvalidInput) as raised:
        UserChanges.parse(name="", other="x" * 1001)
    assert raised.value.errors == (
        FieldError("name", "must not be empty"),
        FieldError("other", "must be at most 1000 characters"),
    )


@pytest.mark.parametrize("user_id", [0, -1, 2**63])
def test_ids_outside_bigint_are_invalid(user_id: int) -> None:
    with pytest.raises(InvalidInput):
        check_user_id(user_id)


def test_the_largest_bigint_is_a_valid_id() -> None:
    assert check_user_id(2**63 - 1) == 2**63 - 1


def _kept_by_the_rules(kind: type[TextValue], text: str) -> bool:
    """Whether ``kind``'s rules, run in full, accept ``text`` and keep it as it is."""
    try:
        value = kind.normalise(text)
        kind.check_length(value)
        kind.check(value)
    except InvalidValue:
        return False
    return value == text


_ASCII = st.text(st.characters(max_codepoint=0x7F), max_size=300)


@pytest.mark.parametrize("kind", [UserName, EmailAddress])
@given(data=st.data())
def test_the_canonical_pattern_takes_exactly_the_ascii_text_the_rules_keep(
    kind: type[TextValue], data: st.DataObject
) -> None:
    """``CANONICAL`` skips the rules, so it must take no text they would change or refuse; and
    it takes all the ASCII text they keep (but A-labels, which IDNA checks), or the fast path
    would be a slow one."""
    assert kind.CANONICAL is not None
    text = data.draw(
        st.from_regex(kind.CANONICAL, fullmatch=True)
        | _ASCII
        | (strategies.raw_names() if kind is UserName else strategies.raw_emails())
    )
    taken = kind.CANONICAL.fullmatch(text) is not None
    if taken or (text.isascii() and "xn--" not in text):
        assert taken == _kept_by_the_rules(kind, text), text
    if taken:
        assert kind(text).value == text


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        (UserName, "a"),
        (UserName, "a b"),
        (UserName, "a  b"),
        (UserName, " a"),
        (UserName, "a\t"),
        (UserName, "x" * 100),
        (UserName, "x" * 101),
        (EmailAddress, "a@b.co"),
        (EmailAddress, "a.b+c@mail.example.org"),
        (EmailAddress, "a@b.12"),
        (EmailAddress, "a@12.b"),
        (EmailAddress, "a@B.co"),
        (EmailAddress, "a..b@x.y"),
        (EmailAddress, ".a@x.y"),
        (EmailAddress, "a@b"),
        (EmailAddress, "a@-b.co"),
        (EmailAddress, "a@b-.co"),
        (EmailAddress, f"{'x' * 64}@a.bc"),
        (EmailAddress, f"{'x' * 65}@a.bc"),
        (EmailAddress, f"x@{'a' * 63}.bc"),
        (EmailAddress, f"x@{'a' * 64}.bc"),
        (EmailAddress, f"x@{'a.' * 126}bc"),
    ],
)
def test_the_canonical_pattern_decides_near_misses_as_the_rules_do(
    kind: type[TextValue], text: str
) -> None:
    assert kind.CANONICAL is not None
    assert (kind.CANONICAL.fullmatch(text) is not None) == _kept_by_the_rules(kind, text)
