"""Keeping finished videos in the user's output folder, and the names a user may give them there.

From Akool the MP4 is streamed from the link the status check returned (size-capped, length checked,
retried when the connection drops); from the local engine it is hard-linked, or copied across disks.
Nothing here calls an endpoint that creates or bills anything.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio
import anyio.to_thread
import httpx2

from akool_mcp.client.http import HttpSource
from akool_mcp.errors import InputError, SaveError
from akool_mcp.log import get_logger

log = get_logger(__name__)

DOWNLOAD_RETRIES = 3
_CHUNK = 1024 * 1024
_SAFE_ID = re.compile(r"[^A-Za-z0-9_.-]+")
_RETRYABLE = (httpx2.ConnectError, httpx2.ReadError, httpx2.RemoteProtocolError, httpx2.TimeoutException)
MAX_NAME = 120

Sleep = Callable[[float], Awaitable[None]]


def default_name(video_id: str) -> str:
    return f"akool-{_SAFE_ID.sub('_', video_id)[:80]}.mp4"


def captions_of(video: Path) -> Path:
    """Where a video's WebVTT captions are kept: beside it, same name, ``.vtt``."""
    return video.with_suffix(".vtt")


def kept_captions(file_path: str | None) -> str | None:
    """The captions kept beside a video file, if there are any."""
    if file_path is None:
        return None
    captions = captions_of(Path(file_path))
    return str(captions) if captions.is_file() else None


def checked_name(name: str) -> str:
    """A file name inside the output folder, never a path out of it; `.mp4` is added when missing."""
    cleaned = name.strip()
    if not cleaned:
        raise InputError("name", "is empty: give a file name such as 'welcome-video.mp4'.")
    if "/" in cleaned or "\\" in cleaned or cleaned in (".", "..") or cleaned.startswith(".."):
        raise InputError("name", "must be a plain file name, without folders or '..' (e.g. 'welcome-video.mp4').")
    if os.path.isabs(cleaned) or (len(cleaned) > 1 and cleaned[1] == ":"):
        raise InputError("name", "must be a plain file name, not an absolute path.")
    if cleaned.startswith(".") or any(ord(c) < 0x20 or c in '<>:"|?*' for c in cleaned):
        raise InputError("name", 'must not start with "." or contain control characters or <>:"|?*.')
    if not cleaned.lower().endswith(".mp4"):
        cleaned += ".mp4"
    if len(cleaned) > MAX_NAME:
        raise InputError("name", f"is {len(cleaned)} characters; keep it under {MAX_NAME}.")
    return cleaned


class VideoKeeper:
    """Puts finished videos into `output_dir`; `http` gives the client that fetches Akool's links (it never
    carries the API key, and is made on first use)."""

    def __init__(
        self,
        output_dir: Path,
        http: HttpSource,
        *,
        max_bytes: int,
        sleep: Sleep = anyio.sleep,
    ) -> None:
        self.output_dir = output_dir
        self._http = http
        self._max_bytes = max_bytes
        self._sleep = sleep

    def _folder(self) -> Path:
        try:
            self.output_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SaveError(
                f"cannot create the output folder {self.output_dir} ({exc.strerror}); set AKOOL_OUTPUT_DIR to a "
                "folder you can write to."
            ) from exc
        return self.output_dir

    async def keep(self, video_id: str, source: str) -> Path:
        """The kept file for a finished video; `source` is Akool's link or the local engine's file path."""
        target = self._folder() / default_name(video_id)
        if target.is_file():
            return target
        if source.startswith(("https://", "http://")):
            await self._download(source, target)
        else:
            captions = Path(source).with_suffix(".vtt")
            if captions.is_file():
                await anyio.to_thread.run_sync(link_or_copy, captions, captions_of(target))
            await anyio.to_thread.run_sync(link_or_copy, Path(source), target)
        log.info("video.kept", video=video_id, bytes=target.stat().st_size)
        return target

    async def save_as(self, kept: Path, name: str) -> Path:
        """A copy (a hard link where possible) of a kept video under the user's chosen name."""
        folder = self._folder()
        target = folder / checked_name(name)
        if target.is_symlink() or (target.exists() and not target.is_file()):
            raise InputError("name", f"{target.name!r} exists and is not a regular file; choose another name.")
        if target.resolve().parent != folder.resolve():
            raise InputError("name", "must stay inside the output folder.")
        if target.exists() and target.samefile(kept):
            return target
        if target.exists():
            raise InputError("name", f"{target.name!r} already exists in {folder}; choose another name.")
        await anyio.to_thread.run_sync(link_or_copy, kept, target)
        return target

    async def _download(self, url: str, target: Path) -> None:
        partial = target.with_name(target.name + ".part")
        for attempt in range(DOWNLOAD_RETRIES + 1):
            try:
                await self._stream(url, partial)
                partial.replace(target)
                return
            except _RETRYABLE as exc:
                partial.unlink(missing_ok=True)
                if attempt == DOWNLOAD_RETRIES:
                    raise SaveError(
                        f"the finished video could not be downloaded ({type(exc).__name__}); call "
                        "get_video_status again to retry. Nothing new is created or billed by retrying."
                    ) from exc
                log.info("video.download_retry", attempt=attempt + 1, reason=type(exc).__name__)
                await self._sleep(min(2.0**attempt, 10.0))
            except BaseException:
                partial.unlink(missing_ok=True)
                raise

    async def _stream(self, url: str, partial: Path) -> None:
        http = await self._http()
        async with http.stream("GET", url) as response:
            if response.status_code != 200:
                raise SaveError(
                    f"the video link answered HTTP {response.status_code} (Akool links expire after 7 days); "
                    "the video is still listed by list_videos with its status."
                )
            declared = response.headers.get("content-length")
            expected = int(declared) if declared and declared.isdigit() else None
            if expected is not None and expected > self._max_bytes:
                raise SaveError(f"the video is {expected} bytes, over AKOOL_MAX_DOWNLOAD_MB; raise it to keep it.")
            received = 0
            with partial.open("wb") as out:
                async for chunk in response.aiter_bytes(_CHUNK):
                    if received == 0 and chunk[4:8] not in (b"ftyp", b"moov", b"mdat", b"free", b"wide"):
                        raise SaveError("the video link did not answer with an MP4 file; it was not kept.")
                    received += len(chunk)
                    if received > self._max_bytes:
                        raise SaveError("the video is over AKOOL_MAX_DOWNLOAD_MB; raise it to keep it.")
                    out.write(chunk)
            if expected is not None and received != expected:
                # A cut connection can end a body early without an error: treat it as one.
                raise httpx2.ReadError(f"got {received} of {expected} bytes")


def link_or_copy(source: Path, target: Path) -> None:
    if not source.is_file():
        raise SaveError(f"the finished video is no longer at {source}; it cannot be kept.")
    partial = target.with_name(target.name + ".part")
    partial.unlink(missing_ok=True)
    try:
        os.link(source, partial)
    except OSError:
        shutil.copyfile(source, partial)
    partial.replace(target)
