"""Every job bounded: hostile media refused at the door or at render with a reason, renders kept to a
time budget, and a full queue answered with Akool's rate-limit code and a time to come back."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest

from akool_mcp.local.store import Room, Store, VideoRow
from akool_mcp.models import Status
from tests.fakes.media import oversized_mjpeg_avi, racing_clock_mp4
from tests.local.engine_support import ENGINE_KEY, EngineClock, akool_mode

pytestmark = pytest.mark.anyio
KEY = {"x-api-key": ENGINE_KEY}
CREATE = "/api/open/v3/talkingavatar/create"


def serving(files: dict[str, tuple[bytes, str]]) -> httpx2.MockTransport:
    def answer(request: httpx2.Request) -> httpx2.Response:
        found = files.get(request.url.path)
        if found is None:
            return httpx2.Response(404)
        return httpx2.Response(200, content=found[0], headers={"content-type": found[1]})

    return httpx2.MockTransport(answer)


def video_with_avatar(
    avatar: dict[str, Any], text: str = "Hello there.", voice: str = "en-US-female-1"
) -> dict[str, Any]:
    return {
        "width": 3840,
        "height": 2160,
        "avatar_from": 3 if "url" in avatar else 2,
        "elements": [
            {"type": "avatar", "width": 1000, "height": 1000, "scale_x": 1, "scale_y": 1, "offset_x": 1920,
             "offset_y": 1080, **avatar},
            {"type": "audio", "input_text": text, "voice_id": "en-US-female-1"},
        ],
    }  # fmt: skip


@pytest.mark.parametrize(
    ("made", "name", "reason"),
    [(racing_clock_mp4, "racing.mp4", "time base is broken"), (oversized_mjpeg_avi, "huge.avi", "16000x16000")],
)
async def test_an_avatar_video_outside_the_limits_fails_its_upload_with_the_reason(
    tmp_path: Path, made: Any, name: str, reason: str
) -> None:
    network = serving({f"/{name}": (made(), "video/mp4" if name.endswith("mp4") else "video/x-msvideo")})
    async with akool_mode(tmp_path, network=network) as (engine, http):
        created = (
            await http.post("/api/open/v3/avatar/create", json={"url": f"http://127.0.0.1/{name}", "avatar_id": "Bad1"},
                            headers=KEY)
        ).json()  # fmt: skip
        await engine.runner.wait_done(created["data"]["_id"])
        detail = await http.get("/api/open/v3/avatar/detail", params={"id": created["data"]["_id"]}, headers=KEY)
    avatar = detail.json()["data"]
    assert avatar["status"] == Status.FAILED
    assert avatar["error_reason"].startswith("url: ") and reason in avatar["error_reason"]


async def test_a_video_avatar_with_a_racing_clock_fails_the_render_naming_its_element(tmp_path: Path) -> None:
    network = serving({"/racing.mp4": (racing_clock_mp4(), "video/mp4")})
    async with akool_mode(tmp_path, network=network) as (engine, http):
        body = video_with_avatar({"url": "http://127.0.0.1/racing.mp4"})
        video_id = (await http.post(CREATE, json=body, headers=KEY)).json()["data"]["_id"]
        await engine.runner.wait_done(video_id)
        info = (
            await http.get("/api/open/v3/content/video/infobymodelid", params={"video_model_id": video_id}, headers=KEY)
        ).json()["data"]
    assert info["video_status"] == Status.FAILED
    assert info["error_reason"].startswith("elements[0].url: ") and "time base is broken" in info["error_reason"]


async def test_a_render_past_its_budget_is_stopped_inside_the_render_and_fails_with_the_reason(
    tmp_path: Path,
) -> None:
    clock = EngineClock()
    text = "A sentence long enough to keep the renderer busy for a good while. " * 12
    async with akool_mode(tmp_path, parts={"clock": clock}, render_budget_seconds=10, render_budget_factor=1) as (
        engine,
        http,
    ):
        official = (await http.get("/api/open/v3/avatar/list", params={"from": 2}, headers=KEY)).json()
        avatar_id = official["data"]["result"][0]["avatar_id"]
        video_id = (
            await http.post(CREATE, json=video_with_avatar({"avatar_id": avatar_id}, text), headers=KEY)
        ).json()["data"]["_id"]
        limit = 10 + len(text) / 8  # the budget's base plus its factor times the text's longest speech
        with anyio.fail_after(60):
            await clock.waiting_for(limit)  # the watchdog keeps time while the render runs
            await clock.advance(limit)
            await engine.runner.wait_done(video_id)
        info = (
            await http.get("/api/open/v3/content/video/infobymodelid", params={"video_model_id": video_id}, headers=KEY)
        ).json()["data"]
    assert info["video_status"] == Status.FAILED
    assert "did not finish within its time budget" in info["error_reason"]
    assert "AKOOL_RENDER_BUDGET_SECONDS" in info["error_reason"]
    assert not list((tmp_path / "engine" / "files" / "videos").iterdir())  # nothing half-written is left


class HeldMedia:
    """Media whose first request waits until released: the first job stays busy fetching."""

    def __init__(self) -> None:
        self.release = anyio.Event()

    async def handle(self, request: httpx2.Request) -> httpx2.Response:
        await self.release.wait()
        return httpx2.Response(404)


async def test_a_full_queue_is_refused_with_akools_rate_limit_code_and_when_to_come_back(tmp_path: Path) -> None:
    media = HeldMedia()
    body = video_with_avatar({"url": "http://127.0.0.1/me.mp4"})
    async with akool_mode(
        tmp_path, network=httpx2.MockTransport(media.handle), max_queued_jobs=2, max_queued_per_client=5
    ) as (engine, http):
        accepted = [(await http.post(CREATE, json=body, headers=KEY)).json() for _ in range(2)]
        refused = await http.post(CREATE, json=body, headers=KEY)
        health = (await http.get("/health")).json()
        media.release.set()
        for created in accepted:
            await engine.runner.wait_done(created["data"]["_id"])
        again = (await http.post(CREATE, json=body, headers=KEY)).json()
        await engine.runner.wait_done(again["data"]["_id"])
    assert [created["code"] for created in accepted] == [1000, 1000]
    assert refused.json()["code"] == 1005 and "the engine is busy" in refused.json()["msg"]
    assert "the engine's limit is 2" in refused.json()["msg"] and "nothing was queued" in refused.json()["msg"]
    assert 5 <= int(refused.headers["retry-after"]) <= 600
    assert health["queue"]["unfinished_jobs"] == 2 and health["queue"]["limit"] == 2
    assert again["code"] == 1000  # room again once the queue drained


async def test_one_client_cannot_take_the_whole_queue(tmp_path: Path) -> None:
    media = HeldMedia()
    body = video_with_avatar({"url": "http://127.0.0.1/me.mp4"})
    async with akool_mode(
        tmp_path, network=httpx2.MockTransport(media.handle), max_queued_jobs=50, max_queued_per_client=1
    ) as (engine, http):
        first = (await http.post(CREATE, json=body, headers=KEY)).json()
        second = (await http.post(CREATE, json=body, headers=KEY)).json()
        media.release.set()
        await engine.runner.wait_done(first["data"]["_id"])
    assert first["code"] == 1000
    assert second["code"] == 1005 and "your limit is 1" in second["msg"]


class FullStore(Store):
    """A store on a disk that has filled up: SQLite's log cannot be written."""

    def insert_video(self, row: VideoRow, room: Room | None = None) -> None:
        raise sqlite3.OperationalError("disk I/O error")


async def test_a_full_data_folder_is_said_as_such_and_nothing_is_queued(tmp_path: Path) -> None:
    store = FullStore(tmp_path / "engine" / "engine.sqlite3")
    async with akool_mode(tmp_path, parts={"store": store}) as (engine, http):
        official = (await http.get("/api/open/v3/avatar/list", params={"from": 2}, headers=KEY)).json()
        body = video_with_avatar({"avatar_id": official["data"]["result"][0]["avatar_id"]})
        answer = await http.post(CREATE, json=body, headers=KEY)
        unfinished = engine.store.count_unfinished()
    assert answer.status_code == 503
    assert answer.json()["msg"].startswith("not enough disk space in the engine's data folder (AKOOL_DATA_DIR)")
    assert str(tmp_path) not in answer.json()["msg"] and unfinished == 0
