"""MCP Apps: the player that shows a render's progress, plays the finished video and offers avatars.

The HTML is one self-contained file (CSS and JS inline, no external fonts or scripts), so it works
offline and under the host's strictest Content-Security-Policy; the only outside things it loads are
the media URLs the tools give it, whose origins the resource declares.
"""

from __future__ import annotations

from importlib import resources
from urllib.parse import urlsplit

PLAYER_URI = "ui://akool-mcp/player.html"


def player_html() -> str:
    return resources.files("akool_mcp.server.apps").joinpath("player.html").read_text(encoding="utf-8")


def media_origins(urls: list[str]) -> list[str]:
    """The http(s) origins of `urls`, deduplicated in order: what the player's CSP must allow."""
    seen: dict[str, None] = {}
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme in ("http", "https") and parts.netloc:
            seen.setdefault(f"{parts.scheme}://{parts.netloc}", None)
    return list(seen)
