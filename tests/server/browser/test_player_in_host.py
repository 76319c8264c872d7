"""The player in a real MCP Apps host, end to end: the official host library in Chromium, akool-mcp over
streamable HTTP with a token, a real 4K render.

The host page (apps_host.html, on a different origin than the server, so CORS is what lets it in) connects
with the official MCP client and `Authorization: Bearer`, reads the player from its `ui://` resource, loads
it under the CSP the resource declares and attaches `AppBridge` late; the bridge then forwards the player's
own `tools/call`s to the server. Media are loaded from the server's signed links, with no header at all.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser
from tests.server.browser.test_player import DECODED_FRAME, shot
from tests.support import stop_server

pytestmark = pytest.mark.slow

TOKEN = "apps-host-token-7d1c0e9b2a"
SPEECH = (
    "Hello! This is a talking avatar rendered on your own computer, followed in a real MCP Apps host, "
    "with a progress bar that moves while the video is made."
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(site: str, tmp_path_factory: pytest.TempPathFactory) -> Generator[str]:
    root = tmp_path_factory.mktemp("apps-host")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AKOOL_")}
    env.update(
        {
            "AKOOL_DATA_DIR": str(root / "data"),
            "AKOOL_OUTPUT_DIR": str(root / "videos"),
            "AKOOL_BACKEND": "local",
            "AKOOL_MCP_TOKEN": TOKEN,
            "AKOOL_ALLOWED_ORIGINS": f'["{site}"]',
            "AKOOL_RENDER_PRESET": "ultrafast",
        }
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "akool_mcp", "serve", "--transport", "streamable-http", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    for line in proc.stderr:  # read the log until uvicorn is up: no polling, no sleeps
        if "Uvicorn running on" in line or "Application startup complete" in line:
            break
    else:
        raise AssertionError(f"the server exited early with {proc.wait()}")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_server(proc)
        proc.stderr.close()


def test_in_an_apps_host_the_gallery_picks_the_render_moves_and_the_video_plays(
    browser: Browser, site: str, server: str, tmp_path: Path
) -> None:
    page = browser.new_page(viewport={"width": 480, "height": 1000})
    page.goto(f"{site}/apps_host.html")
    page.evaluate("([url, token]) => startWithServer(url, token, 900)", [f"{server}/mcp", TOKEN])
    page.wait_for_function("record.initialized", timeout=30_000)
    app = page.frame_locator("#view")

    # The gallery: thumbnails from the server's signed links, and a pick that reaches the conversation.
    listed: dict[str, Any] = page.evaluate("show('list_avatars', {source: 'official', size: 6})")
    avatars = listed["structuredContent"]["avatars"]
    assert all("?expires=" in a["thumbnail_url"] and "&signature=" in a["thumbnail_url"] for a in avatars)
    pictures = app.locator(".pick img")
    pictures.nth(len(avatars) - 1).wait_for()
    widths = pictures.evaluate_all("imgs => Promise.all(imgs.map(i => i.decode().then(() => i.naturalWidth)))")
    assert len(widths) == len(avatars) and min(widths) > 0
    shot(page, "host-gallery", tmp_path)
    app.locator(".pick").first.click()
    page.wait_for_function("record.messages.length === 1")
    picked = page.evaluate("record.messages[0]")
    (block,) = picked["content"]
    assert block["type"] == "text" and f"avatar_id {avatars[0]['avatar_id']}" in block["text"]

    # The render: created by the conversation, shown by the player, followed by the player itself.
    voice = page.evaluate("call('list_voices', {language: 'en'})")["structuredContent"]["voices"][0]["voice_id"]
    arguments = {"avatar_id": avatars[0]["avatar_id"], "text": SPEECH, "voice_id": voice, "background": "#2B5F8E"}
    created = page.evaluate("(a) => call('create_talking_video', a)", arguments)
    video_id = created["structuredContent"]["video_id"]
    page.evaluate("(v) => show('get_video_status', {video_id: v, wait_seconds: 0})", video_id)
    bar = app.locator("#progress")
    bar.evaluate(
        """el => { window.seen = [Number(el.getAttribute('aria-valuenow'))];
                   new MutationObserver(() => seen.push(Number(el.getAttribute('aria-valuenow'))))
                     .observe(el, {attributes: true, attributeFilter: ['aria-valuenow']}); }"""
    )
    # Part way (the player's CSP allows no eval, so the wait is a selector, not a script).
    app.locator("#progress:not([aria-valuenow='0']):not([aria-valuenow='100'])").wait_for(timeout=120_000)
    shot(page, "host-rendering", tmp_path)
    player = app.locator("#player")
    player.wait_for(state="visible", timeout=180_000)
    seen: list[float] = bar.evaluate("() => seen")
    moving = [value for value in seen if 0 < value < 100]
    assert len(set(moving)) >= 2 and moving == sorted(moving), seen  # it moved, forward, before Ready
    assert seen[-1] == 100

    # The video: its signed link, a frame decoded at 4K and presented.
    source = player.get_attribute("src") or ""
    assert "/media/videos/" in source and "&signature=" in source
    decoded = player.evaluate(DECODED_FRAME)
    assert (decoded["width"], decoded["height"]) == (3840, 2160) and decoded["frames"] >= 1
    assert app.locator("#status").inner_text() == "Ready"
    page.wait_for_timeout(400)  # a few frames played before the picture is taken (a screenshot, not a wait)
    shot(page, "host-playing", tmp_path)
    # What the official host library gave the view meanwhile: tool results, no progress notifications.
    sent_to_view: list[str] = page.evaluate("record.toView")
    assert "ui/notifications/tool-result" in sent_to_view and "notifications/progress" not in sent_to_view
    page.close()
