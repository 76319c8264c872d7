"""The videos made through this server, on either backend: a small SQLite file under the data directory.

It outlives the process, so `list_videos` and the video resources still know yesterday's renders.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from akool_mcp.privacy import private_database

if TYPE_CHECKING:
    import sqlite3

SUMMARY_WORDS = 12

_SCHEMA = """
CREATE TABLE IF NOT EXISTS videos (
    video_id TEXT PRIMARY KEY,
    backend TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    avatar TEXT,
    summary TEXT,
    remote_url TEXT,
    file_path TEXT,
    poster_path TEXT,
    params TEXT
);
CREATE INDEX IF NOT EXISTS videos_newest ON videos (created_at DESC);
"""


@dataclass(frozen=True)
class VideoRecord:
    video_id: str
    backend: str
    status: str
    created_at: float  # seconds since the epoch
    updated_at: float
    avatar: str | None = None
    summary: str | None = None  # the first words of the text, or "recorded speech"
    remote_url: str | None = None
    file_path: str | None = None
    poster_path: str | None = None
    params: str | None = None  # JSON: per request element, the tool parameter and the value the user gave


def summarize(text: str | None, *, has_audio: bool) -> str:
    if has_audio and not text:
        return "recorded speech"
    words = (text or "").split()
    short = " ".join(words[:SUMMARY_WORDS])
    return short + (" ..." if len(words) > SUMMARY_WORDS else "")


class Registry(Protocol):
    """The list of videos: this file on one machine, PostgreSQL for servers side by side (shared_registry)."""

    def close(self) -> None: ...
    def add(
        self,
        video_id: str,
        *,
        backend: str,
        status: str,
        avatar: str | None,
        summary: str | None,
        params: str | None = None,
    ) -> None: ...
    def update(
        self,
        video_id: str,
        *,
        backend: str,
        status: str,
        remote_url: str | None = None,
        file_path: str | None = None,
        poster_path: str | None = None,
    ) -> VideoRecord: ...
    def set_files(self, video_id: str, *, file_path: str, poster_path: str | None) -> None: ...
    def get(self, video_id: str) -> VideoRecord | None: ...
    def newest(self, *, limit: int = 20, offset: int = 0) -> list[VideoRecord]: ...
    def count(self) -> int: ...


class VideoRegistry:
    """One connection, serialised by a lock: the writes are tiny and rare (a create, a status change)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None

    @property
    def _db(self) -> sqlite3.Connection:
        # Opened on first use (listing the tools should not touch the disk); it holds signed video links and
        # summaries of what they say.
        with self._lock:
            if self._conn is None:
                self._conn = private_database(self.path, _SCHEMA)
            return self._conn

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def add(
        self,
        video_id: str,
        *,
        backend: str,
        status: str,
        avatar: str | None,
        summary: str | None,
        params: str | None = None,
    ) -> None:
        stamp = time.time()
        with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO videos (video_id, backend, status, created_at, updated_at, avatar, summary, "
                "params) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (video_id, backend, status, stamp, stamp, avatar, summary, params),
            )

    def update(
        self,
        video_id: str,
        *,
        backend: str,
        status: str,
        remote_url: str | None = None,
        file_path: str | None = None,
        poster_path: str | None = None,
    ) -> VideoRecord:
        """Record what a status check saw; a video made elsewhere (another session) is added on sight."""
        stamp = time.time()
        with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO videos (video_id, backend, status, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (video_id, backend, status, stamp, stamp),
            )
            self._db.execute(
                "UPDATE videos SET status = ?, updated_at = ?, remote_url = COALESCE(?, remote_url), "
                "file_path = COALESCE(?, file_path), poster_path = COALESCE(?, poster_path) WHERE video_id = ?",
                (status, stamp, remote_url, file_path, poster_path, video_id),
            )
        found = self.get(video_id)
        assert found is not None
        return found

    def set_files(self, video_id: str, *, file_path: str, poster_path: str | None) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE videos SET file_path = ?, poster_path = ?, updated_at = ? WHERE video_id = ?",
                (file_path, poster_path, time.time(), video_id),
            )

    def get(self, video_id: str) -> VideoRecord | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM videos WHERE video_id = ?", (video_id,)).fetchone()
        return _record(row) if row is not None else None

    def newest(self, *, limit: int = 20, offset: int = 0) -> list[VideoRecord]:
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM videos ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?", (limit, offset)
            ).fetchall()
        return [_record(row) for row in rows]

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM videos").fetchone()[0])


def _record(row: sqlite3.Row) -> VideoRecord:
    return VideoRecord(**{key: row[key] for key in row.keys()})  # noqa: SIM118 - sqlite3.Row has no iteration of keys
