"""Running one job: fetch the inputs, probe them, make the speech, render (or check an avatar), record
the outcome.

Failures a user can act on (a URL that cannot be fetched, a video outside the limits, text that cannot
be spoken, a photo without a face) become `JobFailed` here, once, with the field and code the caller
sees.

Every render has a wall-clock budget (`Budget`: a base plus a multiple of the speech's length), kept
by a watchdog outside the render: when it runs out, the render is told to stop, which it notices
inside a frame's work (every decoded source frame), and the video fails with a reason naming the
input that made it slow. A stop of the engine reaches the render the same way.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import shutil
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import anyio
import httpx2

from akool_mcp.blobs import BlobStore
from akool_mcp.clock import Clock
from akool_mcp.local.datadir import FileLayout
from akool_mcp.local.engine_errors import INVALID, NOT_FOUND, SPEECH_FAILED, JobFailed
from akool_mcp.local.leases import Lease
from akool_mcp.local.lifecycle import AvatarLifecycle, VideoLifecycle
from akool_mcp.local.records import EngineStore
from akool_mcp.log import get_logger
from akool_mcp.media.fetch import FetchError, FetchPolicy, MediaKind, fetch_media
from akool_mcp.media.probe import MAX_AUDIO_SECONDS as MAX_SPEECH_SECONDS
from akool_mcp.media.probe import ProbeError, probe_audio, probe_video
from akool_mcp.media.transport import shorten
from akool_mcp.models import AvatarSource, Status, TalkingVideoRequest

if TYPE_CHECKING:
    from akool_mcp.render import RenderResult

log = get_logger(__name__)

PROGRESS_STEP = 0.05
VIDEO_SUFFIXES = (".mp4", ".mov", ".avi", ".mkv", ".webm")
# Speech read from text is at most this many characters a second (English at a brisk pace is about
# 15): an upper bound on its length before it is made, for the budget.
_CHARS_PER_SECOND = 8.0


@dataclass(frozen=True)
class Budget:
    """How long a job may take (wall time): `seconds`, plus `factor` x the speech's length for a render."""

    seconds: float
    factor: float

    def for_speech(self, speech_seconds: float) -> float:
        return self.seconds + self.factor * speech_seconds


class Watchdog:
    """Sets `expired` when `limit` seconds pass before the job is done (the clock is the engine's)."""

    def __init__(self, clock: Clock, limit: float) -> None:
        self.clock = clock
        self.limit = limit
        self.expired = threading.Event()
        self.done = anyio.Event()

    async def watch(self) -> None:
        await self.clock.wait(self.done, self.limit)
        if not self.done.is_set():
            self.expired.set()

    def stop_when(self, stopping: threading.Event) -> Callable[[], bool]:
        """What the render asks, often: has the engine stopped, or the budget run out?"""
        return lambda: stopping.is_set() or self.expired.is_set()


async def run_watched(
    work: Callable[[], object],
    watchdog: Watchdog,
    beside: Callable[[anyio.Event], Coroutine[Any, Any, None]] | None = None,
) -> None:
    """Run `work` on a worker thread while the watchdog keeps time (and `beside`, given an event set when the
    work ends, runs along: the lease's renewals); what `work` raises comes out as it is."""
    failure: Exception | None = None
    async with anyio.create_task_group() as tg:
        tg.start_soon(watchdog.watch)
        if beside is not None:
            tg.start_soon(beside, watchdog.done)
        try:
            await anyio.to_thread.run_sync(work)
        except Exception as exc:
            failure = exc
        finally:
            watchdog.done.set()
    if failure is not None:
        raise failure


def give_back_memory() -> None:
    """Hand freed heap back to the system after a job (glibc keeps it otherwise; a 4K render frees ~1 GB)."""
    path = ctypes.util.find_library("c")
    if path is None:
        return
    trim = getattr(ctypes.CDLL(path), "malloc_trim", None)
    if trim is not None:
        trim(0)


@dataclass(frozen=True)
class MediaFetcher:
    """Fetches a job's media under the engine's policy, through its guarded HTTP client."""

    policy: FetchPolicy
    http: httpx2.AsyncClient

    async def fetch(self, url: str, kind: MediaKind, workdir: Path, field: str) -> Path:
        try:
            fetched = await fetch_media(url, kind, workdir, policy=self.policy, client=self.http)
        except FetchError as exc:
            raise JobFailed(str(exc), INVALID, field=field) from exc
        return fetched.path


