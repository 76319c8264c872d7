"""Videos and avatars as resources, and the prompt from a script to a finished video (fake Akool)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from mcp import Client
from mcp.types import BlobResourceContents, TextResourceContents

from akool_mcp.server import build_server
from tests.fakes.akool import CDN_ADDRESS, MINE, OFFICIAL, FakeAkool, resolve_cdn
from tests.fakes.media import tiny_mp4
from tests.support import FakeClock, cloud_settings, data, local_file, make_settings

pytestmark = pytest.mark.anyio


def connect(fake: FakeAkool, tmp_path: Path) -> Client:
    settings = cloud_settings(data_dir=tmp_path / "data", output_dir=tmp_path / "Videos")
    return Client(build_server(settings, transport=fake.transport(), resolver=fake.resolve, clock=FakeClock()))


async def make_finished_video(client: Client, words: str) -> str:
    created = data(
        await client.call_tool("create_talking_video", {"avatar_id": "Me1", "text": words, "voice_id": "v1"})
    )
    await client.call_tool("get_video_status", {"video_id": created["video_id"], "wait_seconds": 30})
    return str(created["video_id"])


async def test_videos_are_listed_newest_first_with_their_files_and_the_avatars_after(tmp_path: Path) -> None:
    async with connect(FakeAkool(), tmp_path) as client:
        first = await make_finished_video(client, "First")
        second = await make_finished_video(client, "Second")
        listed = (await client.list_resources()).resources
        templates = {t.uri_template for t in (await client.list_resource_templates()).resource_templates}
    uris = [str(r.uri) for r in listed]
    assert uris[:4] == [
        f"akool://videos/{second}",
        f"akool://videos/{second}/video.mp4",
        f"akool://videos/{first}",
        f"akool://videos/{first}/video.mp4",
    ]
    assert f"akool://avatars/{OFFICIAL['avatar_id']}" in uris and f"akool://avatars/{MINE['avatar_id']}" in uris
    assert {
        "akool://videos/{video_id}",
        "akool://videos/{video_id}/poster.jpg",
        "akool://videos/{video_id}/video.mp4",
        "akool://avatars/{avatar_id}",
    } <= templates


async def test_a_videos_metadata_poster_and_mp4_are_readable(tmp_path: Path) -> None:
    async with connect(FakeAkool(), tmp_path) as client:
        video_id = await make_finished_video(client, "Readable words")
        meta = (await client.read_resource(f"akool://videos/{video_id}")).contents[0]
        poster = (await client.read_resource(f"akool://videos/{video_id}/poster.jpg")).contents[0]
        mp4 = (await client.read_resource(f"akool://videos/{video_id}/video.mp4")).contents[0]
    assert isinstance(meta, TextResourceContents)
    body = json.loads(meta.text)
    assert body["status"] == "completed" and body["summary"] == "Readable words"
    assert Path(body["file_path"]).read_bytes() == tiny_mp4()
    assert isinstance(poster, BlobResourceContents) and poster.mime_type == "image/jpeg"
    assert isinstance(mp4, BlobResourceContents) and mp4.mime_type == "video/mp4"
    assert base64.b64decode(mp4.blob) == tiny_mp4()


async def test_an_unknown_video_resource_says_where_to_look(tmp_path: Path) -> None:
    async with connect(FakeAkool(), tmp_path) as client:
        with pytest.raises(Exception, match="list_videos"):
            await client.read_resource("akool://videos/nope")


async def test_an_avatar_resource_carries_its_thumbnail(tmp_path: Path) -> None:
    async with connect(FakeAkool(), tmp_path) as client:
        content = (await client.read_resource(f"akool://avatars/{MINE['avatar_id']}")).contents[0]
    assert isinstance(content, TextResourceContents)
    assert json.loads(content.text)["thumbnail_url"] == MINE["thumbnailUrl"]


async def test_the_prompt_walks_from_a_script_to_a_finished_video(tmp_path: Path) -> None:
    async with connect(FakeAkool(), tmp_path) as client:
        prompts = (await client.list_prompts()).prompts
        got = await client.get_prompt("make_talking_video", {"script": "Welcome to our shop!", "look": "friendly"})
    assert sorted(p.name for p in prompts) == ["make_talking_video", "make_video_from_brief"]
    words = " ".join(getattr(m.content, "text", "") for m in got.messages)
    assert "Welcome to our shop!" in words and "friendly" in words
    order = [words.index(tool) for tool in ("list_avatars", "list_voices", "preview_video_layout",
                                            "create_talking_video", "get_video_status")]  # fmt: skip
    assert order == sorted(order)


async def test_an_avatars_thumbnail_is_readable_fetched_with_care(tmp_path: Path) -> None:
    png = cv2.imencode(".png", np.full((8, 8, 3), 128, np.uint8))[1].tobytes()
    fake = FakeAkool(cdn_files={"/thumbnail/8169.png": png})
    settings = cloud_settings(data_dir=tmp_path / "data", output_dir=tmp_path / "Videos")
    server = build_server(settings, transport=fake.transport(), clock=FakeClock(), resolver=resolve_cdn)
    async with Client(server) as client:
        content = (await client.read_resource(f"akool://avatars/{MINE['avatar_id']}/thumbnail")).contents[0]
    assert isinstance(content, BlobResourceContents) and base64.b64decode(content.blob) == png
    cdn = [r for r in fake.requests if r.headers.get("host") == "cdn.example"]
    assert [(r.url.host, r.url.path) for r in cdn] == [(CDN_ADDRESS, "/thumbnail/8169.png")]  # pinned


async def test_a_local_avatars_thumbnail_is_read_from_the_engine(tmp_path: Path) -> None:
    settings = make_settings({"data_dir": tmp_path / "data", "output_dir": tmp_path / "o", "backend": "local"})
    async with Client(build_server(settings)) as client:
        avatar = data(await client.call_tool("list_avatars", {"size": 1}))["avatars"][0]
        content = (await client.read_resource(f"akool://avatars/{avatar['avatar_id']}/thumbnail")).contents[0]
    assert isinstance(content, BlobResourceContents)
    assert base64.b64decode(content.blob) == local_file(avatar["thumbnail_url"]).read_bytes()
