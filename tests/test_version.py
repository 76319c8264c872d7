"""One version, read from the package metadata: `--version`, the server info and every User-Agent."""

from __future__ import annotations

import tomllib
from pathlib import Path

import httpx2
import pytest
from mcp import Client

from akool_mcp import __version__, user_agent
from akool_mcp.cli import main
from akool_mcp.media.fetch import FetchPolicy, fetch_media
from akool_mcp.media.transport import GuardedTransport
from akool_mcp.server import build_server
from tests.fakes.akool import FakeAkool
from tests.support import FakeClock, cloud_settings

# The version is written once, in pyproject.toml; everything else must agree with it.
INSTALLED = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())["project"]["version"]


def test_the_package_version_is_the_one_in_pyproject() -> None:
    assert __version__ == INSTALLED
    assert user_agent() == f"akool-mcp/{INSTALLED}"
    assert user_agent("local engine; webhook") == f"akool-mcp/{INSTALLED} (local engine; webhook)"


def test_the_command_prints_the_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"akool-mcp {INSTALLED}"


@pytest.mark.anyio
async def test_the_server_info_and_the_client_user_agent_carry_the_version() -> None:
    fake = FakeAkool()
    server = build_server(cloud_settings(), transport=fake.transport(), resolver=fake.resolve, clock=FakeClock())
    async with Client(server) as client:
        assert client.server_info is not None
        assert client.server_info.version == INSTALLED
        await client.call_tool("list_avatars", {})
    assert fake.requests
    assert {r.headers["user-agent"] for r in fake.requests} == {f"akool-mcp/{INSTALLED}"}


@pytest.mark.anyio
async def test_the_local_engine_fetches_media_with_the_versioned_user_agent(tmp_path: Path) -> None:
    seen: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return httpx2.Response(200, content=b"RIFF0000WAVE", headers={"Content-Type": "audio/wav"})

    async def resolve(host: str, port: int) -> list[str]:
        return ["93.184.215.14"]

    guarded = GuardedTransport(httpx2.MockTransport(handler), resolver=resolve)
    async with httpx2.AsyncClient(transport=guarded) as http:
        await fetch_media("https://media.example.com/a.wav", "audio", tmp_path, policy=FetchPolicy(), client=http)
    (request,) = seen
    assert request.headers["user-agent"] == f"akool-mcp/{INSTALLED} (local engine; media fetch)"
