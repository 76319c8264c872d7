"""Links and files are checked when the tool is called, not found wrong when Akool or the engine fetches them:
nothing is sent (nor billed) for a link that does not answer, is private, or serves a web page."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp import Client

from akool_mcp.server import build_server
from tests.fakes.akool import FakeAkool
from tests.support import FakeClock, cloud_settings, data, make_settings, text

pytestmark = pytest.mark.anyio

CREATE = "/api/open/v3/talkingavatar/create"
UPLOAD = "/api/open/v3/avatar/create"
SPEECH = {"text": "Hello.", "voice_id": "en-US-1"}


def connect(fake: FakeAkool) -> Client:
    server = build_server(cloud_settings(), transport=fake.transport(), resolver=fake.resolve, clock=FakeClock())
    return Client(server)


@pytest.mark.parametrize(
    ("link", "said"),
    [
        ("https://media.example/page", "returned 'text/html'"),  # no extension: what the server says decides
        ("https://media.example/page.png", "ends in '.png' but the server sent 'text/html'"),
        ("https://media.example/missing.png", "answered HTTP 404"),
        ("http://printer.internal/me.png", "private, loopback or link-local"),
        ("http://127.0.0.1/me.png", "private, loopback or link-local"),
    ],
)
async def test_an_avatar_link_the_render_would_fail_on_is_refused_at_the_call(link: str, said: str) -> None:
    fake = FakeAkool()
    async with connect(fake) as client:
        result = await client.call_tool("create_talking_video", {"avatar_url": link, **SPEECH})
    assert result.is_error and text(result).count("avatar_url") >= 1 and said in text(result), text(result)
    assert fake.calls(CREATE) == []


async def test_good_links_pass_and_the_video_is_made() -> None:
    fake = FakeAkool()
    arguments = {"avatar_url": "https://media.example/picture", "background": "https://media.example/bg.jpg",
                 "audio_url": "https://media.example/talk.mp3"}  # fmt: skip
    async with connect(fake) as client:
        made = data(await client.call_tool("create_talking_video", arguments))
    assert made["video_id"] and len(fake.calls(CREATE)) == 1


async def test_a_background_link_and_a_speech_link_are_checked_too() -> None:
    fake = FakeAkool()
    async with connect(fake) as client:
        background = await client.call_tool(
            "create_talking_video",
            {"avatar_url": "https://media.example/me.png", "background": "https://media.example/missing.jpg", **SPEECH},
        )
        speech = await client.call_tool(
            "create_talking_video",
            {"avatar_url": "https://media.example/me.png", "audio_url": "https://media.example/page.mp3"},
        )
    assert background.is_error and "background: https://media.example/missing.jpg answered HTTP 404" in text(background)
    assert speech.is_error and "audio_url:" in text(speech) and "text/html" in text(speech)
    assert fake.calls(CREATE) == []


async def test_an_avatar_upload_from_a_dead_link_is_refused_before_akool_bills_it() -> None:
    fake = FakeAkool()
    async with connect(fake) as client:
        result = await client.call_tool(
            "create_avatar", {"video_url": "https://media.example/missing.mp4", "avatar_id": "Mary1"}
        )
    assert result.is_error and "video_url: https://media.example/missing.mp4 answered HTTP 404" in text(result)
    assert fake.calls(UPLOAD) == []


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"root:x:0:0:root:/root:/bin/bash\n", "is a text file, not a picture or video"),
        (b"%PDF-1.7\n" + bytes(40), "is a PDF document"),
        (b"", "is an empty file"),
    ],
)
async def test_a_local_file_is_a_picture_or_video_by_its_first_bytes_not_its_name(
    tmp_path: Path, content: bytes, said: str
) -> None:
    fake_photo = tmp_path / "me.png"
    fake_photo.write_bytes(content)
    async with Client(build_server(make_settings(backend="local"))) as client:
        result = await client.call_tool("create_avatar", {"video_url": str(fake_photo), "avatar_id": "Me1"})
    assert result.is_error and f"video_url: local file {fake_photo} {said}" in text(result)


async def test_a_path_from_the_home_folder_is_expanded_over_stdio(tmp_path: Path, face_photo: Path) -> None:
    home = Path.home()
    (home / "Pictures").mkdir(parents=True, exist_ok=True)
    copy = home / "Pictures" / "face.png"
    copy.write_bytes(face_photo.read_bytes())
    try:
        async with Client(build_server(make_settings(backend="local"))) as client:
            made = data(
                await client.call_tool("create_avatar", {"video_url": "~/Pictures/face.png", "avatar_id": "Me2"})
            )
    finally:
        copy.unlink()
        (home / "Pictures").rmdir()
    assert made["ready"] and made["avatar"]["avatar_id"] == "Me2"
