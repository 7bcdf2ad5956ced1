"""The service beside the bare reference application, request for request, TLS to the database
off and on.

For each connection setting, the service (every feature on) and the reference
(:mod:`benchmarks.reference`) start on the same database with the same URL and pool size, both
pinned to the same CPU; wrk (:data:`WRK_SCRIPT`) drives each in turn at full speed over
``connections`` kept-alive connections for ``duration``, from the other CPU, which PostgreSQL
shares. Rounds alternate which server goes first. Each figure is the throughput and the server's
CPU time (all its processes, user and system) over the requests it answered; a round with any
error (an answer of 400 or more, a timeout, a refused connection) fails the run. A share is
given two ways: the ratio of each server's median, and the median of the ratios within each
round (paired), which a virtual machine's drifts over minutes move far less.

Over TCP, "TLS off" is ``sslmode=disable`` and "TLS on" ``sslmode=require`` (asyncpg's default,
``prefer``, is "on" wherever the server offers TLS, as Debian's does). Over a Unix socket there is
no TLS.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import uuid
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import httpx2 as httpx
import psutil  # type: ignore[import-untyped]

from benchmarks.processes import CpuPlan, seconds, tree_cpu
from benchmarks.servers import start_reference, start_service
from e2e.server import RunningServer

WRK_SCRIPT: Final = Path(__file__).with_name("closed_loop.lua")
OPERATIONS: Final = ("get", "create")
SEEDED_USERS: Final = 200
TLS_OFF: Final = "TLS off (sslmode=disable)"
TLS_ON: Final = "TLS on (sslmode=require)"
UNIX_SOCKET: Final = "Unix socket (no TLS)"


@dataclass
class Comparison:
    """Closed-loop throughput of one operation on the reference and on the service, per round."""

    op: str
    connection: str
    """How both servers reached PostgreSQL: :data:`TLS_OFF`, :data:`TLS_ON`, :data:`UNIX_SOCKET`."""
    reference_rps: list[float] = field(default_factory=list)
    service_rps: list[float] = field(default_factory=list)
    reference_cpu_ms: list[float] = field(default_factory=list)
    """The reference's CPU time per request, per round."""
    service_cpu_ms: list[float] = field(default_factory=list)

    @property
    def fraction(self) -> float:
        """The service's median throughput as a fraction of the reference's."""
        return statistics.median(self.service_rps) / statistics.median(self.reference_rps)

    @property
    def cpu_fraction(self) -> float:
        """Requests per CPU second of the service, as a fraction of the reference's."""
        return statistics.median(self.reference_cpu_ms) / statistics.median(self.service_cpu_ms)

    @property
    def paired_fraction(self) -> float:
        """The median over rounds of the service's throughput over the reference's in the same
        round: the two run back to back, so a slow drift of the machine cancels out."""
        return statistics.median(
            service / reference
            for service, reference in zip(self.service_rps, self.reference_rps, strict=True)
        )

    @property
    def paired_cpu_fraction(self) -> float:
        """As :attr:`paired_fraction`, of requests per CPU second."""
        return statistics.median(
            reference / service
            for service, reference in zip(self.service_cpu_ms, self.reference_cpu_ms, strict=True)
        )


@dataclass(frozen=True)
class Rounds:
    """How each server is measured."""

    connections: int = 32
    duration: str = "10s"
    rounds: int = 3


def connection_settings(database_url: str) -> dict[str, str]:
    """The URLs to compare on: TLS off and on over TCP, the one URL over a Unix socket."""
    if "host=/" in database_url or "@/" in database_url:
        return {UNIX_SOCKET: database_url}
    separator = "&" if "?" in database_url else "?"
    return {
        TLS_OFF: f"{database_url}{separator}sslmode=disable",
        TLS_ON: f"{database_url}{separator}sslmode=require",
    }


