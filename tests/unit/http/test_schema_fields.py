"""The msgspec bodies declare the user's fields a second time: they must agree with the domain.

Fields, required or not, nullable or not, and the limits documented for each stored value are
checked against :data:`user_core.USER_FIELDS`; each test names the field that disagrees.
"""

from __future__ import annotations

from typing import Any

import msgspec
import msgspec.inspect as mi
import pytest

from user_core import USER_FIELDS, UserField
from user_http.schemas import OutputOnly, UserInput, UserMergePatch, UserResource

_BY_FIELD = pytest.mark.parametrize("field", USER_FIELDS, ids=lambda field: field.name)


def _field(struct: type[msgspec.Struct], name: str) -> mi.Field:
    info = mi.type_info(struct)
    assert isinstance(info, mi.StructType)
    found = [each for each in info.fields if each.name == name]
    assert found, f"{struct.__name__} has no field {name!r}"
    return found[0]


def _members(field: mi.Field) -> list[mi.Type]:
    kind: mi.Type = field.type
    return list(kind.types) if isinstance(kind, mi.UnionType) else [kind]


def _nullable(field: mi.Field) -> bool:
    return any(isinstance(member, mi.NoneType) for member in _members(field))


def _documented_text(field: mi.Field) -> dict[str, Any]:
    (text,) = [member for member in _members(field) if not isinstance(member, mi.NoneType)]
    assert isinstance(text, mi.Metadata), "a text field documents its rules"
    assert isinstance(text.type, mi.StrType)
    return text.extra_json_schema or {}


@_BY_FIELD
def test_the_input_takes_the_field(field: UserField) -> None:
    declared = _field(UserInput, field.name)
    assert declared.required is not field.optional, field.name
    assert _nullable(declared) is field.optional, field.name


@_BY_FIELD
def test_the_merge_patch_may_leave_out_the_field(field: UserField) -> None:
    declared = _field(UserMergePatch, field.name)
    assert declared.required is False, field.name
    assert _nullable(declared) is field.optional, field.name


@_BY_FIELD
def test_the_resource_shows_the_field_with_its_limits(field: UserField) -> None:
    declared = _field(UserResource, field.name)
    assert declared.required, field.name
    assert _nullable(declared) is field.optional, field.name
    schema = _documented_text(declared)
    assert schema.get("maxLength") == field.kind.MAX_LENGTH, field.name
    assert schema.get("minLength", 0) == field.kind.MIN_LENGTH, field.name


def test_the_bodies_hold_no_field_the_domain_lacks() -> None:
    names = {field.name for field in USER_FIELDS}
    output_only = set(OutputOnly.__struct_fields__)
    for struct in (UserInput, UserMergePatch):
        assert set(struct.__struct_fields__) - output_only == names, struct.__name__
    assert set(UserResource.__struct_fields__) - output_only == names


def test_the_output_only_fields_are_the_resources_own() -> None:
    names = {field.name for field in USER_FIELDS}
    output_only = set(OutputOnly.__struct_fields__)
    assert not output_only & names
    assert output_only == set(UserResource.__struct_fields__) - names
    for name in output_only:
        declared = _field(OutputOnly, name)
        assert not declared.required, name
        (member,) = [each for each in _members(declared) if not isinstance(each, mi.NoneType)]
        documented = member if isinstance(member, mi.Metadata) else declared.type
        assert isinstance(documented, mi.Metadata), name
        assert (documented.extra_json_schema or {}).get("readOnly") is True, name


def test_the_resource_lists_the_users_fields_in_their_order() -> None:
    """``user_resource`` builds the resource by position."""
    names = tuple(field.name for field in USER_FIELDS)
    assert UserResource.__struct_fields__ == ("id", *names, "created_at", "updated_at", "version")
