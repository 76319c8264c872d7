"""Durable state of the local engine: SQLite (WAL) under the data directory.

Each call opens a short-lived connection, so the store is safe from the event loop and from render
threads alike; SQLite serialises writers. The database holds the engine's secret, so it is created
readable by the user only (SQLite gives its -wal and -shm files the database file's mode).
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import time
from collections.abc import Generator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS avatars (
    id TEXT PRIMARY KEY,
    avatar_id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    type INTEGER NOT NULL,
    source INTEGER NOT NULL,
    status INTEGER NOT NULL,
    gender TEXT,
    source_url TEXT,
    media_path TEXT,
    preview_path TEXT,
    thumbnail_path TEXT,
    face_json TEXT,
    error_reason TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    sort INTEGER NOT NULL DEFAULT 0,
    create_time INTEGER NOT NULL,
    update_time INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS videos (
    id TEXT PRIMARY KEY,
    video_id TEXT NOT NULL,
    task_id TEXT NOT NULL,
    status INTEGER NOT NULL,
    request_json TEXT NOT NULL,
    webhook_url TEXT,
    output_path TEXT,
    duration REAL,
    progress REAL NOT NULL DEFAULT 0,
    error_code INTEGER,
    error_reason TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    create_time INTEGER NOT NULL,
    update_time INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS webhooks (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    url TEXT NOT NULL,
    payload_json TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    last_error TEXT,
    create_time INTEGER NOT NULL,
    video_id TEXT
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS videos_status ON videos(status);
CREATE INDEX IF NOT EXISTS webhooks_due ON webhooks(state, next_attempt);
"""
# Columns added after the first release, for databases made before them.
MIGRATIONS = (("webhooks", "video_id", "TEXT"),)
INDEXES = "CREATE INDEX IF NOT EXISTS webhooks_video ON webhooks(video_id, seq);"
DB_MODE = 0o600


def now_ms() -> int:
    return int(time.time() * 1000)


def new_object_id() -> str:
    """A 24-hex id shaped like a MongoDB ObjectId: 4 bytes of time, 8 random."""
    return f"{int(time.time()):08x}{secrets.token_hex(8)}"


@dataclass(frozen=True)
class AvatarRow:
    id: str
    avatar_id: str
    name: str
    type: int
    source: int
    status: int
    gender: str | None
    source_url: str | None
    media_path: str | None
    preview_path: str | None
    thumbnail_path: str | None
    face_json: str | None
    error_reason: str | None
    attempts: int
    sort: int
    create_time: int
    update_time: int


@dataclass(frozen=True)
class VideoRow:
    id: str
    video_id: str
    task_id: str
    status: int
    request_json: str
    webhook_url: str | None
    output_path: str | None
    duration: float | None
    progress: float
    error_code: int | None
    error_reason: str | None
    attempts: int
    create_time: int
    update_time: int

    @property
    def request(self) -> dict[str, Any]:
        return json.loads(self.request_json)


@dataclass(frozen=True)
class WebhookRow:
    seq: int
    url: str
    payload_json: str
    attempts: int
    next_attempt: int
    state: str
    last_error: str | None
    create_time: int
    video_id: str | None = None


@dataclass(frozen=True)
class WebhookNote:
    """A webhook to queue together with a status change, in the same transaction."""

    url: str
    payload: dict[str, Any]
    at_ms: int


class DuplicateError(Exception):
    """The unique key exists already."""


