"""Tools are built when first used, and a kept tools/list answer spares a restart from building them."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.server.mcpserver.tools.base import Tool

from akool_mcp.server import build_server, toolcache
from akool_mcp.server.surface import AkoolServer
from akool_mcp.server.toolcache import KEPT_ANSWERS, ToolListCache
from tests.support import cloud_settings, text

pytestmark = pytest.mark.anyio


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the tools the SDK builds."""
    built: list[str] = []
    real = Tool.from_function.__func__  # type: ignore[attr-defined]

    def counting(cls: type[Tool], fn: Any, *args: Any, **kwargs: Any) -> Tool:
        tool = real(cls, fn, *args, **kwargs)
        built.append(tool.name)
        return tool

    monkeypatch.setattr(Tool, "from_function", classmethod(counting))
    return built


def server(data_dir: Path, **settings: Any) -> AkoolServer:
    transport = httpx2.MockTransport(lambda request: httpx2.Response(500))
    made = build_server(cloud_settings(data_dir=data_dir, **settings), transport=transport)
    assert isinstance(made, AkoolServer)
    return made


async def listing(made: AkoolServer) -> list[dict[str, Any]]:
    async with Client(made) as client:
        return [tool.model_dump(mode="json", by_alias=True) for tool in (await client.list_tools()).tools]


async def test_a_restart_lists_the_same_tools_without_building_any(tmp_path: Path, builds: list[str]) -> None:
    first = await listing(server(tmp_path))
    assert len(builds) == len(first) >= 10  # the first start builds them all once
    builds.clear()
    again = await listing(server(tmp_path))
    assert again == first
    assert builds == []


async def test_a_tool_answered_from_the_kept_list_is_built_when_called_and_checks_arguments_alike(
    tmp_path: Path, builds: list[str]
) -> None:
    await listing(server(tmp_path / "fresh"))
    async with Client(server(tmp_path / "fresh")) as kept, Client(server(tmp_path / "other")) as fresh:
        await kept.list_tools()
        builds.clear()
        listed = await kept.call_tool("list_videos", {})
        wrong = await kept.call_tool("save_video", {"video_id": "v1", "colour": "red"})
        expected = await fresh.call_tool("save_video", {"video_id": "v1", "colour": "red"})
    assert not listed.is_error, text(listed)
    assert builds[:2] == ["list_videos", "save_video"]
    assert wrong.is_error and text(wrong) == text(expected)
    assert "does not take colour" in text(wrong)


async def test_what_the_tools_are_made_from_changes_the_answer(tmp_path: Path) -> None:
    first = server(tmp_path)
    await listing(first)
    second = server(tmp_path)

    @second.tool(description="A tool that was not there before.")
    def ping(x: int) -> int:  # pyright: ignore[reportUnusedFunction]
        return x

    names = [tool["name"] for tool in await listing(second)]
    assert names[-1] == "ping"
    kept = list((tmp_path / "cache").glob("tools-*.json"))
    assert len(kept) == 2


async def test_a_damaged_kept_answer_is_ignored_and_replaced(tmp_path: Path, builds: list[str]) -> None:
    first = await listing(server(tmp_path))
    (kept,) = (tmp_path / "cache").glob("tools-*.json")
    kept.write_text('{"fingerprint": "')
    builds.clear()
    assert await listing(server(tmp_path)) == first
    assert len(builds) == len(first)
    assert json.loads(kept.read_text())["fingerprint"] in kept.name


async def test_an_unwritable_cache_folder_only_costs_speed(tmp_path: Path) -> None:
    (tmp_path / "cache").write_text("a file where the folder should be")
    assert await listing(server(tmp_path)) == await listing(server(tmp_path / "elsewhere"))


def test_a_changed_source_file_changes_the_fingerprint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "tools.py"
    source.write_text("x = 1\n")
    monkeypatch.setattr(toolcache, "_PACKAGE", tmp_path)
    before = toolcache.fingerprint([], [])
    assert toolcache.fingerprint([], []) == before
    source.write_text("x = 22\n")
    assert toolcache.fingerprint([], []) != before
    after = toolcache.fingerprint([], [])
    stat = source.stat()
    os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert toolcache.fingerprint([], []) != after
    assert toolcache.fingerprint([], [["described", "otherwise"]]) != toolcache.fingerprint([], [])


def test_only_the_newest_answers_are_kept(tmp_path: Path) -> None:
    cache = ToolListCache(tmp_path)
    for n in range(KEPT_ANSWERS + 3):
        cache.store(f"key{n}", [])
        path = tmp_path / f"tools-key{n}.json"
        os.utime(path, ns=(n * 10**9, n * 10**9))
    kept = sorted(path.name for path in tmp_path.glob("tools-*.json"))
    assert len(kept) == KEPT_ANSWERS
    assert f"tools-key{KEPT_ANSWERS + 2}.json" in kept
    assert cache.load(f"key{KEPT_ANSWERS + 2}") == []
    assert cache.load("key0") is None
