"""Names and email addresses that a person reads as one are one identity, or are refused.

Issue 17, finding 2: each pair below was accepted as two different users before the identity
rules (user_core.identity): PRECIS Nickname, IDNA UTS #46, and UTS #39's one-script rule.
"""

from __future__ import annotations

import re
import string
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st
from precis_i18n import get_profile

from user_core import EmailAddress, PageRequest, UserName
from user_core.model import InvalidValue
from user_core.testing import strategies


@pytest.mark.parametrize(
    ("look_alike", "name"),
    [
        ("ｇuest", "guest"),  # U+FF47 FULLWIDTH LATIN SMALL LETTER G
        ("john\u00a0doe", "john doe"),  # a no-break space
        ("jane  doe", "jane doe"),  # two spaces
        ("𝐚ron", "aron"),  # U+1D41A MATHEMATICAL BOLD SMALL A
        ("ＧＵＥＳＴ", "guest"),
        ("jane\u3000doe", "JANE DOE"),  # an ideographic space, and case
    ],
)
def test_names_a_person_reads_as_one_share_a_key(look_alike: str, name: str) -> None:
    assert UserName(look_alike).key == UserName(name).key


@pytest.mark.parametrize(
    ("look_alike", "name", "message"),
    [
        ("аdmin", "admin", "must not mix scripts, as look-alikes do (it mixes Cyrillic and Latin)"),
        ("root\u3164", "root", "must not contain invisible characters (U+3164 HANGUL FILLER)"),
        ("\u115fsys", "sys", "must not contain invisible characters (U+115F HANGUL CHOSEONG"),
        ("oper\u2800", "oper", "must not contain invisible characters (U+2800 BRAILLE PATTERN"),
        ("ad\u034fm", "adm", "must not contain invisible characters (U+034F COMBINING GRAPHEME"),
        ("star\ufe0f", "star", "must not contain invisible characters (U+FE0F VARIATION SELECTOR"),
        ("pay\u200dpal", "paypal", "must not contain invisible characters (U+200D ZERO WIDTH"),
        ("gοogle", "google", "must not mix scripts, as look-alikes do (it mixes Greek and Latin)"),
    ],
)
def test_names_hiding_their_look_alike_are_refused_saying_why(
    look_alike: str, name: str, message: str
) -> None:
    assert UserName(name).value == name
    with pytest.raises(InvalidValue, match=re.escape(message)):
        UserName(look_alike)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("barn", "bam"),
        ("rn", "m"),
        ("cl", "d"),
        ("vv", "w"),
        ("l1", "ll"),
        ("O0", "OO"),
        ("resume", "résumé"),
        ("jane doe", "janedoe"),
        ("Пётр", "Петр"),
        ("やまだ", "ヤマダ"),
    ],
)
def test_names_a_person_tells_apart_stay_distinct(one: str, other: str) -> None:
    assert UserName(one).key != UserName(other).key


@pytest.mark.parametrize(
    "name",
    [
        "Σίσυφος",  # Greek
        "Пётр Ильич Чайковский",  # Cyrillic
        "山田 たろう カタカナ",  # Japanese: Han, Hiragana, Katakana
        "東京タワー Tokyo",  # Japanese with Latin
        "김민준 Kim",  # Korean with Latin
        "王小明",  # Chinese
        "أحمد",  # Arabic
        "דוד",  # Hebrew
        "देवनागरी",  # Devanagari
        "Zoë Ærøskøbing-Łódź",  # Latin with its diacritics
        "R2-D2 🤖 (droid) #1",  # digits, symbols and punctuation go with any script
    ],
)
def test_names_in_one_script_are_accepted_as_given(name: str) -> None:
    assert UserName(name).value == name


def test_a_mixed_script_name_stored_before_the_rule_is_still_read() -> None:
    stored = UserName.read("аdmin")
    assert stored.value == "аdmin"
    assert stored.key == "аdmin"
    assert not UserName.accepts("аdmin")
    # What no rule ever accepted is still unreadable.
    with pytest.raises(InvalidValue, match="must not be empty"):
        UserName.read("   ")


def test_an_invisible_character_stored_before_the_rule_is_left_out_of_the_key() -> None:
    assert UserName.read("root\u3164").key == UserName("root").key
    assert UserName.read("ad\u034fm").key == UserName("adm").key


