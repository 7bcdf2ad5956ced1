"""EmbeddedPostgres: a real server from the wheel, whose data outlives it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text

from user_postgres import EmbeddedPostgres, create_engine
from user_postgres.embedded import default_data_dir


async def query(url: str, statement: str) -> object:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            result = await connection.execute(text(statement))
            return result.scalar() if result.returns_rows else None
    finally:
        await engine.dispose()


def test_the_data_survives_a_restart_and_stop_stops_the_server(tmp_path: Path) -> None:
    server = EmbeddedPostgres(tmp_path / "pgdata")
    try:
        with server:
            asyncio.run(query(server.url, "CREATE TABLE kept AS SELECT 'still here' AS note"))
            assert (server.data_dir / "postmaster.pid").exists()
        assert not (server.data_dir / "postmaster.pid").exists()  # removed by a clean shutdown
        with pytest.raises(RuntimeError, match="not running"):
            _ = server.url

        with server:
            assert server.url.endswith(f"/user_service?host={server.data_dir}")
            assert asyncio.run(query(server.url, "SELECT note FROM kept")) == "still here"
    finally:
        server.stop()


def test_the_default_data_directory_follows_xdg_data_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_data_dir() == tmp_path / "user-service" / "pgdata"

    monkeypatch.setenv("XDG_DATA_HOME", "relative/ignored")  # the spec wants absolute paths
    assert default_data_dir() == Path.home() / ".local" / "share" / "user-service" / "pgdata"

    monkeypatch.delenv("XDG_DATA_HOME")
    assert default_data_dir() == Path.home() / ".local" / "share" / "user-service" / "pgdata"


def test_only_plain_database_names_are_accepted(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="plain database name"):
        EmbeddedPostgres(tmp_path, database="x'; DROP DATABASE postgres; --")
