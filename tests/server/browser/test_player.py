# PyAV and OpenCV stubs are partly untyped: relax the unknown-type checks here only.
# pyright: reportUnknownMemberType=false, reportUnknownVariableType=false, reportUnknownArgumentType=false
"""The player app in a real browser: headless Chromium loads it in a page that plays the host's part.

The host page (host.html) answers `ui/initialize`, forwards tool results as the protocol says, records
the app's `tools/call` and `ui/message` requests, and lets the test answer the tool calls. Media come
from a loopback HTTP server, as the MCP server's own file URLs would.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from playwright.sync_api import Browser, FrameLocator, Page
from tests.server.browser.conftest import write_clip

from akool_mcp.server.apps import player_html

pytestmark = pytest.mark.slow


SHOTS = Path(os.environ.get("AKOOL_SCREENSHOTS", "")) if os.environ.get("AKOOL_SCREENSHOTS") else None


def opened(browser: Browser, site: str, theme: str = "light") -> tuple[Page, FrameLocator]:
    page = browser.new_page(viewport={"width": 460, "height": 760}, color_scheme=theme)  # type: ignore[arg-type]
    page.goto(f"{site}/host.html")
    page.evaluate("([html, theme]) => loadApp(html, theme)", [player_html(site), theme])
    page.wait_for_function("host.initialized", timeout=10_000)
    return page, page.frame_locator("#view")


def shot(page: Page, name: str, tmp_path: Path) -> None:
    target = (SHOTS or tmp_path) / f"player-{name}.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target))
    assert target.stat().st_size > 1000


def status(video_id: str, state: str, **extra: Any) -> dict[str, Any]:
    return {
        "content": [{"type": "text", "text": f"video {video_id}: {state}"}],
        "structuredContent": {"video_id": video_id, "status": state, **extra},
        "isError": False,
    }


def test_the_progress_bar_follows_the_results_then_the_video_plays(browser: Browser, site: str, tmp_path: Path) -> None:
    page, app = opened(browser, site)
    page.evaluate("notifyApp('ui/notifications/tool-input', {arguments: {video_id: 'v1', wait_seconds: 20}})")
    first = status("v1", "processing", progress_percent=30, elapsed_seconds=3, poster_url=f"{site}/media/poster.jpg")
    page.evaluate("(r) => notifyApp('ui/notifications/tool-result', r)", first)
    bar = app.locator("#progress")
    bar.and_(app.locator("[aria-valuenow='30']")).wait_for()
    assert app.locator("#status").inner_text() == "Rendering"
    page.wait_for_function("host.toolCalls.length === 1")  # the app follows the render itself
    shot(page, "rendering", tmp_path)
    call = page.evaluate("host.toolCalls[0]")
    assert call == {"name": "get_video_status", "arguments": {"video_id": "v1", "wait_seconds": 20}}

    page.evaluate("(r) => answerToolCall(r)", status("v1", "processing", progress_percent=70, elapsed_seconds=6))
    app.locator("#progress[aria-valuenow='70']").wait_for()
    page.wait_for_function("host.toolCalls.length === 2")
    done = status("v1", "completed", progress_percent=100, video_url=f"{site}/media/video.mp4")
    page.evaluate("(r) => answerToolCall(r)", done)
    player = app.locator("#player")
    player.wait_for(state="visible")
    assert player.get_attribute("src") == f"{site}/media/video.mp4"
    decoded = player.evaluate(
        """v => new Promise((resolve, reject) => {
             const timer = setTimeout(() => reject(new Error('no frame decoded')), 15000);
             v.requestVideoFrameCallback((now, meta) => {
               clearTimeout(timer);
               resolve({readyState: v.readyState, width: meta.width, height: meta.height,
                        frames: meta.presentedFrames});
             });
             v.play().catch(() => {});
           })"""
    )
    assert decoded["readyState"] >= 2 and (decoded["width"], decoded["height"]) == (640, 360)
    assert decoded["frames"] >= 1
    assert app.locator("#status").inner_text() == "Ready" and app.locator("#progress[aria-valuenow='100']").count() == 1
    page.wait_for_timeout(300)  # let a few frames play before the picture is taken (a screenshot, not a wait)
    shot(page, "playing", tmp_path)
    assert page.evaluate("host.toolCalls.length") == 2  # a finished video is not polled again
    page.close()


def test_over_stdio_the_video_is_read_as_a_resource_and_plays(browser: Browser, site: str, tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    write_clip(clip, 320, 180, 25)
    page, app = opened(browser, site)
    link = {"type": "resource_link", "uri": "akool://videos/v3/video.mp4", "name": "video", "mimeType": "video/mp4"}
    done = status("v3", "completed", progress=1.0, file_path="/home/me/Videos/akool-mcp/v3.mp4")
    done["content"].append(link)
    page.evaluate("(r) => notifyApp('ui/notifications/tool-result', r)", done)
    page.wait_for_function("host.resourceReads.length === 1")
    assert page.evaluate("host.resourceReads[0]") == {"uri": "akool://videos/v3/video.mp4"}
    blob = base64.b64encode(clip.read_bytes()).decode()
    contents = {"contents": [{"uri": link["uri"], "mimeType": "video/mp4", "blob": blob}]}
    page.evaluate("(r) => answerResourceRead(r)", contents)
    player = app.locator("#player")
    player.wait_for(state="visible")
    width = player.evaluate(
        """v => new Promise((resolve, reject) => {
             const timer = setTimeout(() => reject(new Error('no frame decoded')), 15000);
             v.requestVideoFrameCallback((now, meta) => { clearTimeout(timer); resolve(meta.width); });
             v.play().catch(() => {});
           })"""
    )
    assert width == 320 and (player.get_attribute("src") or "").startswith("data:video/mp4;base64,")
    page.close()


def test_a_video_elsewhere_is_not_loaded_but_offered_to_open(browser: Browser, site: str) -> None:
    page, app = opened(browser, site)
    elsewhere = "https://cdn.akool.example/videos/v4.mp4"
    page.evaluate("(r) => notifyApp('ui/notifications/tool-result', r)", status("v4", "completed", video_url=elsewhere))
    button = app.locator("#open")
    button.wait_for(state="visible")
    assert app.locator("#player").get_attribute("src") is None
    button.click()
    page.wait_for_function("host.opened.length === 1")
    assert page.evaluate("host.opened[0]") == elsewhere
    page.close()


def test_a_failed_render_shows_the_reason_and_stops_following(browser: Browser, site: str, tmp_path: Path) -> None:
    page, app = opened(browser, site)
    failed = status("v2", "failed", error="elements[0].url answered HTTP 404; check the URL")
    page.evaluate("(r) => notifyApp('ui/notifications/tool-result', r)", failed)
    app.locator("#status.failed").wait_for()
    assert "HTTP 404" in app.locator("#detail").inner_text()
    assert page.evaluate("host.toolCalls.length") == 0
    page.close()


AVATARS = [
    {"avatar_id": "local_amara", "name": "Amara", "gender": "female", "source": "official", "thumbnail": "avatar0.png"},
    {"avatar_id": "local_liam", "name": "Liam", "gender": "male", "source": "official", "thumbnail": "avatar1.png"},
    {"avatar_id": "Me1", "name": "My photo", "gender": "", "source": "mine", "thumbnail": "avatar2.png"},
]


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_a_gallery_pick_by_keyboard_sends_the_choice_to_the_conversation(
    browser: Browser, site: str, tmp_path: Path, theme: str
) -> None:
    page, app = opened(browser, site, theme)
    avatars = [{**a, "thumbnail_url": f"{site}/media/{a.pop('thumbnail')}"} for a in [dict(x) for x in AVATARS]]
    result = {"content": [{"type": "text", "text": "3 avatars"}], "structuredContent": {"avatars": avatars}}
    page.evaluate("(r) => notifyApp('ui/notifications/tool-result', r)", result)
    cards = app.locator(".pick")
    cards.first.wait_for()
    assert cards.count() == 3 and cards.nth(1).get_attribute("aria-label") == "Use Liam, male"
    background = app.locator("body").evaluate("b => getComputedStyle(b).backgroundColor")
    channels = [int(c) for c in background[background.index("(") + 1 : background.index(")")].split(",")[:3]]
    assert (sum(channels) / 3 > 128) == (theme == "light"), background
    shot(page, f"gallery-{theme}", tmp_path)
    cards.nth(1).focus()
    page.keyboard.press("Enter")
    page.wait_for_function("host.messages.length === 1")
    message = page.evaluate("host.messages[0]")
    assert message["role"] == "user" and "avatar_id local_liam" in message["content"]["text"]
    assert "Chosen: Liam" in app.locator("#avatars-hint").inner_text()
    page.close()


def test_over_stdio_gallery_thumbnails_are_read_as_resources(browser: Browser, site: str) -> None:
    page, app = opened(browser, site)
    avatars = [{"avatar_id": "local_liam", "record_id": "abc123", "name": "Liam", "thumbnail_url": "/data/liam.png"}]
    result = {"content": [{"type": "text", "text": "1 avatar"}], "structuredContent": {"avatars": avatars}}
    page.evaluate("(r) => notifyApp('ui/notifications/tool-result', r)", result)
    page.wait_for_function("host.resourceReads.length === 1")
    assert page.evaluate("host.resourceReads[0]") == {"uri": "akool://avatars/local_liam/thumbnail"}
    ok, png = cv2.imencode(".png", np.full((64, 64, 3), (90, 140, 200), np.uint8))
    assert ok
    blob = base64.b64encode(png.tobytes()).decode()
    page.evaluate(
        "(r) => answerResourceRead(r)",
        {"contents": [{"uri": "akool://avatars/local_liam/thumbnail", "mimeType": "image/png", "blob": blob}]},
    )
    image = app.locator(".pick img")
    image.and_(app.locator("[src^='data:image/png;base64,']")).wait_for()
    assert (
        image.evaluate("i => new Promise(r => i.complete ? r(i.naturalWidth) : i.onload = () => r(i.naturalWidth))")
        == 64
    )
    page.close()


def test_the_player_references_nothing_outside_itself() -> None:
    html = player_html()
    for needle in ("<script src", "<link", "@import", "url(http", "//fonts.", "cdn."):
        assert needle not in html
