"""Statement durations by operation and the pool's gauges, on a real database."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.unit.service.conftest import labels, scrape
from user_service.asgi import create_application
from user_service.container import Container

STATEMENTS = "user_service_db_statement_duration_seconds_count"
POOL = "user_service_db_pool_connections"


def test_every_statement_is_timed_under_its_operation(container: Container) -> None:
    with TestClient(create_application(container)) as client:
        created = client.post("/users", json={"name": "counted"})
        user_url = created.headers["location"]
        client.get(user_url)
        client.get("/users", params={"total": "true"})
        client.patch(
            user_url,
            content=b'{"other": "x"}',
            headers={"Content-Type": "application/merge-patch+json", "If-Match": '"9"'},
        )
        client.put(user_url, json={"name": "counted"})
        client.delete(user_url)

        samples = scrape(client)

    counts = {
        dict(label_set)["operation"]: value
        for (name, label_set), value in samples.items()
        if name == STATEMENTS
    }
    counts.pop("other", None)  # statements that name no operation: none of the API's
    assert counts == {
        "insert_user": 1,
        "get_user": 1,
        "list_users": 1,
        "count_users": 1,
        "update_user": 2,  # the stale PATCH and the PUT
        "get_user_version": 1,  # why the stale PATCH matched no row
        "delete_user": 1,
    }


def test_the_pool_is_reported_when_scraped(container: Container) -> None:
    with TestClient(create_application(container)) as client:
        client.get("/users")

        samples = scrape(client)

    assert samples[POOL, labels(state="size")] == 3
    assert samples[POOL, labels(state="checked_out")] == 0
    assert samples[POOL, labels(state="overflow")] == 0
    assert samples[POOL, labels(state="waiting")] == 0
