"""``make cluster-bench``: the original project's scaling plan, carried out on the Kind cluster.

For each configuration (through the Pooler, then straight to PostgreSQL): install the chart with
the HPA on from one pod (helm/user-service/ci/kind-values.yaml, a one-instance CloudNativePG
Cluster), then walk k6's scenario (e2e/load/scenario.js, default mix, from the host to the
Service's ClusterIP) up the stepped rates, one constant-rate run a step, until p99 passes
``--p99-ms``, a request fails or k6 cannot hold the rate. Each step records what k6 saw, the
ready pods and the HPA's decisions over the step, the CPU of the service's pods, of PostgreSQL
and of PgBouncer (their cgroups, from the kubelet), PostgreSQL's client connections and the
Pooler's client and server connections (in the middle of the step), the machine's busy share,
and names the bottleneck in one sentence. The release is uninstalled after each configuration,
whatever happened.

Writes ``<results>/cluster-bench-<time>.json`` and a PNG (rate, p99 and pods over time), and
appends a section to BENCHMARKS.md (``--no-record`` to skip)::

    .venv/bin/python -m e2e.cluster.bench --stages 2000,4000 --step-seconds 30 --no-record
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped]

from e2e.cluster import observe
from e2e.cluster.kube import (
    NAMESPACE,
    RELEASE,
    ROOT,
    helm,
    image,
    install,
    kubectl,
    service_url,
    wait_until_served,
)
from e2e.load.k6 import k6_command, load_figures

CONFIGS = {
    "pooler": ["--set=database.cloudnativepg.pooler.enabled=true"],
    "direct": ["--set=database.cloudnativepg.pooler.enabled=false"],
}


@dataclass
class Step:
    config: str
    offered_rpm: int
    started_at: float
    """Seconds since the configuration's walk began."""
    seconds: float = 0.0
    achieved_rpm: float = 0.0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    requests: int = 0
    failed: float = 0.0
    dropped: int = 0
    pods_ready: list[int] = field(default_factory=list)
    """Fewest and most ready pods of the service during the step."""
    hpa_desired: int | None = None
    hpa_cpu_percent: int | None = None
    """The HPA's last reading in the step, in percent of the CPU request."""
    cpu_cores: dict[str, float] = field(default_factory=dict)
    service_cpu_ms_per_request: float = 0.0
    postgres_connections: dict[str, int] = field(default_factory=dict)
    pooler: dict[str, float] | None = None
    k6_cpu: float = 0.0
    machine_busy: float = 0.0
    passed: bool = False
    bottleneck: str = ""


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    results = Path(arguments.results)
    results.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    _, tag = image()
    report: dict[str, Any] = {
        "started": stamp,
        "command": "make cluster-bench" if os.environ.get("MAKELEVEL") else shlex.join(sys.argv),
        "arguments": vars(arguments),
        "git": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=False,
        ).stdout.strip(),
        "machine": {"cpus": os.cpu_count(), "load_before": os.getloadavg()},
        "walks": {},
        "samples": {},
    }
    for config in arguments.configs.split(","):
        steps, samples = _walk(config, tag, arguments)
        report["walks"][config] = [asdict(step) for step in steps]
        report["samples"][config] = [asdict(sample) for sample in samples]
    report["machine"]["load_after"] = os.getloadavg()
    output = results / f"cluster-bench-{stamp}.json"
    output.write_text(json.dumps(report, indent=2) + "\n")
    chart = _chart(report, results / f"cluster-bench-{stamp}.png")
    print(f"Results: {output}\nChart: {chart}")
    if arguments.record:
        with (ROOT / "BENCHMARKS.md").open("a") as out:
            out.write(_section(report, chart))
        print(f"Appended to {ROOT / 'BENCHMARKS.md'}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="make cluster-bench", description=__doc__)
    parser.add_argument("--configs", default="pooler,direct", help="pooler, direct, or both")
    parser.add_argument(
        "--stages",
        default="1500,3000,6000,9000,12000,15000,18000,21000,24000,30000,36000",
        help="offered rates (requests a minute), walked up until one fails",
    )
    parser.add_argument("--step-seconds", type=int, default=60)
    parser.add_argument("--p99-ms", type=float, default=100.0)
    parser.add_argument("--users", type=int, default=200, help="users k6 seeds each step")
    parser.add_argument("--max-pods", type=int, default=4, help="the HPA's maxReplicas")
    parser.add_argument("--results", default="docs/cluster-bench")
    parser.add_argument("--no-record", dest="record", action="store_false")
    return parser


def _walk(
    config: str, tag: str, arguments: argparse.Namespace
) -> tuple[list[Step], list[observe.Sample]]:
    steps: list[Step] = []
    sampler = observe.Sampler()
    values = [
        *CONFIGS[config],
        "--set=autoscaling.minReplicas=1",
        f"--set=autoscaling.maxReplicas={arguments.max_pods}",
        "--set=database.cloudnativepg.cluster.instances=1",
        "--set=database.cloudnativepg.cluster.synchronous=null",
    ]
    try:
        install(tag, *values)
        _, base_url = service_url()
        wait_until_served(base_url)
        with sampler:
            for rate in (int(r) for r in arguments.stages.split(",")):
                step = _step(config, rate, base_url, sampler, arguments)
                steps.append(step)
                print(_line(step), flush=True)
                if not step.passed:
                    break
    finally:
        if helm("status", RELEASE, check=False).returncode == 0:
            helm("uninstall", RELEASE, "--wait", "--timeout=5m", check=False)
        kubectl("delete", "namespace", NAMESPACE, "--ignore-not-found", "--wait=true", check=False)
    return steps, sampler.samples


def _step(
    config: str, rate: int, base_url: str, sampler: observe.Sampler, arguments: argparse.Namespace
) -> Step:
    step = Step(config=config, offered_rpm=rate, started_at=round(sampler.now(), 1))
    with tempfile.TemporaryDirectory() as scratch:
        summary = Path(scratch) / "summary.json"
        settings = {
            "BASE_URL": base_url,
            "RATE": str(rate),
            "DURATION": f"{arguments.step_seconds}s",
            "USERS": str(arguments.users),
            "P99_MS": str(arguments.p99_ms),
            "SUMMARY": str(summary),
        }
        cpu_before = observe.pod_cpu_seconds(NAMESPACE)
        psutil.cpu_percent()  # the next call measures from here
        k6_before, started = _children_cpu(), time.monotonic()
        environment = {**os.environ, "K6_NO_USAGE_REPORT": "true"}
        with subprocess.Popen(
            k6_command(settings), env=environment, stdout=subprocess.PIPE, text=True
        ) as k6:
            time.sleep(arguments.step_seconds / 2)
            step.postgres_connections = observe.postgres_connections()
            step.pooler = observe.pooler_pools()
            output, _ = k6.communicate(timeout=arguments.step_seconds + 600)
        wall = time.monotonic() - started
        cpu = observe.cpu_cores(cpu_before, observe.pod_cpu_seconds(NAMESPACE), wall)
        k6_cpu = (_children_cpu() - k6_before) / wall
        machine = psutil.cpu_percent() / 100
        if not summary.exists():
            raise RuntimeError(f"k6 wrote no summary at {rate} rpm:\n{output}")
        figures = load_figures(summary)
    step.seconds = round(wall, 1)
    step.requests = figures.requests
    step.achieved_rpm = round(step.requests / arguments.step_seconds * 60)
    step.p50_ms, step.p95_ms = figures.p50_ms, figures.p95_ms
    step.p99_ms, step.max_ms = figures.p99_ms, figures.max_ms
    step.failed, step.dropped = figures.failed, figures.dropped
    samples = sampler.between(step.started_at, sampler.now())
    step.pods_ready = [min(s.ready for s in samples), max(s.ready for s in samples)]
    step.hpa_desired, step.hpa_cpu_percent = samples[-1].desired, samples[-1].cpu_percent
    step.cpu_cores = cpu
    step.service_cpu_ms_per_request = round(
        1000 * cpu[observe.SERVICE] * wall / max(1, step.requests + arguments.users), 3
    )
    step.k6_cpu, step.machine_busy = round(k6_cpu, 3), round(machine, 3)
    step.passed = (
        k6.returncode == 0 and step.failed == 0 and step.dropped == 0
    ) and step.p99_ms <= arguments.p99_ms
    step.bottleneck = _bottleneck(step)
    return step


def _bottleneck(step: Step) -> str:
    """One sentence: what limited this step, from its figures."""
    users = {
        "the service's pods": step.cpu_cores.get(observe.SERVICE, 0.0),
        "PostgreSQL": step.cpu_cores.get(observe.POSTGRES, 0.0),
        "PgBouncer": step.cpu_cores.get(observe.POOLER, 0.0),
        "k6": step.k6_cpu,
    }
    top = max(users, key=lambda name: users[name])
    spent = ", ".join(f"{name} {cores:.2f}" for name, cores in users.items() if cores)
    fewest, most = step.pods_ready
    if step.failed:
        return (
            f"Requests failed ({step.failed:.2%}): the service or its database refused or "
            f"timed out (machine {step.machine_busy:.0%} busy; cores: {spent})."
        )
    if step.machine_busy >= 0.85:
        return (
            f"The machine's two CPUs ({step.machine_busy:.0%} busy, {step.dropped} iterations "
            f"k6 could not start; cores: {spent}): {top} the largest share, so more pods "
            "could only queue for the same cores."
        )
    wanted = step.hpa_desired or most
    if step.dropped and wanted > fewest:
        return (
            f"The pods' CPU while the HPA caught up: at {step.hpa_cpu_percent} % of the CPU "
            f"request it went from {fewest} to {wanted} pods, and until the new pod served the "
            f"busy ones queued requests (p99 {step.p99_ms:.0f} ms, {step.dropped} iterations k6 "
            f"could not start) with the machine only {step.machine_busy:.0%} busy (cores: {spent})."
        )
    if step.dropped:
        return (
            f"The pods' CPU at the HPA's {most} pods ({step.hpa_cpu_percent} % of the request): "
            f"requests queued (p99 {step.p99_ms:.0f} ms, {step.dropped} iterations k6 could not "
            f"start) with the machine {step.machine_busy:.0%} busy (cores: {spent})."
        )
    if wanted > fewest:
        return (
            f"The service's CPU: at {step.hpa_cpu_percent} % of the pods' CPU request the HPA "
            f"went from {fewest} to {wanted} pods during the step ({most} ready by its end; "
            f"machine {step.machine_busy:.0%} busy; cores: {spent})."
        )
    return (
        f"No bottleneck yet at {most} pod(s): {step.machine_busy:.0%} of the machine busy, {top} "
        f"the largest user (cores: {spent})."
    )


def _line(step: Step) -> str:
    return (
        f"{step.config} {step.offered_rpm:>6} rpm: achieved {step.achieved_rpm:>6.0f}, p50 "
        f"{step.p50_ms:.1f} p95 {step.p95_ms:.1f} p99 {step.p99_ms:.1f} ms, failed "
        f"{step.failed:.4f}, dropped {step.dropped}, pods {step.pods_ready}, HPA "
        f"{step.hpa_desired} at {step.hpa_cpu_percent} %, cores {step.cpu_cores}, k6 "
        f"{step.k6_cpu:.2f}, machine {step.machine_busy:.0%}, PostgreSQL connections "
        f"{step.postgres_connections}, pooler {step.pooler}: {step.bottleneck}"
    )


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _chart(report: dict[str, Any], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (rate, p99, pods) = plt.subplots(3, 1, figsize=(9, 9), sharex=True)
    for config, steps in report["walks"].items():
        if not steps:
            continue
        starts = [s["started_at"] for s in steps]
        ends = [s["started_at"] + s["seconds"] for s in steps]
        offered = [s["offered_rpm"] for s in steps]
        line = rate.step([*starts, ends[-1]], [*offered, offered[-1]], where="post", linestyle=":")
        colour = line[0].get_color()
        rate.plot(ends, [s["achieved_rpm"] for s in steps], "o-", color=colour, label=config)
        p99.plot(ends, [s["p99_ms"] for s in steps], "o-", color=colour, label=config)
        samples = report["samples"].get(config, [])
        times = [point["at"] for point in samples]
        pods.step(times, [p["ready"] for p in samples], where="post", color=colour, label=config)
        pods.step(
            times,
            [p["desired"] or 0 for p in samples],
            where="post",
            color=colour,
            linestyle="--",
            linewidth=0.8,
        )
        pods.plot(ends, [s["pods_ready"][1] for s in steps], "o", color=colour)
    rate.set_ylabel("requests a minute\n(dotted: offered)")
    p99.set_ylabel("p99 ms (log)")
    p99.set_yscale("log")
    p99.axhline(report["arguments"]["p99_ms"], color="grey", linestyle=":", linewidth=1)
    pods.set_ylabel("ready pods\n(dashed: the HPA's wish)")
    pods.yaxis.get_major_locator().set_params(integer=True)
    pods.set_xlabel("seconds since the configuration's walk began")
    for axes in (rate, p99, pods):
        axes.legend(loc="upper left")
    rate.set_title(f"user-service on Kind, HPA from 1 pod; cluster-bench {report['started']}")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def _section(report: dict[str, Any], chart: Path) -> str:
    arguments = report["arguments"]
    load = report["machine"]
    lines = [
        "",
        f"## Cluster plan (issue 15): run of {report['started']} (commit {report['git']})",
        "",
        f"Command: `{report['command']}` on the Kind cluster (`make kind-up`): the chart with "
        f"ci/kind-values.yaml (CPU request 100m, limit 1 core), the HPA from 1 to "
        f"{arguments['max_pods']} pods at 70 % of the request, a one-instance CloudNativePG "
        f"Cluster; k6 on the host at the Service's ClusterIP, {arguments['step_seconds']} s a "
        f"step, {arguments['users']} users seeded a step. {report['machine']['cpus']} CPUs "
        f"shared by the cluster, k6 and everything else; load average before "
        f"{load['load_before'][0]:.2f}, after {load['load_after'][0]:.2f}.",
    ]
    for config, steps in report["walks"].items():
        lines += [
            "",
            f"**{config}** ({'through the Pooler' if config == 'pooler' else 'no Pooler'}):",
            "",
            "| offered rpm | achieved rpm | p50 ms | p95 ms | p99 ms | failed | dropped | pods "
            "ready | HPA wants (CPU %) | service / PostgreSQL / PgBouncer / k6 cores | service "
            "CPU ms/request | PostgreSQL connections (active/total) | Pooler clients / servers "
            "(active) | machine busy | pass |",
            "|---:|---:|---:|---:|---:|---:|---:|---|---|---|---:|---|---|---:|---|",
        ]
        for s in steps:
            cores = s["cpu_cores"]
            pooler = s["pooler"]
            lines.append(
                f"| {s['offered_rpm']} | {s['achieved_rpm']:.0f} | {s['p50_ms']:.1f} | "
                f"{s['p95_ms']:.1f} | {s['p99_ms']:.1f} | {s['failed']:.4f} | {s['dropped']} | "
                f"{s['pods_ready'][0]}–{s['pods_ready'][1]} | {s['hpa_desired']} "
                f"({s['hpa_cpu_percent']}) | {cores['service']:.2f} / {cores['postgres']:.2f} / "
                f"{cores['pooler']:.2f} / {s['k6_cpu']:.2f} | "
                f"{s['service_cpu_ms_per_request']:.2f} | "
                f"{s['postgres_connections'].get('active', 0)}/"
                f"{s['postgres_connections'].get('total', 0)} | "
                + (
                    "–"
                    if pooler is None
                    else f"{pooler.get('cl_active', 0):.0f} / {pooler.get('sv_active', 0):.0f}"
                )
                + f" | {s['machine_busy']:.0%} | {'yes' if s['passed'] else 'no'} |"
            )
        lines.append("")
        lines += [f"- {s['offered_rpm']} rpm: {s['bottleneck']}" for s in steps]
    lines += ["", f"Chart: `{chart}`; JSON next to it.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
