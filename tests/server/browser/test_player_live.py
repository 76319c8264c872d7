"""The player with the real server over stdio's rules: a real render's results, and the resources it reads.

The MCP server runs in process on the local engine (no web address, so the player reads the MP4, the poster
and the thumbnails as resources); the AppBridge host hands the player's `resources/read` to the test, which
asks the server and answers (test_player_in_host.py has the host's own client over streamable HTTP).
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from mcp import Client
from playwright.sync_api import Browser, Page
from tests.server.browser.test_player import DECODED_FRAME, opened, shot, show
from tests.support import make_settings

from akool_mcp.server import build_server
from akool_mcp.server.apps import PLAYER_URI

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Generator[tuple[BlockingPortal, Client]]:
    root = tmp_path_factory.mktemp("live")
    settings = make_settings(
        {"backend": "local", "data_dir": root / "d", "output_dir": root / "o", "render_preset": "ultrafast"}
    )
    with start_blocking_portal() as portal, portal.wrap_async_context_manager(Client(build_server(settings))) as client:
        yield portal, client


def call(portal: BlockingPortal, client: Client, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    result = portal.call(client.call_tool, name, arguments)
    assert not result.is_error, result
    dumped: dict[str, Any] = result.model_dump(mode="json", by_alias=True, exclude_none=True)
    return dumped


def serve_reads(page: Page, portal: BlockingPortal, client: Client, count: int, start: int = 0) -> list[str]:
    """Answer the player's resources/read requests `start`.. `start + count - 1` from the real server."""
    uris: list[str] = []
    for index in range(start, start + count):
        page.wait_for_function(f"record.reads.length > {index}", timeout=20_000)
        uri = page.evaluate(f"record.reads[{index}].uri")
        read = portal.call(client.read_resource, uri)
        page.evaluate(
            "(r) => answer('resources/read', r)", read.model_dump(mode="json", by_alias=True, exclude_none=True)
        )
        uris.append(uri)
    return uris


def test_a_real_render_plays_in_the_player_and_its_avatars_show(
    browser: Browser,
    site: str,
    server: tuple[BlockingPortal, Client],
    tmp_path: Path,
) -> None:
    portal, client = server
    html = portal.call(client.read_resource, PLAYER_URI).contents[0]
    assert getattr(html, "text", "").startswith("<!DOCTYPE html>")
    avatars = call(portal, client, "list_avatars", {"source": "official"})
    voice = call(portal, client, "list_voices", {"language": "en"})["structuredContent"]["voices"][0]["voice_id"]
    first = avatars["structuredContent"]["avatars"][0]
    created = call(
        portal,
        client,
        "create_talking_video",
        {"avatar_id": first["avatar_id"], "text": "Hello there.", "voice_id": voice, "background": "#2B5F8E"},
    )
    video_id = created["structuredContent"]["video_id"]
    status: dict[str, Any] = {}
    for _ in range(10):
        status = call(portal, client, "get_video_status", {"video_id": video_id, "wait_seconds": 30})
        if status["structuredContent"]["done"]:
            break
    assert status["structuredContent"]["status"] == "completed"

    page, app = opened(browser, site)
    show(page, {"video_id": video_id}, status)
    thumbnail, video = serve_reads(page, portal, client, 2)
    assert thumbnail == f"akool://avatars/{first['avatar_id']}/thumbnail"
    assert video.startswith("akool://videos/") and video.endswith("video.mp4")
    app.locator("#avatar-thumb[src^='data:image/']").wait_for()
    assert app.locator("#player").evaluate(DECODED_FRAME)["width"] == 3840
    shot(page, "live-playing", tmp_path)

    show(page, {"source": "official"}, avatars)
    listed = len(avatars["structuredContent"]["avatars"])
    uris = serve_reads(page, portal, client, listed, start=2)
    assert all(u.startswith("akool://avatars/") and u.endswith("/thumbnail") for u in uris)
    loaded = app.locator(".pick img[src^='data:image/']")
    loaded.nth(listed - 1).wait_for()
    shot(page, "live-gallery", tmp_path)
    page.close()