def output_key(video_id: str, attempt: int, *, per_attempt: bool) -> str:
    """Where a video's file goes. In a cluster, two attempts can overlap (one paused past its lease, the
    next taking over): each later attempt writes a name of its own, so one that lost its lease can remove
    what it wrote without touching the winner's file. On one machine attempts never overlap."""
    return f"videos/{video_id}-a{attempt}.mp4" if per_attempt and attempt > 1 else f"videos/{video_id}.mp4"


def captions_key(key: str) -> str:
    """Where a stored video's WebVTT captions go: its key with `.vtt` (read beside the file by `captions_of`)."""
    return str(PurePosixPath(key).with_suffix(".vtt"))


class VideoProducer:
    """Renders one accepted video; every status change goes through the lifecycle, under the attempt's lease."""

    def __init__(
        self,
        *,
        store: EngineStore,
        lifecycle: VideoLifecycle,
        fetcher: MediaFetcher,
        layout: FileLayout,
        blobs: BlobStore,
        preset: str,
        clock: Clock,
        budget: Budget,
        per_attempt_outputs: bool = False,
    ) -> None:
        self._per_attempt = per_attempt_outputs
        self._store = store
        self._lifecycle = lifecycle
        self._fetcher = fetcher
        self._layout = layout
        self._blobs = blobs
        self._preset = preset
        self._clock = clock
        self._budget = budget

    async def __call__(self, lease: Lease, stopping: threading.Event) -> None:
        row = self._lifecycle.start(lease)
        if row is None:
            return
        video_id = lease.record_id
        log.info("video.render_start", video=video_id, attempt=row.attempts, holder=lease.holder)
        workdir = self._layout.job_dir(f"{video_id}-{lease.tag}")
        results: list[RenderResult] = []
        partial = workdir / f"{video_id}.partial.mp4"
        try:
            request = TalkingVideoRequest.model_validate(row.request)
            inputs = await _gather_inputs(self._store, self._fetcher, self._blobs, request, workdir)
            speech_seconds = await anyio.to_thread.run_sync(_probe_inputs, inputs)
            watchdog = Watchdog(self._clock, self._budget.for_speech(speech_seconds))
            watched = watchdog.stop_when(stopping)

            def stop() -> bool:
                return watched() or lease.lost.is_set()

            def work() -> None:
                results.append(_render(self._lifecycle, lease, self._preset, inputs, partial, stop))

            async def keep_lease(done: anyio.Event) -> None:
                await lease.keep(self._store, self._clock, done)

            try:
                await run_watched(work, watchdog, keep_lease)
            except Exception as exc:
                if watchdog.expired.is_set() and not stopping.is_set() and not lease.lost.is_set():
                    raise _past_budget(inputs, watchdog.limit, speech_seconds) from exc
                raise
            if lease.lost.is_set():
                raise RuntimeError("lease lost")
            key = output_key(video_id, row.attempts, per_attempt=self._per_attempt)
            captions = partial.with_suffix(".vtt")
            if captions.is_file():  # first: whenever the video is in the store, its captions are there too
                await anyio.to_thread.run_sync(self._blobs.put_file, captions_key(key), captions)
            await anyio.to_thread.run_sync(self._blobs.put_file, key, partial)
        except JobFailed as exc:
            self._lifecycle.fail(video_id, exc.msg, exc.code, holder=lease.holder)
            return
        except Exception:
            if lease.lost.is_set():
                log.warning("video.render_abandoned", video=video_id, holder=lease.holder, reason="lease lost")
                return  # another attempt holds the job: nothing of this one is kept
            if stopping.is_set():
                log.info("video.render_interrupted", video=video_id)
                return  # resumed on the next start
            raise  # the runner's boundary records it as an internal error
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
            await anyio.to_thread.run_sync(give_back_memory)
        result = results[0]
        if not self._lifecycle.complete(lease, key, result.duration):
            # The lease passed to another attempt while this one finished: its write changed nothing, and
            # its file goes (the other attempt's file has a name of its own).
            await anyio.to_thread.run_sync(self._blobs.delete, key)
            await anyio.to_thread.run_sync(self._blobs.delete, captions_key(key))
            log.warning("video.output_discarded", video=video_id, holder=lease.holder, reason="lease lost")
            return
        log.info(
            "video.completed",
            video=video_id,
            seconds=round(result.duration, 2),
            frames=result.frames,
            holder=lease.holder,
        )


