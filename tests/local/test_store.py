"""The engine's store: a database made by an earlier release opens with its rows intact."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from akool_mcp.local.store import Store
from akool_mcp.models import Status

OLD_VIDEOS = """
CREATE TABLE videos (
    id TEXT PRIMARY KEY, video_id TEXT NOT NULL, task_id TEXT NOT NULL, status INTEGER NOT NULL,
    request_json TEXT NOT NULL, webhook_url TEXT, output_path TEXT, duration REAL,
    progress REAL NOT NULL DEFAULT 0, error_code INTEGER, error_reason TEXT,
    attempts INTEGER NOT NULL DEFAULT 0, create_time INTEGER NOT NULL, update_time INTEGER NOT NULL
);
CREATE TABLE webhooks (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, url TEXT NOT NULL, payload_json TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, next_attempt INTEGER NOT NULL, state TEXT NOT NULL DEFAULT 'pending',
    last_error TEXT, create_time INTEGER NOT NULL
);
INSERT INTO videos VALUES ('65f0aa000000000000000001', 'uuid-of-akool', 't', 2, '{}', NULL, NULL, NULL,
    0.5, NULL, NULL, 1, 1, 1);
"""


def test_a_database_from_before_the_renamed_and_added_columns_opens_with_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "engine.sqlite3"
    with sqlite3.connect(path) as db:
        db.executescript(OLD_VIDEOS)
    store = Store(path)
    row = store.get_video("65f0aa000000000000000001")
    assert row is not None and row.uuid == "uuid-of-akool" and row.status == Status.PROCESSING
    assert [video.id for video in store.unfinished_videos()] == ["65f0aa000000000000000001"]
    assert store.latest_webhook(row.id) is None  # the webhooks' video_id column was added
    Store(path)  # opening it again changes nothing
    assert store.get_video(row.id) == row
