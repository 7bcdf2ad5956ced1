"""``RemoteUserService``: the use-cases of :class:`user_core.UserService`, over HTTP.

Swap one for the other by changing the line that builds it: the methods, their signatures, the
objects taken and returned and the errors raised are the same (the use-case contract suite in
:mod:`user_core.testing.use_cases` runs against both). What is retried, and when, is said in
:mod:`user_client.retry`.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from random import Random
from types import TracebackType
from typing import Any, Final, Self

import httpx

from user_client.cache import UserCache
from user_client.context import REQUEST_ID_HEADER, context_headers
from user_client.errors import CallContext, ServiceUnreachable, UnexpectedResponse, domain_error
from user_client.retry import RetryPolicy, retry_after_seconds
from user_client.wire import body_of, page_of, page_query, user_of
from user_core import (
    IdempotentRequest,
    Page,
    PageRequest,
    RecordedResponse,
    User,
    UserChanges,
    UserDraft,
    UserNotFound,
)
from user_core.model import check_user_id

TokenSource = Callable[[], str | Awaitable[str]]
"""Returns a fresh bearer token; called before every attempt, so it may refresh one."""

JSON: Final = "application/json"
MERGE_PATCH: Final = "application/merge-patch+json"
IDEMPOTENCY_KEY_HEADER: Final = "Idempotency-Key"

# Failures before the request left: retrying them repeats nothing.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


_RETRIED_STATUSES: Final = frozenset({429, 503})
"""Answers that changed nothing and say when to come back (``Retry-After``): retried then."""


class RemoteUserService:
    """The user service's use-cases, called over HTTP; an async context manager.

    ``base_url`` is where the API is served (``http://users:8080``). ``token`` is a bearer token,
    or a callable (sync or async) that returns one before each attempt. ``timeout`` (seconds, or
    an ``httpx.Timeout``) bounds each attempt; ``limits`` sizes the connection pool; ``retry``
    says how often to retry (see :mod:`user_client.retry`). ``etag_cache_size`` users read or
    written are kept, and ``get`` asks for them with ``If-None-Match`` (see
    :mod:`user_client.cache`); 0, the default, turns that off. ``transport`` replaces the network
    (tests: ``httpx.ASGITransport``, ``httpx.MockTransport``).

    Every request carries the caller's ``X-Request-ID`` and ``traceparent`` when set (see
    :mod:`user_client.context`). Errors are those of :mod:`user_core.errors`;
    :class:`~user_client.errors.UnexpectedResponse` is an answer that is none of them, and
    :class:`~user_client.errors.ServiceUnreachable` no answer at all.
    """

    def __init__(
        self,
        base_url: str,
        *,
        token: str | TokenSource | None = None,
        timeout: float | httpx.Timeout = 10.0,
        limits: httpx.Limits | None = None,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        rng: Random | None = None,
        etag_cache_size: int = 0,
    ) -> None:
        self._client = httpx.AsyncClient(
            base_url=base_url,
            timeout=timeout,
            limits=limits or httpx.Limits(max_connections=100, max_keepalive_connections=20),
            transport=transport,
        )
        self._token = token
        self._retry = retry or RetryPolicy()
        self._rng = rng or Random()  # noqa: S311 - jitter, not secrets
        self._cache = UserCache(etag_cache_size)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the pooled connections."""
        await self._client.aclose()

    async def create(self, draft: UserDraft) -> User:
        """``POST /users`` under a fresh ``Idempotency-Key``, kept across this call's retries.

        A retry after a dropped connection therefore never creates a second user. Raises
        ``FieldTaken``.
        """
        key = uuid.uuid4().hex
        response = await self._create(draft, key)
        return self._cached(user_of(response.json()))

    async def create_once(
        self,
        draft: UserDraft,
        request: IdempotentRequest,
        respond: Callable[[User], RecordedResponse],
    ) -> RecordedResponse:
        """``POST /users`` with ``Idempotency-Key: request.key``; ``respond`` of the user.

        The server fingerprints the body it receives; ``request.fingerprint`` is not sent. Every
        retry of the key with the same draft gets the first user again (and ``respond`` of it);
        another draft raises ``IdempotencyKeyReused``.
        """
        response = await self._create(draft, request.key.value)
        return respond(user_of(response.json()))

    async def get(self, user_id: int) -> User:
        """``GET /users/{id}``, conditional when the user is cached; raises ``UserNotFound``."""
        call = CallContext(user_id=check_user_id(user_id))
        cached = self._cache.get(user_id)
        headers = None if cached is None else {"If-None-Match": f'"{cached.version}"'}
        try:
            response = await self._send(
                "GET", f"/users/{user_id}", call, headers=headers, repeatable=True
            )
            if cached is not None and response.status_code == 304:  # noqa: PLR2004
                return cached
            return self._cached(user_of(self._expect(response, 200, call).json()))
        except UserNotFound:
            self._cache.forget(user_id)
            raise

    async def replace(
        self, user_id: int, draft: UserDraft, expected_version: int | None = None
    ) -> User:
        """``PUT /users/{id}``, ``If-Match`` with ``expected_version``."""
        call = CallContext(user_id=check_user_id(user_id), expected_version=expected_version)
        response = await self._send(
            "PUT", f"/users/{user_id}", call, body=body_of(draft), media_type=JSON
        )
        return self._cached(user_of(self._expect(response, 200, call).json()))

    async def patch(
        self, user_id: int, changes: UserChanges, expected_version: int | None = None
    ) -> User:
        """``PATCH /users/{id}`` with a JSON merge patch, ``If-Match`` with ``expected_version``."""
        call = CallContext(user_id=check_user_id(user_id), expected_version=expected_version)
        response = await self._send(
            "PATCH", f"/users/{user_id}", call, body=body_of(changes), media_type=MERGE_PATCH
        )
        return self._cached(user_of(self._expect(response, 200, call).json()))

    async def delete(self, user_id: int, expected_version: int | None = None) -> None:
        """``DELETE /users/{id}``, ``If-Match`` with ``expected_version``."""
        call = CallContext(user_id=check_user_id(user_id), expected_version=expected_version)
        response = await self._send("DELETE", f"/users/{user_id}", call)
        self._cache.forget(user_id)
        self._expect(response, 204, call)

    async def list(self, request: PageRequest) -> Page:
        """``GET /users``: one page, as :meth:`UserService.list`."""
        call = CallContext()
        response = await self._send(
            "GET", "/users", call, params=page_query(request), repeatable=True
        )
        return page_of(self._expect(response, 200, call).json())

    async def iterate(self, request: PageRequest | None = None) -> AsyncIterator[User]:
        """Every user the request matches, fetching page after page by ``next_cursor``."""
        request = request or PageRequest()
        while True:
            page = await self.list(request)
            for user in page.users:
                yield user
            if page.next_cursor is None:
                return
            request = PageRequest(
                limit=request.limit,
                cursor=page.next_cursor,
                name=request.name,
                email=request.email,
            )

    def _cached(self, user: User) -> User:
        self._cache.put(user)
        return user

    async def _create(self, draft: UserDraft, key: str) -> httpx.Response:
        call = CallContext(idempotency_key=key)
        response = await self._send(
            "POST",
            "/users",
            call,
            body=body_of(draft),
            media_type=JSON,
            headers={IDEMPOTENCY_KEY_HEADER: key},
            repeatable=True,
        )
        return self._expect(response, 201, call)

    async def _send(
        self,
        method: str,
        path: str,
        call: CallContext,
        *,
        body: Mapping[str, Any] | None = None,
        media_type: str | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        repeatable: bool = False,
    ) -> httpx.Response:
        """Send, retrying as :mod:`user_client.retry` says; the last answer."""
        fixed = {**context_headers(), **(headers or {})}
        if call.expected_version is not None:
            fixed["If-Match"] = f'"{call.expected_version}"'
        if media_type is not None:
            fixed["Content-Type"] = media_type
        content = None if body is None else json.dumps(body).encode()
        retry = 0
        while True:
            try:
                response = await self._client.request(
                    method,
                    path,
                    content=content,
                    params=params,
                    headers={**fixed, **await self._authorization()},
                )
            except httpx.TransportError as error:
                maybe_applied = not isinstance(error, _NOT_SENT)
                delay = None if maybe_applied and not repeatable else self._delay(retry, None)
                if delay is None:
                    raise ServiceUnreachable(
                        method, path, error, maybe_applied=maybe_applied and method != "GET"
                    ) from error
            else:
                retry_after = retry_after_seconds(response.headers.get("Retry-After"))
                if response.status_code not in _RETRIED_STATUSES or retry_after is None:
                    return response
                delay = self._delay(retry, retry_after)
                if delay is None:
                    return response
            await asyncio.sleep(delay)
            retry += 1

    def _delay(self, retry: int, retry_after: float | None) -> float | None:
        return self._retry.delay(retry, retry_after, self._rng)

    async def _authorization(self) -> dict[str, str]:
        if self._token is None:
            return {}
        token = self._token if isinstance(self._token, str) else self._token()
        if inspect.isawaitable(token):
            token = await token
        return {"Authorization": f"Bearer {token}"}

    @staticmethod
    def _expect(response: httpx.Response, status: int, call: CallContext) -> httpx.Response:
        """``response`` if it has ``status``; else the error it reports, raised."""
        if response.status_code == status:
            return response
        problem = _problem(response)
        error = None if problem is None else domain_error(problem, call)
        if error is not None:
            raise error
        request_id = response.headers.get(REQUEST_ID_HEADER)
        if request_id is None and problem is not None:
            request_id = problem.get("request_id")
        raise UnexpectedResponse(
            response.request.method,
            response.request.url.path,
            response.status_code,
            problem,
            request_id,
        )


def _problem(response: httpx.Response) -> dict[str, Any] | None:
    if not response.headers.get("Content-Type", "").startswith("application/problem+json"):
        return None
    try:
        problem = response.json()
    except ValueError:
        return None
    return problem if isinstance(problem, dict) else None
