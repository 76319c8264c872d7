"""The real `akool-mcp` process: over stdio with the SDK client, and over streamable HTTP on a socket."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import AsyncGenerator, Generator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.sse import sse_client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from tests.support import data, server_env, stop_server

pytestmark = pytest.mark.anyio

TOKEN = "mcp-test-token-5f1e2d3c4b5a"


async def test_stdio_process_answers_tools_and_keeps_stdout_for_the_protocol(tmp_path: Path) -> None:
    params = StdioServerParameters(command=sys.executable, args=["-m", "akool_mcp"], env=server_env(tmp_path))
    with anyio.fail_after(60):
        async with Client(params) as client:
            tools = {t.name for t in (await client.list_tools()).tools}
            voices = data(await client.call_tool("list_voices", {"language": "en"}))
    assert {"list_avatars", "create_talking_video", "get_video_status"} <= tools
    assert voices["backend"] == "local" and voices["voices"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _serving(tmp_path: Path, *args: str, **env: str) -> Generator[tuple[subprocess.Popen[str], int]]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "akool_mcp", *args, "--port", str(port)],
        env=server_env(tmp_path, **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield proc, port
    finally:
        stop_server(proc)
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()


def _wait_until_listening(proc: subprocess.Popen[str]) -> None:
    """Read the server's log until uvicorn says it is up (no polling, no sleeps)."""
    assert proc.stderr is not None
    for line in proc.stderr:
        if "Uvicorn running on" in line or "Application startup complete" in line:
            return
    raise AssertionError(f"server exited early with {proc.wait()}")


@asynccontextmanager
async def _http_client(port: int, token: str | None) -> AsyncGenerator[Client]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=30) as http,
        Client(streamable_http_client(f"http://127.0.0.1:{port}/mcp", http_client=http)) as client,
    ):
        yield client


async def test_streamable_http_with_a_token_serves_only_authorised_clients(tmp_path: Path) -> None:
    with _serving(tmp_path, "serve", "--transport", "streamable-http", AKOOL_MCP_TOKEN=TOKEN) as (proc, port):
        await anyio.to_thread.run_sync(_wait_until_listening, proc)
        with anyio.fail_after(60):
            async with httpx2.AsyncClient() as raw:
                refused = await raw.post(
                    f"http://127.0.0.1:{port}/mcp",
                    json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                    headers={"Authorization": "Bearer wrong"},
                )
            async with _http_client(port, TOKEN) as client:
                tools = {t.name for t in (await client.list_tools()).tools}
                voices = data(await client.call_tool("list_voices", {}))
    assert refused.status_code == 401
    assert "get_video_status" in tools and voices["total"] > 0


async def test_streamable_http_without_a_token_serves_loopback_clients(tmp_path: Path) -> None:
    with _serving(tmp_path, "serve", "--transport", "streamable-http") as (proc, port):
        await anyio.to_thread.run_sync(_wait_until_listening, proc)
        with anyio.fail_after(60):
            async with _http_client(port, None) as client:
                tools = {t.name for t in (await client.list_tools()).tools}
            async with httpx2.AsyncClient() as raw:
                foreign = await raw.post(
                    f"http://127.0.0.1:{port}/mcp",
                    json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                    headers={"Host": "evil.example", "Accept": "application/json, text/event-stream"},
                )
    assert "list_avatars" in tools
    assert foreign.status_code in (400, 403, 421)


def _run_cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "akool_mcp", *args],
        env=server_env(tmp_path, **env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_binding_a_public_interface_without_a_token_refuses_to_start(tmp_path: Path) -> None:
    result = _run_cli(tmp_path, "serve", "--transport", "streamable-http", "--host", "0.0.0.0")  # noqa: S104
    assert result.returncode == 2
    assert "AKOOL_MCP_TOKEN" in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""


def test_a_malformed_configuration_is_reported_clearly(tmp_path: Path) -> None:
    result = _run_cli(tmp_path, AKOOL_BACKEND="cloud")
    assert result.returncode == 2
    assert "AKOOL_BACKEND" in result.stderr and "Traceback" not in result.stderr


def test_akool_backend_without_credentials_is_refused_at_start(tmp_path: Path) -> None:
    result = _run_cli(tmp_path, AKOOL_BACKEND="akool")
    assert result.returncode == 2 and "AKOOL_API_KEY" in result.stderr


async def test_sse_serves_successive_connections_from_one_backend(tmp_path: Path) -> None:
    with _serving(tmp_path, "serve", "--transport", "sse") as (proc, port):
        await anyio.to_thread.run_sync(_wait_until_listening, proc)
        totals: list[int] = []
        avatars: list[dict[str, Any]] = []
        with anyio.fail_after(60):
            for _ in range(2):
                async with Client(sse_client(f"http://127.0.0.1:{port}/sse")) as client:
                    totals.append(data(await client.call_tool("list_voices", {"size": 2}))["total"])
                    avatars = data(await client.call_tool("list_avatars", {"size": 1}))["avatars"]
            async with httpx2.AsyncClient() as raw:
                thumbnail = await raw.get(avatars[0]["thumbnail_url"])
    assert totals[0] == totals[1] > 0
    # The SSE app serves the engine's files too, at links built from the bound address.
    assert avatars[0]["thumbnail_url"].startswith(f"http://127.0.0.1:{port}/media/files/")
    assert thumbnail.status_code == 200 and thumbnail.headers["content-type"] == "image/png"


def test_stdout_carries_only_json_rpc_in_stdio_mode(tmp_path: Path) -> None:
    messages: list[dict[str, Any]] = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize",
         "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
        {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "list_voices", "arguments": {}}},
    ]  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "akool_mcp"],
        env=server_env(tmp_path, AKOOL_LOG_LEVEL="DEBUG"),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    answered: set[int] = set()
    lines: list[str] = []
    for message in messages:
        proc.stdin.write(json.dumps(message) + "\n")
        proc.stdin.flush()
        while "id" in message and message["id"] not in answered:
            line = proc.stdout.readline()
            assert line, "the server closed stdout"
            lines.append(line)
            answered.add(json.loads(line).get("id"))
    proc.stdin.close()  # EOF: the server shuts down
    assert proc.stderr is not None
    lines.extend(proc.stdout.read().splitlines(keepends=True))
    errors = proc.stderr.read()
    proc.wait(timeout=60)
    proc.stdout.close()
    proc.stderr.close()
    assert all(json.loads(line)["jsonrpc"] == "2.0" for line in lines if line.strip())
    assert "backend.ready" in errors  # the logs went to stderr


