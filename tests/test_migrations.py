"""The cluster database's schema changes only through `akool-mcp migrate`: a fresh database gets every
version, a second run changes nothing, and neither an engine nor an MCP server starts on an older schema."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from mcp import Client

from akool_mcp.cli import main
from akool_mcp.local.pgstore import PgStore
from akool_mcp.migrations import SchemaNotReady, expected_versions
from akool_mcp.server import build_server
from tests.fakes.akool import FakeAkool
from tests.support import FakeClock, cloud_settings


def _tables(database: str) -> set[str]:
    with psycopg.connect(database) as db:
        rows = db.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
    return {str(r[0]) for r in rows}


def test_migrate_applies_every_version_once_and_then_finds_nothing_to_do(
    database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AKOOL_DATABASE_URL", database)
    assert main(["migrate"]) == 0
    first = capsys.readouterr().out
    assert main(["migrate"]) == 0
    second = capsys.readouterr().out
    with psycopg.connect(database) as db:
        applied = {str(r[0]) for r in db.execute("SELECT version FROM akool_schema_migrations").fetchall()}
    assert first.startswith("applied: ") and "akool/0001_engine" in first
    assert second.strip() == "the schema is up to date"
    assert applied == set(expected_versions())
    assert {"akool_videos", "akool_mcp_videos", "akool_mcp_scripts", "procrastinate_jobs"} <= _tables(database)


def test_an_engine_on_a_database_never_migrated_refuses_and_creates_nothing(database: str) -> None:
    store = PgStore(database)
    try:
        with pytest.raises(SchemaNotReady, match="akool-mcp migrate"):
            store.check_schema()
    finally:
        store.close()
    assert _tables(database) == set()  # a process never migrates by itself


@pytest.mark.anyio
async def test_an_mcp_server_on_a_database_never_migrated_refuses_to_serve(database: str, tmp_path: Path) -> None:
    settings = cloud_settings(data_dir=tmp_path / "data", output_dir=tmp_path / "out", database_url=database)
    server = build_server(settings, transport=FakeAkool().transport(), clock=FakeClock())
    with pytest.raises(Exception) as refused:  # noqa: PT011 (the lifespan's error may come wrapped in a group)
        async with Client(server):
            pass
    assert "akool-mcp migrate" in repr(refused.value)
    assert _tables(database) == set()
