"""The engine's records on one machine: SQLite (WAL) under the data directory (the default).

Each call opens a short-lived connection, so the store is safe from the event loop and from render
threads alike; SQLite serialises writers. The database holds the engine's secret, so it is created
readable by the user only (SQLite gives its -wal and -shm files the database file's mode).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Generator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from akool_mcp.clock import Clock, SystemClock
from akool_mcp.local.records import (
    UNFINISHED,
    Announce,
    AvatarRow,
    DuplicateError,
    EngineStore,
    Enqueue,
    NoRoom,
    Room,
    VideoRow,
    WebhookNote,
    WebhookRow,
    new_object_id,
)
from akool_mcp.models import Status
from akool_mcp.privacy import FILE_MODE, private_file

__all__ = [
    "AvatarRow",
    "DuplicateError",
    "EngineStore",
    "NoRoom",
    "Room",
    "Store",
    "VideoRow",
    "WebhookNote",
    "WebhookRow",
    "new_object_id",
]

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
MIGRATIONS = (
    ("webhooks", "video_id", "TEXT"),
    ("videos", "client", "TEXT"),
    ("avatars", "client", "TEXT"),
    ("videos", "lease_owner", "TEXT"),
    ("videos", "lease_until", "INTEGER"),
    ("avatars", "lease_owner", "TEXT"),
    ("avatars", "lease_until", "INTEGER"),
    ("webhooks", "claimed_by", "TEXT"),
    ("webhooks", "claimed_until", "INTEGER"),
)
# Columns renamed since (table, old, new): the wire's second video id is kept as `uuid`, so that
# `video_id` means one thing in this code base (the `_id`), as the glossary in CONTRIBUTING says.
RENAMES = (("videos", "video_id", "uuid"),)
INDEXES = "CREATE INDEX IF NOT EXISTS webhooks_video ON webhooks(video_id, seq);"


_TABLES = {"video": "videos", "avatar": "avatars"}


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

    def close(self) -> None:
        """Nothing stays open between calls."""

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

    @contextmanager
    def _transaction(self) -> Generator[sqlite3.Connection]:
        """One write transaction, taken at once (BEGIN IMMEDIATE): what it reads nobody changes meanwhile."""
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

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

    def insert_avatar(self, row: AvatarRow, room: Room | None = None, then: Enqueue | None = None) -> None:
        """Add an avatar record; with `room`, only while the queue has room (NoRoom otherwise), atomically."""
        try:
            self._insert_admitted(_insert("avatars", row.__dict__), row.__dict__, room, then)
        except sqlite3.IntegrityError as exc:
            raise DuplicateError(row.avatar_id) from exc

    def _insert_admitted(self, sql: str, values: dict[str, Any], room: Room | None, then: Enqueue | None) -> None:
        # The count and the insert as one: two callers cannot both take the last place.
        with self._transaction() as db:
            if room is not None:
                ahead = _unfinished(db, None)
                if ahead >= room.total:
                    raise NoRoom(ahead, room.total, "the engine's")
                mine = _unfinished(db, values.get("client"))
                if mine >= room.per_client:
                    raise NoRoom(mine, room.per_client, "your")
            db.execute(sql, values)
            if then is not None:
                then(db)

    def count_unfinished(self, client: str | None = None) -> int:
        """Videos and avatars queued or processing: all of them, or one client's."""
        with self._connect() as db:
            return _unfinished(db, client)

    def update_avatar(self, record_id: str, holder: str | None = None, **fields: Any) -> bool:
        return self._update("avatars", record_id, fields, holder)

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

    def claim_avatar(self, record_id: str, holder: str, lease_seconds: float) -> AvatarRow | None:
        now = self.clock.now_ms()
        with self._transaction() as db:
            row = db.execute("SELECT * FROM avatars WHERE id=?", (record_id,)).fetchone()
            if row is None or not _claimable(row, now) or row["source_url"] is None:
                return None
            fields: dict[str, Any] = _claimed(holder, now, lease_seconds, attempts=int(row["attempts"]) + 1)
            _set(db, "avatars", record_id, fields)
        return AvatarRow(**{**dict(row), **fields})

    # -- videos -------------------------------------------------------------------------------

    def insert_video(self, row: VideoRow, room: Room | None = None, then: Enqueue | None = None) -> None:
        """Add a video record; with `room`, only while the queue has room (NoRoom otherwise), atomically."""
        self._insert_admitted(_insert("videos", row.__dict__), row.__dict__, room, then)

    def update_video(self, video_id: str, **fields: Any) -> None:
        self._update("videos", video_id, fields, None)

    def get_video(self, video_id: str) -> VideoRow | None:
        with self._connect() as db:
            row = db.execute("SELECT * FROM videos WHERE id=?", (video_id,)).fetchone()
        return None if row is None else VideoRow(**dict(row))

    def claim_video(self, video_id: str, holder: str, lease_seconds: float, announce: Announce) -> VideoRow | None:
        now = self.clock.now_ms()
        with self._transaction() as db:
            row = db.execute("SELECT * FROM videos WHERE id=?", (video_id,)).fetchone()
            if row is None or not _claimable(row, now):
                return None
            fields: dict[str, Any] = {
                **_claimed(holder, now, lease_seconds, attempts=int(row["attempts"]) + 1),
                "status": int(Status.PROCESSING),
                "progress": 0.0,
            }
            _set(db, "videos", video_id, fields)
            claimed = VideoRow(**{**dict(row), **fields})
            _queue_webhook(db, video_id, announce(claimed))
        return claimed

    def renew(self, kind: str, record_id: str, holder: str, lease_seconds: float, **fields: Any) -> bool:
        now = self.clock.now_ms()
        fields = {**fields, "lease_until": now + round(lease_seconds * 1000), "update_time": now}
        with self._connect() as db:
            return _set(db, _TABLES[kind], record_id, fields, holder)

    def transition_video(
        self, video_id: str, fields: dict[str, Any], webhook: WebhookNote | None, holder: str | None = None
    ) -> bool:
        """Change a video's fields and queue its webhook atomically: both happen, or neither. With `holder`,
        only while that attempt holds the video's lease (False, and nothing changed, otherwise)."""
        fields = {**fields, "update_time": self.clock.now_ms()}
        with self._transaction() as db:
            if not _set(db, "videos", video_id, fields, holder):
                return False
            _queue_webhook(db, video_id, webhook)
        return True

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

    def claim_webhooks(
        self, at_ms: int, holder: str, lease_seconds: float, limit: int = 20, skip_urls: Collection[str] = ()
    ) -> list[WebhookRow]:
        skip = sorted(skip_urls)
        marks = ",".join("?" * len(skip))
        until = at_ms + round(lease_seconds * 1000)
        with self._transaction() as db:
            rows = db.execute(
                "SELECT * FROM webhooks WHERE seq IN (SELECT MIN(seq) FROM webhooks "  # noqa: S608
                f"WHERE state='pending' AND next_attempt<=? AND url NOT IN ({marks}) AND url NOT IN "
                "(SELECT url FROM webhooks WHERE state='pending' AND claimed_until>?) GROUP BY url) "
                "ORDER BY seq LIMIT ?",
                (at_ms, *skip, at_ms, limit),
            ).fetchall()
            taken: list[WebhookRow] = []
            for row in rows:  # one delivery per receiver at a time, its oldest first
                db.execute("UPDATE webhooks SET claimed_by=?, claimed_until=? WHERE seq=?", (holder, until, row["seq"]))
                claimed: dict[str, Any] = {**dict(row), "claimed_by": holder, "claimed_until": until}
                taken.append(WebhookRow(**claimed))
        return taken

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

    def update_webhook(self, seq: int, holder: str | None = None, **fields: Any) -> bool:
        """Record a delivery's outcome (and let its claim go); with `holder`, only while it is theirs."""
        if holder is not None:
            fields = {**fields, "claimed_by": None, "claimed_until": None}
        sets = ", ".join(f"{k}=:{k}" for k in fields)
        mine = "" if holder is None else " AND claimed_by=:holder"
        with self._connect() as db:
            cursor = db.execute(
                f"UPDATE webhooks SET {sets} WHERE seq=:seq{mine}",  # noqa: S608
                {**fields, "seq": seq, "holder": holder},
            )
            return cursor.rowcount > 0

    def _update(self, table: str, record_id: str, fields: dict[str, Any], holder: str | None) -> bool:
        fields = {**fields, "update_time": self.clock.now_ms()}
        with self._connect() as db:
            return _set(db, table, record_id, fields, holder)


