"""Standard output for log lines: kept until flushed, and written in whole lines."""

from __future__ import annotations

import os
import select
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from user_service.telemetry.log_output import BUFFER_BYTES, LineWriter


@pytest.fixture
def pipe() -> Iterator[tuple[int, int]]:
    """A pipe whose reading end does not block."""
    read_end, write_end = os.pipe()
    os.set_blocking(read_end, False)
    try:
        yield read_end, write_end
    finally:
        os.close(read_end)
        os.close(write_end)


def read_all(fd: int) -> bytes:
    chunks: list[bytes] = []
    while True:
        try:
            chunk = os.read(fd, 1 << 20)
        except BlockingIOError:
            return b"".join(chunks)
        chunks.append(chunk)


def test_lines_wait_for_a_flush(pipe: tuple[int, int]) -> None:
    read_end, write_end = pipe
    writer = LineWriter(write_end)

    writer.write("one\n")
    writer.write("two\n")
    assert read_all(read_end) == b""

    writer.flush()
    assert read_all(read_end) == b"one\ntwo\n"


def test_a_full_buffer_is_written_without_a_flush(tmp_path: Path) -> None:
    line = "x" * 99 + "\n"
    fd = os.open(tmp_path / "out", os.O_WRONLY | os.O_CREAT)
    try:
        writer = LineWriter(fd)
        for _ in range(BUFFER_BYTES // len(line)):
            writer.write(line)
        assert (tmp_path / "out").stat().st_size == 0

        writer.write(line)

        assert (tmp_path / "out").stat().st_size > BUFFER_BYTES
    finally:
        os.close(fd)


def test_writes_hold_whole_lines_and_no_more_than_a_pipe_writes_at_once() -> None:
    # A datagram socket keeps each write apart, so the writes can be seen one by one.
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    with ours, theirs:
        writer = LineWriter(ours.fileno())
        lines = [f"{number:04d} {'x' * (number % 300)}\n".encode() for number in range(200)]
        for line in lines:
            writer.write(line.decode())
        writer.flush()
        ours.shutdown(socket.SHUT_WR)
        writes = list(iter(lambda: theirs.recv(1 << 20), b""))

    assert b"".join(writes) == b"".join(lines)
    assert all(0 < len(write) <= select.PIPE_BUF for write in writes)
    assert all(write.endswith(b"\n") for write in writes)
    assert len(writes) < len(lines) / 5  # and few of them
