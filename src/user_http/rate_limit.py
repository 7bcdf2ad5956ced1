"""Optional rate limiting: a budget of requests per client and window, for reads and for writes.

Off unless :func:`~user_http.create_app` gets :class:`RateLimits`. Then every operation that
names a scope (the ``/users`` operations) counts against its client's budget: reads (``GET``)
against one, writes against the other. A request over the budget is ``429`` with
``Retry-After``, and every response of a limited operation carries the IETF draft's headers
(draft-ietf-httpapi-ratelimit-headers): ``RateLimit-Policy: "reads";q=600;w=60`` (the budget
``q`` per window of ``w`` seconds) and ``RateLimit: "reads";r=599;t=60`` (``r`` requests left,
``t`` seconds until the window ends).

The client is the token's subject when authentication is on (the budget follows the caller,
whichever address it comes from), else the request's address (``scope["client"]``, which the
server takes from ``X-Forwarded-For`` only for the proxies it trusts). A request refused by
authentication is not counted: it never reaches the limiter.

The windows are the ``limits`` library's sliding window counters, kept in this process's
memory: a client has its budget in each process (N pods of one worker each give it up to N
budgets). An ingress limit in front complements it, for the whole service and for addresses
that never authenticate.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Final

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.storage import MemoryStorage
from limits.strategies import SlidingWindowCounterRateLimiter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from user_http.auth import READ_SCOPE, SCOPE_KEY, WRITE_SCOPE, Principal
from user_http.errors import TooManyRequests
from user_http.operations import ApiRoute

RATE_LIMIT_HEADER: Final = "RateLimit"
RATE_LIMIT_POLICY_HEADER: Final = "RateLimit-Policy"
MAX_WINDOW_SECONDS: Final = 3600


@dataclass(frozen=True, slots=True)
class RateLimits:
    """Each client's budget per window: reads for ``GET``, writes for the rest."""

    reads: int = 600
    writes: int = 60
    window_seconds: int = 60

    def __post_init__(self) -> None:
        if min(self.reads, self.writes, self.window_seconds) < 1:
            raise ValueError("budgets and the window must be at least 1")
        if self.window_seconds > MAX_WINDOW_SECONDS:
            raise ValueError(f"the window must be at most {MAX_WINDOW_SECONDS} seconds")


@dataclass(frozen=True, slots=True)
class _Policy:
    name: str
    item: RateLimitItem
    header: bytes


def limit(routes: list[ApiRoute], limits: RateLimits) -> None:
    """Count every route whose operation names a scope against its client's budget.

    Call it before :func:`~user_http.auth.protect`, so that the guard runs first and the
    limiter knows the token's subject.
    """
    limiter = SlidingWindowCounterRateLimiter(MemoryStorage())
    policies = {
        READ_SCOPE: _policy("reads", limits.reads, limits.window_seconds),
        WRITE_SCOPE: _policy("writes", limits.writes, limits.window_seconds),
    }
    for route in routes:
        if route.operation.scope is not None:
            route.app = _Limited(route.app, limiter, policies[route.operation.scope])


def _policy(name: str, budget: int, window_seconds: int) -> _Policy:
    header = f'"{name}";q={budget};w={window_seconds}'.encode("ascii")
    return _Policy(name, RateLimitItemPerSecond(budget, window_seconds), header)


class _Limited:
    """Pure ASGI: counts the request, refuses it over the budget, adds the headers."""

    def __init__(self, app: ASGIApp, limiter: SlidingWindowCounterRateLimiter, policy: _Policy):
        self.app = app
        self.limiter = limiter
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        policy = self.policy
        client = _client(scope)
        allowed = self.limiter.hit(policy.item, policy.name, client)
        window = self.limiter.get_window_stats(policy.item, policy.name, client)
        reset = max(1, math.ceil(window.reset_time - time.time()))
        state = f'"{policy.name}";r={window.remaining};t={reset}'.encode("ascii")
        headers = [
            (b"ratelimit-policy", policy.header),
            (b"ratelimit", state),
        ]
        if not allowed:
            raise TooManyRequests(
                f"Over the budget of {policy.item.amount} {policy.name} per "
                f"{policy.item.multiples} seconds; retry in {reset} seconds.",
                retry_after=reset,
                headers={name.decode(): value.decode() for name, value in headers},
            )

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *headers]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _client(scope: Scope) -> str:
    principal: Principal | None = scope.get(SCOPE_KEY)
    if principal is not None and principal.subject is not None:
        return f"sub:{principal.subject}"
    address = scope.get("client")
    return f"ip:{address[0]}" if address else "ip:unknown"
