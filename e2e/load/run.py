"""``make load``: the k6 scenario against a given service, or against one it starts itself.

With no ``--base-url`` it starts an embedded PostgreSQL in a temporary directory and one
``user-service serve`` on a free loopback port, runs the scenario, and stops both, whatever
happened. It prints where the summary went and exits with k6's status (99: a threshold failed)::

    .venv/bin/python -m e2e.load.run --rate 30000 --duration 2m
    .venv/bin/python -m e2e.load.run --base-url http://127.0.0.1:8080 --stages 1000:30s,5000:30s
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

from e2e.load.k6 import run_k6
from e2e.server import start_server
from user_postgres import EmbeddedPostgres


def main(argv: Sequence[str] | None = None) -> int:
    """Run the scenario once; k6's exit status."""
    arguments = _parser().parse_args(argv)
    results = Path(arguments.results)
    results.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    summary = (results / f"load-{stamp}.json").resolve()
    settings = {
        "RATE": str(arguments.rate),
        "DURATION": arguments.duration,
        "USERS": str(arguments.users),
        "P99_MS": str(arguments.p99_ms),
        "SUMMARY": str(summary),
    }
    if arguments.stages:
        settings["STAGES"] = arguments.stages
    if arguments.mix:
        settings["MIX"] = arguments.mix
    with ExitStack() as stack:
        base_url = arguments.base_url
        if not base_url:
            scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="load-")))
            database = stack.enter_context(EmbeddedPostgres(scratch / "pgdata"))
            server = start_server(
                {"USER_SERVICE_DATABASE_URL": database.url, "USER_SERVICE_ACCESS_LOG": "false"},
                results / f"server-{stamp}.log",
            )
            stack.callback(server.stop)
            base_url = server.base_url
            print(f"Started user-service on {base_url} with an embedded PostgreSQL", flush=True)
        settings["BASE_URL"] = base_url
        print(f"k6: {' '.join(f'{k}={v}' for k, v in settings.items())}", flush=True)
        outcome = run_k6(settings)
    sys.stdout.write(outcome.stdout)
    sys.stderr.write(outcome.stderr[-4000:])
    verdict = "passed" if outcome.returncode == 0 else f"FAILED (k6 exited {outcome.returncode})"
    print(f"Load scenario {verdict}; k6's summary is in {summary}")
    return outcome.returncode


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="make load", description=__doc__)
    parser.add_argument("--base-url", default="", help="the service; none: start one here")
    parser.add_argument("--rate", type=int, default=30000, help="requests a minute")
    parser.add_argument("--duration", default="2m", help="how long, at a constant rate")
    parser.add_argument("--stages", default="", help="stepped instead: rpm:duration,...")
    parser.add_argument("--mix", default="", help="get=70,list=10,create=10,replace=5,delete=5")
    parser.add_argument("--users", type=int, default=1000, help="users seeded for reads")
    parser.add_argument("--p99-ms", type=float, default=100.0, help="threshold on p99")
    parser.add_argument("--results", default=".cache/load", help="directory for the summaries")
    return parser


if __name__ == "__main__":
    sys.exit(main())
