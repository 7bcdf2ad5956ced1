"""Database faults on a PostgreSQL server that the test owns, under the real ``user-service serve``.

The service runs with short limits (:data:`LIMITS`: pool timeout 1 s, connect timeout 1 s,
statement timeout 2 s, command timeout 2.5 s, two pooled connections and no overflow), so that
every fault shows within seconds:

- PostgreSQL stopped in the middle of a steady load of creates, kept down, started again: while
  it is down every request fails fast with ``503`` and ``Retry-After`` and ``/readyz`` is ``503``;
  afterwards the same process recovers by itself; every user answered ``201`` is stored and no
  user answered with an error is, but for requests in flight while the server went down (their
  commit may have happened and only its answer been lost: ``Idempotency-Key`` is the cure).
- Pool exhaustion and statement timeout, with ``users`` locked by another session: requests that
  hold the pool's connections wait for the lock until the statement timeout, the others wait for
  a connection until the pool timeout; each is ``503`` within its limit.
- PostgreSQL frozen (every process stopped by ``SIGSTOP``, connections open, nothing answers,
  so its own statement timeout cannot fire) under the same load, then thawed: every request is
  ``503`` within the service's own bounds (pool, connect and command timeouts) and ``/readyz``
  answers ``503`` within its one second; afterwards the service recovers by itself and every
  user answered ``201`` is stored. A write refused while frozen is in doubt: its statement may
  have reached the frozen server, which runs it when it resumes (counted, not prevented).
- A client that hangs up mid-request leaks no connection.

Each test writes its figures to ``.cache/reliability/database-faults.json`` (RELIABILITY.md).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx2 as httpx
import pytest

from e2e.controlled_postgres import ControlledPostgres, controlled_postgres
from e2e.raw_http import connection, gauge
from e2e.server import RunningServer, start_server
from user_service.readiness import READINESS_TIMEOUT_SECONDS

FIGURES = Path(__file__).resolve().parents[1] / ".cache" / "reliability" / "database-faults.json"
APPLICATION_NAME = "user-service-faults"
POOL_SIZE = 2
POOL_TIMEOUT = 1.0
CONNECT_TIMEOUT = 1.0
STATEMENT_TIMEOUT = 2.0
COMMAND_TIMEOUT = 2.5
LIMITS = {
    "USER_SERVICE_POOL_SIZE": str(POOL_SIZE),
    "USER_SERVICE_POOL_MAX_OVERFLOW": "0",
    "USER_SERVICE_POOL_TIMEOUT_SECONDS": str(POOL_TIMEOUT),
    "USER_SERVICE_CONNECT_TIMEOUT_SECONDS": str(CONNECT_TIMEOUT),
    "USER_SERVICE_STATEMENT_TIMEOUT_MS": str(int(STATEMENT_TIMEOUT * 1000)),
    "USER_SERVICE_COMMAND_TIMEOUT_SECONDS": str(COMMAND_TIMEOUT),
    "USER_SERVICE_APPLICATION_NAME": APPLICATION_NAME,
    "USER_SERVICE_ACCESS_LOG": "false",
}
# The longest any request may take while the database misbehaves: waiting for a connection, then
# opening one, then one statement (the service's own bound, above the server's), plus slack for a
# machine shared with other tests.
WORST_CASE = POOL_TIMEOUT + CONNECT_TIMEOUT + COMMAND_TIMEOUT + 1.0
CLIENT_TIMEOUT = 3 * WORST_CASE  # a request still unanswered by then counts as hung

RATE = 60  # creates per second during the outage test
WORKERS = 16  # threads (and connections) sending them
BEFORE, DOWN, AFTER = 1.0, 3.0, 1.0  # seconds of load before, during and after the outage
RECOVERY_LIMIT = 10.0  # seconds after PostgreSQL is back by which /readyz must be 200
FROZEN = 6.0  # seconds PostgreSQL stays frozen: longer than any bound of the service
READINESS_LIMIT = READINESS_TIMEOUT_SECONDS + 0.5  # /readyz's answer, slack included


@pytest.fixture(scope="module")
def database() -> Iterator[ControlledPostgres]:
    """This module's own PostgreSQL, which its tests stop and lock."""
    with controlled_postgres() as server:
        yield server


