"""The list of videos in PostgreSQL, for MCP servers that run side by side (cluster mode).

The same methods as the single-user `VideoRegistry`, on the table `akool-mcp migrate` made
(`akool_mcp_videos`), so any replica behind a load balancer lists, follows and serves what another one
created. Calls are short and block, like the SQLite registry's.
"""

from __future__ import annotations

import time

from akool_mcp.domain.registry import VideoRecord
from akool_mcp.domain.shared_db import SharedDatabase

_COLUMNS = (
    "video_id, backend, status, created_at, updated_at, avatar, summary, remote_url, file_path, poster_path, params"
)


class SharedVideoRegistry:
    def __init__(self, db: SharedDatabase) -> None:
        self._db = db

    def close(self) -> None:
        self._db.close()

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
        with self._db.connection() as db:
            db.execute(
                "INSERT INTO akool_mcp_videos (video_id, backend, status, created_at, updated_at, avatar, summary, "
                "params) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (video_id) DO NOTHING",
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
        stamp = time.time()
        with self._db.connection() as db:
            row = db.execute(
                "INSERT INTO akool_mcp_videos (video_id, backend, status, created_at, updated_at) "  # noqa: S608
                "VALUES (%(id)s, %(backend)s, %(status)s, %(at)s, %(at)s) "
                "ON CONFLICT (video_id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at, "
                "remote_url = COALESCE(%(remote)s, akool_mcp_videos.remote_url), "
                "file_path = COALESCE(%(file)s, akool_mcp_videos.file_path), "
                f"poster_path = COALESCE(%(poster)s, akool_mcp_videos.poster_path) RETURNING {_COLUMNS}",
                {
                    "id": video_id,
                    "backend": backend,
                    "status": status,
                    "at": stamp,
                    "remote": remote_url,
                    "file": file_path,
                    "poster": poster_path,
                },
            ).fetchone()
        return VideoRecord(**row)

    def set_files(self, video_id: str, *, file_path: str, poster_path: str | None) -> None:
        with self._db.connection() as db:
            db.execute(
                "UPDATE akool_mcp_videos SET file_path = %s, poster_path = %s, updated_at = %s WHERE video_id = %s",
                (file_path, poster_path, time.time(), video_id),
            )

    def get(self, video_id: str) -> VideoRecord | None:
        with self._db.connection() as db:
            row = db.execute(f"SELECT {_COLUMNS} FROM akool_mcp_videos WHERE video_id = %s", (video_id,)).fetchone()  # noqa: S608
        return None if row is None else VideoRecord(**row)

    def newest(self, *, limit: int = 20, offset: int = 0) -> list[VideoRecord]:
        with self._db.connection() as db:
            rows = db.execute(
                f"SELECT {_COLUMNS} FROM akool_mcp_videos ORDER BY created_at DESC, video_id DESC "  # noqa: S608
                "LIMIT %s OFFSET %s",
                (limit, offset),
            ).fetchall()
        return [VideoRecord(**r) for r in rows]

    def count(self) -> int:
        with self._db.connection() as db:
            row = db.execute("SELECT COUNT(*) AS n FROM akool_mcp_videos").fetchone()
        return int(row["n"])
