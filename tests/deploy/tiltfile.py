"""Run the Tiltfile without Tilt: Starlark (starlark-rust, through starlark-pyo3) with stand-ins
for Tilt's built-ins that record each call.

Tilt runs Tiltfiles on starlark-go with top-level ``if``/``for`` allowed and neither f-strings
nor type annotations; the dialect below is that one, so what parses and runs here parses and
runs there. The stand-ins check nothing themselves; the tests read what was recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import starlark

ROOT: Final = Path(__file__).parents[2]
TILTFILE: Final = ROOT / "Tiltfile"

BUILT_INS: Final = (
    "allow_k8s_contexts",
    "docker_build",
    "fall_back_on",
    "k8s_resource",
    "k8s_yaml",
    "link",
    "local_resource",
    "run",
    "sync",
    "update_settings",
)
EXTENSIONS: Final = {"ext://helm_resource": ("helm_resource", "helm_repo")}
CONSTANTS: Final = {"TRIGGER_MODE_AUTO": "auto", "TRIGGER_MODE_MANUAL": "manual"}


@dataclass(frozen=True)
class Call:
    """One call of a Tilt built-in: its positional and keyword arguments."""

    function: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]

    @property
    def name(self) -> str:
        """The first positional argument: a resource's or an image's name."""
        first: str = self.args[0]
        return first


@dataclass
class Evaluation:
    """What one run of the Tiltfile asked Tilt to do, in order."""

    calls: list[Call] = field(default_factory=list)

    def of(self, function: str) -> list[Call]:
        """Every call of ``function``."""
        return [call for call in self.calls if call.function == function]

    def resource(self, name: str) -> Call:
        """The call that defines the resource ``name``."""
        found = [
            call
            for call in self.calls
            if call.function in {"local_resource", "helm_resource", "helm_repo", "k8s_resource"}
            and call.name == name
        ]
        assert len(found) == 1, f"expected one resource {name!r}, found {len(found)}"
        return found[0]

    def resources(self) -> list[Call]:
        """Every resource definition."""
        kinds = {"local_resource", "helm_resource", "helm_repo"}
        return [call for call in self.calls if call.function in kinds]

    def recorder(self, function: str) -> Callable[..., dict[str, Any]]:
        def record(*args: Any, **kwargs: Any) -> dict[str, Any]:
            self.calls.append(Call(function, args, kwargs))
            return {"tilt": function, "args": list(args), "kwargs": kwargs}

        return record


def dialect() -> starlark.Dialect:
    """Tilt's Starlark: the standard language plus top-level statements."""
    chosen = starlark.Dialect.standard()
    chosen.enable_top_level_stmt = True
    chosen.enable_f_strings = False
    chosen.enable_types = starlark.DialectTypes.DISABLE
    return chosen


def parse(path: Path = TILTFILE) -> starlark.AstModule:
    """The Tiltfile's syntax tree; raises ``starlark.StarlarkError`` on a syntax error."""
    return starlark.parse(path.name, path.read_text(), dialect())


def evaluate(subcommand: str, path: Path = TILTFILE) -> Evaluation:
    """Run the Tiltfile as ``tilt <subcommand>`` would, from the repository's root."""
    evaluation = Evaluation()
    module = starlark.Module()
    built_ins = starlark.Globals.extended_by([starlark.LibraryExtension.StructType])
    # `config` is a struct in Tilt: make it one in the same module the Tiltfile then runs in.
    prelude = f"config = struct(tilt_subcommand = {subcommand!r})\n"
    starlark.eval(module, starlark.parse("prelude", prelude, dialect()), built_ins)
    for function in BUILT_INS:
        module.add_callable(function, evaluation.recorder(function))
    module.add_callable("read_file", lambda name: (ROOT / name).read_text())
    for constant, value in CONSTANTS.items():
        module[constant] = value

    def load(module_id: str) -> starlark.FrozenModule:
        assert module_id in EXTENSIONS, f"the Tiltfile loads an unknown extension {module_id}"
        extension = starlark.Module()
        for function in EXTENSIONS[module_id]:
            extension.add_callable(function, evaluation.recorder(function))
        return extension.freeze()

    starlark.eval(module, parse(path), built_ins, starlark.FileLoader(load))
    return evaluation
