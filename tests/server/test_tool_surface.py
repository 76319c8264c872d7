"""The tool surface a model reads: its size, its words per backend, and a snapshot that changes on purpose."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, cast

import pytest
from mcp import Client

from akool_mcp.server import build_server
from tests.support import make_settings

pytestmark = pytest.mark.anyio

SNAPSHOTS = Path(__file__).parent / "snapshots"
# Characters of compact JSON for every tool: a model pays for them in every conversation. 12,000 held ten
# tools; create_video_from_script adds about 2,000 (its scene fields are described once, in its description).
BUDGET = 14_000
EXPECTED = {
    "list_avatars",
    "create_avatar",
    "get_avatar",
    "create_talking_video",
    "get_video_status",
    "list_voices",
    "list_videos",
    "save_video",
    "get_credit",
    "preview_video_layout",
    "create_video_from_script",
}


async def listed_tools(backend: str, tmp_path: Path) -> list[dict[str, Any]]:
    values: dict[str, Any] = {"backend": backend, "data_dir": tmp_path / "d", "output_dir": tmp_path / "o"}
    if backend == "akool":
        values["api_key"] = "test-api-key-0123456789"
    async with Client(build_server(make_settings(values))) as client:
        tools = (await client.list_tools()).tools
    return [tool.model_dump(mode="json", by_alias=True, exclude_none=True) for tool in tools]


@pytest.mark.parametrize("backend", ["akool", "local"])
async def test_tools_list_fits_the_budget_and_matches_its_snapshot(backend: str, tmp_path: Path) -> None:
    tools = await listed_tools(backend, tmp_path)
    compact = json.dumps(tools, separators=(",", ":"))
    # Akool's API cannot delete avatars; the local engine can.
    assert {t["name"] for t in tools} == EXPECTED | ({"delete_avatar"} if backend == "local" else set())
    assert len(compact) <= BUDGET, len(compact)
    snapshot = SNAPSHOTS / f"tools_list_{backend}.json"
    shown = json.dumps(tools, indent=1, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        snapshot.write_text(shown)
    assert shown == snapshot.read_text(), "tools/list changed: review it, then run with UPDATE_SNAPSHOTS=1"


@pytest.mark.parametrize("backend", ["akool", "local"])
async def test_descriptions_are_dedented_and_mention_billing_only_on_akool(backend: str, tmp_path: Path) -> None:
    tools = {t["name"]: t for t in await listed_tools(backend, tmp_path)}
    for tool in tools.values():
        assert "\n " not in tool["description"], tool["name"]
    billed = {name for name, tool in tools.items() if "bill" in tool["description"].lower()}
    if backend == "akool":
        assert billed >= {"create_talking_video", "create_avatar"}
    else:
        assert billed == set()
        assert "free" in tools["get_credit"]["description"]


async def test_local_paths_are_offered_only_where_the_server_runs_on_the_users_machine(tmp_path: Path) -> None:
    tools = {t["name"]: t for t in await listed_tools("local", tmp_path)}
    avatar_url = tools["create_talking_video"]["inputSchema"]["properties"]["avatar_url"]["description"]
    assert "local file path" in avatar_url
    cloud = {t["name"]: t for t in await listed_tools("akool", tmp_path)}
    assert "local file" not in cloud["create_talking_video"]["inputSchema"]["properties"]["avatar_url"]["description"]


async def test_the_limits_are_in_the_schema(tmp_path: Path) -> None:
    tools = {t["name"]: t for t in await listed_tools("akool", tmp_path)}
    properties = tools["create_talking_video"]["inputSchema"]["properties"]
    assert properties["text"]["maxLength"] == 5000 and "10 minutes" in properties["text"]["description"]
    assert properties["avatar_scale"]["maximum"] == 4


@pytest.mark.parametrize("backend", ["akool", "local"])
async def test_the_instructions_mention_billing_only_on_akool(backend: str, tmp_path: Path) -> None:
    values: dict[str, Any] = {"backend": backend, "data_dir": tmp_path / "d", "output_dir": tmp_path / "o"}
    if backend == "akool":
        values["api_key"] = "test-api-key-0123456789"
    async with Client(build_server(make_settings(values))) as client:
        instructions = client.instructions or ""
    assert ("bill" in instructions.lower()) == (backend == "akool")
    assert "preview_video_layout" in instructions and "file_path" in instructions


def _types(schema: Any, where: str) -> list[tuple[str, Any]]:
    """Every `type` in a JSON schema, with where it is."""
    found: list[tuple[str, Any]] = []
    if isinstance(schema, dict):
        for key, value in cast(dict[str, Any], schema).items():
            if key == "type":
                found.append((where, value))
            found += _types(value, f"{where}.{key}")
    elif isinstance(schema, list):
        for index, item in enumerate(cast(list[Any], schema)):
            found += _types(item, f"{where}[{index}]")
    return found


@pytest.mark.parametrize("backend", ["akool", "local"])
async def test_every_schema_gives_each_field_one_type_as_inspector_strict_asks(backend: str, tmp_path: Path) -> None:
    for tool in await listed_tools(backend, tmp_path):
        for part in ("inputSchema", "outputSchema"):
            arrays = [
                where for where, value in _types(tool.get(part), f"{tool['name']}.{part}") if not isinstance(value, str)
            ]
            assert arrays == [], arrays  # `type: [X, "null"]` is legal but not portable