@pytest.fixture(scope="module")
def service(
    database: ControlledPostgres, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    """``user-service serve`` on :func:`database`, with the short limits of :data:`LIMITS`."""
    log = tmp_path_factory.mktemp("faults") / "server.log"
    running = start_server({"USER_SERVICE_DATABASE_URL": database.url, **LIMITS}, log)
    try:
        yield running
    finally:
        status = running.stop()
    assert status == 0, f"the server exited with {status}:\n{log.read_text()}"


@pytest.fixture
def api(service: RunningServer) -> Iterator[httpx.Client]:
    """A client of :func:`service` that gives up well after any limit of the service."""
    with httpx.Client(base_url=service.base_url, timeout=CLIENT_TIMEOUT) as client:
        yield client


@dataclass
class Outcome:
    """One request of the load: what was asked, what came back, and how long it took."""

    name: str
    sent_at: float
    status: int | None = None  # None: no answer (a transport error or a client timeout)
    seconds: float = 0.0
    retry_after: str | None = None
    problem: bool = False
    error: str | None = None


@dataclass
class Probe:
    """One ``/readyz`` answer during the outage test."""

    at: float
    status: int | None
    seconds: float


def _client(base_url: str) -> httpx.Client:
    """One client for many threads (making one per request costs more than the request)."""
    limits = httpx.Limits(max_connections=WORKERS, max_keepalive_connections=WORKERS)
    return httpx.Client(base_url=base_url, timeout=CLIENT_TIMEOUT, limits=limits)


def _create(client: httpx.Client, name: str, started: float) -> Outcome:
    outcome = Outcome(name, time.monotonic() - started)
    begin = time.monotonic()
    try:
        response = client.post("/users", json={"name": name})
    except httpx.HTTPError as error:
        outcome.error = type(error).__name__
    else:
        outcome.status = response.status_code
        outcome.retry_after = response.headers.get("retry-after")
        outcome.problem = response.headers.get("content-type") == "application/problem+json"
    outcome.seconds = time.monotonic() - begin
    return outcome


@dataclass
class Load:
    """Creates at a steady rate: one is due every 1/rate s, answered or not, at most
    :data:`WORKERS` in flight (a request that had to queue counts its time from when it is sent).
    """

    base_url: str
    rate: float
    prefix: str
    outcomes: list[Outcome] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self, started: float, limit: float) -> None:
        with _client(self.base_url) as client, ThreadPoolExecutor(max_workers=WORKERS) as pool:
            futures = []
            sent = 0
            while not self.stop.is_set() and time.monotonic() - started < limit:
                name = f"{self.prefix}-{sent}"
                futures.append(pool.submit(_create, client, name, started))
                sent += 1
                next_at = started + sent / self.rate
                self.stop.wait(max(0.0, next_at - time.monotonic()))
            self.outcomes = [future.result() for future in futures]


def _watch_readiness(base_url: str, started: float, stop: threading.Event) -> list[Probe]:
    probes: list[Probe] = []
    with httpx.Client(base_url=base_url, timeout=CLIENT_TIMEOUT) as client:
        while not stop.is_set():
            at = time.monotonic() - started
            try:
                status: int | None = client.get("/readyz").status_code
            except httpx.HTTPError:
                status = None
            probes.append(Probe(at, status, time.monotonic() - started - at))
            stop.wait(0.1)
    return probes


@dataclass
class LoadRun:
    """A steady load of creates with ``/readyz`` watched: what :func:`_steady_load` yields."""

    started: float
    load: Load
    probes: list[Probe] = field(default_factory=list)

    def now(self) -> float:
        """Seconds since the load started."""
        return time.monotonic() - self.started


@contextmanager
def _steady_load(base_url: str, prefix: str, limit: float) -> Iterator[LoadRun]:
    """Creates at :data:`RATE` named ``<prefix>-<n>`` for at most ``limit`` seconds, and
    ``/readyz`` asked every 0.1 s; both stopped, and waited for, when the block ends."""
    run = LoadRun(time.monotonic(), Load(base_url, RATE, prefix))
    watching = threading.Event()
    runner = threading.Thread(target=run.load.run, args=(run.started, limit))
    watcher = threading.Thread(
        target=lambda: run.probes.extend(_watch_readiness(base_url, run.started, watching))
    )
    runner.start()
    watcher.start()
    try:
        yield run
    finally:
        run.load.stop.set()
        watching.set()
        runner.join(CLIENT_TIMEOUT + 10)
        watcher.join(CLIENT_TIMEOUT + 10)


def _stored_names(database: ControlledPostgres, prefix: str) -> set[str]:
    rows = database.query("SELECT name FROM users WHERE name LIKE :prefix", prefix=f"{prefix}-%")
    return {str(row[0]) for row in rows}


