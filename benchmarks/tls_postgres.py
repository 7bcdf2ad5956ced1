"""A scratch PostgreSQL on loopback TCP with TLS on, for measuring what TLS to the database costs.

The embedded server (:mod:`user_postgres.embedded`) listens on a Unix socket and its binaries
have no OpenSSL, so the comparison of TLS on and off runs on Debian's PostgreSQL instead:
``pg_createcluster`` (postgresql-common) makes a cluster with ``ssl = on`` and the machine's
snakeoil certificate, exactly as a Debian server is set up, on a free port, trusting local
connections; it is dropped on the way out, whatever happened.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from e2e.server import free_port

MISSING = (
    "the TLS comparison needs Debian's PostgreSQL (apt-get install -y postgresql): "
    "pg_createcluster was not found"
)


@dataclass(frozen=True)
class ScratchCluster:
    """A running cluster: its URL (no ``sslmode``: add one) and its postmaster's process id."""

    url: str
    postmaster: int
    version: str


def available() -> bool:
    """Whether Debian's cluster tools and a server are installed."""
    return shutil.which("pg_createcluster") is not None and bool(_versions())


@contextmanager
def scratch_cluster(*settings: str) -> Iterator[ScratchCluster]:
    """A new cluster of the newest installed version; ``settings`` are ``name=value`` GUCs."""
    versions = _versions()
    if shutil.which("pg_createcluster") is None or not versions:
        raise RuntimeError(MISSING)
    version = versions[-1]
    name = f"bench{os.getpid()}"
    port = free_port()
    options = [item for setting in settings for item in ("-o", setting)]
    subprocess.run(
        ["pg_createcluster", "--port", str(port), "--start", *options, version, name,
         "--", "--auth=trust"],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    try:
        data_dir = Path("/var/lib/postgresql") / version / name
        postmaster = int((data_dir / "postmaster.pid").read_text().split()[0])
        yield ScratchCluster(
            f"postgresql://postgres@127.0.0.1:{port}/postgres", postmaster, version
        )
    finally:
        subprocess.run(
            ["pg_dropcluster", "--stop", version, name], check=False, capture_output=True
        )


def _versions() -> list[str]:
    root = Path("/usr/lib/postgresql")
    found = [path.parent.parent.name for path in root.glob("*/bin/postgres")]
    return sorted(found, key=int)
