"""Which names and email addresses are one identity, by the Unicode standards for it.

A unique value is stored in its enforced form and compared by its key; two values are one
identity when their keys are equal (a ``409``), and a value that a person could not tell from
another by any key is refused (a ``400`` saying why):

- **names**: the PRECIS Nickname profile (RFC 8266, on the FreeformClass of RFC 8264), applied by
  ``precis-i18n``: non-ASCII spaces become spaces, runs of spaces one, NFKC (full-width, bold,
  ligature and other compatibility forms become their plain letters); default-ignorable, control
  and unassigned code points are refused. The key is the ``NicknameCaseMapped:CaseFold`` form
  (Unicode case folding, as this service always compared). Beyond PRECIS: code points that show
  nothing yet are no spaces (the braille blank) are refused, and so is a name mixing scripts
  unless it is Japanese, Chinese or Korean with Latin (UTS #39's *Highly Restrictive* level,
  judged by Script_Extensions from ``unicodedataplus``);
- **email addresses**: the domain through IDNA 2008 with UTS #46 processing (``idna``): stored as
  given once mapped (lower case, full-width and ideographic dots as dots), compared by its ASCII
  form, so a U-label and its A-label are one domain. The local part is stored as given, compared
  case-folded in NFKC, and refused with invisible code points or mixed scripts, as is each label
  of the domain.

Every ``*_key`` function takes any text, valid or not (a list filter, a value stored under older
rules) and never raises; for a valid value it is the value's key.

Each ASCII path is the same rule, spelt out for the text most names and addresses are.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Final

import idna
import unicodedataplus
from precis_i18n import get_profile
from precis_i18n.derived import FREE_PVAL, PVALID, derived_property
from precis_i18n.profile import Profile
from precis_i18n.unicode import UnicodeData

_NICKNAME: Final = get_profile("NicknameCasePreserved")
_NICKNAME_KEY: Final = get_profile("NicknameCaseMapped:CaseFold")
_FREEFORM: Final = get_profile("FreeFormClass")
_FREEFORM_VALID: Final = frozenset({PVALID, FREE_PVAL})
_UCD: Final = UnicodeData()

# Not spaces, not default-ignorable, yet fonts draw nothing for them (PRECIS lets them through as
# symbols): a name could hide them. U+3164, U+FFA0, U+115F and the other fillers are
# default-ignorable, which PRECIS refuses already.
_BLANK: Final = frozenset({"\u2800", "\U0001d159"})  # BRAILLE PATTERN BLANK, MUSICAL NULL NOTEHEAD

_ASCII_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")
_ASCII_SPACES: Final = re.compile(r" {2,}")

# UTS #39 section 5.1: the scripts that Han, Hiragana, Katakana, Hangul and Bopomofo stand for.
_AUGMENTED: Final = {
    "Hani": ("Hanb", "Jpan", "Kore"),
    "Hira": ("Jpan",),
    "Kana": ("Jpan",),
    "Hang": ("Kore",),
    "Bopo": ("Hanb",),
}
_ANY_SCRIPT: Final = frozenset({"Zyyy", "Zinh"})  # Common and Inherited go with every script
_WITH_LATIN: Final = frozenset({"Jpan", "Kore", "Hanb"})
_COMMON_NAMES: Final = frozenset({"Common", "Inherited"})


class NotAnIdentity(ValueError):
    """Text these rules refuse; the message says why, as a field's error does."""


def enforce_name(text: str) -> str:
    """The stored form of a name (already stripped); raises :class:`NotAnIdentity`."""
    if text.isascii():
        if _ASCII_CONTROL.search(text) is not None:
            raise NotAnIdentity("must not contain control or unassigned characters")
        return _ASCII_SPACES.sub(" ", text) if "  " in text else text
    _check_visible(text)
    try:
        name = _enforce_nickname(_NICKNAME, text)
    except UnicodeEncodeError as refused:
        raise NotAnIdentity(_precis_refusal(refused)) from None
    _check_one_script(name)
    return name


def name_key(text: str) -> str:
    """The key of a name: its ``NicknameCaseMapped:CaseFold`` form (invisibles dropped).

    For a valid name that is what the profile's enforcement returns: its rules applied twice (as
    the Nickname profile does), which keep a valid name valid. For any other text (a filter, a
    name stored under an earlier rule) the same mappings, without what a person cannot see.
    """
    text = text.strip()
    if text.isascii():
        return (_ASCII_SPACES.sub(" ", text) if "  " in text else text).lower()
    visible = "".join(char for char in text if not _invisible(char))
    return _NICKNAME_KEY.apply_five_rules(_NICKNAME_KEY.apply_five_rules(visible))


def check_local_part(local: str) -> None:
    """Refuse a non-ASCII local part holding invisible code points or mixing scripts."""
    if local.isascii():
        return
    _check_visible(local)
    if not all(map(_freeform_valid, local)):
        try:
            _FREEFORM.enforce(local)  # the library decides, and says why
        except UnicodeEncodeError as refused:
            raise NotAnIdentity(_precis_refusal(refused)) from None
    _check_one_script(local)


def local_part_key(local: str) -> str:
    """The key of a local part: case-folded, NFKC (invisibles dropped)."""
    if local.isascii():
        return local.lower()
    visible = "".join(char for char in local if not _invisible(char))
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", visible).casefold())


