"""Both services on one database during a cut-over: the Go service's SQL beside this service.

The Go service's database is adopted, then this service serves it (its own application on
PostgreSQL) while the Go service's own statements run against it, interleaved: each reads the
other's rows, the database fills in what the Go service leaves out, and ``migrate rekey``
recomputes the keys the database's rule got wrong.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient

from tests.integration.service.test_go_database import (
    GO_DELETE,
    GO_INSERT,
    GO_UPDATE,
    go_database,
    go_statements,
    rows_of,
    user_service,
)
from user_postgres import create_engine, migrate
from user_service.asgi import create_application
from user_service.container import Container
from user_service.settings import Settings

GO_SELECT = (
    "SELECT id, name, other, created_at, updated_at FROM users"
    " ORDER BY created_at LIMIT $1 OFFSET $2"
)
NOW = datetime(2026, 12, 1, 3, 0, 0, 250000, tzinfo=UTC)


@pytest.fixture
def adopted(blank_database_url: str) -> str:
    """The Go service's database, adopted by this one."""
    asyncio.run(go_database(blank_database_url))
    asyncio.run(migrate.upgrade(blank_database_url, legacy_time_zone="Europe/Warsaw"))
    return blank_database_url


@pytest.fixture
def client(adopted: str) -> Iterator[TestClient]:
    """This service, serving the adopted database."""
    container = Container()
    container.settings.override(Settings(database_url=SecretStr(adopted), migrate_on_start=False))
    with TestClient(create_application(container)) as client:
        yield client


def go(url: str, statement: str, *parameters: Any) -> tuple[Any, ...]:
    """One of the Go service's statements; the row it returns."""
    return asyncio.run(go_statements(url, statement, parameters))[0]


def go_list(url: str) -> list[tuple[Any, ...]]:
    """The Go service's list, every page of it, scanned as it scans: ``other`` into a string."""

    async def pages() -> list[tuple[Any, ...]]:
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                raw = (await connection.get_raw_connection()).driver_connection
                assert raw is not None
                found: list[tuple[Any, ...]] = []
                while page := await raw.fetch(GO_SELECT, 2, len(found)):
                    found += [tuple(row) for row in page]
                return found
        finally:
            await engine.dispose()

    rows = asyncio.run(pages())
    assert all(isinstance(other, str) for _, _, other, _, _ in rows), "NULL into a Go string"
    return rows


def test_each_service_reads_the_others_rows(adopted: str, client: TestClient) -> None:
    go_id, *_ = go(adopted, GO_INSERT, "Gopher", "from go", NOW)
    read = client.get(f"/users/{go_id}")
    assert read.status_code == 200
    assert read.headers["etag"] == '"1"'
    assert {
        key: read.json()[key] for key in ("name", "other", "email", "created_at", "version")
    } == {
        "name": "Gopher",
        "other": "from go",
        "email": None,
        "created_at": "2026-12-01T03:00:00.250000Z",
        "version": 1,
    }
    assert [user["id"] for user in client.get("/users?name=GOPHER").json()["users"]] == [go_id]

    mine = client.post("/users", json={"name": "Pythonista"}).json()
    assert mine["other"] == ""  # while the Go service may read it: never NULL
    rows = {row[0]: row for row in go_list(adopted)}
    assert rows[mine["id"]][1:3] == ("Pythonista", "")
    assert rows[mine["id"]][3] == datetime.fromisoformat(mine["created_at"])
    assert rows[go_id][1:3] == ("Gopher", "from go")


def test_the_go_services_update_is_a_new_version_with_new_keys(
    adopted: str, client: TestClient
) -> None:
    mine = client.post("/users", json={"name": "bert", "other": "x"}).json()
    later = NOW + timedelta(minutes=5)

    updated = go(adopted, GO_UPDATE, mine["id"], "Robert", "renamed by go", later)

    assert updated == (
        mine["id"],
        "Robert",
        "renamed by go",
        datetime.fromisoformat(mine["created_at"]),
        later,
    )
    read = client.get(f"/users/{mine['id']}")
    assert (read.headers["etag"], read.json()["name"], read.json()["version"]) == (
        '"2"',
        "Robert",
        2,
    )
    assert [user["id"] for user in client.get("/users?name=robert").json()["users"]] == [mine["id"]]
    # A client of this service that read version 1 is told it is stale.
    stale = client.put(f"/users/{mine['id']}", json={"name": "bert"}, headers={"if-match": '"1"'})
    assert stale.status_code == 412
    # The old name is free again, the new one taken, ignoring case.
    assert client.post("/users", json={"name": "BERT"}).status_code == 201
    assert client.post("/users", json={"name": "ROBERT"}).status_code == 409


