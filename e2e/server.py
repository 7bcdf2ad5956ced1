"""Run the real ``user-service serve`` process for a test, and stop it the way Kubernetes does."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx2 as httpx

# A bound for a stuck start, not a speed target: two workers importing the app on a machine whose
# two CPUs are busy with other builds took over 26 s to answer (CI log, 2026-12-01).
STARTUP_TIMEOUT = 120.0
SHUTDOWN_TIMEOUT = 30.0


@dataclass(frozen=True)
class RunningServer:
    """A ``user-service serve`` process and where it listens."""

    process: subprocess.Popen[str]
    base_url: str
    log: Path

    def stop(self) -> int:
        """SIGTERM, as an orchestrator would; the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(SHUTDOWN_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_server(
    environment: dict[str, str], log: Path, *arguments: str, port: int | None = None
) -> RunningServer:
    """Run ``user-service serve`` and wait until ``/readyz`` says ready."""
    port = port or free_port()
    command = [sys.executable, "-m", "user_service", "serve", "--port", str(port), *arguments]
    env = {**os.environ, "USER_SERVICE_LOG_LEVEL": "warning", **environment}
    with log.open("w") as output:
        process = subprocess.Popen(
            command, env=env, stdout=output, stderr=subprocess.STDOUT, text=True
        )
    server = RunningServer(process, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{server.base_url}/readyz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"the server was not ready within {STARTUP_TIMEOUT} s:\n{log.read_text()}")
