# PyAV's stubs leave Packet and **kwargs untyped: relax the unknown-type checks here only.
# pyright: reportUnknownMemberType=false, reportUnknownVariableType=false
"""Akool's videos made from text get captions too: the script spread over the finished audio's length."""

from __future__ import annotations

import fractions
import tempfile
from pathlib import Path

import av
import httpx2
import numpy as np
import pytest
from mcp import Client
from mcp.types import ResourceLink

from akool_mcp.server import build_server
from akool_mcp.speech import parse_webvtt
from tests.fakes.akool import FakeAkool
from tests.fakes.media import VIDEO_SIZE
from tests.speech.listening import words
from tests.support import FakeClock, cloud_settings, data

pytestmark = pytest.mark.anyio

SCRIPT = "Welcome back. This week we ship the new calendar, and it costs $12 a month. See you soon!"


def talking_mp4(seconds: float) -> bytes:
    """An MP4 with a picture and ``seconds`` of AAC sound, as Akool's finished videos have."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "talk.mp4"
        with av.open(str(path), "w") as container:
            video = container.add_stream("libx264", rate=25)
            video.width, video.height, video.pix_fmt = VIDEO_SIZE[0], VIDEO_SIZE[1], "yuv420p"
            sound = container.add_stream("aac", rate=24_000)
            sound.layout = "mono"
            picture = np.full((VIDEO_SIZE[1], VIDEO_SIZE[0], 3), 90, np.uint8)
            for index in range(round(seconds * 25)):
                frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
                frame.pts = index
                for packet in video.encode(frame):
                    container.mux(packet)
            tone = (0.2 * np.sin(np.arange(round(seconds * 24_000)) / 24_000 * 2 * np.pi * 220)).astype(np.float32)
            chunk = av.AudioFrame.from_ndarray(tone.reshape(1, -1), format="fltp", layout="mono")
            chunk.sample_rate, chunk.pts, chunk.time_base = 24_000, 0, fractions.Fraction(1, 24_000)
            for packet in sound.encode(chunk):
                container.mux(packet)
            for stream in (video, sound):
                for packet in stream.encode(None):
                    container.mux(packet)
        return path.read_bytes()


def connect(fake: FakeAkool, tmp_path: Path) -> Client:
    settings = cloud_settings(data_dir=tmp_path / "data", output_dir=tmp_path / "Videos")
    return Client(build_server(settings, transport=fake.transport(), resolver=fake.resolve, clock=FakeClock()))


async def test_an_akool_video_from_text_is_kept_with_captions_spread_over_its_audio(tmp_path: Path) -> None:
    fake = FakeAkool(cdn_video=talking_mp4(6.0))
    async with connect(fake, tmp_path) as client:
        created = data(
            await client.call_tool("create_talking_video", {"avatar_id": "Me1", "text": SCRIPT, "voice_id": "v1"})
        )
        status = data(await client.call_tool("get_video_status", {"video_id": created["video_id"], "wait_seconds": 30}))
        read = await client.read_resource(f"akool://videos/{created['video_id']}/captions.vtt")
    captions = Path(status["file_path"]).with_suffix(".vtt")
    assert captions.is_file() and str(captions) in status["next_step"]
    cues = parse_webvtt(captions.read_text(encoding="utf-8"))
    assert [c.text for c in cues] == ["Welcome back.", "This week we ship the new\ncalendar, and it costs $12 a month.",
                                      "See you soon!"]  # fmt: skip
    assert words(" ".join(c.text for c in cues)) == words(SCRIPT)
    assert cues[0].start == 0 and cues[-1].end == pytest.approx(6.0, abs=0.1)
    assert read.contents[0].model_dump()["text"] == captions.read_text(encoding="utf-8")


async def test_an_akool_video_from_recorded_speech_has_no_captions(tmp_path: Path) -> None:
    fake = FakeAkool(cdn_video=talking_mp4(2.0))
    async with connect(fake, tmp_path) as client:
        created = data(
            await client.call_tool(
                "create_talking_video", {"avatar_id": "Me1", "audio_url": "https://media.example/talk.mp3"}
            )
        )
        status = data(await client.call_tool("get_video_status", {"video_id": created["video_id"], "wait_seconds": 30}))
    assert status["file_path"] and not Path(status["file_path"]).with_suffix(".vtt").exists()
    assert "captions" not in status["next_step"]


async def test_burning_captions_is_not_offered_on_akool_and_refused_naming_the_parameter(tmp_path: Path) -> None:
    fake = FakeAkool()
    async with connect(fake, tmp_path) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        result = await client.call_tool(
            "create_talking_video", {"avatar_id": "Me1", "text": "Hi.", "voice_id": "v1", "burn_captions": True}
        )
    assert "burn_captions" not in tools["create_talking_video"].input_schema["properties"]
    assert result.is_error and fake.calls("/api/open/v3/talkingavatar/create") == []
    assert "burn_captions" in result.content[0].model_dump()["text"]


async def test_over_http_the_captions_are_a_signed_link_this_server_serves_as_webvtt(tmp_path: Path) -> None:
    base = "http://127.0.0.1:8765"
    fake = FakeAkool(cdn_video=talking_mp4(3.0))
    settings = cloud_settings(data_dir=tmp_path / "data", output_dir=tmp_path / "Videos")
    server = build_server(
        settings, transport=fake.transport(), resolver=fake.resolve, clock=FakeClock(), media_base=base
    )
    async with Client(server) as client:
        created = data(
            await client.call_tool("create_talking_video", {"avatar_id": "Me1", "text": SCRIPT, "voice_id": "v1"})
        )
        shown = await client.call_tool("get_video_status", {"video_id": created["video_id"], "wait_seconds": 30})
    status = data(shown)
    link = next(block for block in shown.content if isinstance(block, ResourceLink) and block.mime_type == "text/vtt")
    assert str(link.uri).startswith(f"{base}/media/videos/") and "signature=" in str(link.uri)
    assert str(link.uri) in status["next_step"]  # named in the result as this server's link, not a disk path
    app = server.streamable_http_app(host="127.0.0.1")
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url=base) as http:
        served = await http.get(str(link.uri).removeprefix(base))
        unsigned = await http.get(str(link.uri).removeprefix(base).split("?")[0])
    assert served.status_code == 200 and served.headers["content-type"].startswith("text/vtt")
    assert parse_webvtt(served.text)[0].text == "Welcome back."
    assert unsigned.status_code == 403


async def test_a_video_saved_under_a_new_name_takes_its_captions_with_it(tmp_path: Path) -> None:
    fake = FakeAkool(cdn_video=talking_mp4(3.0))
    (tmp_path / "Videos").mkdir()
    (tmp_path / "Videos" / "mine.vtt").write_text("WEBVTT\n\nthe user's own\n")
    async with connect(fake, tmp_path) as client:
        created = data(
            await client.call_tool("create_talking_video", {"avatar_id": "Me1", "text": SCRIPT, "voice_id": "v1"})
        )
        status = data(await client.call_tool("get_video_status", {"video_id": created["video_id"], "wait_seconds": 30}))
        await client.call_tool("save_video", {"video_id": created["video_id"], "name": "launch"})
        taken = await client.call_tool("save_video", {"video_id": created["video_id"], "name": "mine"})
    kept = Path(status["file_path"]).with_suffix(".vtt").read_text(encoding="utf-8")
    assert (tmp_path / "Videos" / "launch.mp4").is_file()
    assert (tmp_path / "Videos" / "launch.vtt").read_text(encoding="utf-8") == kept
    assert not taken.is_error and (tmp_path / "Videos" / "mine.mp4").is_file()
    assert (tmp_path / "Videos" / "mine.vtt").read_text() == "WEBVTT\n\nthe user's own\n"  # never replaced
