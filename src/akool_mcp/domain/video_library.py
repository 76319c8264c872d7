"""The videos this server made: registered on creation, kept with a poster once finished, listed later."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import anyio
import anyio.to_thread
from anyio.abc import TaskGroup

from akool_mcp.blobs import BlobStore
from akool_mcp.domain.keeping import VideoKeeper, captions_of, default_name
from akool_mcp.domain.poster import PosterError, make_poster
from akool_mcp.domain.registry import Registry, VideoRecord
from akool_mcp.domain.transcript import captions_from_text, keep_script, script_path
from akool_mcp.errors import InputError, SaveError
from akool_mcp.log import get_logger
from akool_mcp.models import Status, Video, status_label

log = get_logger(__name__)

KEPT_PREFIX = "kept"  # where kept copies go in a shared blob store
POSTERS_PREFIX = "posters"


@dataclass(frozen=True)
class Observed:
    record: VideoRecord
    problem: str | None = None  # why the finished video could not be kept, for the model to tell the user
    saving: bool = False  # still being saved in the background


def is_file(path: str | None) -> bool:
    return path is not None and Path(path).is_file()


class VideoLibrary:
    def __init__(
        self, registry: Registry, keeper: VideoKeeper, poster_dir: Path, shared: BlobStore | None = None
    ) -> None:
        self.registry = registry
        # Servers side by side: each kept copy and poster also goes to the shared blob store (`kept/`,
        # `posters/`), where any replica serves it from.
        self.shared = shared
        self.keeper = keeper
        self.poster_dir = poster_dir
        self._tasks: TaskGroup | None = None
        self._keeping: dict[str, anyio.Event] = {}
        self._problems: dict[str, str] = {}

    @asynccontextmanager
    async def running(self) -> AsyncGenerator[VideoLibrary]:
        """Background saves live as long as this; leaving it cancels those still running."""
        async with anyio.create_task_group() as tasks:
            self._tasks = tasks
            try:
                yield self
            finally:
                self._tasks = None
                tasks.cancel_scope.cancel()

    @property
    def output_dir(self) -> Path:
        return self.keeper.output_dir

    @property
    def transcript_dir(self) -> Path:
        return self.poster_dir.parent / "transcripts"  # the text each video from text speaks (its captions)

    def created(
        self,
        video: Video,
        *,
        backend: str,
        avatar: str | None,
        summary: str | None,
        params: str | None = None,
        script: str | None = None,
    ) -> None:
        if script and backend == "akool":
            # Akool gives no timings: its captions are made from the script when the video is kept.
            keep_script(self.transcript_dir, video.id, script)
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

    async def observe(self, video: Video, *, backend: str, wait: float = float("inf")) -> Observed:
        """Record a status check; the first time a video is seen completed, keep its file and poster.

        Keeping runs in the background (a large Akool download can outlast a tool call): this waits up to
        `wait` seconds for it, and a later check picks up the result.
        """
        status = status_label(video.video_status)
        remote = video.video or None if video.video_status == Status.COMPLETED else None
        if video.video_status != Status.COMPLETED or not video.video:
            return Observed(self.registry.update(video.id, backend=backend, status=status))
        known = self.registry.get(video.id)
        if known is not None and known.poster_path and await self.is_kept(known.file_path):
            return Observed(self.registry.update(video.id, backend=backend, status=status, remote_url=remote))
        record = self.registry.update(video.id, backend=backend, status=status, remote_url=remote)
        done = self._keeping.get(video.id)
        if done is None:
            if self._tasks is None:
                raise RuntimeError("the video library is not running")
            done = self._keeping[video.id] = anyio.Event()
            self._tasks.start_soon(self._keep, video.id, video.video, done)
        with anyio.move_on_after(wait):
            await done.wait()
        if not done.is_set():
            return Observed(record, saving=True)
        return Observed(self.registry.get(video.id) or record, problem=self._problems.pop(video.id, None))

    async def is_kept(self, file_path: str | None) -> bool:
        """Kept here, or (servers side by side) by another replica in the shared blob store."""
        if is_file(file_path):
            return True
        if file_path is None or self.shared is None:
            return False
        return await anyio.to_thread.run_sync(self.shared.exists, f"{KEPT_PREFIX}/{Path(file_path).name}")

    async def _keep(self, video_id: str, source: str, done: anyio.Event) -> None:
        try:
            kept = await self.keeper.keep(video_id, source)
            script = script_path(self.transcript_dir, video_id)
            if not captions_of(kept).is_file() and script.is_file():
                try:
                    text = script.read_text(encoding="utf-8")
                    document = await anyio.to_thread.run_sync(captions_from_text, kept, text)
                    if document is not None:
                        await anyio.to_thread.run_sync(self.write_beside, captions_of(kept).name, document)
                except Exception as exc:  # captions are a bonus: the video is kept either way
                    log.info("video.captions_failed", video=video_id, error=type(exc).__name__)
            poster: Path | None = self.poster_path(video_id)
            try:
                await anyio.to_thread.run_sync(make_poster, kept, poster)
            except (PosterError, OSError) as exc:
                log.info("video.poster_failed", video=video_id, error=str(exc))
                poster = None
            await self.share(kept, poster)
            self.registry.set_files(video_id, file_path=str(kept), poster_path=str(poster) if poster else None)
        except SaveError as exc:
            log.info("video.keep_failed", video=video_id, error=str(exc))
            self._problems[video_id] = str(exc)
        except Exception as exc:  # a background task must not take the server down with it
            log.exception("video.keep_crashed", video=video_id)
            self._problems[video_id] = f"it could not be saved ({type(exc).__name__}); check AKOOL_OUTPUT_DIR"
        finally:
            del self._keeping[video_id]
            done.set()

    async def share(self, kept: Path, poster: Path | None) -> None:
        """Servers side by side: a copy of a kept file, its captions and its poster in the shared blob store, where
        any replica serves them from (by name: `Links` makes the same link whichever replica kept it)."""
        if self.shared is None:
            return
        captions = captions_of(kept)
        if await anyio.to_thread.run_sync(captions.is_file):  # first: a shared video always has its captions
            await anyio.to_thread.run_sync(self.shared.put_copy, f"{KEPT_PREFIX}/{captions.name}", captions)
        await anyio.to_thread.run_sync(self.shared.put_copy, f"{KEPT_PREFIX}/{kept.name}", kept)
        if poster is not None:
            await anyio.to_thread.run_sync(self.shared.put_copy, f"{POSTERS_PREFIX}/{poster.name}", poster)

    def write_beside(self, name: str, document: str) -> None:
        """A small text file (captions) in the output folder under `name`, written through its safe writes; a
        file of that name already there is left as it is."""
        with contextlib.suppress(FileExistsError), self.keeper.folder.create(name) as new:
            new.write(document.encode("utf-8"))
            new.commit()

    async def save_as(self, video_id: str, name: str) -> VideoRecord:
        record = self.registry.get(video_id)
        if record is None or record.file_path is None or not await self.is_kept(record.file_path):
            raise InputError(
                "video_id",
                f"no finished, kept video has video_id {video_id!r}; follow it with get_video_status until it "
                "is completed (see list_videos).",
            )
        kept = Path(record.file_path)
        if is_file(record.file_path) or self.shared is None:
            target = await self.keeper.save_as(kept, name)
        else:  # kept by another replica: copied from the shared blob store
            with tempfile.TemporaryDirectory(prefix="akool-shared-") as work:
                captions = f"{KEPT_PREFIX}/{captions_of(kept).name}"
                if await anyio.to_thread.run_sync(self.shared.exists, captions):  # beside the copy, to go with it
                    await anyio.to_thread.run_sync(self.shared.local_copy, captions, Path(work))
                source = await anyio.to_thread.run_sync(
                    self.shared.local_copy, f"{KEPT_PREFIX}/{kept.name}", Path(work)
                )
                target = await self.keeper.save_as(source, name)
        await self.share(target, None)  # the named copy's link opens on every replica too
        return replace(record, file_path=str(target))
