"""The client's side of the problem table: problem ``type`` slugs back to :mod:`user_core.errors`.

The server's table (``user_http.errors.PROBLEMS``) says which problem each error becomes; this
module reads a problem back into the error. ``tests/unit/client/test_problem_table.py`` checks
that both tables agree, so a slug renamed on one side fails a test instead of silently becoming
an :class:`UnexpectedResponse`. What the client cannot map (``401``, ``403``, ``500``, a proxy's
HTML page) becomes one :class:`UnexpectedResponse` carrying the status, the problem body and the
request id.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from user_core import (
    FieldError,
    FieldTaken,
    IdempotencyKeyReused,
    InvalidInput,
    StorageUnavailable,
    UserNotFound,
    UserServiceError,
    VersionMismatch,
)

PROBLEM_PREFIX: Final = "/problems/"

PROBLEM_ERRORS: Final[Mapping[str, type[UserServiceError]]] = {
    "validation": InvalidInput,
    "not-found": UserNotFound,
    "field-taken": FieldTaken,
    "precondition-failed": VersionMismatch,
    "idempotency-key-reused": IdempotencyKeyReused,
    "unavailable": StorageUnavailable,
}
"""Which ``user_core`` error each problem ``type`` slug is read back as."""

_ACTUAL_VERSION = re.compile(r"\bat version (\d+)\b")


class RemoteServiceError(Exception):
    """Base class of the client's own errors: what no ``user_core`` error describes."""


class UnexpectedResponse(RemoteServiceError):
    """An answer the client cannot read as a result or as a ``user_core`` error.

    ``problem`` is the decoded ``application/problem+json`` body (``None`` when the body was not
    one); ``request_id`` names the request in the service's log.
    """

    def __init__(
        self,
        method: str,
        path: str,
        status: int,
        problem: Mapping[str, Any] | None,
        request_id: str | None,
    ) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.problem = problem
        self.request_id = request_id
        what = (
            f"{problem.get('title')}: {problem.get('detail')}"
            if problem is not None
            else "no problem details"
        )
        super().__init__(f"{method} {path} answered {status} ({what}); request id {request_id}")


class ServiceUnreachable(RemoteServiceError):
    """No answer came, after every retry the request allowed.

    ``maybe_applied`` is ``True`` when a write was sent and may have taken effect: only a read,
    a creation under an idempotency key, or a request that never left may be retried blindly.
    """

    def __init__(self, method: str, path: str, cause: Exception, *, maybe_applied: bool) -> None:
        self.method = method
        self.path = path
        self.maybe_applied = maybe_applied
        applied = "; it may have been applied" if maybe_applied else ""
        super().__init__(
            f"{method} {path} got no answer ({type(cause).__name__}: {cause}){applied}"
        )


@dataclass(frozen=True, slots=True)
class CallContext:
    """What the caller asked, to rebuild the error: the id, the expected version, the key."""

    user_id: int | None = None
    expected_version: int | None = None
    idempotency_key: str | None = None


def problem_slug(problem: Mapping[str, Any]) -> str | None:
    """The slug of a problem's ``type`` (``/problems/<slug>``), or ``None``."""
    kind = problem.get("type")
    if isinstance(kind, str) and kind.startswith(PROBLEM_PREFIX):
        return kind.removeprefix(PROBLEM_PREFIX)
    return None


def domain_error(problem: Mapping[str, Any], call: CallContext) -> UserServiceError | None:
    """The ``user_core`` error this problem reports, or ``None`` when it reports none."""
    slug = problem_slug(problem)
    kind = None if slug is None else PROBLEM_ERRORS.get(slug)
    build = None if kind is None else _BUILDERS.get(kind)
    return None if build is None else build(problem, call)


def _invalid_input(problem: Mapping[str, Any], _call: CallContext) -> UserServiceError | None:
    errors = _field_errors(problem)
    return InvalidInput(errors or [FieldError("request", str(problem.get("detail", "")))])


def _field_taken(problem: Mapping[str, Any], _call: CallContext) -> UserServiceError | None:
    errors = _field_errors(problem)
    return FieldTaken(errors[0].field) if errors else None


def _not_found(_problem: Mapping[str, Any], call: CallContext) -> UserServiceError | None:
    return None if call.user_id is None else UserNotFound(call.user_id)


def _version_mismatch(problem: Mapping[str, Any], call: CallContext) -> UserServiceError | None:
    if call.user_id is None or call.expected_version is None:
        return None
    # The detail names the stored version ("user 7 is at version 3, not 2"); 0 if it does not.
    actual = _ACTUAL_VERSION.search(str(problem.get("detail", "")))
    return VersionMismatch(call.user_id, call.expected_version, int(actual[1]) if actual else 0)


def _key_reused(_problem: Mapping[str, Any], call: CallContext) -> UserServiceError | None:
    key = call.idempotency_key
    return None if key is None else IdempotencyKeyReused(key)


def _unavailable(problem: Mapping[str, Any], _call: CallContext) -> UserServiceError | None:
    return StorageUnavailable(str(problem.get("detail", "")))


_BUILDERS: Final[
    Mapping[
        type[UserServiceError],
        Callable[[Mapping[str, Any], CallContext], UserServiceError | None],
    ]
] = {
    InvalidInput: _invalid_input,
    FieldTaken: _field_taken,
    UserNotFound: _not_found,
    VersionMismatch: _version_mismatch,
    IdempotencyKeyReused: _key_reused,
    StorageUnavailable: _unavailable,
}


def _field_errors(problem: Mapping[str, Any]) -> list[FieldError]:
    listed = problem.get("errors")
    if not isinstance(listed, list):
        return []
    return [
        FieldError(str(item.get("field", "")), str(item.get("message", "")))
        for item in listed
        if isinstance(item, dict)
    ]
