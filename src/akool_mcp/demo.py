"""`akool-mcp demo`: what an assistant does, for real: the MCP server as a stdio subprocess on the local engine.

It lists avatars and voices, creates a talking video from a sentence on a coloured background, follows
it with progress, saves the MP4 and prints where it is.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import anyio
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.types import CallToolResult

MAX_FOLLOW_CALLS = 40


class DemoError(Exception):
    pass


def _data(result: CallToolResult) -> dict[str, Any]:
    if result.is_error:
        text = " ".join(getattr(c, "text", "") for c in result.content)
        raise DemoError(text or "the tool call failed")
    if result.structured_content is None:
        raise DemoError("the tool returned no structured content")
    return result.structured_content


def _say(message: str) -> None:
    print(message, flush=True)


async def drive(out: Path, text: str, voice: str | None, background: str) -> Path:
    # The server's own logs would interleave with the demo's story; keep them to warnings unless asked.
    env = {"AKOOL_LOG_LEVEL": "WARNING", **os.environ, "AKOOL_BACKEND": "local"}
    params = StdioServerParameters(command=sys.executable, args=["-m", "akool_mcp"], env=env)
    async with Client(params) as client:
        tools = await client.list_tools()
        _say(f"connected to akool-mcp over stdio; tools: {', '.join(t.name for t in tools.tools)}")
        avatars = _data(await client.call_tool("list_avatars", {"source": "official"}))
        if not avatars["avatars"]:
            raise DemoError("the local engine lists no avatars")
        avatar = avatars["avatars"][0]
        _say(f"{avatars['total']} official avatars on the {avatars['backend']} backend; using {avatar['name']!r}")
        voices = _data(await client.call_tool("list_voices", {"language": "en"}))["voices"]
        # A voice that matches the avatar, as an assistant would pick.
        matching = [v for v in voices if v.get("gender") == avatar.get("gender")] or voices
        voice_id = voice or (matching[0]["voice_id"] if matching else None)
        if voice_id is None:
            raise DemoError("no English voice available")
        _say(f"voice: {voice_id}")
        created = _data(
            await client.call_tool(
                "create_talking_video",
                {"avatar_id": avatar["avatar_id"], "text": text, "voice_id": voice_id, "background": background},
            )
        )
        video_id = created["video_id"]
        _say(f"video {video_id} accepted ({created['status']}); rendering 3840x2160...")
        started = time.monotonic()

        async def show(progress: float, total: float | None, message: str | None) -> None:
            _say(f"  {time.monotonic() - started:5.1f}s  {message or ''}")

        for _ in range(MAX_FOLLOW_CALLS):
            status = _data(
                await client.call_tool(
                    "get_video_status", {"video_id": video_id, "wait_seconds": 45}, progress_callback=show
                )
            )
            # Done once finished and kept in the output folder (file_path); a check may answer before the copy.
            if status["done"] and (status["status"] != "completed" or status.get("file_path")):
                break
        else:
            raise DemoError("the video did not finish in time")
        if status["status"] != "completed":
            raise DemoError(f"the render failed: {status.get('error_reason')}")
        source = Path(status["file_path"])
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, out)
        _say(f"done in {time.monotonic() - started:.1f}s")
        return out


def run_demo(*, out: str, text: str, voice: str | None, background: str) -> int:
    try:
        path = anyio.run(drive, Path(out), text, voice, background)
    except DemoError as exc:
        sys.stderr.write(f"demo failed: {exc}\n")
        return 1
    _say(f"saved: {path.resolve()}")
    return 0