@dataclass(frozen=True)
class RenderInputs:
    request: TalkingVideoRequest
    files: dict[int, Path]
    avatar_media: Path | None
    builtin_id: str | None
    avatar_field: str  # where the request names the avatar: elements[i].url or elements[i].avatar_id

    @property
    def avatar_video(self) -> Path | None:
        """The avatar's source when it is a video (fetched for this job, or the stored upload)."""
        source = self.avatar_media or next(
            (path for i, path in self.files.items() if self.request.elements[i].type == "avatar"), None
        )
        return source if source is not None and source.suffix.lower() in VIDEO_SUFFIXES else None

    @property
    def audio(self) -> tuple[int, Path | None]:
        index = next(i for i, el in enumerate(self.request.elements) if el.type == "audio")
        return index, self.files.get(index)


def _probe_inputs(inputs: RenderInputs) -> float:
    """Check the avatar video and the audio against the media limits; the speech's length (an upper
    bound when it is still to be made from text)."""
    video = inputs.avatar_video
    if video is not None:
        try:
            probe_video(video, "the avatar video")
        except ProbeError as exc:
            raise JobFailed(str(exc), INVALID, field=inputs.avatar_field) from exc
    index, audio = inputs.audio
    if audio is not None:
        try:
            return probe_audio(audio, "the audio").duration or MAX_SPEECH_SECONDS
        except ProbeError as exc:
            raise JobFailed(str(exc), INVALID, field=f"elements[{index}].url") from exc
    text = inputs.request.elements[index].input_text or ""
    return min(MAX_SPEECH_SECONDS, max(1.0, len(text) / _CHARS_PER_SECOND))


def _past_budget(inputs: RenderInputs, limit: float, speech_seconds: float) -> JobFailed:
    """The failure of a render that ran out of time, naming the input that most likely made it slow."""
    spent = (
        f"the render did not finish within its time budget ({limit:.0f} s for about {speech_seconds:.0f} s of "
        "speech; AKOOL_RENDER_BUDGET_SECONDS and AKOOL_RENDER_BUDGET_FACTOR set it)"
    )
    if inputs.avatar_video is not None:
        return JobFailed(
            f"{spent}: the avatar video is too slow to decode or too large; use a shorter video of at most "
            "1920x1080 at 25-30 fps",
            field=inputs.avatar_field,
        )
    index, audio = inputs.audio
    if audio is not None:
        return JobFailed(f"{spent}: check the audio file, or use a shorter one", field=f"elements[{index}].url")
    return JobFailed(f"{spent}; the engine may be overloaded: try again, or with shorter text")


async def _gather_inputs(
    store: EngineStore, fetcher: MediaFetcher, blobs: BlobStore, request: TalkingVideoRequest, workdir: Path
) -> RenderInputs:
    files: dict[int, Path] = {}
    avatar_media: Path | None = None
    builtin_id: str | None = None
    avatar_field = "elements"
    for i, el in enumerate(request.elements):
        field = f"elements[{i}].url"
        if el.type == "image" and el.url and not el.url.startswith("#"):
            files[i] = await fetcher.fetch(el.url, "image", workdir, field)
        elif el.type == "audio" and el.url:
            files[i] = await fetcher.fetch(el.url, "audio", workdir, field)
        elif el.type == "avatar" and el.url:
            files[i] = await fetcher.fetch(el.url, "avatar", workdir, field)
            avatar_field = field
        elif el.type == "avatar" and el.avatar_id:
            avatar_field = f"elements[{i}].avatar_id"
            avatar = store.get_avatar_by_avatar_id(el.avatar_id)
            if avatar is None or avatar.status != Status.COMPLETED:
                raise JobFailed(
                    f"avatar {shorten(el.avatar_id)!r} is no longer available",
                    NOT_FOUND,
                    field=f"elements[{i}].avatar_id",
                )
            if avatar.source == AvatarSource.OFFICIAL:
                builtin_id = avatar.avatar_id
            elif avatar.media_path:
                avatar_media = await anyio.to_thread.run_sync(blobs.local_copy, avatar.media_path, workdir)
    return RenderInputs(request, files, avatar_media, builtin_id, avatar_field)


