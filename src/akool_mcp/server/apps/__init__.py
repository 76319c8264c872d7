"""MCP Apps: the player that shows a render's progress, plays the finished video and offers avatars.

The HTML is one self-contained file (CSS and JS inline, no external fonts or scripts), so it works
offline and under the host's strictest Content-Security-Policy. The only outside address it loads
from is this server's own, under the HTTP transports (`media_base`, declared in its CSP); over stdio
it has none, and reads the video, poster and thumbnails as resources through the host instead. So a
link elsewhere (an Akool CDN address) is never loaded by the player: it is offered to open instead.
"""

from __future__ import annotations

import html
from importlib import resources
from urllib.parse import urlsplit

from mcp.server.apps import Apps, ResourceCsp

PLAYER_URI = "ui://akool-mcp/player.html"
PLAYER_TOOLS = ("get_video_status", "list_avatars")
_BASE_MARKER = '<meta name="akool-media-base" content="">'


def player_html(media_base: str | None = None) -> str:
    """The player, told which address serves this server's files (none over stdio)."""
    page = resources.files("akool_mcp.server.apps").joinpath("player.html").read_text(encoding="utf-8")
    base = (media_base or "").rstrip("/")
    return page.replace(_BASE_MARKER, f'<meta name="akool-media-base" content="{html.escape(base, quote=True)}">')


def origin_of(url: str) -> str | None:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else None


def player_extension(media_base: str | None) -> Apps:
    """The Apps extension carrying the player, with a CSP that allows only this server's own files."""
    apps = Apps()
    origin = origin_of(media_base) if media_base else None
    apps.add_html_resource(
        PLAYER_URI,
        player_html(media_base),
        name="player",
        title="Talking video player",
        description="Follows a render, plays the finished video, and offers avatars to pick.",
        csp=ResourceCsp(resource_domains=[origin] if origin else [], connect_domains=[]),
        prefers_border=False,
    )
    return apps
