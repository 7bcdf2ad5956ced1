"""Standard output for log lines: whole lines, few writes, whatever ``PYTHONUNBUFFERED`` says.

Container images set ``PYTHONUNBUFFERED=1`` so that output is never stuck in a buffer; then every
line is a write to a pipe, which costs more than making the line. :class:`LineWriter` keeps lines
until they are flushed (the access log flushes within a tenth of a second, every other log line
at once, so order is kept) and writes them in chunks of whole lines of at most ``PIPE_BUF``
bytes: such a write to a pipe is atomic, so worker processes sharing stdout never cut into each
other's lines.
"""

from __future__ import annotations

import atexit
import functools
import os
import select
import threading
from typing import Final

ATOMIC_WRITE_BYTES: Final = getattr(select, "PIPE_BUF", 512)
"""The most a write to a pipe may carry and stay whole (POSIX: at least 512; Linux: 4096)."""
BUFFER_BYTES: Final = 64 * 1024
"""Lines kept before they are written even without a flush."""


class LineWriter:
    """A text stream of whole lines for a file descriptor, written out on :meth:`flush`.

    Each :meth:`write` must end with a line break (log handlers write a line at a time).
    Thread-safe.
    """

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._lock = threading.Lock()
        self._pending: list[bytes] = []
        self._size = 0

    def write(self, text: str) -> int:
        """Keep ``text`` (one or more lines) until the next flush."""
        data = text.encode("utf-8", "backslashreplace")
        with self._lock:
            self._pending.append(data)
            self._size += len(data)
            full = self._size >= BUFFER_BYTES
        if full:
            self.flush()
        return len(text)

    def flush(self) -> None:
        """Write what is kept, in as few writes as keep every line whole."""
        with self._lock:
            chunk: list[bytes] = []
            size = 0
            for data in self._pending:
                if chunk and size + len(data) > ATOMIC_WRITE_BYTES:
                    self._write_all(b"".join(chunk))
                    chunk, size = [], 0
                chunk.append(data)
                size += len(data)
            if chunk:
                self._write_all(b"".join(chunk))
            self._pending.clear()
            self._size = 0

    def isatty(self) -> bool:
        """Whether the descriptor is a terminal."""
        return os.isatty(self._fd)

    def _write_all(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view) :]


@functools.cache
def standard_output() -> LineWriter:
    """This process's one :class:`LineWriter` for file descriptor 1, flushed at exit too."""
    writer = LineWriter(1)
    atexit.register(writer.flush)
    return writer
