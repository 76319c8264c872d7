"""Drive akool-mcp with the MCP Python client, as an assistant would, and save a talking video.

    python examples/make_video.py --text "Hello there." --out out/hello.mp4

Starts `akool-mcp` over stdio (the local engine unless AKOOL_API_KEY is set), picks an official avatar
and a matching English voice, creates the video, follows it and copies or downloads the MP4.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import urllib.request
from pathlib import Path
from typing import Any

import anyio
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.types import CallToolResult


def data(result: CallToolResult) -> dict[str, Any]:
    if result.is_error or result.structured_content is None:
        raise SystemExit("tool failed: " + " ".join(getattr(c, "text", "") for c in result.content))
    return result.structured_content


async def make_video(text: str, background: str) -> str:
    """Create the video through the MCP server and follow it; return where the finished MP4 is."""
    # The SDK passes the server only a few safe variables unless told: hand on AKOOL_* (the key, the data dir).
    server = StdioServerParameters(command=sys.executable, args=["-m", "akool_mcp"], env=dict(os.environ))
    async with Client(server) as client:
        avatar = data(await client.call_tool("list_avatars", {"source": "official", "size": 1}))["avatars"][0]
        voices = data(await client.call_tool("list_voices", {"language": "en"}))["voices"]
        voice = next((v for v in voices if v.get("gender") == avatar.get("gender")), voices[0])
        created = data(
            await client.call_tool(
                "create_talking_video",
                {
                    "avatar_id": avatar["avatar_id"],
                    "voice_id": voice["voice_id"],
                    "text": text,
                    "background": background,
                },
            )
        )
        print(f"video {created['video_id']}: {avatar['name']} with voice {voice['voice_id']}")
        status: dict[str, Any] = {"done": False}
        for _ in range(40):  # each call waits up to 45 s for the render, reporting progress
            status = data(
                await client.call_tool("get_video_status", {"video_id": created["video_id"], "wait_seconds": 45})
            )
            kept = status.get("file_path") or status.get("video_url")  # a check may answer before the copy is made
            if status["done"] and (status.get("status") != "completed" or kept):
                break
        if status.get("status") != "completed":
            raise SystemExit(f"the video did not complete: {status.get('error_reason') or status}")
    # Over stdio the server keeps the file on this machine (file_path); over HTTP it gives a signed link.
    url: str = status.get("file_path") or status["video_url"]
    return url


def save(url: str, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    if url.startswith(("http://", "https://")):  # Akool's cloud, or a local engine served over HTTP
        with urllib.request.urlopen(url) as response, out.open("wb") as file:  # noqa: S310 - the server's own URL
            shutil.copyfileobj(response, file)
    else:  # over stdio: the kept file on this machine
        shutil.copyfile(url, out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--text", default="Hello! This video was made through the MCP server.")
    parser.add_argument("--out", type=Path, default=Path("out/example.mp4"))
    parser.add_argument("--background", default="#2B5F8E", help="hex colour or image URL")
    args = parser.parse_args()
    save(anyio.run(make_video, args.text, args.background), args.out)
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
