"""Schemathesis hooks of the fuzz runs (``schemathesis.toml`` names this module).

One hook, :func:`filter_failure`, and it drops two kinds of false alarm only. JSON Schema cannot say
everything the API's rules say: a name is stripped and NFC-normalised *before* its length is
checked and may hold no control or unassigned character, an email must be ``local@domain``, a
cursor must be one the service issued and must not come with ``offset``. The document states
these rules in prose, so schemathesis generates "schema-valid" requests that break them, and
the service rightly answers ``400``. Such a ``positive_data_acceptance`` failure is dropped when
the core (:mod:`user_core`, which owns the rules) refuses exactly the fields that the ``400``
names. And schemathesis's coverage phase sometimes labels as valid a header that breaks its own
schema (``If-Match: 0`` against the entity-tag pattern); a ``positive_data_acceptance`` failure
for a request whose headers break their documented schemas is dropped too. Every other
failure, and a ``400`` that the core would not give, still fails the run.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import schemathesis
from schemathesis.openapi.checks import RejectedPositiveData

from user_core import Cursor, InvalidInput, UserChanges, UserDraft

if TYPE_CHECKING:
    # The OpenAPI flavour of `schemathesis.Case` (an alias schemathesis declares for type checkers).
    from schemathesis.specs.openapi.schemas import OpenApiCase


@schemathesis.hook
def filter_failure(
    context: schemathesis.HookContext,  # noqa: ARG001 (the hook's signature is schemathesis's)
    failure: Exception,
    case: OpenApiCase,
    response: schemathesis.Response,
) -> bool:
    """``False`` (drop) for a ``400`` to a request that only looked valid (see the module)."""
    if not isinstance(failure, RejectedPositiveData) or response.status_code != 400:
        return True
    if not headers_are_valid(case):
        return False
    refused = refused_by_core(case.operation.label, case.body, case.query)
    return not refused or refused != fields_named_by(response.content)


def headers_are_valid(case: OpenApiCase) -> bool:
    """Whether every documented header the case sends fits that header's schema."""
    return all(
        parameter.is_valid(case.headers[parameter.name])
        for parameter in case.operation.headers
        if parameter.name in case.headers
    )


def refused_by_core(operation: str, body: Any, query: dict[str, Any]) -> set[str] | None:
    """The fields that the core refuses in this request; ``None`` when it cannot tell."""
    try:
        match operation:
            case "POST /users" | "PUT /users/{id}" if isinstance(body, dict):
                UserDraft.parse(**body)
            case "PATCH /users/{id}" if isinstance(body, dict):
                UserChanges.parse(**body)  # an absent field stays UNSET
            case "GET /users":
                return _refused_in_query(query)
            case _:
                return None
    except InvalidInput as invalid:
        return {error.field for error in invalid.errors}
    except TypeError:  # a field the core does not know: the schema would not call it valid
        return None
    return set()


def _refused_in_query(query: dict[str, Any]) -> set[str]:
    refused = set()
    if "cursor" in query:
        try:
            Cursor.decode(str(query["cursor"]))
        except InvalidInput:
            refused.add("cursor")
        if "offset" in query:
            refused.add("cursor")
    return refused


def fields_named_by(problem: bytes) -> set[str] | None:
    """The fields that a problem response's ``errors`` names; ``None`` when it is no problem."""
    try:
        errors = json.loads(problem).get("errors", [])
        return {str(error["field"]) for error in errors}
    except (ValueError, AttributeError, TypeError, KeyError):
        return None
