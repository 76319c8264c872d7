"""The player over the protocol: bound tools, the `ui://` resource, its CSP, and nothing else changed."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from akool_mcp.config import Settings
from akool_mcp.server import build_server
from akool_mcp.server.apps import PLAYER_URI
from tests.fakes.akool import FakeAkool
from tests.support import FakeClock, cloud_settings, make_settings

pytestmark = pytest.mark.anyio

APP_MIME = "text/html;profile=mcp-app"


def local(tmp_path: Path, **values: Any) -> Settings:
    return make_settings({"backend": "local", "data_dir": tmp_path / "d", "output_dir": tmp_path / "o", **values})


async def test_the_status_and_avatar_tools_point_at_the_player_and_the_others_do_not(tmp_path: Path) -> None:
    async with Client(build_server(local(tmp_path))) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    bound = {name for name, tool in tools.items() if (tool.meta or {}).get("ui")}
    assert bound == {"get_video_status", "list_avatars"}
    for name in bound:
        assert (tools[name].meta or {})["ui"] == {"resourceUri": PLAYER_URI}


@pytest.mark.parametrize(
    ("media_base", "allowed"),
    [
        (None, []),
        ("http://127.0.0.1:8765", ["http://127.0.0.1:8765"]),
        ("https://me.example/mcp", ["https://me.example"]),
    ],
)
async def test_the_player_resource_is_an_mcp_app_allowed_only_this_servers_files(
    tmp_path: Path, media_base: str | None, allowed: list[str]
) -> None:
    async with Client(build_server(local(tmp_path), media_base=media_base)) as client:
        contents = (await client.read_resource(PLAYER_URI)).contents
    (item,) = contents
    assert item.mime_type == APP_MIME
    html = getattr(item, "text", "")
    assert html.startswith("<!DOCTYPE html>") and "ui/initialize" in html
    assert f'<meta name="akool-media-base" content="{(media_base or "").rstrip("/")}">' in html
    csp = (item.meta or {})["ui"]["csp"]
    assert csp["resourceDomains"] == allowed and csp["connectDomains"] == []


def test_the_player_html_loads_nothing_from_outside_itself() -> None:
    from akool_mcp.server.apps import player_html

    html = player_html("http://127.0.0.1:8765")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html, re.I)
    for needle in ("<script src", "<link", "@import", "url(", "fetch(", "XMLHttpRequest", "WebSocket"):
        assert needle not in html


async def test_the_server_advertises_the_apps_extension_and_results_stay_as_they_were() -> None:
    fake = FakeAkool()
    server = build_server(cloud_settings(), transport=fake.transport(), resolver=fake.resolve, clock=FakeClock())
    async with Client(server) as client:
        capabilities = client.server_capabilities
        listed = await client.call_tool("list_avatars", {})
    extensions = capabilities.extensions or {}
    assert "io.modelcontextprotocol/ui" in extensions
    # A client that did not negotiate Apps reads the same text and structured content as before.
    assert not listed.is_error and listed.structured_content is not None
    assert [block.type for block in listed.content] == ["text"]
    assert set(listed.structured_content) == {"backend", "avatars", "total", "page", "size", "has_more"}
