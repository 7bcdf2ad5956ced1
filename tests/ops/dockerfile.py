"""A reader for the few Dockerfile forms this repository uses: instructions grouped by stage."""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Instruction:
    """One instruction: ``keyword`` upper-cased, ``arguments`` as written (continuations joined)."""

    keyword: str
    arguments: str

    def words(self) -> list[str]:
        """The arguments split like a shell would (JSON exec form is not shell syntax)."""
        return shlex.split(self.arguments)

    def exec_form(self) -> list[str]:
        """The JSON array of an exec-form ``CMD``/``ENTRYPOINT``, after any ``--flag=value``s."""
        text = self.arguments
        if self.keyword == "HEALTHCHECK":
            text = text.split(" CMD ", 1)[1]
        value = json.loads(text)
        assert isinstance(value, list), f"{self.keyword} is not in exec form: {self.arguments}"
        return [str(item) for item in value]

    def variables(self) -> dict[str, str]:
        """The variables an ``ENV`` instruction sets (``NAME=value`` form)."""
        assert self.keyword == "ENV", self
        variables = {}
        for word in self.words():
            name, _, value = word.partition("=")
            variables[name] = value
        return variables

    def flags_and_rest(self) -> tuple[dict[str, str], str]:
        """Leading ``--name=value`` flags (as ``RUN --mount`` or ``COPY --from``), then the rest."""
        flags: dict[str, str] = {}
        rest = self.arguments
        while rest.startswith("--"):
            flag, _, rest = rest.partition(" ")
            name, _, value = flag[2:].partition("=")
            flags[name] = value
            rest = rest.lstrip()
        return flags, rest


@dataclass
class Stage:
    """A ``FROM`` and what follows it, up to the next ``FROM``."""

    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        """The stage's instructions with this keyword, in order."""
        return [each for each in self.instructions if each.keyword == keyword]

    def environment(self) -> dict[str, str]:
        """The variables the stage's ``ENV`` instructions set (``NAME=value`` form)."""
        variables: dict[str, str] = {}
        for instruction in self.all("ENV"):
            variables |= instruction.variables()
        return variables


@dataclass
class Dockerfile:
    """The global ``ARG`` defaults before the first ``FROM``, and the stages."""

    arguments: dict[str, str]
    stages: list[Stage]

    def stage(self, name: str) -> Stage:
        """The stage called ``name`` (``FROM … AS name``)."""
        return next(stage for stage in self.stages if stage.name == name)

    def base_image(self, stage: Stage) -> str:
        """The stage's base image with the global ``ARG`` defaults substituted."""
        image = stage.base
        for name, value in self.arguments.items():
            image = image.replace("${" + name + "}", value).replace("$" + name, value)
        return image


def instructions(text: str) -> list[Instruction]:
    """The instructions of a Dockerfile, without comments and with continuation lines joined."""
    result: list[Instruction] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue  # a comment inside a continued instruction is dropped, as Docker does
        if line.endswith("\\"):
            pending += line[:-1].strip() + " "
            continue
        keyword, _, arguments = (pending + line).partition(" ")
        result.append(Instruction(keyword.upper(), arguments.strip()))
        pending = ""
    assert not pending, "the Dockerfile ends inside a continued instruction"
    return result


def read(path: Path) -> Dockerfile:
    """Read the Dockerfile at ``path`` into its global arguments and stages."""
    arguments: dict[str, str] = {}
    stages: list[Stage] = []
    for instruction in instructions(path.read_text()):
        if instruction.keyword == "FROM":
            words = instruction.words()
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            stages.append(Stage(words[0], name))
        elif not stages and instruction.keyword == "ARG":
            name, _, default = instruction.arguments.partition("=")
            arguments[name] = default
        else:
            stages[-1].instructions.append(instruction)
    return Dockerfile(arguments, stages)
