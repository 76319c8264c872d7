"""Serving the files the model is linked to, under the HTTP transports: kept videos, posters, engine files.

The route sits on the MCP app itself, so the bearer token that guards `/mcp` guards it too. Byte ranges
come from Starlette's FileResponse (players seek with them). Only regular, non-hidden files inside the
three roots are served; anything else is a 404 that says nothing about the disk.
"""

from __future__ import annotations

from pathlib import Path

import anyio
from mcp.server.mcpserver import MCPServer
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response

from akool_mcp.blobs import BlobKeyError, BlobStore
from akool_mcp.domain.links import MEDIA_PREFIX, Links
from akool_mcp.tools.state import AppState

_TYPES = {".mp4": "video/mp4", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png"}


def media_file(links: Links, kind: str, rel: str) -> Path | None:
    roots = {"videos": links.output_dir, "posters": links.poster_dir, "files": links.files_root}
    root = roots.get(kind)
    if root is None or len(rel) > 512 or any(ord(c) < 0x20 or ord(c) == 0x7F for c in rel):
        return None
    try:
        base = root.resolve()
        target = (base / rel).resolve()
        if not target.is_relative_to(base) or not target.is_file():
            return None
    except (OSError, ValueError):
        return None
    if any(part.startswith(".") for part in target.relative_to(base).parts) or target.suffix.lower() not in _TYPES:
        return None
    return target


# Where servers side by side keep their copies in the shared blob store (see VideoLibrary).
_SHARED = {"videos": "kept", "posters": "posters"}


def register_media(server: MCPServer[AppState], links: Links, shared: BlobStore | None = None) -> None:
    @server.custom_route(f"{MEDIA_PREFIX}/{{kind}}/{{rel:path}}", methods=["GET", "HEAD"], include_in_schema=False)
    async def media(request: Request) -> Response:
        kind, rel = request.path_params["kind"], request.path_params["rel"]
        target = media_file(links, kind, rel)
        if target is None and shared is not None and kind in _SHARED:
            return await _from_shared(shared, f"{_SHARED[kind]}/{rel}")
        if target is None:
            raise HTTPException(404)
        return FileResponse(target, media_type=_TYPES[target.suffix.lower()])


async def _from_shared(shared: BlobStore, key: str) -> Response:
    """A copy another replica kept: from the shared folder with byte ranges, or by a presigned link."""
    try:
        if Path(key).suffix.lower() in _TYPES:
            local = shared.local_path(key)
            if local is not None:
                return FileResponse(local, media_type=_TYPES[local.suffix.lower()])
            if await anyio.to_thread.run_sync(shared.exists, key):
                signed = shared.presigned_url(key)
                if signed is not None:
                    return RedirectResponse(signed, status_code=307)
    except (BlobKeyError, OSError):
        pass
    raise HTTPException(404)
