# PyAV's stubs leave frames partly untyped: relax the unknown-type checks here only.
# pyright: reportUnknownMemberType=false, reportUnknownVariableType=false, reportUnknownArgumentType=false
"""From a script to one finished piece: scenes checked first, rendered, joined into one video that is followed,
listed and kept like any other; a failed scene named, and only it rendered again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import pytest
from mcp import Client
from mcp.types import CallToolResult

from akool_mcp.domain.script_videos import ScriptBook
from akool_mcp.render.joiner import read_clip
from akool_mcp.server import build_server
from tests.fakes.akool import OFFICIAL, FakeAkool
from tests.support import FakeClock, cloud_settings, data, make_settings, text
from tests.tools.test_spending import User

pytestmark = pytest.mark.anyio

CREATE = "/api/open/v3/talkingavatar/create"
BACKGROUNDS = ("#C81E1E", "#1EC81E", "#1E1EC8")


def local_client(tmp_path: Path) -> Client:
    settings = make_settings(
        backend="local", data_dir=tmp_path / "data", output_dir=tmp_path / "out", render_preset="ultrafast"
    )
    return Client(build_server(settings))


async def follow(client: Client, video_id: str) -> CallToolResult:
    for _ in range(40):  # each call waits up to 45 s on the server's clock: the renders take seconds
        result = await client.call_tool("get_video_status", {"video_id": video_id, "wait_seconds": 45})
        if result.is_error or data(result)["done"]:
            return result
    raise AssertionError("the script did not finish")


async def official_scenes(client: Client) -> list[dict[str, Any]]:
    avatars = data(await client.call_tool("list_avatars", {"source": "official", "size": 3}))["avatars"]
    voice = data(await client.call_tool("list_voices", {"language": "en"}))["voices"][0]["voice_id"]
    lines = ("Welcome to the tour.", "Here is the part that matters.", "Thanks for watching.")
    return [
        {"avatar_id": avatar["avatar_id"], "text": line, "voice_id": voice, "background": colour}
        for avatar, line, colour in zip(avatars, lines, BACKGROUNDS, strict=True)
    ]


def corner(frame: av.VideoFrame) -> tuple[int, int, int]:
    r, g, b = frame.to_ndarray(format="rgb24")[20, 20]
    return int(r), int(g), int(b)


def hex_rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


async def test_three_scenes_on_the_local_engine_become_one_video_in_order_with_one_soundtrack(
    tmp_path: Path,
) -> None:
    async with local_client(tmp_path) as client:
        scenes = await official_scenes(client)
        created = data(await client.call_tool("create_video_from_script", {"scenes": scenes, "title": "A tour"}))
        finished = data(await follow(client, created["video_id"]))
        listed = data(await client.call_tool("list_videos", {}))["videos"]
    assert created["video_id"].startswith("script-") and created["scenes"] == 3
    assert finished["status"] == "completed" and finished["progress_percent"] == 100
    joined = Path(finished["file_path"])
    book = ScriptBook(tmp_path / "data" / "scripts")
    script = book.get(created["video_id"])
    assert script is not None
    parts = [read_clip(book.scene_file(scene.video_id)) for scene in script.scenes]
    whole = read_clip(joined)
    assert len(parts) == 3
    assert abs(whole.duration - sum(part.duration for part in parts)) <= 1 / 25 + 1e-9  # the sum, within a frame
    with av.open(str(joined)) as container:
        colours = [corner(frame) for frame in container.decode(video=0)]
    bounds = np.cumsum([0] + [part.frames for part in parts])
    # Each part shows its own scene (its background), whole and in order, whatever order the scenes finished in.
    for start, end, background in zip(bounds[:-1], bounds[1:], BACKGROUNDS, strict=True):
        wanted = hex_rgb(background)
        assert all(max(abs(a - b) for a, b in zip(c, wanted, strict=True)) < 16 for c in colours[start:end])
    assert [(v["video_id"], v["summary"]) for v in listed] == [(created["video_id"], "A tour")]  # one job, not four


async def test_a_failed_scene_fails_the_script_naming_it_and_a_second_try_renders_only_that_scene(
    tmp_path: Path,
) -> None:
    wall = tmp_path / "wall.png"
    cv2.imwrite(str(wall), np.full((480, 360, 3), 190, np.uint8))  # a picture with no face: fails at render
    async with local_client(tmp_path) as client:
        scenes = await official_scenes(client)
        broken = [scenes[0], {**scenes[1], "avatar_id": None, "avatar_url": str(wall)}, scenes[2]]
        first = data(await client.call_tool("create_video_from_script", {"scenes": broken}))
        failed = data(await follow(client, first["video_id"]))
        again = data(await client.call_tool("create_video_from_script", {"scenes": scenes}))
        finished = data(await follow(client, again["video_id"]))
    assert failed["status"] == "failed"
    assert failed["error_reason"].startswith("scene 2 (scenes[1]) failed: ") and "face" in failed["error_reason"]
    assert "only the failed one is rendered again" in failed["next_step"]
    assert again["next_step"].startswith("Rendering 1 of 3 scenes. 2 scenes made before are reused.")
    assert finished["status"] == "completed"


async def test_a_bad_scene_is_refused_naming_it_before_anything_is_sent(tmp_path: Path) -> None:
    async with local_client(tmp_path) as client:
        scenes = await official_scenes(client)
        bad = [scenes[0], scenes[1], {**scenes[2], "voice_id": "no-such-voice"}]
        refused = await client.call_tool("create_video_from_script", {"scenes": bad})
        listed = data(await client.call_tool("list_videos", {}))["videos"]
    assert refused.is_error and "scenes[2].voice_id" in text(refused)
    assert listed == [] and not (tmp_path / "data" / "scripts").exists()  # no scene was sent


AKOOL_SCENES = [
    {"avatar_id": OFFICIAL["avatar_id"], "text": "First scene, short and sweet.", "voice_id": "en-US-1"},
    {"avatar_id": OFFICIAL["avatar_id"], "text": "Second scene says a little more.", "voice_id": "en-US-1"},
    {"avatar_id": OFFICIAL["avatar_id"], "text": "Third scene, goodbye.", "voice_id": "en-US-1"},
]


async def test_on_akool_the_script_is_three_paid_renders_confirmed_once_downloaded_and_joined(tmp_path: Path) -> None:
    fake = FakeAkool()
    user = User()
    settings = cloud_settings(data_dir=tmp_path / "data", output_dir=tmp_path / "out")
    server = build_server(settings, transport=fake.transport(), resolver=fake.resolve, clock=FakeClock())
    async with Client(server, elicitation_callback=user) as client:
        created = data(await client.call_tool("create_video_from_script", {"scenes": AKOOL_SCENES}))
        finished = data(await follow(client, created["video_id"]))
        again = data(await client.call_tool("create_video_from_script", {"scenes": AKOOL_SCENES}))
    assert len(fake.calls(CREATE)) == 3  # three renders, each sent once; the repeat sent nothing
    assert len(user.asked) == 1 and "3 renders" in user.asked[0] and "Scene 3:" in user.asked[0]
    assert "Akool bills each of the 3 new scene renders" in created["next_step"]
    assert finished["status"] == "completed"
    with av.open(str(finished["file_path"]), "r") as container:
        assert sum(1 for _ in container.decode(video=0)) == 3 * 5  # the fake's clips have five pictures each
    assert again["video_id"] == created["video_id"] and "Nothing was sent or billed again" in again["next_step"]


async def test_on_akool_a_declined_script_sends_nothing(tmp_path: Path) -> None:
    fake = FakeAkool()
    user = User()
    user.answers.append("decline")
    settings = cloud_settings(data_dir=tmp_path / "data", output_dir=tmp_path / "out")
    server = build_server(settings, transport=fake.transport(), resolver=fake.resolve, clock=FakeClock())
    async with Client(server, elicitation_callback=user) as client:
        declined = await client.call_tool("create_video_from_script", {"scenes": AKOOL_SCENES})
    assert declined.is_error and "Nothing was sent to Akool" in text(declined)
    assert fake.calls(CREATE) == []


async def test_the_brief_prompt_walks_from_a_brief_to_scenes_previews_and_one_render(tmp_path: Path) -> None:
    async with local_client(tmp_path) as client:
        got = await client.get_prompt("make_video_from_brief", {"brief": "Launch our new kettle", "presenters": "two"})
    words = " ".join(getattr(m.content, "text", "") for m in got.messages)
    assert "Launch our new kettle" in words and "two" in words and "billed" not in words  # free on the local engine
    order = [words.index(step) for step in ("script of", "list_avatars", "preview_video_layout",
                                            "create_video_from_script", "get_video_status")]  # fmt: skip
    assert order == sorted(order)
