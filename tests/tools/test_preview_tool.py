"""preview_video_layout: the first frame, composed locally, with nothing created on either backend."""

from __future__ import annotations

import base64
import sqlite3
from pathlib import Path

import cv2
import numpy as np
import pytest
from mcp import Client
from mcp.types import ImageContent

from akool_mcp.server import build_server
from tests.fakes.akool import CDN_ADDRESS, OFFICIAL, FakeAkool, resolve_cdn
from tests.support import FakeClock, cloud_settings, data, make_settings, text

pytestmark = pytest.mark.anyio


def picture(result_content: list[object]) -> np.ndarray:
    images = [c for c in result_content if isinstance(c, ImageContent)]
    assert len(images) == 1 and images[0].mime_type == "image/jpeg"
    decoded = cv2.imdecode(np.frombuffer(base64.b64decode(images[0].data), np.uint8), cv2.IMREAD_COLOR)
    assert decoded is not None
    return decoded


async def test_a_local_preview_shows_the_builtin_avatar_on_the_background_and_creates_no_video(
    tmp_path: Path,
) -> None:
    settings = make_settings({"data_dir": tmp_path / "data", "output_dir": tmp_path / "out", "backend": "local"})
    async with Client(build_server(settings)) as client:
        avatars = data(await client.call_tool("list_avatars", {"source": "official"}))["avatars"]
        result = await client.call_tool(
            "preview_video_layout",
            {"avatar_id": avatars[0]["avatar_id"], "background": "blue", "avatar_x": 2880, "avatar_scale": 0.5},
        )
        listed = data(await client.call_tool("list_videos", {}))
    summary = data(result)
    frame = picture(list(result.content))
    assert (summary["width"], summary["height"]) == (960, 540) and frame.shape == (540, 960, 3)
    assert tuple(frame[20, 20]) == pytest.approx((255, 0, 0), abs=12)  # the named colour, in BGR
    right, left = frame[:, 640:], frame[:, :320]
    assert np.abs(right.astype(int) - (255, 0, 0)).sum(axis=2).max() > 200  # the avatar is on the right
    assert np.abs(left.astype(int) - (255, 0, 0)).sum(axis=2).max() < 40  # and not on the left
    assert listed["videos"] == [] and not (tmp_path / "out").exists()
    with sqlite3.connect(tmp_path / "data" / "engine.sqlite3") as db:
        assert db.execute("SELECT COUNT(*) FROM videos").fetchone()[0] == 0


async def test_a_cloud_preview_uses_the_avatars_picture_and_sends_nothing_to_akool_but_reads(
    tmp_path: Path, face_photo: Path
) -> None:
    fake = FakeAkool(cdn_files={"/8169.png": face_photo.read_bytes()})
    settings = cloud_settings(data_dir=tmp_path / "data", output_dir=tmp_path / "out")
    server = build_server(settings, transport=fake.transport(), clock=FakeClock(), resolver=resolve_cdn)
    async with Client(server) as client:
        result = await client.call_tool("preview_video_layout", {"avatar_id": OFFICIAL["avatar_id"]})
    assert not result.is_error, text(result)
    assert picture(list(result.content)).shape == (540, 960, 3)
    assert {r.method for r in fake.requests} == {"GET"}
    cdn = [r for r in fake.requests if r.headers.get("host") == "cdn.example"]
    assert [(r.url.host, r.url.path) for r in cdn] == [(CDN_ADDRESS, "/8169.png")]  # pinned to the checked address


async def test_a_preview_names_the_parameter_whose_media_cannot_be_used(tmp_path: Path) -> None:
    settings = make_settings({"data_dir": tmp_path / "data", "backend": "local"})
    async with Client(build_server(settings)) as client:
        result = await client.call_tool("preview_video_layout", {"avatar_url": str(tmp_path / "missing.png")})
    assert result.is_error and "avatar_url" in text(result) and "missing.png" in text(result)


async def test_a_smaller_builtin_bust_carries_on_to_the_bottom_of_the_frame_with_no_floating_edge(
    tmp_path: Path,
) -> None:
    settings = make_settings({"data_dir": tmp_path / "data", "output_dir": tmp_path / "out", "backend": "local"})
    async with Client(build_server(settings)) as client:
        avatars = data(await client.call_tool("list_avatars", {"source": "official"}))["avatars"]
        result = await client.call_tool(
            "preview_video_layout", {"avatar_id": avatars[0]["avatar_id"], "background": "blue", "avatar_scale": 0.8}
        )
    frame = picture(list(result.content)).astype(int)
    blue = np.array((255, 0, 0))
    below_old_edge = frame[500:, 470:490]  # the bust used to end at about y=486 of 540, over the background
    assert np.abs(below_old_edge - blue).sum(axis=2).min() > 200  # the body, down to the last row
    assert np.abs(frame[500:, :40] - blue).sum(axis=2).max() < 40  # and the background beside it
