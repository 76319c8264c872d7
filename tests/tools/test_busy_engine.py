"""A full local engine is told to the model as what it is: busy, nothing queued, when to come back."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp import Client

from akool_mcp.config import Settings
from akool_mcp.server import build_server
from tests.support import data, text

pytestmark = pytest.mark.anyio


async def test_creating_beyond_the_engines_queue_says_it_is_busy_and_when_to_try_again(tmp_path: Path) -> None:
    settings = Settings.model_validate(
        {
            "backend": "local",
            "data_dir": tmp_path / "data",
            "output_dir": tmp_path / "out",
            "render_preset": "ultrafast",
            "max_queued_jobs": 1,
        }
    )
    async with Client(build_server(settings)) as client:
        avatar = data(await client.call_tool("list_avatars", {"size": 1}))["avatars"][0]["avatar_id"]
        voice = data(await client.call_tool("list_voices", {"language": "en"}))["voices"][0]["voice_id"]
        ask = {"avatar_id": avatar, "text": "A few words to keep the engine busy for a moment.", "voice_id": voice}
        first = await client.call_tool("create_talking_video", ask)
        second = await client.call_tool("create_talking_video", ask)
        listed = data(await client.call_tool("list_videos", {}))
    assert not first.is_error, text(first)
    assert second.is_error
    message = text(second)
    assert "the engine is busy" in message and "nothing was queued" in message and "try again in" in message
    assert "wait a minute" not in message
    assert len(listed["videos"]) == 1  # the refused call left nothing behind