def _record(scenario: str, figures: dict[str, Any]) -> None:
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    recorded = json.loads(FIGURES.read_text()) if FIGURES.exists() else {}
    recorded[scenario] = figures
    FIGURES.write_text(json.dumps(recorded, indent=2) + "\n")


@pytest.mark.timeout(120)
@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_an_outage_fails_fast_and_recovers_without_losing_acknowledged_writes(
    database: ControlledPostgres,
    service: RunningServer,
    api: httpx.Client,
    mode: Literal["fast", "immediate"],
) -> None:
    prefix = f"outage-{mode}"
    with _steady_load(service.base_url, prefix, BEFORE + DOWN + AFTER + 30) as run:
        try:
            time.sleep(BEFORE)
            down_from = run.now()
            database.stop(mode)
            down_since = run.now()
            time.sleep(DOWN)
            up_from = run.now()
            database.start()
            up_since = run.now()
            ready_at = _wait_until_ready(api, run.started, RECOVERY_LIMIT)
            time.sleep(AFTER)
        finally:
            if not database.running:
                database.start()
    outcomes, probes = run.load.outcomes, run.probes
    while_down = [
        o for o in outcomes if down_since <= o.sent_at and o.sent_at + o.seconds <= up_from
    ]
    after_ready = [o for o in outcomes if o.sent_at >= ready_at]
    acknowledged = {o.name for o in outcomes if o.status == 201}
    refused = {o.name for o in outcomes if o.status != 201}
    # In flight when the server went down: the commit may have happened and only its answer been
    # lost. No server can tell such a client more than "unavailable"; retrying with the same
    # Idempotency-Key gets the original answer.
    in_doubt = {
        o.name for o in outcomes if o.sent_at <= down_since and o.sent_at + o.seconds >= down_from
    }
    stored = _stored_names(database, prefix)
    counts: dict[str, float] = {
        "rate_per_second": RATE,
        "seconds_down": round(up_since - down_from, 2),
        "requests_sent": len(outcomes),
        "requests_sent_while_down": len(while_down),
        "answered_201": len(acknowledged),
        "answered_503": sum(o.status == 503 for o in outcomes),
        "answered_otherwise": sum(o.status not in {201, 503} for o in outcomes),
        "max_seconds_while_down": round(max((o.seconds for o in while_down), default=0), 3),
        "max_seconds_overall": round(max((o.seconds for o in outcomes), default=0), 3),
        "readyz_503_while_down": sum(
            p.status == 503 for p in probes if down_since <= p.at <= up_from
        ),
        "readyz_other_while_down": sum(
            p.status != 503 for p in probes if down_since + 0.5 <= p.at <= up_from
        ),
        "seconds_to_ready_after_start": round(ready_at - up_since, 2),
        "answered_201_after_ready": sum(o.status == 201 for o in after_ready),
        "requests_after_ready": len(after_ready),
        "acknowledged_writes_found": len(acknowledged & stored),
        "acknowledged_writes_missing": len(acknowledged - stored),
        "refused_writes_in_flight_at_the_stop": len(refused & in_doubt),
        "refused_writes_found": len(refused & stored - in_doubt),
        "refused_writes_in_flight_at_the_stop_found": len(refused & stored & in_doubt),
    }
    figures = {"stop_mode": mode, **counts}
    _record(f"outage_{mode}", figures)
    print(json.dumps(figures, indent=2))

    assert all(o.status in {201, 503} for o in outcomes), [asdict(o) for o in outcomes]
    assert while_down
    assert all(o.status == 503 for o in while_down)
    assert all(o.retry_after == "1" and o.problem for o in outcomes if o.status == 503)
    assert counts["max_seconds_overall"] <= WORST_CASE, "a request took longer than its limits"
    assert counts["readyz_503_while_down"] > 0
    assert counts["readyz_other_while_down"] == 0
    assert after_ready
    assert all(o.status == 201 for o in after_ready)
    assert acknowledged <= stored, "an acknowledged user is missing"
    assert not (refused & stored) - in_doubt, "a user answered with an error was stored"


