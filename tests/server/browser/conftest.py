# PyAV and OpenCV stubs are partly untyped: relax the unknown-type checks here only.
# pyright: reportUnknownMemberType=false, reportUnknownVariableType=false, reportUnknownArgumentType=false
"""The browser tests' shared parts: Debian's chromium under Playwright, and a loopback site with the MCP Apps
host (apps_host.html on the official host library, bundled by ./scripts/setup) and some media."""

from __future__ import annotations

import fractions
import functools
import http.server
import os
import shutil
import threading
from collections.abc import Generator
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import pytest
from playwright.sync_api import Browser, sync_playwright

HERE = Path(__file__).parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Built by ./scripts/setup from package-lock.json (npm ci) wherever Node is installed.
HOST_BUNDLE = HERE.parents[2] / ".tools" / "browser-host" / "apps_host_bundle.js"


def _missing(what: str, how: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"CI must have {what} for the browser tests; .ci/run installs it")
    pytest.skip(f"{what} is not installed ({how})")


def write_clip(path: Path, width: int = 640, height: int = 360, frames: int = 50) -> None:
    """A 2 s H.264 clip whose picture changes every frame (so a decoded frame can be told apart)."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for index in range(frames):
            picture = np.full((height, width, 3), (40, 90, 160), np.uint8)
            cv2.circle(picture, (60 + index * 10, height // 2), 40, (240, 220, 200), -1)
            frame = av.VideoFrame.from_ndarray(picture, format="bgr24")
            frame.pts, frame.time_base = index, fractions.Fraction(1, 25)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Generator[str]:
    if not HOST_BUNDLE.is_file():
        if shutil.which("node") is None or shutil.which("npm") is None:
            _missing("Node.js", "the MCP Apps host is built from npm packages: apt-get install nodejs npm")
        pytest.fail("the MCP Apps host is not built: run ./scripts/setup (it runs npm ci and bundles it)")
    root = tmp_path_factory.mktemp("site")
    shutil.copy(HERE / "apps_host.html", root / "apps_host.html")
    shutil.copy(HOST_BUNDLE, root / "apps_host_bundle.js")
    media = root / "media"
    media.mkdir()
    write_clip(media / "video.mp4")
    cv2.imwrite(str(media / "poster.jpg"), np.full((360, 640, 3), (40, 90, 160), np.uint8))
    for index, colour in enumerate([(90, 140, 200), (160, 120, 80), (80, 160, 100)]):
        cv2.imwrite(str(media / f"avatar{index}.png"), np.full((96, 96, 3), colour, np.uint8))
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture(scope="module")
def browser() -> Generator[Browser]:
    if not Path(CHROMIUM).exists():  # pragma: no cover - CI installs Debian's chromium (.ci/run)
        _missing("Debian's chromium", "apt-get install chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--autoplay-policy=no-user-gesture-required",
            ],
        )
        yield launched
        launched.close()
