"""The directory through which the worker processes of one server share their metrics.

This is prometheus-client's multiprocess mode (the metric objects: :mod:`.metrics_multiprocess`).
``user-service serve --workers N`` gives each run a fresh directory in ``PROMETHEUS_MULTIPROC_DIR``
before the workers start (:func:`shared_metrics_directory`); each worker writes its values there,
and whichever worker is scraped reads them all. A worker's live gauges (requests in flight, its
pool) are dropped when it stops, or, if it died, when its replacement starts.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Final

from prometheus_client.multiprocess import mark_process_dead

DIRECTORY_VARIABLE: Final = "PROMETHEUS_MULTIPROC_DIR"
"""Read by prometheus-client when it is imported: set it before a worker starts, never after."""

_LIVE_GAUGE_FILE = re.compile(r"gauge_live\w+?_(\d+)\.db")


def shared_directory(environ: Mapping[str, str] = os.environ) -> Path | None:
    """The directory the workers share, or ``None`` when this process keeps its own metrics."""
    directory = environ.get(DIRECTORY_VARIABLE)
    return Path(directory) if directory else None


@contextmanager
def shared_metrics_directory() -> Iterator[Path]:
    """A new, empty directory named in ``PROMETHEUS_MULTIPROC_DIR`` for child processes.

    Values left by an earlier run would be counted again, so every run gets its own; it is
    removed, and the variable restored, at the end.
    """
    directory = Path(tempfile.mkdtemp(prefix="user-service-metrics-"))
    previous = os.environ.get(DIRECTORY_VARIABLE)
    os.environ[DIRECTORY_VARIABLE] = str(directory)
    try:
        yield directory
    finally:
        if previous is None:
            del os.environ[DIRECTORY_VARIABLE]
        else:
            os.environ[DIRECTORY_VARIABLE] = previous
        shutil.rmtree(directory, ignore_errors=True)


def forget_dead_processes(directory: Path) -> None:
    """Drop the live gauges of processes that are gone (a worker killed without a clean stop)."""
    pids = {
        int(match.group(1))
        for path in directory.glob("gauge_live*.db")
        if (match := _LIVE_GAUGE_FILE.fullmatch(path.name))
    }
    for pid in pids:
        if not _is_running(pid):
            mark_process_dead(pid, str(directory))  # type: ignore[no-untyped-call]


def forget_this_process(directory: Path) -> None:
    """Drop this process's live gauges, as it stops serving."""
    mark_process_dead(os.getpid(), str(directory))  # type: ignore[no-untyped-call]


def _is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: the pid was reused, so ours is gone
        return False
    return True
