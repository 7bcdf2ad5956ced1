"""Concurrent requests with one ``Idempotency-Key`` on PostgreSQL create exactly one user.

The key is held from outside (the same advisory lock the repository takes) while every request
arrives, so all of them are provably in flight together; once it is released they race for it.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import text
from starlette.testclient import TestClient

from user_postgres import create_engine

REQUESTS = 20
KEY = "race-key"
_HOLD = text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")
_WAITING = text(
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
    " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)


async def _race(client: TestClient, database_url: str) -> list[Any]:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as holder, engine.connect() as observer:
            await holder.execute(_HOLD, {"key": KEY})  # a transaction begins, holding the key
            with ThreadPoolExecutor(REQUESTS) as pool:
                futures = [
                    pool.submit(
                        client.post,
                        "/users",
                        json={"name": "ada", "other": "raced"},
                        headers={"Idempotency-Key": KEY},
                    )
                    for _ in range(REQUESTS)
                ]
                deadline = time.monotonic() + 10
                waiting = 0
                while waiting < REQUESTS and time.monotonic() < deadline:
                    await asyncio.sleep(0.05)
                    waiting = (await observer.execute(_WAITING)).scalar_one()
                    await observer.rollback()
                assert waiting == REQUESTS, f"only {waiting} requests reached the key"
                await holder.rollback()  # release the key: the requests race for it now
                return [future.result(timeout=30) for future in futures]
    finally:
        await engine.dispose()


def test_twenty_concurrent_requests_with_one_key_create_one_user_and_agree(
    client: TestClient, empty_database_url: str
) -> None:
    responses = asyncio.run(_race(client, empty_database_url))

    first = responses[0]
    assert first.status_code == 201, first.text
    for response in responses:
        assert response.status_code == 201
        assert response.content == first.content
        for header in ("content-type", "location", "etag"):
            assert response.headers[header] == first.headers[header]
    listed = client.get("/users", params={"total": "true"}).json()
    assert listed["total"] == 1
    assert listed["users"][0] == first.json()
