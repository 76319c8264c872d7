"""On the local engine through the MCP tools: captions beside every video made from text, voice previews."""

from __future__ import annotations

import itertools
from pathlib import Path

import av
import pytest
from mcp import Client
from mcp.types import BlobResourceContents, TextResourceContents

from akool_mcp.server import build_server
from akool_mcp.speech import decode_audio, parse_webvtt
from akool_mcp.speech.captions import LINE_CHARS, MAX_LINES
from tests.local.test_local_end_to_end import follow, local_settings
from tests.speech.listening import words
from tests.support import data

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

SCRIPT = (
    "Welcome to the show. Today we look at how small teams plan their work, why a clear plan saves "
    "them hours every single week, and what it costs: about $1,250 a year. Thanks for watching!"
)


async def test_a_finished_local_video_has_captions_kept_beside_it_named_and_served(tmp_path: Path) -> None:
    async with Client(build_server(local_settings(tmp_path))) as client:
        created = data(
            await client.call_tool(
                "create_talking_video",
                {"avatar_id": "local_liam", "text": SCRIPT, "voice_id": "en-US-female-1", "background": "#334455"},
            )
        )
        status = await follow(client, created["video_id"])
        resource = await client.read_resource(f"akool://videos/{created['video_id']}/captions.vtt")
    assert status["status"] == "completed", status
    kept = Path(status["file_path"])
    captions = kept.with_suffix(".vtt")
    assert captions.is_file() and str(captions) in status["next_step"]
    document = captions.read_text(encoding="utf-8")
    shown = resource.contents[0]
    assert isinstance(shown, TextResourceContents) and shown.text == document
    cues = parse_webvtt(document)
    # Sentence-sized: the long middle sentence is cut into cues of at most two lines.
    assert len(cues) >= 4
    assert all(len(c.text.split("\n")) <= MAX_LINES and max(map(len, c.text.split("\n"))) <= LINE_CHARS for c in cues)
    # They cover the words in order, as written.
    assert words(" ".join(c.text for c in cues)) == words(SCRIPT)
    # In order, not overlapping, and inside the video.
    with av.open(str(kept)) as container:
        stream = container.streams.video[0]
        assert stream.duration is not None and stream.time_base is not None
        seconds = float(stream.duration * stream.time_base)
    assert cues[0].start >= 0 and cues[-1].end <= seconds + 0.01
    assert all(a.end <= b.start + 1e-6 and a.start < a.end for a, b in itertools.pairwise(cues))


async def test_every_voice_has_a_preview_to_play_made_once_and_kept(tmp_path: Path) -> None:
    async with Client(build_server(local_settings(tmp_path))) as client:
        voices = data(await client.call_tool("list_voices", {}))["voices"]
        first = await client.read_resource("akool://voices/en-US-female-1/preview")
        again = await client.read_resource("akool://voices/en-US-female-1/preview")
        basic = await client.read_resource("akool://voices/fr-FR-female-1/preview")
    assert {v["quality"] for v in voices if v["language"] == "English"} == {"neural"}
    assert {v["quality"] for v in voices if v["language"] != "English"} == {"basic"}
    assert all(v["preview_url"] == f"akool://voices/{v['voice_id']}/preview" for v in voices)
    for read in (first, basic):
        blob = read.contents[0]
        assert isinstance(blob, BlobResourceContents) and blob.mime_type == "audio/mpeg"
    kept = tmp_path / "data" / "files" / "voices" / "en-US-female-1" / "preview.mp3"
    assert kept.is_file() and first.contents == again.contents
    preview = decode_audio(kept)
    assert 2.0 < preview.duration < 8.0


async def test_a_preview_of_a_voice_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    from mcp.shared.exceptions import MCPError

    async with Client(build_server(local_settings(tmp_path))) as client:
        with pytest.raises(MCPError, match="unknown voice_id 'nobody-1'"):
            await client.read_resource("akool://voices/nobody-1/preview")


@pytest.mark.parametrize(("said", "why"), [("Привет, как дела?", "Cyrillic script"), ("🎉🎉 👍", "no words to speak")])
async def test_text_no_voice_can_read_is_refused_naming_text_and_what_the_voices_read(
    tmp_path: Path, said: str, why: str
) -> None:
    async with Client(build_server(local_settings(tmp_path))) as client:
        refused = await client.call_tool(
            "create_talking_video", {"avatar_id": "local_liam", "text": said, "voice_id": "en-US-female-1"}
        )
        listed = data(await client.call_tool("list_videos", {}))["videos"]
    message = " ".join(getattr(block, "text", "") for block in refused.content)
    assert refused.is_error and "text: " in message and why in message
    assert "English, French, German, Spanish" in message and "list_voices" in message
    assert listed == []  # refused at the door: no video, no silent or noisy render