class Store:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        _private_file(path)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)
            for table, column, kind in MIGRATIONS:
                columns = {str(r["name"]) for r in db.execute(f"PRAGMA table_info({table})")}
                if column not in columns:
                    db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
            db.execute(INDEXES)
        for suffix in ("-wal", "-shm"):
            side = path.with_name(path.name + suffix)
            if side.exists():
                side.chmod(DB_MODE)

    def ping(self) -> None:
        """Raise if the database cannot be read."""
        with self._connect() as db:
            db.execute("SELECT 1 FROM meta LIMIT 1").fetchall()

    def delete_meta(self, key: str) -> None:
        with self._connect() as db:
            db.execute("DELETE FROM meta WHERE key=?", (key,))

    @contextmanager
    def _connect(self) -> Generator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA synchronous=NORMAL")
        try:
            yield db
        finally:
            db.close()

    # -- meta ---------------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        with self._connect() as db:
            row = db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else str(row["value"])

    def set_meta(self, key: str, value: str) -> None:
        with self._connect() as db:
            db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)", (key, value))

    # -- avatars ------------------------------------------------------------------------------

    def upsert_builtin_avatar(self, row: AvatarRow) -> None:
        with self._connect() as db:
            db.execute(
                "INSERT INTO avatars VALUES(:id,:avatar_id,:name,:type,:source,:status,:gender,:source_url,"
                ":media_path,:preview_path,:thumbnail_path,:face_json,:error_reason,:attempts,:sort,"
                ":create_time,:update_time) ON CONFLICT(id) DO UPDATE SET name=excluded.name, "
                "gender=excluded.gender, preview_path=excluded.preview_path, "
                "thumbnail_path=excluded.thumbnail_path, sort=excluded.sort",
                row.__dict__,
            )

    def insert_avatar(self, row: AvatarRow) -> None:
        try:
            with self._connect() as db:
                db.execute(
                    "INSERT INTO avatars VALUES(:id,:avatar_id,:name,:type,:source,:status,:gender,:source_url,"
                    ":media_path,:preview_path,:thumbnail_path,:face_json,:error_reason,:attempts,:sort,"
                    ":create_time,:update_time)",
                    row.__dict__,
                )
        except sqlite3.IntegrityError as exc:
            raise DuplicateError(row.avatar_id) from exc

    def update_avatar(self, avatar_record_id: str, **fields: Any) -> None:
        self._update("avatars", avatar_record_id, fields)

    def get_avatar(self, record_id: str) -> AvatarRow | None:
        with self._connect() as db:
            row = db.execute("SELECT * FROM avatars WHERE id=?", (record_id,)).fetchone()
        return None if row is None else AvatarRow(**dict(row))

    def get_avatar_by_avatar_id(self, avatar_id: str) -> AvatarRow | None:
        with self._connect() as db:
            row = db.execute("SELECT * FROM avatars WHERE avatar_id=?", (avatar_id,)).fetchone()
        return None if row is None else AvatarRow(**dict(row))

    def list_avatars(
        self, *, source: int | None, type_: int | None, offset: int, limit: int
    ) -> tuple[int, list[AvatarRow]]:
        where: list[str] = []
        args: list[int] = []
        if source is not None:
            where.append("source=?")
            args.append(source)
        if type_ is not None:
            where.append("type=?")
            args.append(type_)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        with self._connect() as db:
            count = db.execute(f"SELECT COUNT(*) FROM avatars {clause}", args).fetchone()[0]  # noqa: S608
            rows = db.execute(
                f"SELECT * FROM avatars {clause} ORDER BY source, sort, create_time LIMIT ? OFFSET ?",  # noqa: S608
                [*args, limit, offset],
            ).fetchall()
        return int(count), [AvatarRow(**dict(r)) for r in rows]

    def delete_avatar(self, record_id: str) -> bool:
        """Remove one of the user's own avatars (never a built-in one); False when there was none."""
        with self._connect() as db:
            gone = db.execute("DELETE FROM avatars WHERE id=? AND source=3", (record_id,)).rowcount
        return gone > 0

    def unfinished_avatars(self) -> list[AvatarRow]:
        with self._connect() as db:
            rows = db.execute("SELECT * FROM avatars WHERE status IN (1, 2) ORDER BY create_time").fetchall()
        return [AvatarRow(**dict(r)) for r in rows]

    # -- videos -------------------------------------------------------------------------------

    def insert_video(self, row: VideoRow) -> None:
        with self._connect() as db:
            db.execute(
                "INSERT INTO videos VALUES(:id,:video_id,:task_id,:status,:request_json,:webhook_url,:output_path,"
                ":duration,:progress,:error_code,:error_reason,:attempts,:create_time,:update_time)",
                row.__dict__,
            )

    def update_video(self, video_record_id: str, **fields: Any) -> None:
        self._update("videos", video_record_id, fields)

    def get_video(self, record_id: str) -> VideoRow | None:
        with self._connect() as db:
            row = db.execute("SELECT * FROM videos WHERE id=?", (record_id,)).fetchone()
        return None if row is None else VideoRow(**dict(row))

    def transition_video(self, record_id: str, fields: dict[str, Any], webhook: WebhookNote | None) -> None:
        """Change a video's fields and queue its webhook atomically: both happen, or neither."""
        fields = {**fields, "update_time": now_ms()}
        sets = ", ".join(f"{k}=:{k}" for k in fields)
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute(f"UPDATE videos SET {sets} WHERE id=:id", {**fields, "id": record_id})  # noqa: S608
                if webhook is not None:
                    db.execute(
                        "INSERT INTO webhooks(url, payload_json, next_attempt, create_time, video_id) "
                        "VALUES(?,?,?,?,?)",
                        (webhook.url, json.dumps(webhook.payload), webhook.at_ms, webhook.at_ms, record_id),
                    )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def count_videos(self, status: int) -> int:
        with self._connect() as db:
            return int(db.execute("SELECT COUNT(*) FROM videos WHERE status=?", (status,)).fetchone()[0])

    def unfinished_videos(self) -> list[VideoRow]:
        with self._connect() as db:
            rows = db.execute("SELECT * FROM videos WHERE status IN (1, 2) ORDER BY create_time").fetchall()
        return [VideoRow(**dict(r)) for r in rows]

    # -- webhooks -----------------------------------------------------------------------------

    def latest_webhook(self, video_record_id: str) -> WebhookRow | None:
        with self._connect() as db:
            row = db.execute(
                "SELECT * FROM webhooks WHERE video_id=? ORDER BY seq DESC LIMIT 1", (video_record_id,)
            ).fetchone()
        return None if row is None else WebhookRow(**dict(row))

    def count_webhooks(self, state: str) -> int:
        with self._connect() as db:
            return int(db.execute("SELECT COUNT(*) FROM webhooks WHERE state=?", (state,)).fetchone()[0])

    def due_webhooks(self, at_ms: int, limit: int = 20) -> list[WebhookRow]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT * FROM webhooks WHERE state='pending' AND next_attempt<=? ORDER BY seq LIMIT ?",
                (at_ms, limit),
            ).fetchall()
        return [WebhookRow(**dict(r)) for r in rows]

    def next_webhook_time(self) -> int | None:
        with self._connect() as db:
            row = db.execute("SELECT MIN(next_attempt) FROM webhooks WHERE state='pending'").fetchone()
        return None if row[0] is None else int(row[0])

    def list_webhooks(self) -> list[WebhookRow]:
        with self._connect() as db:
            rows = db.execute("SELECT * FROM webhooks ORDER BY seq").fetchall()
        return [WebhookRow(**dict(r)) for r in rows]

    def update_webhook(self, seq: int, **fields: Any) -> None:
        sets = ", ".join(f"{k}=:{k}" for k in fields)
        with self._connect() as db:
            db.execute(f"UPDATE webhooks SET {sets} WHERE seq=:seq", {**fields, "seq": seq})  # noqa: S608

    def _update(self, table: str, record_id: str, fields: dict[str, Any]) -> None:
        fields = {**fields, "update_time": now_ms()}
        sets = ", ".join(f"{k}=:{k}" for k in fields)
        with self._connect() as db:
            db.execute(f"UPDATE {table} SET {sets} WHERE id=:id", {**fields, "id": record_id})  # noqa: S608


def _private_file(path: Path) -> None:
    """Create the file readable by the user only, or take group/other access away from an old one."""
    fd = os.open(path, os.O_CREAT | os.O_RDWR, DB_MODE)
    os.close(fd)
    if path.stat().st_mode & 0o077:
        path.chmod(DB_MODE)