@pytest.mark.timeout(120)
def test_a_frozen_database_is_503_within_the_services_bounds_and_recovers(
    database: ControlledPostgres, service: RunningServer, api: httpx.Client
) -> None:
    prefix = "frozen"
    with _steady_load(service.base_url, prefix, BEFORE + FROZEN + AFTER + 30) as run:
        try:
            time.sleep(BEFORE)
            frozen_from = run.now()
            database.freeze()
            time.sleep(FROZEN)
            thawed_at = run.now()
            database.thaw()
            ready_at = _wait_until_ready(api, run.started, RECOVERY_LIMIT)
            time.sleep(AFTER)
        finally:
            if database.frozen:
                database.thaw()
    outcomes, probes = run.load.outcomes, run.probes
    # Sent once every pooled connection had met the freeze (each waits at most the command
    # timeout) and answered before the thaw: nothing but 503 is possible for these.
    settled = frozen_from + COMMAND_TIMEOUT
    while_frozen = [
        o for o in outcomes if settled <= o.sent_at and o.sent_at + o.seconds < thawed_at
    ]
    after_ready = [o for o in outcomes if o.sent_at >= ready_at]
    acknowledged = {o.name for o in outcomes if o.status == 201}
    refused = {o.name for o in outcomes if o.status != 201}
    in_doubt = {
        o.name for o in outcomes if o.status != 201 and o.sent_at + o.seconds >= frozen_from
    }
    stored = _stored_names(database, prefix)
    frozen_probes = [
        p for p in probes if frozen_from + 0.2 <= p.at and p.at + p.seconds < thawed_at
    ]
    figures: dict[str, float] = {
        "rate_per_second": RATE,
        "seconds_frozen": round(thawed_at - frozen_from, 2),
        "requests_sent": len(outcomes),
        "requests_sent_and_answered_while_frozen": len(while_frozen),
        "answered_201": len(acknowledged),
        "answered_503": sum(o.status == 503 for o in outcomes),
        "answered_otherwise": sum(o.status not in {201, 503} for o in outcomes),
        "max_seconds_while_frozen": round(max((o.seconds for o in while_frozen), default=0), 3),
        "max_seconds_overall": round(max((o.seconds for o in outcomes), default=0), 3),
        "bound_seconds": POOL_TIMEOUT + CONNECT_TIMEOUT + COMMAND_TIMEOUT,
        "readyz_while_frozen": len(frozen_probes),
        "readyz_503_while_frozen": sum(p.status == 503 for p in frozen_probes),
        "readyz_max_seconds_while_frozen": round(max(p.seconds for p in frozen_probes), 3),
        "seconds_to_ready_after_thaw": round(ready_at - thawed_at, 2),
        "answered_201_after_ready": sum(o.status == 201 for o in after_ready),
        "requests_after_ready": len(after_ready),
        "acknowledged_writes_found": len(acknowledged & stored),
        "acknowledged_writes_missing": len(acknowledged - stored),
        "refused_writes_in_doubt": len(refused & in_doubt),
        "refused_writes_in_doubt_found_after_thaw": len(refused & in_doubt & stored),
        "refused_writes_found_not_in_doubt": len(refused & stored - in_doubt),
    }
    _record("frozen", figures)
    print(json.dumps(figures, indent=2))

    assert all(o.status in {201, 503} for o in outcomes), [asdict(o) for o in outcomes]
    assert while_frozen
    assert all(o.status == 503 and o.retry_after == "1" and o.problem for o in while_frozen)
    assert figures["max_seconds_overall"] <= WORST_CASE, "a request outlasted the bounds"
    assert frozen_probes
    assert all(p.status == 503 for p in frozen_probes)
    assert figures["readyz_max_seconds_while_frozen"] <= READINESS_LIMIT
    assert after_ready
    assert all(o.status == 201 for o in after_ready)
    assert acknowledged <= stored, "an acknowledged user is missing"
    assert figures["refused_writes_found_not_in_doubt"] == 0


def _wait_until_ready(api: httpx.Client, started: float, limit: float) -> float:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            if api.get("/readyz").status_code == 200:
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"/readyz was not 200 within {limit} s of PostgreSQL's start")


def _wait_until_locked(database: ControlledPostgres, limit: float = 5.0) -> None:
    deadline = time.monotonic() + limit
    query = (
        "SELECT count(*) FROM pg_locks WHERE relation = 'users'::regclass"
        " AND mode = 'AccessExclusiveLock' AND granted"
    )
    while database.query(query)[0][0] == 0:
        assert time.monotonic() < deadline, "the lock was never taken"
        time.sleep(0.02)


def _busy_backends(database: ControlledPostgres) -> list[tuple[Any, ...]]:
    return database.query(
        "SELECT pid, state FROM pg_stat_activity WHERE application_name = :name"
        " AND state <> 'idle'",
        name=APPLICATION_NAME,
    )


