"""The user's fields are declared on three classes; they must agree with :data:`USER_FIELDS`.

``UserDraft`` is the source (``USER_FIELDS`` is read from it); ``User`` stores the same fields and
``UserChanges`` may leave each one :data:`UNSET`. Each test names the field that disagrees.
"""

from __future__ import annotations

from dataclasses import MISSING, fields
from types import NoneType
from typing import Any, get_args, get_type_hints

import pytest

from user_core.model import UNSET, USER_FIELDS, Unset, User, UserChanges, UserDraft, UserField

_BY_FIELD = pytest.mark.parametrize("field", USER_FIELDS, ids=lambda field: field.name)


def _members(cls: type, name: str) -> set[Any]:
    hints = get_type_hints(cls)
    assert name in hints, f"{cls.__name__} has no field {name!r}"
    return set(get_args(hints[name]) or [hints[name]])


def _expected(field: UserField, *extra: type) -> set[Any]:
    return {field.kind, *extra, *([NoneType] if field.optional else [])}


@_BY_FIELD
def test_a_user_stores_the_field_with_the_drafts_type(field: UserField) -> None:
    assert _members(User, field.name) == _expected(field), field.name


@_BY_FIELD
def test_changes_may_leave_the_field_unset(field: UserField) -> None:
    assert _members(UserChanges, field.name) == _expected(field, Unset), field.name
    (declared,) = [each for each in fields(UserChanges) if each.name == field.name]
    assert declared.default is UNSET, f"UserChanges.{field.name} must default to UNSET"


@_BY_FIELD
def test_an_optional_field_of_a_draft_defaults_to_none(field: UserField) -> None:
    (declared,) = [each for each in fields(UserDraft) if each.name == field.name]
    assert declared.default is (None if field.optional else MISSING), field.name


@_BY_FIELD
def test_the_value_object_states_its_limits(field: UserField) -> None:
    assert 0 <= field.kind.MIN_LENGTH <= field.kind.MAX_LENGTH, field.name


def test_user_and_changes_declare_no_field_the_draft_lacks() -> None:
    names = {field.name for field in USER_FIELDS}
    record = {"id", "created_at", "updated_at", "version"}
    assert {each.name for each in fields(User)} - record == names
    assert {each.name for each in fields(UserChanges)} == names


def test_every_class_is_keyword_only() -> None:
    for cls in (User, UserDraft, UserChanges):
        assert all(each.kw_only for each in fields(cls)), cls.__name__
