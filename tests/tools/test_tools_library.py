"""Finished videos in the conversation, on the cloud path (fake Akool): kept, shown, listed, saved, paid for."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from mcp import Client
from mcp.types import CallToolResult, ImageContent, ResourceLink

from akool_mcp.server import build_server
from tests.fakes.akool import FakeAkool
from tests.fakes.media import VIDEO_SIZE, tiny_mp4
from tests.support import FakeClock, cloud_settings, data, text

pytestmark = pytest.mark.anyio

CREATE = "/api/open/v3/talkingavatar/create"


def connect(fake: FakeAkool, tmp_path: Path, clock: FakeClock | None = None) -> Client:
    settings = cloud_settings(data_dir=tmp_path / "data", output_dir=tmp_path / "Videos")
    return Client(build_server(settings, transport=fake.transport(), resolver=fake.resolve, clock=clock or FakeClock()))


async def make_video(client: Client, words: str = "Hello from the fake cloud, welcome to the show") -> str:
    created = data(
        await client.call_tool("create_talking_video", {"avatar_id": "Me1", "text": words, "voice_id": "v1"})
    )
    return str(created["video_id"])


async def finish(client: Client, video_id: str) -> CallToolResult:
    return await client.call_tool("get_video_status", {"video_id": video_id, "wait_seconds": 30})


async def test_a_completed_video_is_downloaded_into_the_output_folder_without_billing_anything(
    tmp_path: Path,
) -> None:
    fake = FakeAkool()
    async with connect(fake, tmp_path) as client:
        video_id = await make_video(client)
        status = data(await finish(client, video_id))
    kept = Path(status["file_path"])
    assert kept.parent == tmp_path / "Videos"
    assert kept.read_bytes() == tiny_mp4()
    assert status["video_url"] == "https://cdn.example/video.mp4"
    assert str(kept) in status["next_step"]
    assert len(fake.calls(CREATE)) == 1  # fetching the result created nothing


async def test_the_result_shows_a_poster_of_the_videos_aspect_ratio_and_links_the_mp4(tmp_path: Path) -> None:
    async with connect(FakeAkool(), tmp_path) as client:
        result = await finish(client, await make_video(client))
    images = [c for c in result.content if isinstance(c, ImageContent)]
    links = [c for c in result.content if isinstance(c, ResourceLink)]
    assert len(images) == 1 and images[0].mime_type == "image/jpeg"
    picture = cv2.imdecode(np.frombuffer(base64.b64decode(images[0].data), np.uint8), cv2.IMREAD_COLOR)
    assert picture is not None
    height, width = picture.shape[:2]
    assert width == 640 and abs(width / height - VIDEO_SIZE[0] / VIDEO_SIZE[1]) < 0.01
    assert picture[height // 2, width // 8][0] > 200  # the left of the first frame is blue (BGR)
    assert len(links) == 1 and links[0].mime_type == "video/mp4" and str(links[0].uri).startswith("akool://videos/")
    assert links[0].size == len(tiny_mp4())


async def test_a_dropped_download_is_retried_and_the_file_is_whole(tmp_path: Path) -> None:
    fake = FakeAkool(cdn_drops=2)
    async with connect(fake, tmp_path) as client:
        status = data(await finish(client, await make_video(client)))
    assert Path(status["file_path"]).read_bytes() == tiny_mp4()
    assert not list((tmp_path / "Videos").glob("*.part"))


async def test_the_kept_file_outlives_the_expired_akool_link(tmp_path: Path) -> None:
    fake = FakeAkool()
    async with connect(fake, tmp_path) as client:
        video_id = await make_video(client)
        first = data(await finish(client, video_id))
        fake.cdn_expired = True
        again = data(await finish(client, video_id))
        listed = data(await client.call_tool("list_videos", {}))
    assert again["file_path"] == first["file_path"] and Path(again["file_path"]).read_bytes() == tiny_mp4()
    assert listed["videos"][0]["file_path"] == first["file_path"]


async def test_an_expired_link_is_reported_and_the_status_still_answers(tmp_path: Path) -> None:
    fake = FakeAkool(cdn_expired=True)
    async with connect(fake, tmp_path) as client:
        status = data(await finish(client, await make_video(client)))
    assert status["status"] == "completed" and "file_path" not in status
    assert "403" in status["next_step"] and "expire" in status["next_step"]


async def test_list_videos_is_newest_first_with_a_summary_and_survives_a_restart(tmp_path: Path) -> None:
    fake = FakeAkool()
    async with connect(fake, tmp_path) as client:
        older = await make_video(client, "First video")
        await finish(client, older)
        newer = await make_video(client, " ".join(f"word{i}" for i in range(30)))
    async with connect(fake, tmp_path) as client:
        listed = data(await client.call_tool("list_videos", {}))
    assert [v["video_id"] for v in listed["videos"]] == [newer, older]
    assert listed["total"] == 2
    first, second = listed["videos"]
    assert (
        first["status"] == "queueing"
        and first["summary"].startswith("word0 word1")
        and first["summary"].endswith("...")
    )
    assert second["status"] == "completed" and second["summary"] == "First video" and second["avatar"] == "Me1"
    assert Path(second["file_path"]).is_file()


async def test_save_video_keeps_a_copy_under_the_users_name(tmp_path: Path) -> None:
    async with connect(FakeAkool(), tmp_path) as client:
        video_id = await make_video(client)
        await finish(client, video_id)
        saved = data(await client.call_tool("save_video", {"video_id": video_id, "name": "welcome"}))
    assert saved["file_path"] == str(tmp_path / "Videos" / "welcome.mp4")
    assert Path(saved["file_path"]).read_bytes() == tiny_mp4()


@pytest.mark.parametrize(
    "name",
    ["../escape.mp4", "..", "/etc/passwd", "sub/dir.mp4", "..\\up.mp4", ".hidden.mp4", "C:evil.mp4", "a\x00b"],
)
async def test_save_video_refuses_names_that_leave_the_output_folder(tmp_path: Path, name: str) -> None:
    async with connect(FakeAkool(), tmp_path) as client:
        video_id = await make_video(client)
        await finish(client, video_id)
        result = await client.call_tool("save_video", {"video_id": video_id, "name": name})
    assert result.is_error and "name" in text(result)
    assert sorted(p.name for p in (tmp_path / "Videos").iterdir()) == [f"akool-{video_id}.mp4"]
    assert not (tmp_path / "escape.mp4").exists()


async def test_save_video_does_not_write_through_a_symlink(tmp_path: Path) -> None:
    outside = tmp_path / "outside.mp4"
    async with connect(FakeAkool(), tmp_path) as client:
        video_id = await make_video(client)
        await finish(client, video_id)
        (tmp_path / "Videos" / "trap.mp4").symlink_to(outside)
        result = await client.call_tool("save_video", {"video_id": video_id, "name": "trap.mp4"})
    assert result.is_error and "not a regular file" in text(result)
    assert not outside.exists()


async def test_save_video_refuses_a_video_that_is_not_finished(tmp_path: Path) -> None:
    async with connect(FakeAkool(), tmp_path) as client:
        video_id = await make_video(client)
        result = await client.call_tool("save_video", {"video_id": video_id, "name": "early.mp4"})
    assert result.is_error and "get_video_status" in text(result)


async def test_get_credit_answers_the_akool_balance(tmp_path: Path) -> None:
    async with connect(FakeAkool(credit=42.0), tmp_path) as client:
        credit = data(await client.call_tool("get_credit", {}))
    assert credit == {"backend": "akool", "credit": 42.0, "note": credit["note"]} and "billed" in credit["note"]


async def test_an_unknown_argument_is_refused_naming_it_before_anything_is_sent(tmp_path: Path) -> None:
    fake = FakeAkool()
    async with connect(fake, tmp_path) as client:
        result = await client.call_tool(
            "create_talking_video",
            {"avatar_id": "Me1", "text": "Hi", "voice_id": "v1", "background_color": "#000000"},
        )
    message = text(result)
    assert result.is_error and "background_color" in message and "background," in message
    assert fake.requests == []


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"avatar_scale": 9}, "avatar_scale is 9; it must be more than 0 and at most 4"),
        ({"avatar_x": -99999}, "avatar_x is -99999; it must be at least -3840 and at most 7680"),
        ({"text": "x" * 6000}, "text is 6000 characters long; it may be at most 5000"),
    ],
)
async def test_out_of_range_values_are_explained_without_pydantic_boilerplate(
    tmp_path: Path, arguments: dict[str, Any], expected: str
) -> None:
    fake = FakeAkool()
    async with connect(fake, tmp_path) as client:
        result = await client.call_tool("create_talking_video", {"avatar_id": "Me1", "voice_id": "v1", **arguments})
    message = text(result)
    assert result.is_error and expected in message, message
    assert "pydantic" not in message and "validation error" not in message
    assert fake.requests == []


async def test_a_refused_voice_is_named_as_the_tools_parameter_not_the_apis_field(tmp_path: Path) -> None:
    fake = FakeAkool()
    fake.queue(CREATE, (200, {"code": 1003, "msg": "elements[2].voice_id is invalid, see /api/open/v4/voice/list"}, {}))
    async with connect(fake, tmp_path) as client:
        result = await client.call_tool("create_talking_video", {"avatar_id": "Me1", "text": "Hi", "voice_id": "nope"})
    message = text(result)
    assert result.is_error and "voice_id is invalid, see list_voices" in message
    assert "elements[" not in message and "/api/" not in message
