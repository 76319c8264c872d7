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
from mcp.types import CallToolResult, ResourceLink, TextResourceContents

from akool_mcp.domain.script_videos import ScriptBook
from akool_mcp.render.joiner import read_clip
from akool_mcp.server import build_server
from akool_mcp.speech import parse_webvtt
from tests.fakes.akool import OFFICIAL, FakeAkool
from tests.speech.listening import words
from tests.support import FakeClock, cloud_settings, data, make_settings, text
from tests.tools.test_cloud_captions import talking_mp4
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


async def test_a_script_from_text_gets_one_caption_file_with_each_scene_moved_to_where_its_part_begins(
    tmp_path: Path,
) -> None:
    lines = ("Welcome to the tour. It is a short one.", "Thanks for watching, and see you soon.")
    async with local_client(tmp_path) as client:
        scenes = (await official_scenes(client))[:2]
        scenes = [{**scene, "text": line} for scene, line in zip(scenes, lines, strict=True)]
        created = data(await client.call_tool("create_video_from_script", {"scenes": scenes}))
        shown = await follow(client, created["video_id"])
        resource = await client.read_resource(f"akool://videos/{created['video_id']}/captions.vtt")
    finished = data(shown)
    assert finished["status"] == "completed"
    captions = Path(finished["file_path"]).with_suffix(".vtt")
    assert captions.is_file() and str(captions) in finished["next_step"]
    assert [link.mime_type for link in shown.content if isinstance(link, ResourceLink)] == ["video/mp4", "text/vtt"]
    document = captions.read_text(encoding="utf-8")
    assert isinstance(resource.contents[0], TextResourceContents) and resource.contents[0].text == document
    book = ScriptBook(tmp_path / "data" / "scripts")
    script = book.get(created["video_id"])
    assert script is not None
    files = [book.scene_file(scene.video_id) for scene in script.scenes]
    own = [parse_webvtt(f.with_suffix(".vtt").read_text(encoding="utf-8")) for f in files]  # each scene's, kept
    first_length = read_clip(files[0]).duration
    joined = parse_webvtt(document)
    assert len(joined) == len(own[0]) + len(own[1])
    assert words(" ".join(cue.text for cue in joined)) == words(" ".join(lines))
    # Scene 1's cues as they were; scene 2's moved by the length of scene 1's part of the joined video.
    assert [(c.start, c.end) for c in joined[: len(own[0])]] == [(c.start, c.end) for c in own[0]]
    for cue, before in zip(joined[len(own[0]) :], own[1], strict=True):
        assert cue.text == before.text
        assert cue.start == pytest.approx(first_length + before.start, abs=0.002)  # WebVTT keeps milliseconds
    second = joined[len(own[0])]
    assert abs(second.start - first_length) <= 1 / 25  # scene 2's first words start where its part does
    assert joined[-1].end <= read_clip(Path(finished["file_path"])).duration + 0.002


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


async def test_on_akool_a_script_from_text_gets_one_caption_file_each_scene_over_its_own_part(tmp_path: Path) -> None:
    fake = FakeAkool(cdn_video=talking_mp4(2.0))  # every scene comes back as 2 s of picture and sound
    settings = cloud_settings(data_dir=tmp_path / "data", output_dir=tmp_path / "out")
    server = build_server(settings, transport=fake.transport(), resolver=fake.resolve, clock=FakeClock())
    async with Client(server, elicitation_callback=User()) as client:
        created = data(await client.call_tool("create_video_from_script", {"scenes": AKOOL_SCENES}))
        finished = data(await follow(client, created["video_id"]))
    captions = Path(finished["file_path"]).with_suffix(".vtt")
    assert captions.is_file() and str(captions) in finished["next_step"]
    cues = parse_webvtt(captions.read_text(encoding="utf-8"))
    assert [cue.text for cue in cues] == [scene["text"] for scene in AKOOL_SCENES]  # one sentence a scene
    # Akool gives no timings: each scene's text spans its own part of the joined video, which starts where
    # the one before it ends.
    for cue, start in zip(cues, (0.0, 2.0, 4.0), strict=True):
        assert abs(cue.start - start) <= 1 / 25 and cue.end <= start + 2.0 + 1e-3


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