def _render(
    lifecycle: VideoLifecycle,
    lease: Lease,
    preset: str,
    inputs: RenderInputs,
    partial: Path,
    cancelled: Callable[[], bool],
) -> RenderResult:
    from akool_mcp.media.elements import build_layers
    from akool_mcp.render import Composition, RenderError, render
    from akool_mcp.speech import SpeechError, decode_audio, synthesize

    request, files = inputs.request, inputs.files
    audio_index, audio = next((i, el) for i, el in enumerate(request.elements) if el.type == "audio")
    try:
        speech = (
            decode_audio(files[audio_index]) if audio.url else synthesize(audio.input_text or "", audio.voice_id or "")
        )
    except SpeechError as exc:
        raise JobFailed(str(exc), SPEECH_FAILED, field=f"elements[{audio_index}]") from exc
    try:
        layers = build_layers(request.elements, files, avatar_media=inputs.avatar_media, builtin_id=inputs.builtin_id)
    except ValueError as exc:
        raise JobFailed(str(exc), INVALID) from exc
    last = [0.0]

    def progress(fraction: float) -> None:
        if fraction - last[0] >= PROGRESS_STEP:
            last[0] = fraction
            lifecycle.progress(lease, fraction)  # a lost lease stops the render at its next frame

    try:
        result = render(
            Composition(layers=layers, speech=speech, burn_captions=bool(request.burn_captions)),
            partial,
            preset=preset,
            progress=progress,
            cancelled=cancelled,
        )
    except RenderError as exc:
        partial.unlink(missing_ok=True)
        if cancelled():
            raise
        raise JobFailed(str(exc)) from exc
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    if speech.cues:
        # The captions beside the partial file; the producer stores them before the video.
        from akool_mcp.speech import to_webvtt

        partial.with_suffix(".vtt").write_text(to_webvtt(speech.cues), encoding="utf-8")
    return result


class AvatarProducer:
    """Prepares one uploaded avatar: fetches it, checks it shows one face, and keeps it with a thumbnail."""

    def __init__(
        self, *, lifecycle: AvatarLifecycle, fetcher: MediaFetcher, layout: FileLayout, blobs: BlobStore
    ) -> None:
        self._lifecycle = lifecycle
        self._fetcher = fetcher
        self._layout = layout
        self._blobs = blobs

    async def __call__(self, lease: Lease, stopping: threading.Event) -> None:
        row = self._lifecycle.start(lease)
        if row is None or row.source_url is None:
            return
        record_id = lease.record_id
        workdir = self._layout.job_dir(f"{record_id}-{lease.tag}")
        folder = f"avatars/{record_id}"
        try:
            fetched = await self._fetcher.fetch(row.source_url, "avatar", workdir, "url")
            if fetched.suffix.lower() in VIDEO_SUFFIXES:
                try:
                    await anyio.to_thread.run_sync(probe_video, fetched, "the video")
                except ProbeError as exc:
                    raise JobFailed(str(exc), INVALID, field="url") from exc
            from akool_mcp.render import RenderError, analyze_avatar_source

            # A copy under the job's own folder: over stdio `fetched` may be the user's own file, never moved.
            media = workdir / f"source{fetched.suffix.lower()}"
            await anyio.to_thread.run_sync(shutil.copyfile, fetched, media)
            try:
                analysis = await anyio.to_thread.run_sync(analyze_avatar_source, media)
            except RenderError as exc:
                raise JobFailed(str(exc), INVALID) from exc
            media_key, thumb_key = f"{folder}/{media.name}", f"{folder}/thumbnail.png"
            # Every attempt of one avatar writes the same files from the same source: one that lost its lease
            # leaves them for the attempt that holds it.
            await anyio.to_thread.run_sync(self._blobs.put_bytes, thumb_key, analysis.thumbnail_png)
            await anyio.to_thread.run_sync(self._blobs.put_file, media_key, media)
            self._lifecycle.complete(
                lease,
                media_path=media_key,
                preview_path=media_key if analysis.kind == "image" else thumb_key,
                thumbnail_path=thumb_key,
                face=json.dumps(list(analysis.face_box)),
            )
        except JobFailed as exc:
            self._lifecycle.fail(record_id, exc.msg, exc.code, holder=lease.holder)
        except Exception:
            if stopping.is_set() or lease.lost.is_set():
                return
            raise  # the runner's boundary records it as an internal error
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
            await anyio.to_thread.run_sync(give_back_memory)
