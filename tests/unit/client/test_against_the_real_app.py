"""RemoteUserService against the real app with authentication on: tokens, scopes, request ids.

What the use-case contract cannot say, because ``UserService`` has no such thing: the bearer
token reaches the app, and an answer that is no ``user_core`` error (``401``, ``403``) comes back
as one ``UnexpectedResponse`` naming the caller's own request id.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

import httpx
import pytest

from user_client import RemoteUserService, UnexpectedResponse, calling_context
from user_core import UserDraft, UserService
from user_core.testing import FixedClock, InMemoryUserRepository
from user_http import READ_SCOPE, WRITE_SCOPE, InvalidToken, Principal, create_app

_T = TypeVar("_T")
TOKENS = {
    "writer": frozenset({READ_SCOPE, WRITE_SCOPE}),
    "reader": frozenset({READ_SCOPE}),
}


class KnownTokens:
    """Accepts the tokens of ``TOKENS``, with their scopes."""

    def verify(self, token: str) -> Principal:
        if token not in TOKENS:
            raise InvalidToken("unknown token")
        return Principal(subject=token, scopes=TOKENS[token])


def with_app(token: str, use: Callable[[RemoteUserService], Awaitable[_T]]) -> _T:
    service = UserService(InMemoryUserRepository(), FixedClock(tick=timedelta(seconds=1)))
    transport = httpx.ASGITransport(app=create_app(service, verifier=KnownTokens()))

    async def main() -> _T:
        async with RemoteUserService(
            "http://users.test", transport=transport, token=lambda: token
        ) as users:
            return await use(users)

    return asyncio.run(main())


def test_a_valid_token_creates_and_reads() -> None:
    async def create_and_read(users: RemoteUserService) -> str:
        created = await users.create(UserDraft.parse(name="ada"))
        return (await users.get(created.id)).name.value

    assert with_app("writer", create_and_read) == "ada"


@pytest.mark.parametrize(("token", "status"), [("nobody", 401), ("reader", 403)])
def test_a_refused_token_is_unexpected_with_the_callers_request_id(token: str, status: int) -> None:
    async def create(users: RemoteUserService) -> None:
        with calling_context(request_id="caller-42"):
            await users.create(UserDraft.parse(name="ada"))

    with pytest.raises(UnexpectedResponse) as raised:
        with_app(token, create)
    error = raised.value
    assert (error.status, error.request_id) == (status, "caller-42")
    assert error.problem is not None
    assert error.problem["request_id"] == "caller-42"