def compare(
    database_url: str,
    plan: CpuPlan,
    rounds: Rounds,
    logs: Path,
    *,
    workers: int = 1,
    flame_graphs: bool = False,
) -> list[Comparison]:
    """Every operation on each connection setting of ``database_url``; logs in ``logs``.

    With ``flame_graphs``, one more round of each operation on the service, on the first
    setting (TLS off over TCP), is sampled by py-spy into ``logs/flame-<op>.svg``.
    """
    comparisons = []
    for number, (connection, url) in enumerate(connection_settings(database_url).items()):
        tag = connection.split(" (")[0].lower().replace(" ", "-")
        with ExitStack() as stack:
            service = start_service(
                stack, url, logs / f"service-{tag}.log", workers=workers, cpus=plan.service
            )
            reference = start_reference(
                stack, url, logs / f"reference-{tag}.log", cpus=plan.service
            )
            ids = seed(service)
            for op in OPERATIONS:
                comparison = Comparison(op, connection)
                for round_ in range(rounds.rounds):
                    order = [("reference", reference), ("service", service)]
                    for name, server in order[:: -1 if round_ % 2 else 1]:
                        rps, cpu_ms = closed_loop(server, op, ids, rounds, plan)
                        getattr(comparison, f"{name}_rps").append(rps)
                        getattr(comparison, f"{name}_cpu_ms").append(cpu_ms)
                        print(
                            f"{connection}, {op} on the {name}: {rps:.0f}/s, "
                            f"{cpu_ms:.3f} CPU ms each",
                            flush=True,
                        )
                print(
                    f"{connection}, {op}: the service reaches {comparison.fraction:.0%} of the "
                    f"reference's throughput, {comparison.cpu_fraction:.0%} of its requests per "
                    f"CPU second (paired by round: {comparison.paired_fraction:.0%}, "
                    f"{comparison.paired_cpu_fraction:.0%})",
                    flush=True,
                )
                comparisons.append(comparison)
                if flame_graphs and number == 0:
                    _flame_graph(service, op, ids, rounds, plan, svg=logs / f"flame-{op}.svg")
    return comparisons


def _flame_graph(
    server: RunningServer, op: str, ids: list[int], rounds: Rounds, plan: CpuPlan, *, svg: Path
) -> None:
    """py-spy's flame graph of ``server`` over one closed-loop round of ``op``."""
    spy = subprocess.Popen(
        [str(Path(sys.executable).with_name("py-spy")), "record", "--pid",
         str(server.process.pid), "--duration", str(int(seconds(rounds.duration))),
         "--rate", "250", "--nonblocking", "--format", "flamegraph", "--output", str(svg)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    closed_loop(server, op, ids, rounds, plan)
    _, errors = spy.communicate(timeout=120)
    if spy.returncode != 0:
        raise RuntimeError(f"py-spy failed: {errors}")
    print(f"flame graph of the service, {op}: {svg}", flush=True)


def seed(service: RunningServer) -> list[int]:
    """Users for the reads, created through the service."""
    run = uuid.uuid4().hex[:8]
    with httpx.Client(base_url=service.base_url, timeout=10) as client:
        ids = []
        for number in range(SEEDED_USERS):
            response = client.post("/users", json={"name": f"seed-{run}-{number}"})
            response.raise_for_status()
            ids.append(int(response.json()["id"]))
    return ids


def closed_loop(
    server: RunningServer, op: str, ids: list[int], rounds: Rounds, plan: CpuPlan
) -> tuple[float, float]:
    """(requests a second, the server's CPU milliseconds a request) of one wrk run."""
    argument = ",".join(map(str, ids)) if op == "get" else uuid.uuid4().hex[:10]
    process = psutil.Process(server.process.pid)
    before = tree_cpu(process)
    outcome = subprocess.run(
        ["wrk", "-t1", f"-c{rounds.connections}", f"-d{rounds.duration}", "--timeout", "10s",
         "-s", str(WRK_SCRIPT), server.base_url, "--", op, argument],
        capture_output=True, text=True, check=False, preexec_fn=plan.pin_load,
        timeout=seconds(rounds.duration) + 60,
    )  # fmt: skip
    cpu = tree_cpu(process) - before
    lines = outcome.stdout.strip().splitlines()
    if outcome.returncode != 0 or not lines or not lines[-1].startswith("{"):
        raise RuntimeError(f"wrk failed ({outcome.returncode}):\n{outcome.stdout}{outcome.stderr}")
    summary = json.loads(lines[-1])
    if summary["errors"]:
        raise RuntimeError(
            f"{op} on {server.base_url}: {summary['errors']} errors\n{outcome.stdout}"
        )
    requests = summary["requests"]
    return requests / (summary["duration_us"] / 1e6), 1000 * cpu / requests


def wrk_version() -> str:
    """wrk's own first line, e.g. ``wrk 4.1.0 [epoll] …``."""
    outcome = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    return (outcome.stdout + outcome.stderr).splitlines()[0]
