"""A steady create-and-read load on the release, for the tests that break something under it.

Two lanes, each one thread at half the rate: one creates users (each with an ``Idempotency-Key``
when ``keyed``), the other reads back the user created last (``GET /users/{id}``; a page of the
list before the first create). Every request opens a new connection, as many clients behind a
load balancer do: a kept-alive connection is pinned to its pod, and how a client handles that pod
going away is the client's business, not the release's. Every answer is recorded with the
moment it was sent, so a test can say what happened before, during and after its fault.

Afterwards ``unreadable()`` reads every acknowledged create back, and ``retry_refused()`` sends
each create that got no ``201`` once more with its key, as a client would, and checks that the
name then exists exactly once::

    with SteadyLoad(release.base_url, keyed=True) as load:
        ...  # the fault
    assert load.failures() == []
    assert load.unreadable() == []
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType

import httpx2 as httpx

CLIENT_TIMEOUT = 10.0
"""Longer than any bound of the service (6 s command timeout through the Pooler + 2 s pool)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Answer:
    """One request: when it was sent (``time.monotonic()``), how long it took, what came back."""

    at: float
    seconds: float
    op: str
    status: int | None
    """``None``: no HTTP answer (refused, reset, timed out)."""
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status in (200, 201)


@dataclass(frozen=True, slots=True, kw_only=True)
class Created:
    id: int
    name: str
    key: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Retried:
    """What sending every refused create again with its key found."""

    retried: int
    replayed: int
    """Retries answered with a user created before the retry: the first attempt had committed
    and only its answer was lost."""
    problems: list[str]


@dataclass
class SteadyLoad:
    base_url: str
    rate: float = 20.0
    """Requests a second, both lanes together."""
    keyed: bool = False
    answers: list[Answer] = field(default_factory=list)
    created: list[Created] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)
    """(name, key) of each keyed create that got no 201."""
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __enter__(self) -> SteadyLoad:
        for lane in (self._create, self._read):
            thread = threading.Thread(target=self._paced, args=(lane,), daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=CLIENT_TIMEOUT + 5)

    def figures(self) -> dict[str, object]:
        """What RELIABILITY.md quotes of a run: requests, their statuses, failures, creates."""
        return {
            "requests": len(self.answers),
            "statuses": dict(self.statuses()),
            "failed": len(self.failures()),
            "acknowledged_creates": len(self.created),
        }

    def failures(self, since: float = 0.0) -> list[Answer]:
        return [a for a in self.answers if not a.ok and a.at >= since]

    def statuses(self, since: float = 0.0, until: float = float("inf")) -> Counter[str]:
        """How many answers of each status (``error`` for no HTTP answer) were sent meanwhile."""
        return Counter(
            "error" if a.status is None else str(a.status)
            for a in self.answers
            if since <= a.at < until
        )

    def recovered_at(self, since: float, streak: int = 10) -> float | None:
        """When the first run of ``streak`` successes in a row after ``since`` began."""
        run: list[Answer] = []
        for answer in sorted(self.answers, key=lambda a: a.at):
            if answer.at < since:
                continue
            run = [*run, answer] if answer.ok else []
            if len(run) == streak:
                return run[0].at
        return None

    def unreadable(self) -> list[str]:
        """Every acknowledged create that cannot be read back as it was acknowledged."""
        problems = []
        with httpx.Client(base_url=self.base_url, timeout=CLIENT_TIMEOUT) as client:
            for user in self.created:
                read = client.get(f"/users/{user.id}")
                if read.status_code != 200 or read.json()["name"] != user.name:
                    problems.append(f"{user}: {read.status_code} {read.text[:200]}")
        return problems

    def retry_refused(self, seconds: float = 60) -> Retried:
        """Send each refused create again with its key until it is 201, then count the name."""
        replayed = 0
        problems = []
        deadline = time.monotonic() + seconds
        with httpx.Client(base_url=self.base_url, timeout=CLIENT_TIMEOUT) as client:
            for name, key in self.refused:
                started = time.time()
                answer = None
                while answer is None or answer.status_code != 201:
                    if time.monotonic() > deadline:
                        problems.append(f"{name}: no 201 on retry within {seconds} s")
                        break
                    try:
                        answer = client.post("/users", json=_body(name), headers=_key(key))
                    except httpx.TransportError:
                        time.sleep(1)
                if answer is None or answer.status_code != 201:
                    continue
                user = answer.json()
                created_at = _epoch(user["created_at"])
                replayed += created_at < started
                self.created.append(Created(id=user["id"], name=name, key=key))
                found = client.get("/users", params={"name": name, "total": "true"}).json()
                if found["count"] != 1 or found["users"][0]["id"] != user["id"]:
                    problems.append(f"{name}: {found}")
        return Retried(retried=len(self.refused), replayed=replayed, problems=problems)

    def _paced(self, lane: Callable[[httpx.Client], tuple[str, int | None, str]]) -> None:
        interval = 2 / self.rate
        with httpx.Client(
            base_url=self.base_url,
            timeout=CLIENT_TIMEOUT,
            limits=httpx.Limits(max_keepalive_connections=0),
        ) as client:
            next_at = time.monotonic()
            while not self._stop.is_set():
                started = time.monotonic()
                op, status, error = lane(client)
                with self._lock:
                    self.answers.append(
                        Answer(
                            at=started,
                            seconds=time.monotonic() - started,
                            op=op,
                            status=status,
                            error=error,
                        )
                    )
                next_at = max(next_at + interval, time.monotonic() - interval)
                self._stop.wait(max(0.0, next_at - time.monotonic()))

    def _create(self, client: httpx.Client) -> tuple[str, int | None, str]:
        name = f"steady-{uuid.uuid4().hex[:16]}"
        key = f"key-{name}" if self.keyed else None
        try:
            answer = client.post("/users", json=_body(name), headers=_key(key))
        except httpx.TransportError as error:
            if key is not None:
                self.refused.append((name, key))
            return "create", None, repr(error)
        if answer.status_code == 201:
            self.created.append(Created(id=answer.json()["id"], name=name, key=key))
            return "create", 201, ""
        if key is not None:
            self.refused.append((name, key))
        return "create", answer.status_code, answer.text[:200]

    def _read(self, client: httpx.Client) -> tuple[str, int | None, str]:
        path = f"/users/{self.created[-1].id}" if self.created else "/users?limit=5"
        try:
            answer = client.get(path)
        except httpx.TransportError as error:
            return "read", None, repr(error)
        return "read", answer.status_code, "" if answer.status_code == 200 else answer.text[:200]


def _body(name: str) -> dict[str, str]:
    return {"name": name, "email": f"{name}@steady.example", "other": "steady load"}


def _key(key: str | None) -> dict[str, str]:
    return {} if key is None else {"Idempotency-Key": key}


def _epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
