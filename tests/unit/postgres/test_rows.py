"""Rows ↔ users: a row stored under an earlier rule is read back and served, never refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from user_core import EmailAddress, UserDraft, UserName
from user_core.model import InvalidValue
from user_postgres.rows import columns, user_from_row

NOW = datetime(2026, 12, 8, tzinfo=UTC)


def _row(name: str, email: str | None = None) -> dict[str, object]:
    return {
        "id": 1,
        "name": name,
        "email": email,
        "other": None,
        "created_at": NOW,
        "updated_at": None,
        "version": 1,
    }


@pytest.mark.parametrize(
    ("name", "email"),
    [
        ("аdmin", None),  # mixing Cyrillic and Latin, refused since the identity rules
        ("root\u3164", "a@exаmple.com"),  # a Hangul filler; a domain mixing scripts
        ("star\ufe0f", "аdmin@example.com"),
    ],
)
def test_a_value_stored_before_the_identity_rules_is_read_as_stored(
    name: str, email: str | None
) -> None:
    with pytest.raises(InvalidValue):
        UserName(name)
    user = user_from_row(_row(name, email))
    assert user.name.value == name
    assert user.email is None or user.email.value == email


def test_its_key_is_the_one_of_what_a_person_sees() -> None:
    user = user_from_row(_row("root\u3164", "A@Example.com"))
    assert user.name.key == UserName("root").key
    assert user.email == EmailAddress("A@example.com")


def test_a_row_is_read_in_the_form_it_would_be_written() -> None:
    draft = UserDraft.parse(name="ｇuest  one", email="g@EXAMPLE\u3002COM")
    written = columns(draft.field_values())
    assert (written["name"], written["name_key"]) == ("guest one", "guest one")
    assert (written["email"], written["email_key"]) == ("g@example.com", "g@example.com")
    assert user_from_row(_row("ｇuest  one", "g@EXAMPLE\u3002COM")).name == draft.name


def test_a_value_just_written_is_taken_as_written_unless_the_row_changed_it() -> None:
    draft = UserDraft.parse(name="Ann", email="ann@example.com", other="x")
    row = {**_row("Ann", "ann@example.com"), "other": "changed by a trigger"}
    user = user_from_row(row, draft.field_values())
    assert user.name is draft.name
    assert user.email is draft.email
    assert user.other is not None
    assert user.other.value == "changed by a trigger"