async def _render_a_short_video(client: Client) -> dict[str, Any]:
    avatars = data(await client.call_tool("list_avatars", {"source": "official", "size": 1}))["avatars"]
    voices = data(await client.call_tool("list_voices", {"language": "en", "size": 1}))["voices"]
    created = data(
        await client.call_tool(
            "create_talking_video",
            {"avatar_id": avatars[0]["avatar_id"], "text": "Hi.", "voice_id": voices[0]["voice_id"]},
        )
    )
    while True:
        status = data(await client.call_tool("get_video_status", {"video_id": created["video_id"], "wait_seconds": 20}))
        if status["done"]:
            return {"status": status, "avatars": avatars}


@pytest.mark.slow
async def test_over_streamable_http_the_finished_video_opens_from_its_signed_link_with_ranges(
    tmp_path: Path,
) -> None:
    env = {"AKOOL_MCP_TOKEN": TOKEN, "AKOOL_RENDER_PRESET": "ultrafast"}
    with _serving(tmp_path, "serve", "--transport", "streamable-http", **env) as (proc, port):
        await anyio.to_thread.run_sync(_wait_until_listening, proc)
        with anyio.fail_after(180):
            async with _http_client(port, TOKEN) as client:
                made = await _render_a_short_video(client)
                again = data(await client.call_tool("get_video_status", {"video_id": made["status"]["video_id"]}))
            status, avatars = made["status"], made["avatars"]
            url = status["video_url"]
            async with httpx2.AsyncClient(timeout=30) as raw:
                # What a <video> element or a person's click sends: no header at all.
                ranged = await raw.get(url, headers={"Range": "bytes=0-99"})
                thumbnail = await raw.get(avatars[0]["thumbnail_url"])
                unsigned = await raw.get(url.split("?")[0], headers={"Authorization": f"Bearer {TOKEN}"})
                outside = await raw.get(f"http://127.0.0.1:{port}/media/videos/..%2F..%2Fdata%2Fengine.sqlite3")
    assert status["status"] == "completed" and "file_path" not in status  # never a path on the server's disk
    assert url.startswith(f"http://127.0.0.1:{port}/media/videos/") and ".mp4?expires=" in url
    assert again["video_url"].split("?")[0] == url.split("?")[0]
    assert ranged.status_code == 206 and len(ranged.content) == 100 and ranged.content[4:8] == b"ftyp"
    assert ranged.headers["content-type"] == "video/mp4"
    assert thumbnail.status_code == 200 and thumbnail.headers["content-type"] == "image/png"
    assert avatars[0]["thumbnail_url"].startswith(f"http://127.0.0.1:{port}/media/files/")
    assert unsigned.status_code == 403 and "not signed" in unsigned.text  # the token does not stand in for it
    assert outside.status_code == 403
    assert (tmp_path / "videos").is_dir() and any((tmp_path / "videos").glob("*.mp4"))


async def test_list_videos_over_stdio_remembers_videos_across_a_restart(tmp_path: Path) -> None:
    params = StdioServerParameters(command=sys.executable, args=["-m", "akool_mcp"], env=server_env(tmp_path))
    with anyio.fail_after(90):
        async with Client(params) as client:
            avatars = data(await client.call_tool("list_avatars", {"source": "official", "size": 1}))["avatars"]
            made = data(
                await client.call_tool(
                    "create_talking_video",
                    {"avatar_id": avatars[0]["avatar_id"], "text": "Remember me.", "voice_id": "en-US-female-1"},
                )
            )
        async with Client(params) as client:
            listed = data(await client.call_tool("list_videos", {}))
    assert [v["video_id"] for v in listed["videos"]] == [made["video_id"]]
    assert listed["videos"][0]["summary"] == "Remember me." and listed["videos"][0]["backend"] == "local"
