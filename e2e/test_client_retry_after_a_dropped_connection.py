"""A connection dropped mid-create: the client's retry creates exactly one user.

Between the client and the real server sits a small TCP proxy that, on its first connection,
forwards the request, waits until the server has begun to answer (so the user exists), and then
cuts the client's connection without passing the answer on. The client cannot know whether its
creation happened; it retries under the same ``Idempotency-Key`` and gets the first answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from urllib.parse import urlsplit

from e2e.server import RunningServer
from user_client import RemoteUserService, RetryPolicy
from user_core import PageRequest, UserDraft

_CHUNK = 65536


async def _pipe(source: asyncio.StreamReader, target: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while data := await source.read(_CHUNK):
            target.write(data)
            await target.drain()
    target.close()


class DroppingProxy:
    """Forwards TCP to ``upstream``; cuts its first ``drops`` connections once answered."""

    def __init__(self, host: str, port: int, drops: int = 1) -> None:
        self._upstream = (host, port)
        self._drops = drops
        self.connections = 0
        self.dropped = 0
        self.handlers: set[asyncio.Task[None]] = set()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One client connection: forwarded both ways, or cut after the request."""
        self.connections += 1
        task = asyncio.current_task()
        assert task is not None
        self.handlers.add(task)
        upstream_reader, upstream_writer = await asyncio.open_connection(*self._upstream)
        to_upstream = asyncio.create_task(_pipe(reader, upstream_writer))
        try:
            if self.dropped < self._drops:
                await upstream_reader.read(1)  # the server is answering: the request was handled
                self.dropped += 1
                writer.transport.abort()  # a reset, as a crashed proxy or a lost network would
                to_upstream.cancel()
            else:
                await _pipe(upstream_reader, writer)
            with contextlib.suppress(asyncio.CancelledError):
                await to_upstream
        finally:
            for stream in (writer, upstream_writer):
                stream.close()
                with contextlib.suppress(ConnectionError):
                    await stream.wait_closed()


def test_a_create_whose_connection_drops_is_retried_into_exactly_one_user(
    server: RunningServer,
) -> None:
    upstream = urlsplit(server.base_url)
    assert upstream.hostname is not None
    assert upstream.port is not None
    proxy = DroppingProxy(upstream.hostname, upstream.port)
    name = f"dropped-{uuid.uuid4().hex[:12]}"

    async def scenario() -> tuple[int, int | None]:
        listener = await asyncio.start_server(proxy.handle, "127.0.0.1", 0)
        port = listener.sockets[0].getsockname()[1]
        async with listener:
            retry = RetryPolicy(attempts=3, backoff=0.05)
            async with RemoteUserService(f"http://127.0.0.1:{port}", retry=retry) as users:
                created = await users.create(UserDraft.parse(name=name))
                page = await users.list(PageRequest(name=name, with_total=True))
            listener.close()
            await asyncio.wait(proxy.handlers, timeout=10)  # every connection has been closed
        return created.id, page.total

    created_id, total = asyncio.run(scenario())
    assert proxy.dropped == 1
    assert proxy.connections >= 2
    assert total == 1
    assert created_id >= 1