def map_domain(domain: str) -> str:
    """The stored form of a domain: UTS #46 mapping (lower case, dots); labels as given."""
    if domain.isascii():
        return domain.lower()
    try:
        return idna.uts46_remap(domain, std3_rules=True, transitional=False)
    except idna.IDNAError as refused:
        raise NotAnIdentity(f"is not a valid email address (IDNA: {refused})") from None


def ascii_domain(domain: str) -> str:
    """The A-label form of a mapped domain, its labels checked; raises :class:`NotAnIdentity`.

    An internationalised label must be in one script, as a name must.
    """
    if domain.isascii() and "xn--" not in domain:
        return domain
    ascii_form = _to_ascii(domain)
    if isinstance(ascii_form, idna.IDNAError):
        raise NotAnIdentity(f"is not a valid email address (IDNA: {ascii_form})")
    for label in domain.split("."):
        _check_one_script(_u_label(label) if label.startswith("xn--") else label)
    return ascii_form


def domain_key(domain: str) -> str:
    """The key of a domain: its A-label form, or for one IDNA refuses, case-folded NFKC."""
    if domain.isascii():
        return domain.lower()
    ascii_form = _to_ascii(domain)
    if isinstance(ascii_form, idna.IDNAError):
        return unicodedata.normalize("NFKC", domain.casefold())
    return ascii_form


# IDNA's checks are the costly part of an address, and a domain is seldom new: its answer kept.
@lru_cache(maxsize=1024)
def _to_ascii(domain: str) -> str | idna.IDNAError:
    try:
        return idna.encode(domain, uts46=True, std3_rules=True, transitional=False).decode()
    except idna.IDNAError as refused:
        return refused


def _u_label(label: str) -> str:
    # A valid A-label, as _to_ascii checked the whole domain.
    return idna.decode(label)


def _enforce_nickname(profile: Profile, text: str) -> str:
    """``profile.enforce(text)`` for a Nickname profile, with its per-character check cached.

    The enforcement is the rules applied twice, stable under a third time, not empty, and every
    character valid in the FreeformClass. When a character is not plainly valid (a joiner whose
    context decides, or one refused) the library's own enforcement decides and says why.
    """
    rules = profile.apply_five_rules
    enforced = rules(rules(text))
    if enforced and rules(enforced) == enforced and all(map(_freeform_valid, enforced)):
        return enforced
    return profile.enforce(text)


@lru_cache(maxsize=8192)
def _freeform_valid(char: str) -> bool:
    return derived_property(ord(char), _UCD)[0] in _FREEFORM_VALID


@lru_cache(maxsize=8192)
def _invisible(char: str) -> bool:
    return char in _BLANK or _UCD.default_ignorable(ord(char))


def _describe(char: str) -> str:
    return f"U+{ord(char):04X} {unicodedata.name(char, '(unnamed)')}"


def _precis_refusal(refused: UnicodeEncodeError) -> str:
    """What PRECIS refused, said as a field's error with the code point named.

    Invisible code points were refused before PRECIS saw them (:func:`_check_visible`).
    """
    reason = refused.reason.removeprefix("DISALLOWED/")
    if reason == "empty":
        return "must not be empty"
    char = refused.object[refused.start]
    if reason in {"controls", "unassigned", "other"}:
        return f"must not contain control or unassigned characters ({_describe(char)})"
    # Conjoining Hangul jamo left over after NFKC, a joiner out of its context, ...
    return f"must not contain {_describe(char)} there (PRECIS: {reason})"


def _check_visible(text: str) -> None:
    """Refuse default-ignorable code points (as PRECIS does) and blanks, naming the one sent."""
    for char in text:
        if _invisible(char):
            raise NotAnIdentity(f"must not contain invisible characters ({_describe(char)})")


@lru_cache(maxsize=4096)
def _scripts_of(char: str) -> frozenset[str]:
    """The augmented Script_Extensions of ``char`` (UTS #39 5.1); empty for any script."""
    extensions = set(unicodedataplus.script_extensions(char))
    if extensions & _ANY_SCRIPT:
        return frozenset()
    for script in tuple(extensions):
        extensions.update(_AUGMENTED.get(script, ()))
    return frozenset(extensions)


def _resolved(text: str, without: str | None = None) -> frozenset[str] | None:
    """The scripts every character of ``text`` is in (``None``: any script), UTS #39 5.1.

    ``without``: characters of that script are left out (5.2's "Latin and one other").
    """
    resolved: frozenset[str] | None = None
    for char in text:
        scripts = _scripts_of(char)
        if not scripts or (without is not None and without in scripts):
            continue
        resolved = scripts if resolved is None else resolved & scripts
    return resolved


def _check_one_script(text: str) -> None:
    """UTS #39's *Highly Restrictive* level (5.2), but for its identifier profile.

    One script (any number of Common and Inherited characters with it), or Latin with Han,
    Hiragana and Katakana (Japanese), Han and Bopomofo, or Han and Hangul (Korean).
    """
    resolved = _resolved(text)
    if resolved is None or resolved:
        return
    without_latin = _resolved(text, without="Latn")
    if without_latin is None or without_latin & _WITH_LATIN:
        return
    scripts = sorted(
        {unicodedataplus.script(char) for char in text if _scripts_of(char)} - _COMMON_NAMES
    )
    mixed = f"{', '.join(scripts[:-1])} and {scripts[-1]}" if len(scripts) > 1 else "scripts"
    raise NotAnIdentity(f"must not mix scripts, as look-alikes do (it mixes {mixed})")
