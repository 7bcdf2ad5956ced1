"""What telemetry costs: throughput of the real server with metrics and logging on, and off.

Two ``user-service serve`` processes (one worker each) share one database: one with metrics and
the JSON access log on, one with both off. Each writes its stdout to a pipe that a thread here
copies to a file, as a container runtime reads a container's output. Tracing is off in both, as
it is unless ``OTEL_*`` variables ask for it. A small keep-alive HTTP/1.1 client loads them in
turn, in alternating order, for several rounds, with the same requests, and the median
throughputs are compared. The CPU time each server spends
per request (from ``/proc``) is shown beside them: it is steadier than throughput when other
work shares the machine.

Run it on a quiet machine (the client and the servers share its cores)::

    .venv/bin/python benchmarks/telemetry_overhead.py            # embedded PostgreSQL
    USER_SERVICE_DATABASE_URL=postgresql://... .venv/bin/python benchmarks/telemetry_overhead.py

It prints one Markdown table row for ``BENCHMARKS.md``; it exits 1 if more than the budget
(10 %) of the throughput is lost.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

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
        requests = _requests(on.port)
        throughput: dict[str, list[float]] = {"on": [], "off": []}
        cpu: dict[str, list[float]] = {"on": [], "off": []}
        for server in (on, off):  # warm both up: connections, prepared statements, caches
            _load(server.port, requests, options.connections, options.warmup)
        for round_number in range(options.rounds):
            order = (on, off) if round_number % 2 == 0 else (off, on)
            for server in order:
                cpu_before = _cpu_seconds(server.process.pid)
                rate = _load(server.port, requests, options.connections, options.seconds)
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
    lost = 1 - rate_on / rate_off
    print(f"\naccess lines written with telemetry on: {access_lines}\n")
    print(
        "| date | machine | workload | telemetry off | metrics + access log on | lost |\n"
        "|---|---|---|---|---|---|\n"
        f"| {time.strftime('%Y-%m-%d')} | {_machine()} | GET /users/{{id}}, "
        f"{options.connections} connections, {options.rounds} × {options.seconds:g} s each "
        f"| {rate_off:.0f} req/s, {cpu_off:.0f} µs CPU/request "
        f"| {rate_on:.0f} req/s, {cpu_on:.0f} µs CPU/request | {lost:.1%} |"
    )
    return 0 if lost <= BUDGET else 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=6, help="rounds of on and off (default 6)")
    parser.add_argument("--seconds", type=float, default=5.0, help="load per round and server")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of warm-up per server")
    parser.add_argument("--connections", type=int, default=16, help="concurrent connections")
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
    process = subprocess.Popen(
        command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    assert process.stdout is not None
    with log.open("wb") as output:
        copier = threading.Thread(target=shutil.copyfileobj, args=(process.stdout, output))
        copier.start()
        try:
            _wait_ready(port, process)
            yield Server(name, port, process)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(30)
            copier.join()


def _wait_ready(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the server was not ready in time")


def _requests(port: int) -> list[bytes]:
    """One GET per seeded user, as raw HTTP/1.1 requests."""
    ids = []
    for number in range(SEEDED_USERS):
        body = json.dumps({"name": f"bench-{os.getpid()}-{number}"}).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/users",
            data=body,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=5) as answer:
            ids.append(json.load(answer)["id"])
    return [f"GET /users/{user_id} HTTP/1.1\r\nHost: bench\r\n\r\n".encode() for user_id in ids]


def _load(port: int, requests: list[bytes], connections: int, seconds: float) -> float:
    """Requests per second answered ``200`` on ``connections`` keep-alive connections."""
    return uvloop.run(_load_async(port, requests, connections, seconds))


async def _load_async(port: int, requests: list[bytes], connections: int, seconds: float) -> float:
    stop_at = time.perf_counter() + seconds
    started = time.perf_counter()
    counts = await asyncio.gather(
        *(_one_connection(port, requests[n::connections], stop_at) for n in range(connections))
    )
    return sum(counts) / (time.perf_counter() - started)


async def _one_connection(port: int, requests: list[bytes], stop_at: float) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    answered = 0
    try:
        while time.perf_counter() < stop_at:
            writer.write(requests[answered % len(requests)])
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
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
