"""When and how long the client waits before trying a request again.

Retried, at most ``RetryPolicy.attempts`` times in all, with "full jitter" exponential backoff:

- reads (``get``, ``list``) and creations (``create``, ``create_once``, which always carry an
  ``Idempotency-Key``, so the server answers a repeat with the first response), on any transport
  error (connection refused, reset or dropped, timeouts) and on ``503`` or ``429`` with
  ``Retry-After``;
- writes that are not safe to repeat (``replace``, ``patch``, ``delete``: each success bumps the
  version, a repeated ``delete`` would answer ``404``), only when the request cannot have reached
  the service (no connection, no pooled connection in time) and on ``503`` or ``429`` with
  ``Retry-After`` (the service answers both having changed nothing: unavailable, or the client
  over its rate limit).

Nothing else is retried: a ``4xx`` is an answer, and a ``503`` or ``429`` without ``Retry-After``
or asking for a longer wait than ``max_delay`` is reported at once (a ``429`` as
:class:`~user_client.errors.UnexpectedResponse` with its status).
"""

from __future__ import annotations

from dataclasses import dataclass
from random import Random


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """How often and how long to retry; ``attempts=1`` turns retrying off."""

    attempts: int = 3
    """Tries in all, the first included."""
    backoff: float = 0.05
    """The ceiling, in seconds, of the first wait; it doubles with every retry."""
    max_delay: float = 5.0
    """No wait is longer; a ``Retry-After`` asking for more is not retried."""

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.backoff < 0 or self.max_delay < 0:
            raise ValueError("attempts must be at least 1, backoff and max_delay not negative")

    def delay(self, retry: int, retry_after: float | None, rng: Random) -> float | None:
        """Seconds to wait before retry number ``retry`` (0 first); ``None``: do not retry.

        A random share of the backoff ceiling ("full jitter"), added to ``Retry-After`` when the
        service sent one, so that clients told the same wait do not all return at once.
        """
        if retry + 1 >= self.attempts:
            return None
        jitter = rng.uniform(0, min(self.max_delay, self.backoff * 2**retry))
        if retry_after is None:
            return jitter
        if retry_after > self.max_delay:
            return None
        return min(self.max_delay, retry_after + jitter)


def retry_after_seconds(header: str | None) -> float | None:
    """The seconds of a ``Retry-After: <seconds>`` header (``0`` for an HTTP date or junk)."""
    if header is None:
        return None
    text = header.strip()
    return float(text) if text.isascii() and text.isdigit() else 0.0
