"""The cluster database's schema, in versions: `akool-mcp migrate` applies what is missing, nothing else does.

Two lists share one record of what was applied (`akool_schema_migrations`): this package's own versions
(the engine's records; the MCP servers' list of videos, paid requests and scripts) and Procrastinate's,
whose job tables live in the same database. A fresh database gets Procrastinate's whole schema at once and
every one of its migration files marked as applied; a database made by an older Procrastinate gets the
files it has not seen, in order. Migrations run inside one transaction under an advisory lock, so two
`migrate` runs at once do the work once. Processes only check (`missing_migrations`) and refuse to start on
an older schema.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

# One number for this package's advisory locks, so two `migrate` runs queue rather than race.
MIGRATE_LOCK = 0x616B6F6F6C  # "akool"


@dataclass(frozen=True)
class Migration:
    version: str
    sql: str


OWN = (
    Migration(
        "akool/0001_engine",
        """
CREATE FUNCTION akool_now_ms() RETURNS bigint LANGUAGE sql VOLATILE AS
    $$ SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint $$;
CREATE TABLE akool_meta (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE akool_avatars (
    id text PRIMARY KEY,
    avatar_id text NOT NULL UNIQUE,
    name text NOT NULL,
    type integer NOT NULL,
    source integer NOT NULL,
    status integer NOT NULL,
    gender text,
    source_url text,
    media_path text,
    preview_path text,
    thumbnail_path text,
    face_json text,
    error_reason text,
    attempts integer NOT NULL DEFAULT 0,
    sort integer NOT NULL DEFAULT 0,
    create_time bigint NOT NULL,
    update_time bigint NOT NULL,
    client text,
    lease_owner text,
    lease_until bigint
);
CREATE TABLE akool_videos (
    id text PRIMARY KEY,
    uuid text NOT NULL,
    task_id text NOT NULL,
    status integer NOT NULL,
    request_json text NOT NULL,
    webhook_url text,
    output_path text,
    duration double precision,
    progress double precision NOT NULL DEFAULT 0,
    error_code integer,
    error_reason text,
    attempts integer NOT NULL DEFAULT 0,
    create_time bigint NOT NULL,
    update_time bigint NOT NULL,
    client text,
    lease_owner text,
    lease_until bigint
);
CREATE INDEX akool_videos_unfinished ON akool_videos (status) WHERE status IN (1, 2);
CREATE INDEX akool_avatars_unfinished ON akool_avatars (status) WHERE status IN (1, 2);
CREATE TABLE akool_webhooks (
    seq bigserial PRIMARY KEY,
    url text NOT NULL,
    payload_json text NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    next_attempt bigint NOT NULL,
    state text NOT NULL DEFAULT 'pending',
    last_error text,
    create_time bigint NOT NULL,
    video_id text,
    claimed_by text,
    claimed_until bigint
);
CREATE INDEX akool_webhooks_due ON akool_webhooks (next_attempt) WHERE state = 'pending';
CREATE INDEX akool_webhooks_video ON akool_webhooks (video_id, seq);
CREATE TABLE akool_rate_buckets (caller text PRIMARY KEY, level double precision NOT NULL, seen_ms bigint NOT NULL);
""",
    ),
    Migration(
        "akool/0002_mcp_videos",
        """
CREATE TABLE akool_mcp_videos (
    video_id text PRIMARY KEY,
    backend text NOT NULL,
    status text NOT NULL,
    created_at double precision NOT NULL,
    updated_at double precision NOT NULL,
    avatar text,
    summary text,
    remote_url text,
    file_path text,
    poster_path text,
    params text
);
CREATE INDEX akool_mcp_videos_newest ON akool_mcp_videos (created_at DESC);
""",
    ),
    Migration(
        "akool/0003_mcp_paid_requests",
        """
CREATE TABLE akool_mcp_paid_requests (
    seq bigserial PRIMARY KEY,
    kind text NOT NULL,
    fingerprint text NOT NULL,
    request_id text,
    state text NOT NULL,
    result_id text,
    result text,
    sent_at double precision NOT NULL
);
CREATE UNIQUE INDEX akool_mcp_paid_request_ids ON akool_mcp_paid_requests (kind, request_id)
    WHERE request_id IS NOT NULL;
CREATE INDEX akool_mcp_paid_recent ON akool_mcp_paid_requests (kind, fingerprint, sent_at);
""",
    ),
    Migration(
        "akool/0004_mcp_scripts",
        """
CREATE TABLE akool_mcp_scripts (
    script_id text PRIMARY KEY,
    body text NOT NULL,
    joiner text,
    join_until bigint
);
CREATE TABLE akool_mcp_scenes (fingerprint text PRIMARY KEY, video_id text NOT NULL);
""",
    ),
)

_RECORD = """
CREATE TABLE IF NOT EXISTS akool_schema_migrations (
    version text PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


def _procrastinate() -> tuple[str, list[tuple[str, str]]]:
    """Procrastinate's whole schema, and its migration files (name, SQL) in order."""
    from procrastinate.schema import SchemaManager

    folder = Path(SchemaManager.get_migrations_path())
    files = sorted(p for p in folder.glob("*.sql"))
    return SchemaManager.get_schema(), [(f"procrastinate/{p.stem}", p.read_text(encoding="utf-8")) for p in files]


def _applied(conn: Any) -> set[str]:
    exists = conn.execute("SELECT to_regclass('akool_schema_migrations') IS NOT NULL AS there").fetchone()
    if not _first(exists):
        return set()
    return {str(_first(r)) for r in conn.execute("SELECT version FROM akool_schema_migrations").fetchall()}


def _first(row: Any) -> Any:
    values: list[Any] = list(row.values()) if isinstance(row, dict) else list(row)  # pyright: ignore[reportUnknownArgumentType,reportUnknownMemberType]
    return values[0]


def expected_versions() -> list[str]:
    _, files = _procrastinate()
    return [name for name, _ in files] + [m.version for m in OWN]


def missing_migrations(conn: Any) -> list[str]:
    """Versions this release needs that the database lacks (empty: the schema is current)."""
    applied = _applied(conn)
    return [v for v in expected_versions() if v not in applied]


class SchemaNotReady(Exception):
    """The database lacks migrations this release needs: run `akool-mcp migrate`."""


def require_current(conn: Any) -> None:
    """Refuse to go on with a database `akool-mcp migrate` has not brought up to this release."""
    missing = missing_migrations(conn)
    if missing:
        raise SchemaNotReady(
            f"the database lacks {len(missing)} migration(s) (first: {missing[0]}); run `akool-mcp migrate`"
        )


def migrate(conninfo: str) -> list[str]:
    """Apply every missing version in one transaction; the versions applied (empty if none was missing)."""
    import psycopg

    with psycopg.connect(conninfo, autocommit=True) as conn, conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATE_LOCK,))
        conn.execute(_RECORD)
        applied = _applied(conn)
        schema, files = _procrastinate()
        done: list[str] = []
        fresh = conn.execute("SELECT to_regclass('procrastinate_jobs') IS NULL").fetchone()
        if fresh is not None and fresh[0]:
            conn.execute(schema.encode())  # the whole current schema includes every migration file
            for name, _ in files:
                _mark(conn, name)
            done.append("procrastinate schema")
            applied |= {name for name, _ in files}
        for name, sql in files:
            if name not in applied:
                conn.execute(sql.encode())
                _mark(conn, name)
                done.append(name)
        for migration in OWN:
            if migration.version not in applied:
                conn.execute(migration.sql.encode())
                _mark(conn, migration.version)
                done.append(migration.version)
    return done


def _mark(conn: Any, version: str) -> None:
    conn.execute("INSERT INTO akool_schema_migrations (version) VALUES (%s) ON CONFLICT DO NOTHING", (version,))
