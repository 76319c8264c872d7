"""The first frame of a video before it is paid for: the local compositor on a silent, one-frame speech.

The layers are built exactly as a render builds them (same boxes, same order, same built-in avatars);
only the speech is silence, so the mouth is closed. Nothing is queued and no backend job is created.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import anyio
import anyio.to_thread
import httpx2

from akool_mcp.media.fetch import FetchError, FetchPolicy, MediaKind, fetch_media
from akool_mcp.models import Element

PREVIEW_WIDTH = 960
FPS = 25


class PreviewError(Exception):
    """The preview could not be composed; the message names the parameter and what to change."""


@dataclass(frozen=True)
class AvatarSource:
    """Where the avatar's picture comes from: a built-in drawn by the engine, or a picture/video link."""

    builtin_id: str | None = None
    link: str | None = None
    field: str = "avatar_id"


@dataclass(frozen=True)
class Preview:
    jpeg: bytes
    width: int
    height: int
    seconds: float


async def compose_preview(
    elements: list[Element],
    avatar: AvatarSource,
    *,
    policy: FetchPolicy,
    http: httpx2.AsyncClient,
    trusted_root: Path | None = None,
) -> Preview:
    """Fetch the background and avatar media as a render would, then compose the first frame as a JPEG.

    Paths under `trusted_root` (the local engine's own files: avatar thumbnails) are read directly.
    """
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="akool-preview-") as folder:
        workdir = Path(folder)
        files: dict[int, Path] = {}
        avatar_media: Path | None = None
        for i, el in enumerate(elements):
            if el.type == "image" and el.url and not el.url.startswith("#"):
                files[i] = await _fetch(el.url, "image", workdir, policy, http, "background", trusted_root)
        if avatar.link:
            avatar_media = await _fetch(avatar.link, "avatar", workdir, policy, http, avatar.field, trusted_root)
        jpeg, width, height = await anyio.to_thread.run_sync(
            _first_frame, elements, files, avatar_media, avatar.builtin_id, workdir
        )
    return Preview(jpeg=jpeg, width=width, height=height, seconds=time.perf_counter() - started)


async def read_picture(
    url: str, *, policy: FetchPolicy, http: httpx2.AsyncClient, field: str, trusted_root: Path | None = None
) -> tuple[bytes, str]:
    """A picture's bytes and media type, fetched with the same care as a render's media."""
    with tempfile.TemporaryDirectory(prefix="akool-picture-") as folder:
        path = await _fetch(url, "image", Path(folder), policy, http, field, trusted_root)
        data = await anyio.to_thread.run_sync(path.read_bytes)
    kind = {".png": "image/png", ".webp": "image/webp"}.get(path.suffix.lower(), "image/jpeg")
    return data, kind


async def _fetch(
    url: str,
    kind: MediaKind,
    workdir: Path,
    policy: FetchPolicy,
    http: httpx2.AsyncClient,
    field: str,
    trusted_root: Path | None,
) -> Path:
    trusted = _trusted_file(url, trusted_root)
    if trusted is not None:
        return trusted
    try:
        fetched = await fetch_media(url, kind, workdir, policy=policy, client=http)
    except FetchError as exc:
        raise PreviewError(f"{field}: {exc}") from None
    return fetched.path


def _trusted_file(url: str, root: Path | None) -> Path | None:
    if root is None or url.startswith(("https://", "http://")):
        return None
    path = Path(url).resolve()
    return path if path.is_relative_to(root.resolve()) and path.is_file() else None


def _first_frame(
    elements: list[Element], files: dict[int, Path], avatar_media: Path | None, builtin_id: str | None, workdir: Path
) -> tuple[bytes, int, int]:
    import av
    import av.error
    import cv2
    import numpy as np

    from akool_mcp.media.elements import build_layers
    from akool_mcp.render import Composition, RenderError, render
    from akool_mcp.speech import Speech

    try:
        layers = build_layers(elements, files, avatar_media=avatar_media, builtin_id=builtin_id)
    except ValueError as exc:
        raise PreviewError(str(exc)) from None
    rate = 16_000
    silence = Speech(samples=np.zeros(rate // FPS, np.float32), sample_rate=rate)
    out = workdir / "first-frame.mp4"
    try:
        render(Composition(layers=layers, speech=silence, fps=FPS), out, preset="ultrafast", crf=18)
    except RenderError as exc:
        raise PreviewError(f"the frame could not be composed: {exc}") from None
    try:
        with av.open(str(out)) as container:
            frame = next(container.decode(video=0)).to_ndarray(format="bgr24")
    except (av.error.FFmpegError, StopIteration) as exc:
        raise PreviewError(f"the composed frame could not be read ({exc})") from None
    height, width = frame.shape[:2]
    small = cv2.resize(frame, (PREVIEW_WIDTH, round(height * PREVIEW_WIDTH / width)), interpolation=cv2.INTER_AREA)
    ok, encoded = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 85])
    if not ok:
        raise PreviewError("the preview could not be encoded")
    return encoded.tobytes(), int(small.shape[1]), int(small.shape[0])
