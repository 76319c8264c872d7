# OpenCV's stubs are partly untyped: relax the unknown-type checks here only.
# pyright: reportUnknownMemberType=false, reportUnknownArgumentType=false
"""What a careless model reads, through real clients: the SDK's stdio client against the real process, and
its streamable-HTTP client against the real process with a token. Every message names the tool's own
parameters, says which backend answered (never "Akool error" from the local engine, never the API's field
names or the engine's paths) and what to do next; bad files and links are refused at the call.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import cv2
import httpx2
import numpy as np
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from tests.support import data, server_env, stop_server, text

pytestmark = pytest.mark.anyio

TOKEN = "careless-token-0c4e2a9f1b"
WIRE_WORDS = ("Akool error", "video_model_id", "webhookUrl", "input_text", "avatar_from", "/files/")


@asynccontextmanager
async def over_stdio(tmp_path: Path) -> AsyncGenerator[Client]:
    env = server_env(tmp_path, AKOOL_RENDER_PRESET="ultrafast")
    params = StdioServerParameters(command=sys.executable, args=["-m", "akool_mcp"], env=env)
    async with Client(params) as client:
        yield client


def _start(tmp_path: Path, port: int) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "akool_mcp", "serve", "--transport", "streamable-http", "--port", str(port)]
    env = server_env(tmp_path, AKOOL_RENDER_PRESET="ultrafast", AKOOL_MCP_TOKEN=TOKEN)
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


@asynccontextmanager
async def over_http(tmp_path: Path) -> AsyncGenerator[Client]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    proc = _start(tmp_path, port)
    assert proc.stderr is not None

    def listening() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            if "Uvicorn running on" in line or "Application startup complete" in line:
                return
        raise AssertionError(f"the server exited early with {proc.wait()}")

    try:
        await anyio.to_thread.run_sync(listening)
        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with (
            httpx2.AsyncClient(headers=headers, timeout=60) as http,
            Client(streamable_http_client(f"http://127.0.0.1:{port}/mcp", http_client=http)) as client,
        ):
            yield client
    finally:
        stop_server(proc)
        proc.stderr.close()


TRANSPORTS = {"stdio": over_stdio, "streamable-http": over_http}


async def refusal(client: Client, tool: str, arguments: dict[str, Any]) -> str:
    result = await client.call_tool(tool, arguments)
    said = text(result)
    assert result.is_error, said
    assert not any(word in said for word in WIRE_WORDS), said
    return said


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_bad_inputs_are_told_in_the_tools_words_on_every_transport(transport: str, tmp_path: Path) -> None:
    over_stdio_ = transport == "stdio"
    with anyio.fail_after(120):
        async with TRANSPORTS[transport](tmp_path) as client:
            avatar = data(await client.call_tool("list_avatars", {"source": "official", "size": 1}))["avatars"][0]
            base = {"avatar_id": avatar["avatar_id"], "text": "Hello there.", "voice_id": "en-US-female-1"}
            colour = await refusal(client, "create_talking_video", {**base, "background": "purple-ish"})
            framing = {"avatar_id": avatar["avatar_id"], "background": "purple-ish"}
            preview = await refusal(client, "preview_video_layout", framing)
            relative = await refusal(client, "create_avatar", {"video_url": "photo.jpg", "avatar_id": "Rel1"})
            missing = await refusal(client, "create_avatar", {"video_url": "/nowhere/me.png", "avatar_id": "Gone1"})
            unknown = await refusal(client, "get_video_status", {"video_id": "nope"})
            hook = await refusal(client, "create_talking_video", {**base, "webhook_url": "http://127.0.0.1:9/hook"})
            speech = {k: v for k, v in base.items() if k != "avatar_id"}
            private = await refusal(client, "create_talking_video", {**speech, "avatar_url": "http://127.0.0.1/me.png"})
            old_name = await refusal(client, "get_avatar", {"id": avatar["avatar_id"]})
            by_avatar_id = data(await client.call_tool("get_avatar", {"avatar_id": avatar["avatar_id"]}))
            by_record_id = data(await client.call_tool("get_avatar", {"avatar_id": avatar["record_id"]}))
            tools = {t.name: t for t in (await client.list_tools()).tools}
    for said in (colour, preview):
        assert "background: 'purple-ish' is not a colour or a picture" in said and "#1E90FF" in said
        assert "colour name (" in said and "image link" in said
    if over_stdio_:
        assert "'photo.jpg' is neither a link nor a full file path" in relative and "/home/you/photo.jpg" in relative
        assert "there is no file at /nowhere/me.png" in missing
    else:  # over HTTP the server cannot read the user's files, and says so
        assert "'photo.jpg' is not a link: give the http(s) link" in relative
        assert "is a file on your computer, which this server" in missing and "https link" in missing
    assert "video_id" in unknown and "nope" in unknown and "list_videos" in unknown
    assert "webhook_url" in hook and "private" in hook and "local engine" in hook
    assert "avatar_url" in private and "private, loopback or link-local" in private
    assert "get_avatar does not take id" in old_name and "avatar_id" in old_name
    assert by_avatar_id["avatar"]["avatar_id"] == by_record_id["avatar"]["avatar_id"] == avatar["avatar_id"]
    annotations = tools["get_video_status"].annotations
    assert annotations is not None and not annotations.read_only_hint  # it writes the finished MP4


async def test_over_stdio_an_upload_is_checked_followed_to_ready_and_can_be_replaced_or_deleted(
    tmp_path: Path, face_photo: Path
) -> None:
    wall = tmp_path / "wall.png"
    cv2.imwrite(str(wall), np.full((400, 300, 3), 200, np.uint8))
    with anyio.fail_after(120):
        async with over_stdio(tmp_path) as client:
            passwd = await refusal(client, "create_avatar", {"video_url": "/etc/passwd", "avatar_id": "Passwd1"})
            ready = data(await client.call_tool("create_avatar", {"video_url": str(face_photo), "avatar_id": "Me1"}))
            taken = await refusal(client, "create_avatar", {"video_url": str(face_photo), "avatar_id": "Me1"})
            failed = data(await client.call_tool("create_avatar", {"video_url": str(wall), "avatar_id": "Wall1"}))
            reused = data(await client.call_tool("create_avatar", {"video_url": str(face_photo), "avatar_id": "Wall1"}))
            deleted = data(await client.call_tool("delete_avatar", {"avatar_id": "Me1"}))
            gone = await refusal(client, "get_avatar", {"avatar_id": "Me1"})
            builtin = await refusal(client, "delete_avatar", {"avatar_id": "local_amara"})
            again = data(await client.call_tool("create_avatar", {"video_url": str(face_photo), "avatar_id": "Me1"}))
    assert "/etc/passwd is a text file, not a picture or video" in passwd
    assert ready["ready"] and ready["next_step"].startswith("Ready: pass avatar_id='Me1'")  # no "call again"
    assert "'Me1' is already one of your avatars" in taken and "delete_avatar" in taken
    assert failed["avatar"]["status"] == "failed" and "can be used again" in failed["next_step"]
    assert reused["ready"] and reused["avatar"]["avatar_id"] == "Wall1"
    assert deleted["avatar_id"] == "Me1" and "free for create_avatar again" in deleted["next_step"]
    assert "no avatar has the avatar_id or record_id 'Me1'" in gone
    assert "built-in avatar" in builtin
    assert again["ready"]
