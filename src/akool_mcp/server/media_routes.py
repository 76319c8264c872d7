"""Serving the files the model is linked to, under the HTTP transports: kept videos, posters, engine files.

Every link is signed and expires (see domain/links.py): the signature is what lets a browser, a `<video>`
element or a person's click open it with no header, so the bearer token that guards `/mcp` is not asked for
here. A link that is unsigned, changed or expired gets 403 with a sentence saying what to do. Byte ranges
come from Starlette's FileResponse (players seek with them). Only regular, non-hidden files inside the
roots are served; anything else is a 404 that says nothing about the disk.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

import anyio
import anyio.to_thread
from mcp.server.mcpserver import MCPServer
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, RedirectResponse, Response

from akool_mcp.blobs import BlobKeyError, BlobStore
from akool_mcp.domain.links import MEDIA_PREFIX, Links
from akool_mcp.tools.state import AppState

_TYPES = {
    ".mp4": "video/mp4",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".vtt": "text/vtt; charset=utf-8",
    ".mp3": "audio/mpeg",
}
_PRIVATE = {"Cache-Control": "private, max-age=300", "Referrer-Policy": "no-referrer"}
_PREVIEW = re.compile(r"voices/([A-Za-z0-9-]{1,64})/preview\.mp3")


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
_GONE = "This file is no longer here; ask the assistant for it again."


def register_media(server: MCPServer[AppState], links: Links, shared: BlobStore | None = None) -> None:
    if links.signer is None:
        raise ValueError("media links are served only when they are signed")
    signer = links.signer

    @server.custom_route(f"{MEDIA_PREFIX}/{{kind}}/{{rel:path}}", methods=["GET", "HEAD"], include_in_schema=False)
    async def media(request: Request) -> Response:
        kind, rel = request.path_params["kind"], request.path_params["rel"]
        refusal = signer.refusal(
            f"{MEDIA_PREFIX}/{kind}/{rel}", request.query_params.get("expires"), request.query_params.get("signature")
        )
        if refusal is not None:
            return PlainTextResponse(refusal, status_code=403, headers=_PRIVATE)
        voice = _PREVIEW.fullmatch(rel) if kind == "files" and links.files_root is not None else None
        if voice is not None and links.files_root is not None:
            # A voice's preview is made on its first request, then kept among the engine's files.
            from akool_mcp.speech import SpeechError
            from akool_mcp.speech.samples import preview_file

            with contextlib.suppress(SpeechError):  # an unknown voice: not found, below
                await anyio.to_thread.run_sync(preview_file, voice.group(1), links.files_root / "voices")
        target = media_file(links, kind, rel)
        if target is None and shared is not None and kind in _SHARED:
            return await _from_shared(shared, f"{_SHARED[kind]}/{rel}")
        if target is None:
            return PlainTextResponse(_GONE, status_code=404, headers=_PRIVATE)
        return FileResponse(target, media_type=_TYPES[target.suffix.lower()], headers=_PRIVATE)


async def _from_shared(shared: BlobStore, key: str) -> Response:
    """A copy another replica kept: from the shared folder with byte ranges, or by a presigned link."""
    try:
        if Path(key).suffix.lower() in _TYPES:
            local = shared.local_path(key)
            if local is not None:
                return FileResponse(local, media_type=_TYPES[local.suffix.lower()], headers=_PRIVATE)
            if await anyio.to_thread.run_sync(shared.exists, key):
                signed = shared.presigned_url(key)
                if signed is not None:
                    return RedirectResponse(signed, status_code=307, headers=_PRIVATE)
    except (BlobKeyError, OSError):
        pass
    return PlainTextResponse(_GONE, status_code=404, headers=_PRIVATE)