@pytest.mark.parametrize(
    ("look_alike", "email", "stored"),
    [
        ("y@example\u3002com", "y@example.com", "y@example.com"),  # ideographic full stop
        ("z@EXAMPLE\uff0eCOM", "z@example.com", "z@example.com"),  # full-width
        ("a@bücher.de", "a@xn--bcher-kva.de", "a@bücher.de"),  # a U-label and its A-label
        ("ｙ@example.com", "Y@example.com", "ｙ@example.com"),  # a full-width local part
    ],
)
def test_addresses_of_one_mailbox_share_a_key(look_alike: str, email: str, stored: str) -> None:
    assert EmailAddress(look_alike).key == EmailAddress(email).key
    assert EmailAddress(look_alike).value == stored


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("a@exаmple.com", "must not mix scripts, as look-alikes do (it mixes Cyrillic and Latin)"),
        ("a@xn--exmple-4nf.com", "must not mix scripts"),  # the same as an A-label
        ("аdmin@example.com", "must not mix scripts"),
        ("ad\u034fmin@example.com", "must not contain invisible characters (U+034F"),
        ("a@xn--zz.com", "is not a valid email address"),
    ],
)
def test_addresses_hiding_their_look_alike_are_refused_saying_why(raw: str, message: str) -> None:
    with pytest.raises(InvalidValue, match=re.escape(message)):
        EmailAddress(raw)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("a@bucher.de", "a@bücher.de"),
        ("rn@example.com", "m@example.com"),
        ("a@faß.de", "a@fass.de"),  # IDNA 2008, not the transitional mapping of IDNA 2003
    ],
)
def test_addresses_of_different_mailboxes_stay_distinct(one: str, other: str) -> None:
    assert EmailAddress(one).key != EmailAddress(other).key


def test_list_filters_match_by_the_same_keys() -> None:
    request = PageRequest(name="ＧＵＥＳＴ", email="Y@EXAMPLE\u3002COM")
    assert request.name_key == UserName("guest").key
    assert request.email_key == EmailAddress("y@example.com").key


_FULL_WIDTH = {char: chr(ord(char) + 0xFEE0) for char in string.ascii_letters + string.digits}


@given(st.text(string.ascii_letters + string.digits + " ", min_size=1, max_size=40))
def test_full_width_and_extra_spaces_never_make_another_name(name: str) -> None:
    if not name.strip():
        return
    wide = "".join(_FULL_WIDTH.get(char, "\u00a0\u3000") for char in name)
    assert UserName(wide).key == UserName(name).key


@given(strategies.raw_names())
def test_a_key_is_its_own_key(raw: str) -> None:
    key = UserName(raw).key
    assert UserName.identity_of(key) == key


# What the rule before the identity rules accepted: stripped, NFC, 1-100 characters and none
# of them control, format, surrogate, private-use or unassigned ones (these are none of them).
_EARLIER_NAMES = st.text(
    st.characters(categories=["L", "M", "N", "P", "S", "Zs"]), min_size=1, max_size=100
).filter(lambda raw: 1 <= len(unicodedata.normalize("NFC", raw.strip())) <= 100)


@given(_EARLIER_NAMES)
def test_every_name_the_earlier_rule_accepted_is_read_as_stored_or_normalised(raw: str) -> None:
    read = UserName.read(raw)
    if UserName.accepts(raw):
        assert read == UserName(raw)
    else:
        assert read.value == unicodedata.normalize("NFC", raw.strip())
    assert isinstance(read.key, str)


@given(st.text())
def test_keys_of_any_text_are_computed_without_error(text: str) -> None:
    assert isinstance(UserName.identity_of(text), str)
    assert isinstance(EmailAddress.identity_of(text), str)


_NICKNAME = get_profile("NicknameCasePreserved")
_NICKNAME_KEY = get_profile("NicknameCaseMapped:CaseFold")


@given(strategies.raw_names() | st.text(min_size=1, max_size=30))
def test_a_name_is_what_the_precis_nickname_profile_enforces(raw: str) -> None:
    try:
        enforced = _NICKNAME.enforce(raw.strip())
    except UnicodeEncodeError:
        enforced = None
    if UserName.accepts(raw):
        name = UserName(raw)
        assert name.value == enforced
        assert name.key == _NICKNAME_KEY.enforce(name.value)
    else:
        # Refused by the profile, or beyond it: a blank, another script, too long.
        assert (
            enforced is None
            or "\u2800" in enforced
            or "\U0001d159" in enforced
            or len(enforced) > UserName.MAX_LENGTH
            or "mix scripts" in _refusal(raw)
        )


def _refusal(raw: str) -> str:
    try:
        UserName(raw)
    except InvalidValue as refused:
        return str(refused)
    return ""
