"""The Dockerfile, read statically: base image, hashed installs, user, probe and start command.

The install steps themselves run for real in ``test_image_install.py``; the health check command
runs here against a stand-in server.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from tests.ops.deployment_files import ROOT
from tests.ops.dockerfile import Dockerfile, Instruction

PINNED_SLIM_PYTHON_3_11 = re.compile(r"python:3\.11(\.\d+)?-slim-[a-z]+(@sha256:[0-9a-f]{64})?")
IMAGE_USER = "10001:10001"


def test_hadolint_finds_nothing() -> None:
    hadolint = Path(sys.executable).with_name("hadolint")
    result = subprocess.run(
        [str(hadolint), "--no-color", "Dockerfile"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_every_stage_starts_from_a_pinned_slim_python_3_11(dockerfile: Dockerfile) -> None:
    bases = {dockerfile.base_image(stage) for stage in dockerfile.stages}
    assert [stage.name for stage in dockerfile.stages] == ["build", "runtime"]
    assert len(bases) == 1
    assert PINNED_SLIM_PYTHON_3_11.fullmatch(bases.pop())


def test_build_tools_install_from_their_hashed_lock(dockerfile: Dockerfile) -> None:
    pip = [
        rest.split()
        for _, rest in (each.flags_and_rest() for each in dockerfile.stage("build").all("RUN"))
        if rest.startswith("pip ")
    ]
    assert pip == [["pip", "install", "--require-hashes", "-r", "requirements/build.lock"]]


def test_environment_is_built_by_the_venv_script_from_the_server_lock(
    dockerfile: Dockerfile,
) -> None:
    steps = [
        rest.split()
        for _, rest in (each.flags_and_rest() for each in dockerfile.stage("build").all("RUN"))
        if rest.startswith("deploy/docker/venv.sh")
    ]
    script = (ROOT / "deploy/docker/venv.sh").read_text()
    assert steps == [
        ["deploy/docker/venv.sh", "deps", "/opt/venv"],
        ["deploy/docker/venv.sh", "project", "/opt/venv"],
    ]
    assert "pip sync" in script
    assert "--require-hashes requirements/server.lock" in script
    assert "--no-deps" in script
    assert "--build-constraints requirements/build.lock --require-hashes" in script


@pytest.mark.parametrize("lock", ["server.lock", "build.lock"])
def test_every_pin_of_the_image_locks_carries_a_hash(lock: str) -> None:
    requirements = _requirements(ROOT / "requirements" / lock)
    assert requirements
    unhashed = [each for each in requirements if "==" not in each or "--hash=sha256:" not in each]
    assert unhashed == []


def test_runtime_copies_only_the_environment_from_the_build(dockerfile: Dockerfile) -> None:
    runtime = dockerfile.stage("runtime")
    copies = [each.flags_and_rest() for each in runtime.all("COPY")]
    assert copies == [({"from": "build"}, "/opt/venv /opt/venv")]
    assert runtime.environment()["PATH"].startswith("/opt/venv/bin:")


def test_runtime_runs_as_a_fixed_unprivileged_user(dockerfile: Dockerfile) -> None:
    runtime = dockerfile.stage("runtime")
    users = [each.arguments for each in runtime.all("USER")]
    creation = " ".join(each.arguments for each in runtime.all("RUN"))
    assert users == [IMAGE_USER]
    assert runtime.instructions.index(runtime.all("USER")[0]) > runtime.instructions.index(
        runtime.all("COPY")[0]
    )
    assert "--uid 10001" in creation
    assert "--gid 10001" in creation


def test_runtime_listens_on_every_interface_on_the_exposed_port(dockerfile: Dockerfile) -> None:
    runtime = dockerfile.stage("runtime")
    environment = runtime.environment()
    assert environment["USER_SERVICE_HOST"] == "0.0.0.0"
    assert [each.arguments for each in runtime.all("EXPOSE")] == [environment["USER_SERVICE_PORT"]]


def test_image_starts_the_same_command_as_make_run(dockerfile: Dockerfile) -> None:
    runtime = dockerfile.stage("runtime")
    command = runtime.all("ENTRYPOINT")[0].exec_form() + runtime.all("CMD")[0].exec_form()
    run_recipe = re.search(r"^run:.*\n\t(.*)$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert command == ["user-service", "serve"]
    assert run_recipe is not None
    assert run_recipe.group(1) == "$(BIN)/user-service serve"


def test_dockerignore_admits_every_file_the_build_copies(dockerfile: Dockerfile) -> None:
    admitted = {
        line[1:].rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.startswith("!")
    }
    sources = {
        source.rstrip("/")
        for flags, rest in (each.flags_and_rest() for each in dockerfile.stage("build").all("COPY"))
        if "from" not in flags
        for source in rest.split()[:-1]
    }
    assert sources <= admitted
    assert all((ROOT / source).exists() for source in sources)


class _Probe(BaseHTTPRequestHandler):
    """Answers each path with the status ``statuses`` gives it, else 404."""

    statuses: ClassVar[dict[str, HTTPStatus]] = {"/livez": HTTPStatus.OK}

    def do_GET(self) -> None:
        self.send_response(self.statuses.get(self.path, HTTPStatus.NOT_FOUND))
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test reads exit statuses, not logs."""


@pytest.fixture
def stand_in_server() -> Iterator[ThreadingHTTPServer]:
    """A local HTTP server whose ``/livez`` answers as ``_Probe.statuses`` says."""
    with ThreadingHTTPServer(("127.0.0.1", 0), _Probe) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield server
        finally:
            server.shutdown()
            thread.join(timeout=5)


@pytest.mark.parametrize(
    ("status", "healthy"),
    [(HTTPStatus.OK, True), (HTTPStatus.SERVICE_UNAVAILABLE, False)],
)
def test_health_check_command_passes_only_when_livez_answers_ok(
    dockerfile: Dockerfile,
    stand_in_server: ThreadingHTTPServer,
    monkeypatch: pytest.MonkeyPatch,
    status: HTTPStatus,
    healthy: bool,
) -> None:
    monkeypatch.setitem(_Probe.statuses, "/livez", status)
    exit_status = _run_health_check(dockerfile, port=stand_in_server.server_address[1])
    assert (exit_status == 0) is healthy


def test_health_check_command_fails_when_nothing_listens(dockerfile: Dockerfile) -> None:
    with ThreadingHTTPServer(("127.0.0.1", 0), _Probe) as closed:
        port = closed.server_address[1]
    assert _run_health_check(dockerfile, port=port) != 0


def _run_health_check(dockerfile: Dockerfile, *, port: int) -> int:
    healthcheck: Instruction = dockerfile.stage("runtime").all("HEALTHCHECK")[0]
    command = healthcheck.exec_form()
    assert command[0] == "python"  # the image's, from the virtual environment on PATH
    environment = {**os.environ, "USER_SERVICE_PORT": str(port)}
    result = subprocess.run(
        [sys.executable, *command[1:]],
        env=environment,
        capture_output=True,
        timeout=30,
        check=False,
    )
    return result.returncode


def _requirements(lock: Path) -> list[str]:
    """The lock's requirements, each with its continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", lock.read_text())
    return [line for line in text.splitlines() if line and not line.lstrip().startswith("#")]
