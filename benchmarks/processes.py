"""The benchmark's parties as processes: which CPUs each may use, and the CPU time each spent."""

from __future__ import annotations

import os
from contextlib import suppress
from dataclasses import dataclass

import psutil  # type: ignore[import-untyped]

PARTIES = 3
"""A stage's parties, each on CPUs of its own when there are enough: service, PostgreSQL, k6."""
SERVER_AND_THE_REST = 2
"""The fewest CPUs the comparison pins: the server under test on one, the rest on another."""


@dataclass
class CpuPlan:
    """Which CPUs each party may use (``None``: not pinned)."""

    service: set[int] | None
    database: set[int] | None
    load: set[int] | None

    def describe(self) -> str:
        """One line for the report."""
        if self.service is None:
            return "not pinned (all parties share every CPU)"
        return (
            f"server on CPU {_cpus(self.service)}, PostgreSQL on {_cpus(self.database)}, "
            f"load generator on {_cpus(self.load)}"
        )

    def pin_load(self) -> None:
        """Pin the calling process to the load generator's CPUs (a ``preexec_fn``)."""
        if self.load is not None:
            os.sched_setaffinity(0, self.load)


def stage_plan(workers: int) -> CpuPlan:
    """Where the stages run: each party on CPUs of its own, or nothing pinned if too few."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < PARTIES or workers >= len(cpus) - 1:
        return CpuPlan(None, None, None)
    return compare_plan(workers)


def compare_plan(workers: int) -> CpuPlan:
    """Where the comparison runs: the server under test on its own CPUs where it can be."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < SERVER_AND_THE_REST or workers >= len(cpus):
        return CpuPlan(None, None, None)
    if len(cpus) == SERVER_AND_THE_REST:
        return CpuPlan({cpus[0]}, {cpus[1]}, {cpus[1]})
    service = set(cpus[:workers])
    rest = cpus[workers:]
    database = set(rest[: max(1, len(rest) // 2)])
    return CpuPlan(service, database, set(rest) - database or database)


def pin_tree(pid: int, cpus: set[int] | None) -> None:
    """Pin a process and its children (a postmaster and its backends, a server and its workers)."""
    if cpus is None:
        return
    root = psutil.Process(pid)
    for member in [root, *root.children(recursive=True)]:
        with suppress(psutil.Error):  # a process that has just ended
            member.cpu_affinity(sorted(cpus))


def tree_cpu(process: psutil.Process) -> float:
    """CPU seconds (user and system) of a process and its living children."""
    total = 0.0
    for member in [process, *process.children(recursive=True)]:
        try:
            times = member.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def seconds(duration: str) -> float:
    """``"10s"``, ``"2m"``, ``"500ms"`` in seconds."""
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    for suffix in ("ms", "s", "m", "h"):
        if duration.endswith(suffix):
            return float(duration[: -len(suffix)]) * units[suffix]
    return float(duration)


def _cpus(cpus: set[int] | None) -> str:
    return ",".join(map(str, sorted(cpus or ())))
