"""Avatar uploads on the local engine: prepared as a job, 1 -> 3 or 4 with a reason; ids unique."""

from __future__ import annotations

from pathlib import Path

import cv2
import httpx2
import numpy as np
import pytest

from akool_mcp.local.engine import LocalEngine
from akool_mcp.models import Status
from tests.local.engine_support import ENGINE_KEY, akool_mode, engine_settings

pytestmark = pytest.mark.anyio
KEY = {"x-api-key": ENGINE_KEY}


def _png_of_a_wall() -> bytes:
    ok, encoded = cv2.imencode(".png", np.full((480, 360, 3), 190, np.uint8))
    assert ok
    return encoded.tobytes()


async def test_an_upload_without_a_face_ends_failed_with_the_reason(tmp_path: Path) -> None:
    wall = _png_of_a_wall()
    network = httpx2.MockTransport(
        lambda request: httpx2.Response(200, content=wall, headers={"content-type": "image/png"})
    )
    async with akool_mode(tmp_path, network=network) as (engine, http):
        created = (
            await http.post(
                "/api/open/v3/avatar/create",
                json={"url": "http://127.0.0.1/wall.png", "avatar_id": "Wall1", "name": "A wall"},
                headers=KEY,
            )
        ).json()
        record_id = created["data"]["_id"]
        await engine.runner.wait_done(record_id)
        detail = (await http.get("/api/open/v3/avatar/detail", params={"id": record_id}, headers=KEY)).json()
        mine = (await http.get("/api/open/v3/avatar/list", params={"from": 3}, headers=KEY)).json()
    assert created["code"] == 1000 and created["data"]["status"] == Status.QUEUEING
    assert detail["data"]["status"] == Status.FAILED
    assert "face" in detail["data"]["error_reason"].lower()
    assert [a["avatar_id"] for a in mine["data"]["result"]] == ["Wall1"]


async def test_a_second_upload_with_the_same_avatar_id_gets_1222(tmp_path: Path) -> None:
    upload = {"url": "http://127.0.0.1/me.mp4", "avatar_id": "Me1"}
    async with akool_mode(tmp_path, network=httpx2.MockTransport(lambda r: httpx2.Response(404))) as (engine, http):
        official = (await http.get("/api/open/v3/avatar/list", params={"from": 2}, headers=KEY)).json()["data"]
        first = (await http.post("/api/open/v3/avatar/create", json=upload, headers=KEY)).json()
        second = (await http.post("/api/open/v3/avatar/create", json=upload, headers=KEY)).json()
        await engine.runner.wait_done(first["data"]["_id"])
    assert official["count"] >= 4 and all(a["status"] == Status.COMPLETED for a in official["result"])
    assert first["code"] == 1000
    assert second["code"] == 1222 and "avatar_id" in second["msg"]


async def test_a_video_naming_an_unknown_avatar_id_gets_1008(tmp_path: Path) -> None:
    body = {
        "width": 3840,
        "height": 2160,
        "avatar_from": 2,
        "elements": [
            {"type": "avatar", "avatar_id": "NoSuchAvatar", "width": 100, "height": 100, "scale_x": 1, "scale_y": 1,
             "offset_x": 1920, "offset_y": 1080},
            {"type": "audio", "input_text": "Hi", "voice_id": "en-US-male-1"},
        ],
    }  # fmt: skip
    async with akool_mode(tmp_path) as (_, http):
        answer = (await http.post("/api/open/v3/talkingavatar/create", json=body, headers=KEY)).json()
    assert answer["code"] == 1008 and "elements[0].avatar_id" in answer["msg"]


async def test_an_official_avatar_with_avatar_from_3_is_refused_naming_avatar_from(tmp_path: Path) -> None:
    async with akool_mode(tmp_path) as (_, http):
        official = (await http.get("/api/open/v3/avatar/list", params={"from": 2}, headers=KEY)).json()["data"]
        body = {
            "width": 3840,
            "height": 2160,
            "avatar_from": 3,
            "elements": [
                {"type": "avatar", "avatar_id": official["result"][0]["avatar_id"], "width": 100, "height": 100,
                 "scale_x": 1, "scale_y": 1, "offset_x": 1920, "offset_y": 1080},
                {"type": "audio", "input_text": "Hi", "voice_id": "en-US-male-1"},
            ],
        }  # fmt: skip
        answer = (await http.post("/api/open/v3/talkingavatar/create", json=body, headers=KEY)).json()
    assert answer["code"] == 1003 and "avatar_from" in answer["msg"]


def _png(picture: np.ndarray) -> bytes:
    ok, encoded = cv2.imencode(".png", picture)
    assert ok
    return encoded.tobytes()


async def _upload(tmp_path: Path, content: bytes, avatar_id: str) -> dict[str, object]:
    network = httpx2.MockTransport(
        lambda request: httpx2.Response(200, content=content, headers={"content-type": "image/png"})
    )
    async with akool_mode(tmp_path, network=network) as (engine, http):
        created = (
            await http.post(
                "/api/open/v3/avatar/create",
                json={"url": f"http://127.0.0.1/{avatar_id}.png", "avatar_id": avatar_id, "name": avatar_id},
                headers=KEY,
            )
        ).json()
        record_id = created["data"]["_id"]
        await engine.runner.wait_done(record_id)
        detail = (await http.get("/api/open/v3/avatar/detail", params={"id": record_id}, headers=KEY)).json()
    data: dict[str, object] = detail["data"]
    return data


def _astronaut() -> np.ndarray:
    """The astronaut portrait from scikit-image (public domain), as OpenCV's BGR."""
    from skimage import data as skimage_data

    rgb: np.ndarray = np.asarray(skimage_data.astronaut(), dtype=np.uint8)  # pyright: ignore[reportUnknownMemberType]
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)


async def test_an_upload_of_a_real_portrait_completes(tmp_path: Path) -> None:
    astronaut = _astronaut()
    detail = await _upload(tmp_path, _png(astronaut), "Astro1")
    assert detail["status"] == Status.COMPLETED


async def test_an_upload_of_two_people_ends_failed_with_the_reason_and_advice(tmp_path: Path) -> None:
    astronaut = _astronaut()
    detail = await _upload(tmp_path, _png(np.hstack([astronaut, astronaut])), "Pair1")
    assert detail["status"] == Status.FAILED
    reason = str(detail["error_reason"])
    assert "2 faces found" in reason and "crop the photo to one face" in reason


async def test_an_upload_of_the_users_own_file_leaves_that_file_where_it_was(tmp_path: Path) -> None:
    portrait = tmp_path / "me.png"
    portrait.write_bytes(_png(_astronaut()))
    settings = engine_settings(tmp_path)
    async with LocalEngine.running(settings, in_process=True) as engine:
        transport = httpx2.ASGITransport(app=engine.app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://engine.test") as http:
            created = (
                await http.post("/api/open/v3/avatar/create", json={"url": str(portrait), "avatar_id": "Me2"})
            ).json()
            await engine.runner.wait_done(created["data"]["_id"])
            detail = (await http.get("/api/open/v3/avatar/detail", params={"id": created["data"]["_id"]})).json()
    assert detail["data"]["status"] == Status.COMPLETED
    assert portrait.read_bytes() == _png(_astronaut())  # copied into the engine, never moved
