"""Optional rate limiting: a token bucket per client, one for reads and one for writes.

Off unless :func:`~user_http.create_app` gets :class:`RateLimits`. Then every operation that
names a scope (the ``/users`` operations) takes a token from its client's bucket: reads (``GET``)
from one, writes from the other. A bucket holds a budget of ``q`` tokens and refills at ``q``
per window of ``w`` seconds, so a client may burst its whole budget and then go on at the
refill rate. A request that finds its bucket empty is ``429`` with ``Retry-After`` (when the
next token comes), and every response of a limited operation carries the IETF draft's headers
(draft-ietf-httpapi-ratelimit-headers): ``RateLimit-Policy: "reads";q=600;w=60`` and
``RateLimit: "reads";r=599;t=1`` (``r`` tokens left, ``t`` seconds until the bucket is full).

The client is the token's subject when authentication is on (the budget follows the caller,
whichever address it comes from), else the request's address (``scope["client"]``, which the
server takes from ``X-Forwarded-For`` only for the proxies it trusts). A request refused by
authentication is not counted: it never reaches the limiter.

Each bucket is one float, the time it will be full again (the generic cell rate algorithm, a
token bucket kept as a "theoretical arrival time"); full buckets are forgotten, and at most
:data:`MAX_CLIENTS` are kept per process (past it, the longest-idle go first, which can only
err towards admitting). The buckets live in this process's memory: a client has a budget in
each process (N pods of one worker each give it up to N budgets). An ingress limit in front
complements it, for the whole service and for addresses that never authenticate.

Written here rather than taken from the ``limits`` library: with its in-memory storage, which
starts a timer thread every 10 ms and locks per key, limiting cost 39 µs of CPU per ``GET``
(0.195 → 0.234 ms, BENCHMARKS.md); this costs a few.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from user_http.auth import READ_SCOPE, SCOPE_KEY, WRITE_SCOPE, Principal
from user_http.errors import TooManyRequests
from user_http.operations import ApiRoute

RATE_LIMIT_HEADER: Final = "RateLimit"
RATE_LIMIT_POLICY_HEADER: Final = "RateLimit-Policy"
MAX_WINDOW_SECONDS: Final = 3600
MAX_CLIENTS: Final = 100_000
"""Buckets kept per policy and process; past it, the longest-idle are forgotten first."""


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
class Admission:
    """What a bucket said of one request."""

    allowed: bool
    remaining: int
    """Tokens left after this request (0 when refused)."""
    full_in: float
    """Seconds until the bucket is full again."""
    retry_in: float
    """Seconds until the next token, when refused (0 when allowed)."""


class TokenBuckets:
    """One policy's buckets, by client: ``budget`` tokens, refilled over ``window_seconds``.

    ``clock`` is a monotonic clock in seconds (tests give their own).
    """

    __slots__ = ("_buckets", "_clock", "_interval", "_window", "budget", "window_seconds")

    def __init__(
        self, budget: int, window_seconds: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.budget = budget
        self.window_seconds = window_seconds
        self._window = float(window_seconds)
        self._interval = window_seconds / budget  # one token comes back per interval
        self._clock = clock
        self._buckets: dict[str, float] = {}  # client → when its bucket is full again

    def take(self, client: str) -> Admission:
        """Take a token of ``client``'s bucket, if it has one."""
        now = self._clock()
        buckets = self._buckets
        full_at = max(buckets.pop(client, now), now)  # popped: re-inserted as the newest
        after = full_at + self._interval
        if after - now > self._window:  # no token left
            buckets[client] = full_at
            return Admission(False, 0, full_at - now, after - self._window - now)
        buckets[client] = after
        if len(buckets) > MAX_CLIENTS:
            self._forget(now)
        remaining = int((self._window - (after - now)) / self._interval + 1e-9)
        return Admission(True, remaining, after - now, 0.0)

    def __len__(self) -> int:
        return len(self._buckets)

    def _forget(self, now: float) -> None:
        # Full buckets say nothing; then the longest-idle (the oldest in the dict's order).
        buckets = self._buckets
        for client in [client for client, full_at in buckets.items() if full_at <= now]:
            del buckets[client]
        for client in list(buckets)[: len(buckets) - MAX_CLIENTS // 2]:
            del buckets[client]


def limit(routes: list[ApiRoute], limits: RateLimits) -> None:
    """Count every route whose operation names a scope against its client's budget.

    Call it before :func:`~user_http.auth.protect`, so that the guard runs first and the
    limiter knows the token's subject.
    """
    policies = {
        READ_SCOPE: _Policy("reads", TokenBuckets(limits.reads, limits.window_seconds)),
        WRITE_SCOPE: _Policy("writes", TokenBuckets(limits.writes, limits.window_seconds)),
    }
    for route in routes:
        if route.operation.scope is not None:
            route.app = _Limited(route.app, policies[route.operation.scope])


class _Policy:
    __slots__ = ("buckets", "header", "name")

    def __init__(self, name: str, buckets: TokenBuckets) -> None:
        self.name = name
        self.buckets = buckets
        self.header = f'"{name}";q={buckets.budget};w={buckets.window_seconds}'.encode("ascii")


class _Limited:
    """Pure ASGI: takes the request's token, refuses it without one, adds the headers."""

    __slots__ = ("app", "policy")

    def __init__(self, app: ASGIApp, policy: _Policy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        policy = self.policy
        admission = policy.buckets.take(_client(scope))
        state = f'"{policy.name}";r={admission.remaining};t={math.ceil(admission.full_in)}'
        if not admission.allowed:
            retry_after = max(1, math.ceil(admission.retry_in))
            raise TooManyRequests(
                f"Over the budget of {policy.buckets.budget} {policy.name} per "
                f"{policy.buckets.window_seconds} seconds; retry in {retry_after} seconds.",
                retry_after=retry_after,
                headers={
                    RATE_LIMIT_POLICY_HEADER: policy.header.decode("ascii"),
                    RATE_LIMIT_HEADER: state,
                },
            )
        headers = ((b"ratelimit-policy", policy.header), (b"ratelimit", state.encode("ascii")))

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
