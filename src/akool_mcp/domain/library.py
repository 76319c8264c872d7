"""The videos this server made: registered on creation, kept with a poster once finished, listed later."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import anyio.to_thread
import structlog

from akool_mcp.domain.keeping import VideoKeeper, default_name
from akool_mcp.domain.poster import PosterError, make_poster
from akool_mcp.domain.registry import VideoRecord, VideoRegistry
from akool_mcp.errors import InputError, SaveError
from akool_mcp.models import Status, Video

log = structlog.get_logger(__name__)

STATUS_NAMES = {1: "queueing", 2: "processing", 3: "completed", 4: "failed"}


def status_label(code: int | None) -> str:
    return STATUS_NAMES.get(code or 0, "unknown")


@dataclass(frozen=True)
class Observed:
    record: VideoRecord
    problem: str | None = None  # why the finished video could not be kept, for the model to tell the user


def is_file(path: str | None) -> bool:
    return path is not None and Path(path).is_file()


class VideoLibrary:
    def __init__(self, registry: VideoRegistry, keeper: VideoKeeper, poster_dir: Path) -> None:
        self.registry = registry
        self.keeper = keeper
        self.poster_dir = poster_dir

    @property
    def output_dir(self) -> Path:
        return self.keeper.output_dir

    def created(
        self, video: Video, *, backend: str, avatar: str | None, summary: str | None, params: str | None = None
    ) -> None:
        self.registry.add(
            video.id,
            backend=backend,
            status=status_label(video.video_status),
            avatar=avatar,
            summary=summary,
            params=params,
        )

    def poster_path(self, video_id: str) -> Path:
        return self.poster_dir / (default_name(video_id).removesuffix(".mp4") + ".jpg")

    async def observe(self, video: Video, *, backend: str) -> Observed:
        """Record a status check; the first time a video is seen completed, keep its file and poster."""
        status = status_label(video.video_status)
        remote = video.video or None if video.video_status == Status.COMPLETED else None
        if video.video_status != Status.COMPLETED or not video.video:
            return Observed(self.registry.update(video.id, backend=backend, status=status))
        known = self.registry.get(video.id)
        if known is not None and is_file(known.file_path) and known.poster_path:
            return Observed(self.registry.update(video.id, backend=backend, status=status, remote_url=remote))
        try:
            kept = await self.keeper.keep(video.id, video.video)
        except SaveError as exc:
            log.info("video.keep_failed", video=video.id, error=str(exc))
            record = self.registry.update(video.id, backend=backend, status=status, remote_url=remote)
            return Observed(record, problem=str(exc))
        poster: Path | None = self.poster_path(video.id)
        try:
            await anyio.to_thread.run_sync(make_poster, kept, poster)
        except (PosterError, OSError) as exc:
            log.info("video.poster_failed", video=video.id, error=str(exc))
            poster = None
        record = self.registry.update(
            video.id,
            backend=backend,
            status=status,
            remote_url=remote,
            file_path=str(kept),
            poster_path=str(poster) if poster else None,
        )
        return Observed(record)

    async def save_as(self, video_id: str, name: str) -> VideoRecord:
        record = self.registry.get(video_id)
        if record is None or record.file_path is None or not is_file(record.file_path):
            raise InputError(
                "video_id",
                f"no finished, kept video has video_id {video_id!r}; follow it with get_video_status until it "
                "is completed (see list_videos).",
            )
        target = await self.keeper.save_as(Path(record.file_path), name)
        return replace(record, file_path=str(target))
