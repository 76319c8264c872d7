"""Keeping finished videos in the user's output folder, and the names a user may give them there.

From Akool the MP4 is streamed from the link the status check returned (size-capped, length checked,
retried when the connection drops); from the local engine it is hard-linked, or copied across disks.
Nothing here calls an endpoint that creates or bills anything.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio
import anyio.to_thread
import httpx2

from akool_mcp.client.http import HttpSource
from akool_mcp.domain.output_folder import NewFile, OutputFolder, checked_name
from akool_mcp.errors import InputError, SaveError
from akool_mcp.log import get_logger

log = get_logger(__name__)

DOWNLOAD_RETRIES = 3
_CHUNK = 1024 * 1024
_SAFE_ID = re.compile(r"[^A-Za-z0-9_.-]+")
_RETRYABLE = (httpx2.ConnectError, httpx2.ReadError, httpx2.RemoteProtocolError, httpx2.TimeoutException)

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
        private: bool = False,
    ) -> None:
        self.output_dir = output_dir
        self._folder = OutputFolder(output_dir, file_mode=0o600 if private else 0o644)
        self._http = http
        self._max_bytes = max_bytes
        self._sleep = sleep

    @property
    def folder(self) -> OutputFolder:
        return self._folder

    async def keep(self, video_id: str, source: str) -> Path:
        """The kept file for a finished video; `source` is Akool's link or the local engine's file path."""
        name = default_name(video_id)
        folder = self._folder
        if await anyio.to_thread.run_sync(folder.exists, name):
            return folder.path / name
        try:
            if source.startswith(("https://", "http://")):
                kept = await self._download(source, name)
            else:
                captions = captions_of(Path(source))
                if captions.is_file():  # first, so that a kept video always has its captions beside it
                    with contextlib.suppress(FileExistsError):
                        await anyio.to_thread.run_sync(folder.place, captions_of(Path(name)).name, captions)
                kept = await anyio.to_thread.run_sync(folder.place, name, Path(source))
        except FileExistsError:
            kept = folder.path / name  # another check kept it meanwhile: the same video, already there
        log.info("video.kept", video=video_id)
        return kept

    async def save_as(self, kept: Path, name: str) -> Path:
        """A copy (a hard link where possible) of a kept video under the user's chosen name, never replacing; its
        captions, if it has any, beside it under the same name."""
        chosen = checked_name(name)
        try:
            saved = await anyio.to_thread.run_sync(self._folder.place, chosen, kept)
        except FileExistsError:
            if chosen == kept.name:
                return kept  # saving a video under the name it is kept as
            if not await anyio.to_thread.run_sync(self._folder.is_plain_file, chosen):
                raise InputError("name", f"{chosen!r} exists and is not a regular file; choose another name.") from None
            raise InputError(
                "name", f"{chosen!r} already exists in {self._folder.shown}; choose another name."
            ) from None
        captions = captions_of(kept)
        if await anyio.to_thread.run_sync(captions.is_file):  # the captions go with it, under the same name
            # A file of the user's own by that name stays as it is; captions that cannot be written do not undo
            # the save.
            with contextlib.suppress(FileExistsError, SaveError):
                await anyio.to_thread.run_sync(self._folder.place, captions_of(Path(chosen)).name, captions)
        return saved

    async def _download(self, url: str, name: str) -> Path:
        for attempt in range(DOWNLOAD_RETRIES + 1):
            with await anyio.to_thread.run_sync(self._folder.create, name) as new:
                try:
                    await self._stream(url, new)
                except _RETRYABLE as exc:
                    if attempt == DOWNLOAD_RETRIES:
                        raise SaveError(
                            f"the finished video could not be downloaded ({type(exc).__name__}); call "
                            "get_video_status again to retry. Nothing new is created or billed by retrying."
                        ) from exc
                    log.info("video.download_retry", attempt=attempt + 1, reason=type(exc).__name__)
                else:
                    return await anyio.to_thread.run_sync(new.commit)
            await self._sleep(min(2.0**attempt, 10.0))
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _stream(self, url: str, new: NewFile) -> None:
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
            async for chunk in response.aiter_bytes(_CHUNK):
                if received == 0 and chunk[4:8] not in (b"ftyp", b"moov", b"mdat", b"free", b"wide"):
                    raise SaveError("the video link did not answer with an MP4 file; it was not kept.")
                received += len(chunk)
                if received > self._max_bytes:
                    raise SaveError("the video is over AKOOL_MAX_DOWNLOAD_MB; raise it to keep it.")
                new.write(chunk)
            if expected is not None and received != expected:
                # A cut connection can end a body early without an error: treat it as one.
                raise httpx2.ReadError(f"got {received} of {expected} bytes")