def test_names_stay_unique_ignoring_case_across_both_services(
    adopted: str, client: TestClient
) -> None:
    go_id, *_ = go(adopted, GO_INSERT, "Carol", "", NOW)
    assert client.post("/users", json={"name": "carol"}).status_code == 409
    client.post("/users", json={"name": "dave"})
    with pytest.raises(asyncpg.UniqueViolationError, match="users_name_key_unique"):
        go(adopted, GO_INSERT, "DAVE", "", NOW)
    # Names this service could not read back are refused from every writer.
    for unreadable in ("  ", "bell\a"):
        with pytest.raises(asyncpg.CheckViolationError, match="blank or holds a control"):
            go(adopted, GO_INSERT, unreadable, "", NOW)
    with pytest.raises(asyncpg.CheckViolationError, match="blank or holds a control"):
        go(adopted, GO_UPDATE, go_id, "\t", "", NOW)
    go(adopted, GO_DELETE, go_id)
    assert client.get(f"/users/{go_id}").status_code == 404
    assert client.post("/users", json={"name": "carol"}).status_code == 201


def test_the_databases_rule_sees_width_and_spacing_as_the_service_does(
    adopted: str, client: TestClient
) -> None:
    client.post("/users", json={"name": "erin doe"})
    # NFKC and runs of spaces as one, in SQL too (revision 0007): no look-alike slips in.
    for look_alike in ("ＥＲＩＮ doe", "erin  doe", "erin\u00a0doe"):
        with pytest.raises(asyncpg.UniqueViolationError, match="users_name_key_unique"):
            go(adopted, GO_INSERT, look_alike, "", NOW)


def test_rekey_lists_the_values_kept_as_stored_though_refused_now(
    adopted: str, client: TestClient
) -> None:
    go_id, *_ = go(adopted, GO_INSERT, "аdmin", "", NOW)  # Cyrillic а: refused from this API

    done = user_service(adopted, "migrate", "rekey")

    assert done.returncode == 0, done.stderr
    assert f"user {go_id}: name 'аdmin' must not mix scripts" in done.stdout
    assert client.get(f"/users/{go_id}").json()["name"] == "аdmin"
    assert client.post("/users", json={"name": "аdmin"}).status_code == 400


def test_rekey_reports_what_the_databases_rule_missed_then_fixes_the_keys(
    adopted: str, client: TestClient
) -> None:
    strasse = client.post("/users", json={"name": "strasse"}).json()
    # lower() keeps ß, the service's case folding makes it ss: the database lets it in.
    go_id, *_ = go(adopted, GO_INSERT, "Straße", "", NOW)
    keys_before = asyncio.run(rows_of(adopted, "SELECT id, name_key FROM users ORDER BY id"))

    refused = user_service(adopted, "migrate", "rekey")

    assert refused.returncode != 0
    assert f"name 'strasse': users {[strasse['id'], go_id]} ('strasse', 'Straße')" in refused.stderr
    assert (
        asyncio.run(rows_of(adopted, "SELECT id, name_key FROM users ORDER BY id")) == keys_before
    )

    assert client.delete(f"/users/{strasse['id']}").status_code == 204
    done = user_service(adopted, "migrate", "rekey")

    assert done.returncode == 0, done.stderr
    assert "1 name keys" in done.stdout
    assert client.get(f"/users/{go_id}").json()["version"] == 1  # a key is no change of the user
    assert client.post("/users", json={"name": "STRASSE"}).status_code == 409


def test_the_service_adopts_the_go_database_when_it_starts(blank_database_url: str) -> None:
    go_ids = asyncio.run(go_database(blank_database_url))
    container = Container()
    container.settings.override(
        Settings(
            database_url=SecretStr(blank_database_url),
            migrate_on_start=True,
            legacy_time_zone="Europe/Warsaw",
        )
    )
    with TestClient(create_application(container)) as client:
        assert client.get("/readyz").status_code == 200
        users = client.get("/users").json()["users"]
    assert [user["id"] for user in users] == [go_ids[0], go_ids[1], go_ids[3]]
    # 12:30 in a Warsaw summer is 10:30 UTC.
    assert users[1]["created_at"] == "2026-07-01T10:30:00.123456Z"
