"""The ``users`` table declares the user's fields a second time: it must agree with the domain.

Each field is a text column of its own name, nullable exactly when optional, with a CHECK of its
value object's length limits; a unique field also has its key column and the key's unique
constraint. (The migrations are checked against the table by the drift test.)
"""

from __future__ import annotations

import pytest
from sqlalchemy import CheckConstraint, Text, UniqueConstraint

from user_core import USER_FIELDS, UserField
from user_postgres.tables import key_column, key_unique_constraint, length_check, users

_BY_FIELD = pytest.mark.parametrize("field", USER_FIELDS, ids=lambda field: field.name)


@_BY_FIELD
def test_the_field_is_a_text_column(field: UserField) -> None:
    assert field.name in users.c, f"users has no column {field.name!r}"
    column = users.c[field.name]
    assert isinstance(column.type, Text), field.name
    assert column.nullable is field.optional, field.name


@_BY_FIELD
def test_the_database_checks_the_fields_limits(field: UserField) -> None:
    expected = length_check(field.name, field.kind)
    checks = {
        constraint.name: str(constraint.sqltext)
        for constraint in users.constraints
        if isinstance(constraint, CheckConstraint)
    }
    assert checks.get(expected.name) == str(expected.sqltext), field.name


@_BY_FIELD
def test_a_unique_field_has_a_unique_key(field: UserField) -> None:
    unique = {
        constraint.name: [column.name for column in constraint.columns]
        for constraint in users.constraints
        if isinstance(constraint, UniqueConstraint)
    }
    has_key = unique.get(key_unique_constraint(field.name)) == [key_column(field.name)]
    assert has_key is field.unique, field.name
