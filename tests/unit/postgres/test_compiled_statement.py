"""Statements compiled for the driver: parameters in order, converted as their types say."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import BigInteger, PickleType, bindparam, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql.asyncpg import dialect

from user_postgres.execution import UNNAMED_OPERATION, CompiledStatement
from user_postgres.tables import idempotency_keys, users

DIALECT = dialect()  # type: ignore[no-untyped-call]


def test_parameters_go_in_the_order_of_the_placeholders_with_sqlalchemys_own_values() -> None:
    statement = (
        users.update()
        .where(users.c.id == bindparam("user_id", type_=BigInteger))
        .values(version=users.c.version + 1)
        .execution_options(operation="bump")
    )

    compiled = CompiledStatement(statement, DIALECT, ["name", "user_id"])

    assert compiled.operation == "bump"
    assert compiled.sql.count("$") == 3
    assert compiled.arguments({"user_id": 7, "name": "n"}) == ["n", 1, 7]


def test_a_parameter_whose_type_converts_it_is_converted() -> None:
    statement = idempotency_keys.insert()
    keys = ["key", "headers"]

    compiled = CompiledStatement(statement, DIALECT, keys)

    assert compiled.operation == UNNAMED_OPERATION
    key, headers = compiled.arguments({"key": "k", "headers": [["etag", '"1"']]})
    assert key == "k"
    assert json.loads(headers) == [["etag", '"1"']]  # text, which the connection's codec sends


def test_a_column_that_would_need_converting_on_the_way_out_is_refused() -> None:
    pickled = select(bindparam("value", type_=PickleType).label("value"))

    with pytest.raises(TypeError, match="result conversion"):
        CompiledStatement(pickled, DIALECT, ["value"])


def test_jsonb_needs_no_conversion_on_the_way_out() -> None:
    # The codec that SQLAlchemy's asyncpg dialect registers on each connection decodes it.
    statement = select(bindparam("value", type_=JSONB).label("value"))

    assert CompiledStatement(statement, DIALECT, ["value"]).arguments({"value": {}}) == ["{}"]