def _claimable(row: sqlite3.Row, now: int) -> bool:
    """Waiting or in progress, and held by nobody (or by an attempt whose lease has lapsed)."""
    if int(row["status"]) not in UNFINISHED:
        return False
    return row["lease_owner"] is None or row["lease_until"] is None or int(row["lease_until"]) <= now


def _claimed(holder: str, now: int, lease_seconds: float, *, attempts: int) -> dict[str, Any]:
    return {
        "status": int(Status.PROCESSING),
        "attempts": attempts,
        "lease_owner": holder,
        "lease_until": now + round(lease_seconds * 1000),
        "update_time": now,
    }


def _set(db: sqlite3.Connection, table: str, record_id: str, fields: dict[str, Any], holder: str | None = None) -> bool:
    sets = ", ".join(f"{k}=:{k}" for k in fields)
    mine = "" if holder is None else " AND lease_owner=:holder"
    cursor = db.execute(
        f"UPDATE {table} SET {sets} WHERE id=:id{mine}",  # noqa: S608
        {**fields, "id": record_id, "holder": holder},
    )
    return cursor.rowcount > 0


def _queue_webhook(db: sqlite3.Connection, video_id: str, webhook: WebhookNote | None) -> None:
    if webhook is not None:
        db.execute(
            "INSERT INTO webhooks(url, payload_json, next_attempt, create_time, video_id) VALUES(?,?,?,?,?)",
            (webhook.url, json.dumps(webhook.payload), webhook.at_ms, webhook.at_ms, video_id),
        )


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


def as_engine_store(store: Store) -> EngineStore:
    return store  # pyright checks here that the SQLite store keeps the whole interface
