# PyAV and OpenCV stubs are partly untyped: relax the unknown-type checks here only.
# pyright: reportUnknownMemberType=false, reportUnknownVariableType=false, reportUnknownArgumentType=false
"""The player in headless Chromium, in a host built on the official MCP Apps host library.

apps_host.html runs `AppBridge` + `PostMessageTransport` from @modelcontextprotocol/ext-apps (the version
package-lock.json pins): it loads the player under the CSP its resource declares, attaches only after the
frame has loaded, validates every message against the spec's schemas, and here lets the test answer the
player's `tools/call` and `resources/read` (no server; test_player_in_host.py has the real one). Media come
from a loopback HTTP server, as the MCP server's own signed file links would.
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
LATE = 900  # ms the host takes to start listening after the frame has loaded
DECODED_FRAME = """v => new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error('no frame decoded')), 30000);
  v.requestVideoFrameCallback((now, meta) => {
    clearTimeout(timer);
    resolve({readyState: v.readyState, width: meta.width, height: meta.height, frames: meta.presentedFrames});
  });
  v.play().catch(() => {});
})"""


def opened(browser: Browser, site: str, theme: str = "light", late: int = LATE) -> tuple[Page, FrameLocator]:
    page = browser.new_page(viewport={"width": 480, "height": 900}, color_scheme=theme)  # type: ignore[arg-type]
    page.goto(f"{site}/apps_host.html")
    csp = {"resourceDomains": [site], "connectDomains": []}
    page.evaluate(
        "([html, theme, csp, late]) => startScripted(html, theme, csp, late)", [player_html(site), theme, csp, late]
    )
    page.wait_for_function("record.initialized", timeout=15_000)
    return page, page.frame_locator("#view")


def shot(page: Page, name: str, tmp_path: Path) -> Path:
    target = (SHOTS or tmp_path) / f"player-{name}.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target))
    assert target.stat().st_size > 1000
    return target


def status(video_id: str, state: str, **extra: Any) -> dict[str, Any]:
    return {
        "content": [{"type": "text", "text": f"video {video_id}: {state}"}],
        "structuredContent": {"video_id": video_id, "status": state, **extra},
        "isError": False,
    }


def show(page: Page, arguments: dict[str, Any], result: dict[str, Any]) -> None:
    page.evaluate("([a, r]) => showResult(a, r)", [arguments, result])


def answer_call(page: Page, count: int, result: dict[str, Any]) -> dict[str, Any]:
    """Wait for the player's `count`-th tools/call, answer it, and return its params."""
    page.wait_for_function(f"record.calls.length >= {count}", timeout=15_000)
    params: dict[str, Any] = page.evaluate(f"record.calls[{count - 1}]")
    page.evaluate("(r) => answer('tools/call', r)", result)
    return params


def signed(site: str, name: str) -> str:
    return f"{site}/media/{name}?expires=4102444800&signature=test"


def test_a_host_that_listens_late_still_gets_the_player(browser: Browser, site: str) -> None:
    page, app = opened(browser, site, late=2500)  # several handshakes go unanswered first
    assert page.evaluate("record.initialized") is True
    show(page, {"video_id": "v0"}, status("v0", "queueing"))
    app.locator("#status").and_(app.locator(":text('Queued')")).wait_for()
    page.close()


def test_the_progress_bar_moves_with_short_status_calls_then_the_video_plays(
    browser: Browser, site: str, tmp_path: Path
) -> None:
    page, app = opened(browser, site)
    first = status("v1", "processing", progress_percent=30, elapsed_seconds=3)
    show(page, {"video_id": "v1", "wait_seconds": 0}, first)
    app.locator("#progress[aria-valuenow='30']").wait_for()
    assert app.locator("#status").inner_text() == "Rendering"
    call = answer_call(page, 1, status("v1", "processing", progress_percent=70, elapsed_seconds=6))
    # The player follows by itself with short calls, so the bar moves while the render does.
    assert call == {"name": "get_video_status", "arguments": {"video_id": "v1", "wait_seconds": 2}}
    app.locator("#progress[aria-valuenow='70']").wait_for()
    shot(page, "rendering", tmp_path)
    answer_call(page, 2, status("v1", "completed", progress_percent=100, video_url=signed(site, "video.mp4")))
    player = app.locator("#player")
    player.wait_for(state="visible")
    decoded = player.evaluate(DECODED_FRAME)
    assert (decoded["width"], decoded["height"]) == (640, 360) and decoded["frames"] >= 1
    assert app.locator("#status").inner_text() == "Ready" and app.locator("#progress[aria-valuenow='100']").count() == 1
    shot(page, "playing", tmp_path)
    assert page.evaluate("record.calls.length") == 2  # a finished video is not polled again
    page.close()