@pytest.mark.timeout(60)
def test_pool_exhaustion_and_statement_timeout_are_503_within_their_limits(
    database: ControlledPostgres, service: RunningServer, api: httpx.Client
) -> None:
    before = _stored_names(database, "locked")
    requests = POOL_SIZE + 4
    locker = database.hold_lock(STATEMENT_TIMEOUT + 3)
    try:
        _wait_until_locked(database)
        started = time.monotonic()
        with _client(service.base_url) as client, ThreadPoolExecutor(requests) as pool:
            futures = [
                pool.submit(_create, client, f"locked-{index}", started)
                for index in range(requests)
            ]
            # Read the pool while every request waits: before the first pool timeout.
            while True:
                checked_out = gauge(api, "user_service_db_pool_connections", state="checked_out")
                waiting = gauge(api, "user_service_db_pool_connections", state="waiting")
                if waiting == requests - POOL_SIZE or time.monotonic() - started > POOL_TIMEOUT:
                    break
                time.sleep(0.02)
            outcomes = [future.result() for future in futures]
    finally:
        locker.kill()
        locker.wait(10)
    seconds = sorted(o.seconds for o in outcomes)
    statement_timeouts = seconds[-POOL_SIZE:]
    pool_timeouts = seconds[:-POOL_SIZE]
    figures = {
        "concurrent_requests": requests,
        "pool_size": POOL_SIZE,
        "checked_out_while_locked": checked_out,
        "waiting_while_locked": waiting,
        "answered_503": sum(o.status == 503 for o in outcomes),
        "pool_timeout_answers_seconds": [round(s, 3) for s in pool_timeouts],
        "statement_timeout_answers_seconds": [round(s, 3) for s in statement_timeouts],
        "writes_found": len(_stored_names(database, "locked") - before),
    }
    _record("pool_exhaustion_and_statement_timeout", figures)
    print(json.dumps(figures, indent=2))

    assert all(o.status == 503 and o.retry_after == "1" and o.problem for o in outcomes)
    assert (checked_out, waiting) == (POOL_SIZE, requests - POOL_SIZE)
    assert all(POOL_TIMEOUT * 0.9 <= s <= POOL_TIMEOUT + 1.0 for s in pool_timeouts)
    assert all(STATEMENT_TIMEOUT * 0.9 <= s <= STATEMENT_TIMEOUT + 1.0 for s in statement_timeouts)
    assert figures["writes_found"] == 0
    assert api.post("/users", json={"name": "after-the-lock"}).status_code == 201


@pytest.mark.timeout(60)
@pytest.mark.parametrize("unlock_after", [0.5, None], ids=["lock-released", "statement-timeout"])
def test_a_client_that_hangs_up_mid_request_leaks_no_connection(
    database: ControlledPostgres,
    service: RunningServer,
    api: httpx.Client,
    unlock_after: float | None,
) -> None:
    hold = unlock_after if unlock_after is not None else STATEMENT_TIMEOUT + 1
    locker = database.hold_lock(hold)
    try:
        _wait_until_locked(database)
        for index in range(POOL_SIZE):
            with connection(service.base_url) as sock:
                body = json.dumps({"name": f"hung-up-{unlock_after}-{index}"}).encode()
                sock.sendall(
                    b"POST /users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
                )
                time.sleep(0.1)  # the request reaches the database and waits for the lock
        busy_while_locked = len(_busy_backends(database))
    finally:
        locker.wait(hold + 10)
    deadline = time.monotonic() + STATEMENT_TIMEOUT + 3
    while (
        gauge(api, "user_service_db_pool_connections", state="checked_out") > 0
        or gauge(api, "user_service_http_requests_in_flight") > 1
        or _busy_backends(database)
    ):
        assert time.monotonic() < deadline, "a connection is still in use after its client left"
        time.sleep(0.05)
    backends = database.query(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = :name",
        name=APPLICATION_NAME,
    )[0][0]
    figures = {
        "clients_that_hung_up": POOL_SIZE,
        "busy_backends_while_locked": busy_while_locked,
        "busy_backends_after": len(_busy_backends(database)),
        "service_backends_after": backends,
        "checked_out_after": gauge(api, "user_service_db_pool_connections", state="checked_out"),
    }
    _record(f"client_hangs_up_{'unlocked' if unlock_after else 'timed_out'}", figures)
    print(json.dumps(figures, indent=2))

    assert busy_while_locked == POOL_SIZE
    assert backends <= POOL_SIZE
    assert api.post("/users", json={"name": f"after-hang-ups-{unlock_after}"}).status_code == 201
