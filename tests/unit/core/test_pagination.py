"""Page requests validate their bounds; cursors round-trip and reject anything else."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from user_core import Cursor, InvalidInput, PageRequest


@given(st.integers(1, 2**63 - 1))
def test_a_cursor_round_trips(after_id: int) -> None:
    assert Cursor.decode(Cursor(after_id).encode()) == Cursor(after_id)


@given(st.integers(1, 2**63 - 1), st.data())
def test_an_edited_cursor_is_rejected(after_id: int, data: st.DataObject) -> None:
    text = Cursor(after_id).encode()
    position = data.draw(st.integers(0, len(text) - 1))
    replacement = data.draw(st.sampled_from("AQgw_-9z").filter(lambda c: c != text[position]))
    edited = text[:position] + replacement + text[position + 1 :]
    with pytest.raises(InvalidInput):
        Cursor.decode(edited)


@pytest.mark.parametrize("text", ["", "abc", "!!!!", "é" * 12, "A" * 33, Cursor(5).encode() + "A"])
def test_malformed_cursors_are_rejected(text: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        Cursor.decode(text)
    assert raised.value.errors[0].field == "cursor"


@pytest.mark.parametrize(
    ("arguments", "fields"),
    [
        ({"limit": 0}, ["limit"]),
        ({"limit": 101}, ["limit"]),
        ({"offset": -1}, ["offset"]),
        ({"limit": 0, "offset": -1}, ["limit", "offset"]),
        ({"offset": 3, "cursor": Cursor(1)}, ["cursor"]),
    ],
)
def test_page_requests_report_every_bad_bound(
    arguments: dict[str, object], fields: list[str]
) -> None:
    with pytest.raises(InvalidInput) as raised:
        PageRequest(**arguments)  # type: ignore[arg-type]
    assert [error.field for error in raised.value.errors] == fields


def test_filters_are_compared_by_key() -> None:
    request = PageRequest(name="  STRASSE ", email="Ann@Example.com")
    assert request.name_key == "strasse"
    assert request.email_key == "ann@example.com"
