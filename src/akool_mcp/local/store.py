"""Durable state of the local engine: SQLite (WAL) under the data directory.

Each call opens a short-lived connection, so the store is safe from the event loop and from render
threads alike; SQLite serialises writers. The database holds the engine's secret, so it is created
readable by the user only (SQLite gives its -wal and -shm files the database file's mode).
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Collection, Generator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from akool_mcp.clock import Clock, SystemClock
from akool_mcp.models import Status
from akool_mcp.privacy import FILE_MODE, private_file

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
    update_time INTEGER NOT NULL,
    client TEXT
);
CREATE TABLE IF NOT EXISTS videos (
    id TEXT PRIMARY KEY,
    uuid TEXT NOT NULL,
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
    update_time INTEGER NOT NULL,
    client TEXT
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
MIGRATIONS = (("webhooks", "video_id", "TEXT"), ("videos", "client", "TEXT"), ("avatars", "client", "TEXT"))
# Columns renamed since (table, old, new): the wire's second video id is kept as `uuid`, so that
# `video_id` means one thing in this code base (the `_id`), as the glossary in CONTRIBUTING says.
RENAMES = (("videos", "video_id", "uuid"),)
UNFINISHED = (int(Status.QUEUEING), int(Status.PROCESSING))
INDEXES = "CREATE INDEX IF NOT EXISTS webhooks_video ON webhooks(video_id, seq);"


def new_object_id(now_ms: int) -> str:
    """A 24-hex id shaped like a MongoDB ObjectId: 4 bytes of time (seconds), 8 random."""
    return f"{now_ms // 1000:08x}{secrets.token_hex(8)}"


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
    client: str | None = None  # who asked for it (the caller's address; "local" in process)


@dataclass(frozen=True)
class VideoRow:
    id: str  # the video_id: the `_id` a create returns
    uuid: str  # the wire's `video_id`, a second id Akool gives the same video; nothing looks it up
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
    client: str | None = None  # who asked for it (the caller's address; "local" in process)

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


@dataclass(frozen=True)
class Room:
    """How many unfinished jobs (videos and avatars) may wait or run: in all, and for one client."""

    total: int
    per_client: int


class NoRoom(Exception):
    """The queue is full; `ahead` jobs are unfinished, `whose` says which bound was reached."""

    def __init__(self, ahead: int, limit: int, whose: str) -> None:
        super().__init__(f"{ahead} unfinished jobs ({whose} limit {limit})")
        self.ahead = ahead
        self.limit = limit
        self.whose = whose


class Store:
    def __init__(self, path: Path, clock: Clock | None = None) -> None:
        self.path = path
        self.clock: Clock = clock or SystemClock()
        path.parent.mkdir(parents=True, exist_ok=True)
        private_file(path)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)
            for table, column, kind in MIGRATIONS:
                if column not in _columns(db, table):
                    db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
            for table, old, new in RENAMES:
                if old in _columns(db, table):
                    db.execute(f"ALTER TABLE {table} RENAME COLUMN {old} TO {new}")
            db.execute(INDEXES)
        for suffix in ("-wal", "-shm"):
            side = path.with_name(path.name + suffix)
            if side.exists():
                side.chmod(FILE_MODE)

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
                _insert("avatars", row.__dict__) + " ON CONFLICT(id) DO UPDATE SET name=excluded.name, "
                "gender=excluded.gender, preview_path=excluded.preview_path, "
                "thumbnail_path=excluded.thumbnail_path, sort=excluded.sort",
                row.__dict__,
            )

    def insert_avatar(self, row: AvatarRow, room: Room | None = None) -> None:
        """Add an avatar record; with `room`, only while the queue has room (NoRoom otherwise), atomically."""
        try:
            self._insert_admitted(_insert("avatars", row.__dict__), row.__dict__, room)
        except sqlite3.IntegrityError as exc:
            raise DuplicateError(row.avatar_id) from exc

    def _insert_admitted(self, sql: str, values: dict[str, Any], room: Room | None) -> None:
        with self._connect() as db:
            # The count and the insert as one: two callers cannot both take the last place.
            db.execute("BEGIN IMMEDIATE")
            try:
                if room is not None:
                    ahead = _unfinished(db, None)
                    if ahead >= room.total:
                        raise NoRoom(ahead, room.total, "the engine's")
                    mine = _unfinished(db, values.get("client"))
                    if mine >= room.per_client:
                        raise NoRoom(mine, room.per_client, "your")
                db.execute(sql, values)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def count_unfinished(self, client: str | None = None) -> int:
        """Videos and avatars queued or processing: all of them, or one client's."""
        with self._connect() as db:
            return _unfinished(db, client)

    def update_avatar(self, record_id: str, **fields: Any) -> None:
        self._update("avatars", record_id, fields)

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
            rows = db.execute(
                "SELECT * FROM avatars WHERE status IN (?, ?) ORDER BY create_time", UNFINISHED
            ).fetchall()
        return [AvatarRow(**dict(r)) for r in rows]

    # -- videos -------------------------------------------------------------------------------

    def insert_video(self, row: VideoRow, room: Room | None = None) -> None:
        """Add a video record; with `room`, only while the queue has room (NoRoom otherwise), atomically."""
        self._insert_admitted(_insert("videos", row.__dict__), row.__dict__, room)

    def update_video(self, video_id: str, **fields: Any) -> None:
        self._update("videos", video_id, fields)

    def get_video(self, video_id: str) -> VideoRow | None:
        with self._connect() as db:
            row = db.execute("SELECT * FROM videos WHERE id=?", (video_id,)).fetchone()
        return None if row is None else VideoRow(**dict(row))

    def transition_video(self, video_id: str, fields: dict[str, Any], webhook: WebhookNote | None) -> None:
        """Change a video's fields and queue its webhook atomically: both happen, or neither."""
        fields = {**fields, "update_time": self.clock.now_ms()}
        sets = ", ".join(f"{k}=:{k}" for k in fields)
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute(f"UPDATE videos SET {sets} WHERE id=:id", {**fields, "id": video_id})  # noqa: S608
                if webhook is not None:
                    db.execute(
                        "INSERT INTO webhooks(url, payload_json, next_attempt, create_time, video_id) "
                        "VALUES(?,?,?,?,?)",
                        (webhook.url, json.dumps(webhook.payload), webhook.at_ms, webhook.at_ms, video_id),
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
            rows = db.execute("SELECT * FROM videos WHERE status IN (?, ?) ORDER BY create_time", UNFINISHED).fetchall()
        return [VideoRow(**dict(r)) for r in rows]

    # -- webhooks -----------------------------------------------------------------------------

    def latest_webhook(self, video_id: str) -> WebhookRow | None:
        with self._connect() as db:
            row = db.execute(
                "SELECT * FROM webhooks WHERE video_id=? ORDER BY seq DESC LIMIT 1", (video_id,)
            ).fetchone()
        return None if row is None else WebhookRow(**dict(row))

    def count_webhooks(self, state: str) -> int:
        with self._connect() as db:
            return int(db.execute("SELECT COUNT(*) FROM webhooks WHERE state=?", (state,)).fetchone()[0])

    def due_webhooks(self, at_ms: int, limit: int = 20, skip_urls: Collection[str] = ()) -> list[WebhookRow]:
        """Pending deliveries due by `at_ms`, oldest first, leaving out receivers in `skip_urls`."""
        skip = sorted(skip_urls)
        marks = ",".join("?" * len(skip))
        with self._connect() as db:
            rows = db.execute(
                f"SELECT * FROM webhooks WHERE state='pending' AND next_attempt<=? AND url NOT IN ({marks}) "  # noqa: S608
                "ORDER BY seq LIMIT ?",
                (at_ms, *skip, limit),
            ).fetchall()
        return [WebhookRow(**dict(r)) for r in rows]

    def next_webhook_time(self, skip_urls: Collection[str] = ()) -> int | None:
        skip = sorted(skip_urls)
        marks = ",".join("?" * len(skip))
        with self._connect() as db:
            row = db.execute(
                f"SELECT MIN(next_attempt) FROM webhooks WHERE state='pending' AND url NOT IN ({marks})",  # noqa: S608
                skip,
            ).fetchone()
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
        fields = {**fields, "update_time": self.clock.now_ms()}
        sets = ", ".join(f"{k}=:{k}" for k in fields)
        with self._connect() as db:
            db.execute(f"UPDATE {table} SET {sets} WHERE id=:id", {**fields, "id": record_id})  # noqa: S608


def _insert(table: str, values: dict[str, Any]) -> str:
    """INSERT naming its columns (a database migrated from an older release may order them differently)."""
    columns = list(values)
    return f"INSERT INTO {table}({','.join(columns)}) VALUES({','.join(':' + c for c in columns)})"


def _unfinished(db: sqlite3.Connection, client: str | None) -> int:
    mine = "" if client is None else " AND client=?"
    args = UNFINISHED if client is None else (*UNFINISHED, client)
    count = 0
    for table in ("videos", "avatars"):
        sql = f"SELECT COUNT(*) FROM {table} WHERE status IN (?, ?){mine}"  # noqa: S608
        count += int(db.execute(sql, args).fetchone()[0])
    return count


def _columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {str(r["name"]) for r in db.execute(f"PRAGMA table_info({table})")}
