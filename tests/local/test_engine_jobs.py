"""The engine's durable state: keys kept across restarts, interrupted jobs resumed or failed, no partial files."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from akool_mcp.local.engine import LocalEngine
from akool_mcp.local.jobs import MAX_ATTEMPTS
from akool_mcp.local.keys import load_keys
from akool_mcp.local.store import Store, VideoRow, new_object_id
from akool_mcp.models import Status
from tests.local.engine_support import akool_mode
from tests.support import make_settings

pytestmark = pytest.mark.anyio


def test_generated_keys_are_made_once_and_kept(tmp_path: Path) -> None:
    settings = make_settings({"data_dir": tmp_path})
    store = Store(tmp_path / "engine.sqlite3")
    first = load_keys(settings, Store(tmp_path / "engine.sqlite3"))
    second = load_keys(settings, store)
    assert first.generated and not second.generated
    assert first.api_key == second.api_key and len(first.api_key) == 32
    assert first.api_key not in repr(first)


def test_configured_keys_win_over_generated_ones(tmp_path: Path) -> None:
    settings = make_settings({"data_dir": tmp_path, "local_api_key": "configured-key-0123456789abcdef"})
    keys = load_keys(settings, Store(tmp_path / "engine.sqlite3"))
    assert keys.api_key == "configured-key-0123456789abcdef" and not keys.generated


def _interrupted_video(store: Store, attempts: int) -> str:
    now = store.clock.now_ms()
    video_id = new_object_id(now)
    store.insert_video(
        replace(
            VideoRow.accepted(
                video_id,
                uuid="v",
                task_id="t",
                request_json=json.dumps({"width": 3840, "height": 2160, "avatar_from": 2, "elements": []}),
                webhook_url=None,
                stamp=now,
                client=None,
            ),
            status=Status.PROCESSING,
            progress=0.4,
            attempts=attempts,
        )
    )
    return video_id


async def test_a_job_interrupted_too_often_is_failed_with_a_reason_at_start(tmp_path: Path) -> None:
    data_dir = tmp_path / "engine"
    store = Store(data_dir / "engine.sqlite3")
    record_id = _interrupted_video(store, attempts=MAX_ATTEMPTS)
    async with akool_mode(tmp_path) as (engine, _):
        row = engine.store.get_video(record_id)
    assert row is not None and row.status == Status.FAILED
    assert row.error_reason is not None and "interrupted" in row.error_reason


async def test_an_interrupted_job_runs_again_at_start_and_ends_final(tmp_path: Path) -> None:
    data_dir = tmp_path / "engine"
    store = Store(data_dir / "engine.sqlite3")
    record_id = _interrupted_video(store, attempts=1)  # its request is unusable: it must end failed, not hang
    async with akool_mode(tmp_path) as (engine, _):
        await engine.runner.wait_done(record_id)
        row = engine.store.get_video(record_id)
    assert row is not None and row.status == Status.FAILED and row.attempts == 2


async def test_half_written_outputs_are_removed_at_start(tmp_path: Path) -> None:
    videos = tmp_path / "engine" / "files" / "videos"
    videos.mkdir(parents=True)
    partial = videos / ".0123.partial.mp4"
    partial.write_bytes(b"half")
    settings = make_settings({"data_dir": tmp_path / "engine"})
    async with LocalEngine.running(settings, in_process=True):
        assert not partial.exists()
