"""What RemoteUserService does by itself: retries, keys, headers, and the errors it cannot map.

The network is ``httpx.MockTransport``: each test scripts the answers and reads the requests.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from random import Random
from typing import Any, TypeVar

import httpx
import pytest

from user_client import (
    RemoteUserService,
    RetryPolicy,
    ServiceUnreachable,
    UnexpectedResponse,
    calling_context,
)
from user_client.cache import UserCache
from user_client.retry import retry_after_seconds
from user_client.wire import user_of
from user_core import (
    USER_FIELDS,
    Cursor,
    FieldTaken,
    InvalidInput,
    PageRequest,
    StorageUnavailable,
    UserChanges,
    UserDraft,
    UserNotFound,
    VersionMismatch,
)

_T = TypeVar("_T")
Script = Callable[[httpx.Request], httpx.Response]

ADA = {
    "id": 7,
    "name": "ada",
    "email": None,
    "other": None,
    "created_at": "2026-11-25T09:00:00.123456Z",
    "updated_at": None,
    "version": 1,
}
NO_WAIT = RetryPolicy(attempts=3, backoff=0, max_delay=1)


def problem(status: int, slug: str, detail: str = "", **extra: Any) -> httpx.Response:
    body = {"type": f"/problems/{slug}", "title": slug, "status": status, "detail": detail}
    headers = {"Content-Type": "application/problem+json", "X-Request-ID": "rid-1"}
    return httpx.Response(status, content=json.dumps({**body, **extra}), headers=headers)


def answers(*scripted: httpx.Response | Exception) -> tuple[Script, list[httpx.Request]]:
    """A transport handler giving these answers in turn, and the requests it saw."""
    seen: list[httpx.Request] = []
    queue = list(scripted)

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = queue.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return handle, seen


def call(
    handler: Script,
    use: Callable[[RemoteUserService], Awaitable[_T]],
    **options: Any,
) -> _T:
    async def main() -> _T:
        options.setdefault("retry", NO_WAIT)
        transport = httpx.MockTransport(handler)
        async with RemoteUserService("http://users.test", transport=transport, **options) as users:
            return await use(users)

    return asyncio.run(main())


def refused() -> httpx.ConnectError:
    return httpx.ConnectError("connection refused")


def dropped() -> httpx.ReadError:
    return httpx.ReadError("connection reset by peer")


def test_a_read_is_retried_on_connection_errors() -> None:
    handler, seen = answers(refused(), dropped(), httpx.Response(200, json=ADA))
    user = call(handler, lambda users: users.get(7))
    assert (user.id, len(seen)) == (7, 3)


def test_retries_are_bounded() -> None:
    handler, seen = answers(refused(), refused(), refused())
    with pytest.raises(ServiceUnreachable) as raised:
        call(handler, lambda users: users.get(7))
    assert (len(seen), raised.value.maybe_applied) == (3, False)


def test_a_write_that_may_have_arrived_is_not_repeated() -> None:
    handler, seen = answers(dropped())
    with pytest.raises(ServiceUnreachable) as raised:
        call(handler, lambda users: users.patch(7, UserChanges.parse(other="x")))
    assert (len(seen), raised.value.maybe_applied) == (1, True)


def test_a_write_that_never_left_is_retried() -> None:
    handler, seen = answers(refused(), httpx.Response(204))
    call(handler, lambda users: users.delete(7))
    assert len(seen) == 2


def test_create_keeps_its_idempotency_key_across_retries() -> None:
    handler, seen = answers(dropped(), httpx.Response(201, json=ADA))
    user = call(handler, lambda users: users.create(UserDraft.parse(name="ada")))
    keys = {request.headers["Idempotency-Key"] for request in seen}
    assert (user.id, len(seen), len(keys)) == (7, 2, 1)
    unset = {field.name: None for field in USER_FIELDS if field.optional}
    assert json.loads(seen[0].content) == {"name": "ada", **unset}


def test_each_create_has_a_key_of_its_own() -> None:
    handler, seen = answers(httpx.Response(201, json=ADA), httpx.Response(201, json=ADA))

    async def twice(users: RemoteUserService) -> None:
        await users.create(UserDraft.parse(name="ada"))
        await users.create(UserDraft.parse(name="ada"))

    call(handler, twice)
    assert seen[0].headers["Idempotency-Key"] != seen[1].headers["Idempotency-Key"]


def test_unavailable_with_retry_after_is_retried() -> None:
    busy = problem(503, "unavailable", "retry later")
    busy.headers["Retry-After"] = "0"
    handler, seen = answers(busy, httpx.Response(200, json=ADA))
    assert call(handler, lambda users: users.get(7)).id == 7
    assert len(seen) == 2


@pytest.mark.parametrize("retry_after", [None, "60"])
def test_unavailable_without_a_short_retry_after_is_storage_unavailable(
    retry_after: str | None,
) -> None:
    busy = problem(503, "unavailable", "retry later")
    if retry_after is not None:
        busy.headers["Retry-After"] = retry_after
    handler, seen = answers(busy)
    with pytest.raises(StorageUnavailable):
        call(handler, lambda users: users.get(7))
    assert len(seen) == 1


def test_the_last_unavailable_answer_is_reported() -> None:
    busy = [problem(503, "unavailable") for _ in range(3)]
    for response in busy:
        response.headers["Retry-After"] = "0"
    handler, seen = answers(*busy)
    with pytest.raises(StorageUnavailable):
        call(handler, lambda users: users.list(PageRequest()))
    assert len(seen) == 3


def test_expected_version_travels_as_if_match() -> None:
    handler, seen = answers(httpx.Response(200, json=ADA), httpx.Response(200, json=ADA))

    async def both(users: RemoteUserService) -> None:
        await users.replace(7, UserDraft.parse(name="ada"), expected_version=3)
        await users.patch(7, UserChanges.parse(email=None))

    call(handler, both)
    assert seen[0].headers["If-Match"] == '"3"'
    assert "If-Match" not in seen[1].headers
    assert seen[1].headers["Content-Type"] == "application/merge-patch+json"
    assert json.loads(seen[1].content) == {"email": None}


@pytest.mark.parametrize("kind", ["static", "callable", "async callable"])
def test_the_bearer_token_is_sent_fresh_on_every_attempt(kind: str) -> None:
    issued = iter(["t1", "t2"])

    async def fresh() -> str:
        return next(issued)

    token: Any = {"static": "t1", "callable": lambda: next(issued), "async callable": fresh}[kind]
    handler, seen = answers(refused(), httpx.Response(200, json=ADA))
    call(handler, lambda users: users.get(7), token=token)
    sent = [request.headers["Authorization"] for request in seen]
    assert sent == (["Bearer t1"] * 2 if kind == "static" else ["Bearer t1", "Bearer t2"])


def test_the_callers_request_id_and_traceparent_are_passed_on() -> None:
    handler, seen = answers(httpx.Response(200, json=ADA), httpx.Response(200, json=ADA))
    trace = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

    async def inside_and_outside(users: RemoteUserService) -> None:
        with calling_context(request_id="caller-42", traceparent=trace):
            await users.get(7)
        await users.get(7)

    call(handler, inside_and_outside)
    assert (seen[0].headers["X-Request-ID"], seen[0].headers["traceparent"]) == ("caller-42", trace)
    assert "X-Request-ID" not in seen[1].headers
    assert "traceparent" not in seen[1].headers


def test_an_unmappable_problem_is_one_clear_error_with_its_body_and_request_id() -> None:
    handler, _ = answers(problem(500, "internal", "An unexpected error occurred"))
    with pytest.raises(UnexpectedResponse) as raised:
        call(handler, lambda users: users.get(7))
    error = raised.value
    assert (error.status, error.request_id, error.method, error.path) == (
        500,
        "rid-1",
        "GET",
        "/users/7",
    )
    assert error.problem is not None
    assert error.problem["detail"] == "An unexpected error occurred"
    assert "rid-1" in str(error)


def test_an_answer_that_is_no_problem_is_unexpected_too() -> None:
    handler, _ = answers(httpx.Response(502, text="<html>bad gateway</html>"))
    with pytest.raises(UnexpectedResponse) as raised:
        call(handler, lambda users: users.list(PageRequest()))
    assert (raised.value.status, raised.value.problem, raised.value.request_id) == (502, None, None)


def test_the_request_id_of_a_problem_body_is_kept_without_the_header() -> None:
    response = httpx.Response(
        401,
        content=json.dumps({"type": "/problems/unauthorized", "request_id": "rid-9"}),
        headers={"Content-Type": "application/problem+json"},
    )
    handler, _ = answers(response)
    with pytest.raises(UnexpectedResponse) as raised:
        call(handler, lambda users: users.get(7))
    assert (raised.value.status, raised.value.request_id) == (401, "rid-9")


@pytest.mark.parametrize(
    "answer",
    [
        problem(409, "field-taken"),  # no field named
        problem(404, "not-found"),  # not about a user: a wrong base URL
        httpx.Response(400, content=b"[", headers={"Content-Type": "application/problem+json"}),
        httpx.Response(400, content=b"[]", headers={"Content-Type": "application/problem+json"}),
        problem(418, "teapot"),
        problem(412, "precondition-failed"),  # no expected version was sent
        problem(422, "idempotency-key-reused"),  # no key was sent
        httpx.Response(
            400,
            content=json.dumps({"type": 3}),
            headers={"Content-Type": "application/problem+json"},
        ),
    ],
)
def test_a_problem_without_what_its_error_needs_is_unexpected(answer: httpx.Response) -> None:
    handler, _ = answers(answer)
    with pytest.raises(UnexpectedResponse):
        call(handler, lambda users: users.list(PageRequest()))


def test_every_field_error_is_read_back() -> None:
    errors = [{"field": "name", "message": "must not be empty"}, {"field": "email", "message": "x"}]
    handler, _ = answers(problem(400, "validation", "2 fields are invalid", errors=errors))
    with pytest.raises(InvalidInput) as raised:
        call(handler, lambda users: users.create(UserDraft.parse(name="a")))
    assert [(e.field, e.message) for e in raised.value.errors] == [
        ("name", "must not be empty"),
        ("email", "x"),
    ]


def test_a_validation_problem_without_fields_still_says_what_is_wrong() -> None:
    handler, _ = answers(problem(400, "validation", "bad request"))
    with pytest.raises(InvalidInput) as raised:
        call(handler, lambda users: users.get(7))
    assert [(e.field, e.message) for e in raised.value.errors] == [("request", "bad request")]


def test_a_version_mismatch_that_does_not_name_the_stored_version() -> None:
    handler, _ = answers(problem(412, "precondition-failed", "stale"))
    with pytest.raises(VersionMismatch) as raised:
        call(handler, lambda users: users.delete(7, expected_version=2))
    assert (raised.value.user_id, raised.value.expected, raised.value.actual) == (7, 2, 0)


def test_field_taken_and_not_found_are_read_back() -> None:
    taken = problem(409, "field-taken", errors=[{"field": "email", "message": "is taken"}])
    handler, _ = answers(taken, problem(404, "not-found"))
    with pytest.raises(FieldTaken) as raised:
        call(handler, lambda users: users.create(UserDraft.parse(name="a")))
    assert raised.value.field == "email"
    with pytest.raises(UserNotFound):
        call(handler, lambda users: users.get(7))


def test_iterate_walks_every_page_by_cursor() -> None:
    cursor = Cursor(7).encode()
    first = {"users": [ADA], "count": 1, "next_cursor": cursor}
    last = {"users": [{**ADA, "id": 8, "name": "bob"}], "count": 1, "next_cursor": None}
    handler, seen = answers(httpx.Response(200, json=first), httpx.Response(200, json=last))

    async def walk(users: RemoteUserService) -> list[int]:
        request = PageRequest(limit=1, name="ada", email="a@b.c", with_total=True)
        return [user.id async for user in users.iterate(request)]

    assert call(handler, walk) == [7, 8]
    assert dict(seen[0].url.params) == {
        "limit": "1",
        "name": "ada",
        "email": "a@b.c",
        "total": "true",
    }
    assert dict(seen[1].url.params) == {
        "limit": "1",
        "cursor": cursor,
        "name": "ada",
        "email": "a@b.c",
    }


def test_iterate_by_default_starts_at_the_first_page() -> None:
    handler, seen = answers(
        httpx.Response(200, json={"users": [], "count": 0, "next_cursor": None, "total": 0})
    )

    async def walk(users: RemoteUserService) -> list[int]:
        return [user.id async for user in users.iterate()]

    assert call(handler, walk) == []
    assert dict(seen[0].url.params) == {"limit": "10"}


def test_offset_is_sent() -> None:
    handler, seen = answers(
        httpx.Response(200, json={"users": [], "count": 0, "next_cursor": None, "total": 4})
    )
    page = call(handler, lambda users: users.list(PageRequest(offset=5)))
    assert page.total == 4
    assert seen[0].url.params["offset"] == "5"


@pytest.fixture
def rng() -> Random:
    return Random(1)  # noqa: S311 - jitter, not secrets


def test_the_backoff_is_jittered_under_a_doubling_ceiling(rng: Random) -> None:
    policy = RetryPolicy(attempts=4, backoff=1, max_delay=3)
    delays = [policy.delay(retry, None, rng) for retry in range(4)]
    assert delays[3] is None
    assert all(
        delay is not None and 0 <= delay <= ceiling
        for delay, ceiling in zip(delays[:3], [1, 2, 3], strict=True)
    )


def test_retry_after_is_waited_for_plus_jitter(rng: Random) -> None:
    policy = RetryPolicy(attempts=3, backoff=0.5, max_delay=3)
    delay = policy.delay(0, 2, rng)
    assert delay is not None
    assert 2 <= delay <= 2.5
    assert policy.delay(0, 4, rng) is None


@pytest.mark.parametrize(
    ("header", "seconds"),
    [(None, None), ("3", 3.0), (" 0 ", 0.0), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0)],
)
def test_retry_after_is_read_in_seconds(header: str | None, seconds: float | None) -> None:
    assert retry_after_seconds(header) == seconds


@pytest.mark.parametrize("options", [{"attempts": 0}, {"backoff": -1}, {"max_delay": -1}])
def test_a_retry_policy_must_make_sense(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="attempts"):
        RetryPolicy(**options)


def test_a_cached_user_is_read_conditionally() -> None:
    v2 = {**ADA, "version": 2, "other": "admin", "updated_at": "2026-11-25T09:00:01.000000Z"}
    handler, seen = answers(
        httpx.Response(201, json=ADA),
        httpx.Response(304, headers={"ETag": '"1"'}),
        httpx.Response(200, json=v2),
        httpx.Response(304, headers={"ETag": '"2"'}),
    )

    async def reads(users: RemoteUserService) -> list[int]:
        created = await users.create(UserDraft.parse(name="ada"))
        return [created.version] + [(await users.get(7)).version for _ in range(3)]

    assert call(handler, reads, etag_cache_size=4) == [1, 1, 2, 2]
    assert [request.headers.get("If-None-Match") for request in seen] == [None, '"1"', '"1"', '"2"']


def test_writes_refresh_the_cache_and_a_delete_or_not_found_empties_it() -> None:
    v2 = {**ADA, "version": 2}
    handler, seen = answers(
        httpx.Response(200, json=v2),  # patch
        httpx.Response(304),  # get: still version 2
        httpx.Response(204),  # delete
        problem(404, "not-found"),  # get: unconditional
        httpx.Response(200, json=ADA),  # replace
        problem(404, "not-found"),  # get: conditional, then forgotten
        problem(404, "not-found"),  # get: unconditional again
    )

    async def steps(users: RemoteUserService) -> None:
        await users.patch(7, UserChanges())
        assert (await users.get(7)).version == 2
        await users.delete(7)
        with pytest.raises(UserNotFound):
            await users.get(7)
        await users.replace(7, UserDraft.parse(name="ada"))
        for _ in range(2):
            with pytest.raises(UserNotFound):
                await users.get(7)

    call(handler, steps, etag_cache_size=1)
    conditions = [
        request.headers.get("If-None-Match") for request in seen if request.method == "GET"
    ]
    assert conditions == ['"2"', None, '"1"', None]


def test_the_cache_forgets_the_least_recently_used_user() -> None:
    cache = UserCache(2)
    users = [user_of({**ADA, "id": n}) for n in (1, 2, 3)]
    cache.put(users[0])
    cache.put(users[1])
    assert cache.get(1) == users[0]  # 1 is now more recent than 2
    cache.put(users[2])
    assert [cache.get(n) for n in (1, 2, 3)] == [users[0], None, users[2]]


def test_a_cache_of_size_zero_keeps_nothing_and_a_negative_size_is_refused() -> None:
    cache = UserCache(0)
    cache.put(user_of(ADA))
    assert cache.get(7) is None
    with pytest.raises(ValueError, match="negative"):
        UserCache(-1)


def test_a_user_from_a_server_that_lacks_an_optional_field_reads_it_as_none() -> None:
    older = {key: value for key, value in ADA.items() if key not in {"email", "other"}}
    user = user_of(older)
    assert (user.id, user.name.value, user.email, user.other) == (7, "ada", None, None)
    with pytest.raises(KeyError, match="name"):
        user_of({key: value for key, value in ADA.items() if key != "name"})


def test_over_the_rate_limit_with_retry_after_is_retried_even_for_a_write() -> None:
    limited = problem(429, "too-many-requests", "over the budget")
    limited.headers["Retry-After"] = "0"
    handler, seen = answers(limited, httpx.Response(204))
    call(handler, lambda users: users.delete(7))
    assert len(seen) == 2


def test_over_the_rate_limit_for_longer_than_the_client_waits_is_reported() -> None:
    limited = problem(429, "too-many-requests", "over the budget")
    limited.headers["Retry-After"] = "60"
    handler, seen = answers(limited)
    with pytest.raises(UnexpectedResponse) as raised:
        call(handler, lambda users: users.get(7))
    assert (raised.value.status, len(seen)) == (429, 1)
