"""Entity-tag lists: the parser of ``If-Match`` and the pattern that documents it agree."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from user_core import InvalidInput
from user_http.conditional import ENTITY_TAGS_PATTERN, if_match_versions, parse_entity_tags

# JSON Schema's `$` is the end of the text; Python's would also match before a final newline.
_DOCUMENTED = re.compile(ENTITY_TAGS_PATTERN.removesuffix("$") + r"\Z")
# The characters of entity-tag lists, and a few that must never pass for one.
_PIECES = st.sampled_from(
    ['"1"', '"ab"', 'W/"2"', '""', "*", ",", " ", "\t", "W/", '"', "x", "\xa0"]
)


@given(st.lists(_PIECES, max_size=8).map("".join))
@example(' "2" ,')
@example("\xa0*")
@example("*, *")
def test_the_documented_pattern_matches_exactly_what_the_parser_accepts(header: str) -> None:
    assert (_DOCUMENTED.match(header) is not None) == (parse_entity_tags(header) is not None)


@pytest.mark.parametrize("header", ["*", " *", "*\t", " \t* "])
def test_a_star_within_optional_whitespace_matches_any_version(header: str) -> None:
    assert if_match_versions(header) == "*"


@pytest.mark.parametrize("header", ["\xa0*", "*\x85", "\x0c*"])
def test_a_star_within_other_whitespace_is_no_entity_tag_list(header: str) -> None:
    # str.strip() took these for whitespace once, unlike HTTP and the documented pattern.
    with pytest.raises(InvalidInput):
        if_match_versions(header)
