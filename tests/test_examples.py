"""Every file in examples/ is run here as a user would run it: the configurations start real servers."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Generator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from tests.support import stop_server

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
BIN = Path(sys.executable).parent  # where `akool-mcp` is installed beside this Python


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AKOOL_")}
    env.update({"AKOOL_DATA_DIR": str(tmp_path / "data"), "AKOOL_OUTPUT_DIR": str(tmp_path / "videos"), **extra})
    env.setdefault("AKOOL_LOG_LEVEL", "WARNING")
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _is_mp4(path: Path) -> bool:
    head = path.read_bytes()[:12]
    return len(head) == 12 and head[4:8] == b"ftyp"


def _config(name: str) -> dict[str, Any]:
    servers: dict[str, Any] = json.loads((EXAMPLES / name).read_text())["mcpServers"]
    return servers


def test_the_examples_folder_holds_what_the_readme_points_to() -> None:
    names = {p.name for p in EXAMPLES.iterdir()}
    assert {"claude_desktop_config.json", "http_client_config.json", "make_video.py", "local_engine_http.sh"} <= names
    readme = (EXAMPLES.parent / "README.md").read_text()
    assert all(f"examples/{name}" in readme for name in ("claude_desktop_config.json", "make_video.py"))


@pytest.mark.anyio
@pytest.mark.parametrize("name", ["akool-local", "akool"])
async def test_each_claude_desktop_server_starts_over_stdio_and_lists_the_tools(name: str, tmp_path: Path) -> None:
    entry = _config("claude_desktop_config.json")[name]
    env = {key: ("k" * 24 if value.startswith("<") else value) for key, value in entry.get("env", {}).items()}
    command = str(BIN / entry["command"])
    params = StdioServerParameters(command=command, args=entry.get("args", []), env=_env(tmp_path, **env))
    with anyio.fail_after(60):
        async with Client(params) as client:
            tools = {t.name for t in (await client.list_tools()).tools}
            instructions = client.instructions or ""
    assert {"list_avatars", "create_talking_video", "get_video_status"} <= tools
    if name == "akool":
        assert "bill" in instructions.lower()  # the cloud backend warns about paid calls
    else:
        assert "local engine" in instructions.lower()


@contextmanager
def _serving_http(tmp_path: Path, token: str) -> Generator[int]:
    port = _free_port()
    proc = subprocess.Popen(
        [str(BIN / "akool-mcp"), "serve", "--transport", "streamable-http", "--port", str(port)],
        env=_env(tmp_path, AKOOL_MCP_TOKEN=token, AKOOL_BACKEND="local", AKOOL_LOG_LEVEL="INFO"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        for line in proc.stderr:  # uvicorn says when it listens: no polling
            if "Uvicorn running" in line or "Application startup complete" in line:
                break
        else:
            raise AssertionError(f"the server exited early with {proc.wait()}")
        yield port
    finally:
        stop_server(proc)
        if proc.stderr is not None:
            proc.stderr.close()


@pytest.mark.anyio
async def test_the_http_client_configuration_reaches_a_server_that_requires_its_bearer_token(tmp_path: Path) -> None:
    entry = _config("http_client_config.json")["akool"]
    url = httpx2.URL(entry["url"])
    assert (url.host, url.path) == ("127.0.0.1", "/mcp")
    token = "example-token-0123456789abcdef"
    headers = {k: v.replace("<AKOOL_MCP_TOKEN>", token) for k, v in entry["headers"].items()}
    with _serving_http(tmp_path, token) as port:
        endpoint = str(url.copy_with(port=port))
        with anyio.fail_after(60):
            async with httpx2.AsyncClient(timeout=30) as bare:
                refused = await bare.post(endpoint, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
            async with (
                httpx2.AsyncClient(headers=headers, timeout=30) as http,
                Client(streamable_http_client(endpoint, http_client=http)) as client,
            ):
                tools = {t.name for t in (await client.list_tools()).tools}
    assert refused.status_code == 401
    assert "create_talking_video" in tools


@pytest.mark.slow
def test_the_python_example_makes_and_saves_a_video(tmp_path: Path) -> None:
    out = tmp_path / "hello.mp4"
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "make_video.py"), "--text", "Hi.", "--out", str(out)],
        env=_env(tmp_path, AKOOL_BACKEND="local"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert f"saved {out}" in result.stdout
    assert _is_mp4(out)


@pytest.mark.slow
def test_the_shell_example_drives_the_local_engine_over_http_and_verifies_its_webhooks(tmp_path: Path) -> None:
    out = tmp_path / "engine.mp4"
    env = _env(tmp_path, PORT=str(_free_port()), HOOK_PORT=str(_free_port()))
    result = subprocess.run(
        ["bash", str(EXAMPLES / "local_engine_http.sh"), str(out), "Hi."],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    verified = [line for line in result.stdout.splitlines() if line.startswith("webhook verified:")]
    assert any(" status 3 url http://127.0.0.1:" in line for line in verified), result.stdout
    assert _is_mp4(out)
