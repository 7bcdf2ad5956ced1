"""The image's build stage, replayed without Docker: the same files, commands and lock files.

The build stage's instructions run in order in a scratch directory: ``COPY`` copies from the
repository into it (as the build context would), ``RUN`` runs the command there with the image's
``/opt/venv`` moved into the scratch directory, and ``pip`` and ``python3`` are those of a fresh
virtual environment standing in for the base image's Python. The environment that results is
then checked the way the image uses it. Only the base image itself and the runtime stage's user
and files are not exercised here (see the README, "Running with Docker Compose").
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import venv
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.ops.deployment_files import ROOT
from tests.ops.dockerfile import Dockerfile, Stage

IMAGE_VENV = "/opt/venv"
SERVER_PACKAGES = ("user_core", "user_http", "user_postgres", "user_service")
_IGNORED = shutil.ignore_patterns("__pycache__", "*.py[co]", "*.egg-info")


@dataclass(frozen=True)
class BuiltEnvironment:
    """The virtual environment the build stage produced, and the Python that runs it."""

    path: Path

    @property
    def python(self) -> Path:
        """The environment's interpreter."""
        return self.path / "bin" / "python"

    def run(self, *arguments: str) -> str:
        """Run the environment's Python with ``arguments`` outside the repository; its output."""
        result = subprocess.run(
            [str(self.python), *arguments],
            cwd=self.path,
            env=_without_python_variables(),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout


@pytest.fixture(scope="module")
def built(dockerfile: Dockerfile, tmp_path_factory: pytest.TempPathFactory) -> BuiltEnvironment:
    """The image's ``/opt/venv``, built by replaying the Dockerfile's build stage."""
    scratch = tmp_path_factory.mktemp("image")
    base_python = scratch / "base-python"
    venv.create(base_python, with_pip=True)
    _replay(dockerfile.stage("build"), scratch, base_python / "bin")
    return BuiltEnvironment(scratch / IMAGE_VENV.lstrip("/"))


def test_environment_holds_exactly_the_server_lock_and_the_project(built: BuiltEnvironment) -> None:
    installed = json.loads(built.run("-c", _LIST_DISTRIBUTIONS))
    expected = sorted([*_pins(ROOT / "requirements" / "server.lock"), ("user-service", "0.1.0")])
    assert [tuple(each) for each in installed] == expected


def test_every_server_module_imports_from_the_installed_wheel(built: BuiltEnvironment) -> None:
    report = built.run("-c", _IMPORT_EVERYTHING, *SERVER_PACKAGES)
    imported = json.loads(report)
    assert imported["failed"] == {}
    assert imported["outside_environment"] == []
    assert "user_service.cli" in imported["modules"]


def test_migrations_ship_in_the_installed_package(built: BuiltEnvironment) -> None:
    shipped = json.loads(built.run("-c", _DESCRIBE_MIGRATIONS))
    source = ROOT / "migrations"
    assert shipped["versions"] == sorted(path.name for path in source.glob("versions/*.py"))
    assert {"env.py", "script.py.mako"} <= set(shipped["files"])
    assert shipped["head"] == _source_head()


def test_the_api_page_s_files_ship_in_the_installed_packages(built: BuiltEnvironment) -> None:
    found = json.loads(built.run("-c", _DESCRIBE_DOCS_ASSETS))
    assert set(found) == {"swagger-ui.css", "swagger-ui-bundle.js", "swagger-init.js"}
    assert all(path.startswith(str(built.path)) for path in found.values()), found


def test_the_image_command_is_installed(built: BuiltEnvironment) -> None:
    result = subprocess.run(
        [str(built.path / "bin" / "user-service"), "--help"],
        env=_without_python_variables(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert {"serve", "migrate"} <= set(result.stdout.split())


def _replay(stage: Stage, scratch: Path, base_bin: Path) -> None:
    workdir: Path | None = None
    environment = {
        **_without_python_variables(),
        "PATH": f"{base_bin}{os.pathsep}{os.environ['PATH']}",
        "UV_COMPILE_BYTECODE": "0",  # the image compiles; a replay need not spend the time
    }
    for instruction in stage.instructions:
        flags, rest = instruction.flags_and_rest()
        match instruction.keyword:
            case "ENV":
                environment |= {**instruction.variables(), "UV_COMPILE_BYTECODE": "0"}
            case "WORKDIR":
                workdir = scratch / rest.lstrip("/")
                workdir.mkdir(parents=True, exist_ok=True)
            case "COPY" if "from" not in flags:
                assert workdir is not None, "COPY before WORKDIR"
                *sources, destination = rest.split()
                for source in sources:
                    _copy(ROOT / source, workdir / destination)
            case "RUN":
                assert workdir is not None, "RUN before WORKDIR"
                command = rest.replace(IMAGE_VENV, str(scratch / IMAGE_VENV.lstrip("/")))
                result = subprocess.run(
                    ["/bin/sh", "-c", command],
                    cwd=workdir,
                    env=environment,
                    capture_output=True,
                    text=True,
                    timeout=240,
                    check=False,
                )
                assert result.returncode == 0, f"{command}:\n{result.stdout}\n{result.stderr}"
            case _:
                pytest.fail(f"the replay does not know {instruction.keyword} {rest}: teach it")


def _copy(source: Path, destination: Path) -> None:
    if source.is_dir():
        shutil.copytree(source, destination, ignore=_IGNORED, dirs_exist_ok=True)
    else:
        destination.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, destination / source.name)


def _pins(lock: Path) -> list[tuple[str, str]]:
    return [
        (name.lower().replace("_", "-"), version)
        for name, version in re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", lock.read_text(), re.M)
    ]


def _source_head() -> str:
    from user_postgres import migrate

    return migrate.head()


def _without_python_variables() -> dict[str, str]:
    """This process's environment without what would let the repository's code leak in."""
    return {
        name: value
        for name, value in os.environ.items()
        if name not in {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME"}
    }


_IMPORT_EVERYTHING = """
import importlib, json, pkgutil, sys
modules, failed, outside = [], {}, []
for package in sys.argv[1:]:
    root = importlib.import_module(package)
    names = [package] + [m.name for m in pkgutil.walk_packages(root.__path__, package + ".")]
    for name in names:
        # The testing kits need the `testing` extra, which the image leaves out; Alembic runs
        # env.py itself, inside its migration context.
        if ".testing" in name + "." or name == "user_postgres.migrations.env":
            continue
        try:
            module = importlib.import_module(name)
        except Exception as error:
            failed[name] = repr(error)
            continue
        modules.append(name)
        if not module.__file__.startswith(sys.prefix):
            outside.append(name)
print(json.dumps({"modules": modules, "failed": failed, "outside_environment": outside}))
"""

_LIST_DISTRIBUTIONS = """
import json, importlib.metadata
print(json.dumps(sorted(
    (each.metadata["Name"].lower().replace("_", "-"), each.version)
    for each in importlib.metadata.distributions()
)))
"""

_DESCRIBE_DOCS_ASSETS = """
import json
from user_http.docs_viewer import ASSETS
print(json.dumps({name: str(asset.path) for name, asset in ASSETS.items() if asset.path.is_file()}))
"""

_DESCRIBE_MIGRATIONS = """
import json
from importlib.resources import files
from user_postgres import migrate, migrations
here = files(migrations)
print(json.dumps({
    "head": migrate.head(),
    "files": sorted(path.name for path in here.iterdir() if path.is_file()),
    "versions": sorted(path.name for path in (here / "versions").iterdir()
                       if path.name.endswith(".py")),
}))
"""