def test_an_expired_link_is_replaced_by_a_fresh_one(browser: Browser, site: str, tmp_path: Path) -> None:
    page, app = opened(browser, site)
    show(page, {"video_id": "v5"}, status("v5", "completed", video_url=signed(site, "gone.mp4")))
    # The link answers with an error: the player asks for the status again, which gives a fresh link.
    call = answer_call(page, 1, status("v5", "completed", video_url=signed(site, "video.mp4")))
    assert call["arguments"] == {"video_id": "v5", "wait_seconds": 0}
    assert app.locator("#player").evaluate(DECODED_FRAME)["width"] == 640
    assert app.locator("#problem").is_hidden()
    page.close()


def test_a_link_that_stays_dead_is_said_plainly(browser: Browser, site: str, tmp_path: Path) -> None:
    page, app = opened(browser, site)
    show(page, {"video_id": "v6"}, status("v6", "completed", video_url=signed(site, "gone.mp4")))
    answer_call(page, 1, status("v6", "completed", video_url=signed(site, "still-gone.mp4")))
    app.locator("#problem:has-text('could not be loaded')").wait_for()
    assert app.locator("#refresh").is_visible() and app.locator("#player").is_hidden()
    shot(page, "dead-link", tmp_path)
    page.close()


def test_when_the_server_cannot_be_reached_the_player_says_so_and_tries_again(
    browser: Browser, site: str, tmp_path: Path
) -> None:
    page, app = opened(browser, site)
    show(page, {"video_id": "v7"}, status("v7", "processing", progress_percent=10))
    page.wait_for_function("record.calls.length >= 1")
    page.evaluate("fail('tools/call', 'Failed to fetch')")
    app.locator("#problem:has-text('could not be reached')").wait_for()
    shot(page, "offline", tmp_path)
    # It tries again by itself (after a second), and recovers when the server answers.
    answer_call(page, 2, status("v7", "processing", progress_percent=55))
    app.locator("#progress[aria-valuenow='55']").wait_for()
    assert app.locator("#problem").is_hidden()
    page.close()


