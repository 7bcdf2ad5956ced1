"""What telemetry costs: throughput of the real server with metrics and logging on, and off.

Two ``user-service serve`` processes (one worker each) share one database: one with metrics and
the JSON access log on, one with both off. Each writes its stdout to a pipe that a ``cat``
process copies to a file, as a container runtime reads a container's output. Tracing is off in
both, as it is unless ``OTEL_*`` variables ask for it. A small keep-alive HTTP/1.1 client loads
them in turn, in alternating order, for several rounds, with the same requests, and the median
throughputs are compared. The CPU time each server spends
per request (from ``/proc``) is shown beside them: it is steadier than throughput when other
work shares the machine.

Run it on a quiet machine (the client and the servers share its cores)::

    .venv/bin/python benchmarks/telemetry_overhead.py            # embedded PostgreSQL
    USER_SERVICE_DATABASE_URL=postgresql://... .venv/bin/python benchmarks/telemetry_overhead.py

It prints one Markdown table row for ``BENCHMARKS.md``; it exits 1 if more than the budget
(10 %) is lost, by either measure: throughput, or capacity (the server's CPU per request, which
is what throughput becomes when the server alone is the bottleneck).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import ClassVar

import uvloop

from user_postgres import EmbeddedPostgres

BUDGET = 0.10
"""The share of throughput that telemetry may cost."""

ON = {"USER_SERVICE_METRICS_ENABLED": "true", "USER_SERVICE_ACCESS_LOG": "true"}
OFF = {"USER_SERVICE_METRICS_ENABLED": "false", "USER_SERVICE_ACCESS_LOG": "false"}
SEEDED_USERS = 100


@dataclass(frozen=True)
class Server:
    """A ``user-service serve`` process on a port."""

    name: str
    port: int
    process: subprocess.Popen[bytes]


def main(argv: Sequence[str] | None = None) -> int:
    """Measure, print the figures, and tell whether the budget holds."""
    options = _parser().parse_args(argv)
    with ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-")))
        database_url = os.environ.get("USER_SERVICE_DATABASE_URL")
        if not database_url:
            database_url = stack.enter_context(EmbeddedPostgres(scratch / "pgdata")).url
        on = stack.enter_context(_serving("on", ON, database_url, scratch / "on.log"))
        off = stack.enter_context(_serving("off", OFF, database_url, scratch / "off.log"))
        workload = Workload(on.port, options.mix)
        throughput: dict[str, list[float]] = {"on": [], "off": []}
        cpu: dict[str, list[float]] = {"on": [], "off": []}
        for server in (on, off):  # warm both up: connections, prepared statements, caches
            _load(server.port, workload, options.connections, options.warmup)
        for round_number in range(options.rounds):
            order = (on, off) if round_number % 2 == 0 else (off, on)
            for server in order:
                cpu_before = _cpu_seconds(server.process.pid)
                rate = _load(server.port, workload, options.connections, options.seconds)
                per_request = (_cpu_seconds(server.process.pid) - cpu_before) / (
                    rate * options.seconds
                )
                throughput[server.name].append(rate)
                cpu[server.name].append(per_request * 1e6)
                print(
                    f"round {round_number + 1}: telemetry {server.name:>3}: {rate:6.0f} req/s, "
                    f"server CPU {per_request * 1e6:4.0f} µs/request"
                )
        access_lines = sum('"user_service.access"' in line for line in (scratch / "on.log").open())
    rate_on, rate_off = statistics.median(throughput["on"]), statistics.median(throughput["off"])
    cpu_on, cpu_off = statistics.median(cpu["on"]), statistics.median(cpu["off"])
    throughput_lost = 1 - rate_on / rate_off
    # What one server could serve on a CPU of its own, if it were the only bottleneck.
    capacity_lost = 1 - cpu_off / cpu_on
    print(f"\naccess lines written with telemetry on: {access_lines}\n")
    print(
        "| date | machine, load average | workload | telemetry off | metrics + access log on "
        "| throughput lost | capacity lost (CPU) |\n"
        "|---|---|---|---|---|---|---|\n"
        f"| {time.strftime('%Y-%m-%d')} | {_machine()}, {os.getloadavg()[0]:.1f} "
        f"| {Workload.DESCRIPTIONS[options.mix]}, {options.connections} connections, "
        f"{options.rounds} × {options.seconds:g} s each "
        f"| {rate_off:.0f} req/s, {cpu_off:.0f} µs CPU/request "
        f"| {rate_on:.0f} req/s, {cpu_on:.0f} µs CPU/request "
        f"| {throughput_lost:.1%} | {capacity_lost:.1%} |"
    )
    return 0 if max(throughput_lost, capacity_lost) <= BUDGET else 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=6, help="rounds of on and off (default 6)")
    parser.add_argument("--seconds", type=float, default=5.0, help="load per round and server")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of warm-up per server")
    parser.add_argument("--connections", type=int, default=16, help="concurrent connections")
    parser.add_argument(
        "--mix", choices=sorted(Workload.OPERATIONS), default="mix", help="see Workload"
    )
    return parser


@contextmanager
def _serving(name: str, settings: dict[str, str], database_url: str, log: Path) -> Iterator[Server]:
    port = _free_port()
    environment = {
        **os.environ,
        **settings,
        "USER_SERVICE_DATABASE_URL": database_url,
        "USER_SERVICE_LOG_LEVEL": "info",
        "USER_SERVICE_LOG_FORMAT": "json",
    }
    for variable in [name for name in environment if name.startswith("OTEL_")]:
        del environment[variable]  # traces off in both
    command = [sys.executable, "-m", "user_service", "serve", "--port", str(port)]
    with log.open("wb") as output:
        reader = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=output)
        assert reader.stdin is not None
        process = subprocess.Popen(
            command, env=environment, stdout=reader.stdin, stderr=subprocess.STDOUT
        )
        reader.stdin.close()  # the server holds the pipe now; cat ends when it exits
        try:
            _wait_ready(port, process)
            yield Server(name, port, process)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(30)
            reader.wait(30)


def _wait_ready(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as answer:
                if answer.status == HTTPStatus.OK:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the server was not ready in time")


class Workload:
    """The requests to send: the load test's default mix, or only the cheapest request.

    ``mix``: of every ten requests, seven read a user, one lists a page, one creates a user and
    one replaces one (as ``e2e/load/scenario.js``, with replacements instead of deletions, so that
    the users read stay). ``get``: only ``GET /users/{id}``, where telemetry weighs the most.
    """

    OPERATIONS: ClassVar = {
        "mix": ("get",) * 7 + ("list", "create", "replace"),
        "get": ("get",),
    }
    DESCRIPTIONS: ClassVar = {
        "mix": "mix of 7 GET /users/{id}, 1 GET /users, 1 POST, 1 PUT",
        "get": "GET /users/{id} only",
    }

    def __init__(self, port: int, mix: str) -> None:
        self._operations = self.OPERATIONS[mix]
        self._prefix = f"bench-{os.getpid()}"
        self._names = itertools.count()
        self._ids = [self._create(port) for _ in range(SEEDED_USERS)]

    def request(self, number: int) -> bytes:
        """The ``number``-th request, as raw HTTP/1.1."""
        operation = self._operations[number % len(self._operations)]
        user = f"/users/{self._ids[number % len(self._ids)]}"
        if operation == "get":
            return f"GET {user} HTTP/1.1\r\nHost: bench\r\n\r\n".encode()
        if operation == "list":
            return (
                f"GET /users?limit=10&offset={number % 50} HTTP/1.1\r\nHost: bench\r\n\r\n".encode()
            )
        body = json.dumps({"name": f"{self._prefix}-{next(self._names)}"}).encode()
        target = "POST /users" if operation == "create" else f"PUT {user}"
        head = (
            f"{target} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        return head.encode() + body

    def _create(self, port: int) -> int:
        body = json.dumps({"name": f"{self._prefix}-{next(self._names)}"}).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/users",
            data=body,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=5) as answer:
            user_id: int = json.load(answer)["id"]
            return user_id


def _load(port: int, workload: Workload, connections: int, seconds: float) -> float:
    """Requests per second answered ``200`` or ``201`` on ``connections`` keep-alive ones."""
    return uvloop.run(_load_async(port, workload, connections, seconds))


async def _load_async(port: int, workload: Workload, connections: int, seconds: float) -> float:
    stop_at = time.perf_counter() + seconds
    started = time.perf_counter()
    counts = await asyncio.gather(
        *(_one_connection(port, workload, n, connections, stop_at) for n in range(connections))
    )
    return sum(counts) / (time.perf_counter() - started)


async def _one_connection(
    port: int, workload: Workload, first: int, step: int, stop_at: float
) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    answered = 0
    try:
        while time.perf_counter() < stop_at:
            writer.write(workload.request(first + answered * step))
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith((b"HTTP/1.1 200", b"HTTP/1.1 201")):
                raise RuntimeError(f"unexpected answer: {head[:60]!r}")
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            await reader.readexactly(length)
            answered += 1
    finally:
        writer.close()
    return answered


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _machine() -> str:
    model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} × {model}, Python {platform.python_version()}"


if __name__ == "__main__":
    sys.exit(main())