def test_over_stdio_the_video_is_read_as_a_resource_and_plays(browser: Browser, site: str, tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    write_clip(clip, 320, 180, 25)
    page, app = opened(browser, site)
    link = {"type": "resource_link", "uri": "akool://videos/v3/video.mp4", "name": "video", "mimeType": "video/mp4"}
    done = status("v3", "completed", progress_percent=100, file_path="/home/me/Videos/akool-mcp/v3.mp4")
    done["content"].append(link)
    show(page, {"video_id": "v3"}, done)
    page.wait_for_function("record.reads.length === 1")
    assert page.evaluate("record.reads[0]") == {"uri": "akool://videos/v3/video.mp4"}
    blob = base64.b64encode(clip.read_bytes()).decode()
    contents = {"contents": [{"uri": link["uri"], "mimeType": "video/mp4", "blob": blob}]}
    page.evaluate("(r) => answer('resources/read', r)", contents)
    player = app.locator("#player")
    player.wait_for(state="visible")
    assert player.evaluate(DECODED_FRAME)["width"] == 320
    assert (player.get_attribute("src") or "").startswith("data:video/mp4;base64,")
    page.close()


def test_a_video_elsewhere_is_not_loaded_but_offered_to_open(browser: Browser, site: str) -> None:
    page, app = opened(browser, site)
    elsewhere = "https://cdn.akool.example/videos/v4.mp4"
    show(page, {"video_id": "v4"}, status("v4", "completed", video_url=elsewhere))
    button = app.locator("#open")
    button.wait_for(state="visible")
    assert app.locator("#player").get_attribute("src") is None
    button.click()
    page.wait_for_function("record.opened.length === 1")
    assert page.evaluate("record.opened[0]") == elsewhere
    page.close()


def test_a_failed_render_shows_the_reason_and_stops_following(browser: Browser, site: str, tmp_path: Path) -> None:
    page, app = opened(browser, site)
    failed = status("v2", "failed", error_reason="audio_url answered HTTP 404; check the URL")
    show(page, {"video_id": "v2"}, failed)
    app.locator("#status.failed").wait_for()
    assert "HTTP 404" in app.locator("#problem").inner_text() and app.locator("#refresh").is_hidden()
    shot(page, "failed", tmp_path)
    assert page.evaluate("record.calls.length") == 0
    page.close()


AVATARS = [
    {"avatar_id": "local_amara", "name": "Amara", "gender": "female", "source": "official", "thumbnail": "avatar0.png"},
    {"avatar_id": "local_liam", "name": "Liam", "gender": "male", "source": "official", "thumbnail": "avatar1.png"},
    {"avatar_id": "Me1", "name": "My photo", "source": "mine", "thumbnail": "avatar2.png"},
]


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_a_gallery_pick_by_keyboard_sends_the_choice_as_a_ui_message(
    browser: Browser, site: str, tmp_path: Path, theme: str
) -> None:
    page, app = opened(browser, site, theme)
    avatars = [{**a, "thumbnail_url": signed(site, a.pop("thumbnail"))} for a in [dict(x) for x in AVATARS]]
    result = {"content": [{"type": "text", "text": "3 avatars"}], "structuredContent": {"avatars": avatars}}
    show(page, {"source": "official"}, result)
    cards = app.locator(".pick")
    cards.first.wait_for()
    assert cards.count() == 3 and cards.nth(1).get_attribute("aria-label") == "Use Liam, male"
    app.locator(".pick img").nth(2).evaluate("i => i.decode()")
    widths = app.locator(".pick img").evaluate_all("imgs => imgs.map(i => i.naturalWidth)")
    assert widths == [96, 96, 96]  # the thumbnails are shown
    background = app.locator("body").evaluate("b => getComputedStyle(b).backgroundColor")
    channels = [int(c) for c in background[background.index("(") + 1 : background.index(")")].split(",")[:3]]
    assert (sum(channels) / 3 > 128) == (theme == "light"), background
    shot(page, f"gallery-{theme}", tmp_path)
    cards.nth(1).focus()
    page.keyboard.press("Enter")
    page.wait_for_function("record.messages.length === 1")
    message = page.evaluate("record.messages[0]")
    # The bridge checked it against the spec: a list of content blocks.
    assert message["role"] == "user" and isinstance(message["content"], list)
    assert message["content"][0]["type"] == "text" and "avatar_id local_liam" in message["content"][0]["text"]
    assert "Chosen: Liam" in app.locator("#avatars-hint").inner_text()
    page.close()


def test_over_stdio_gallery_thumbnails_are_read_as_resources(browser: Browser, site: str) -> None:
    page, app = opened(browser, site)
    avatars = [{"avatar_id": "local_liam", "record_id": "abc123", "name": "Liam", "thumbnail_url": "/data/liam.png"}]
    show(page, {}, {"content": [{"type": "text", "text": "1 avatar"}], "structuredContent": {"avatars": avatars}})
    page.wait_for_function("record.reads.length === 1")
    assert page.evaluate("record.reads[0]") == {"uri": "akool://avatars/local_liam/thumbnail"}
    ok, png = cv2.imencode(".png", np.full((64, 64, 3), (90, 140, 200), np.uint8))
    assert ok
    blob = base64.b64encode(png.tobytes()).decode()
    page.evaluate(
        "(r) => answer('resources/read', r)",
        {"contents": [{"uri": "akool://avatars/local_liam/thumbnail", "mimeType": "image/png", "blob": blob}]},
    )
    image = app.locator(".pick img")
    image.and_(app.locator("[src^='data:image/png;base64,']")).wait_for()
    assert image.evaluate("i => i.decode().then(() => i.naturalWidth)") == 64
    page.close()


def test_the_player_references_nothing_outside_itself() -> None:
    html = player_html()
    for needle in ("<script src", "<link", "@import", "url(http", "//fonts.", "cdn."):
        assert needle not in html
