"""Running one job: fetch the inputs, make the speech, render (or check an avatar), and record the outcome.

Failures a user can act on (a URL that cannot be fetched, text that cannot be spoken, a photo without a
face) become `JobFailed` here, once, with the field and code the caller sees.
"""

from __future__ import annotations

import json
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import anyio
import httpx2

from akool_mcp.local.datadir import FileLayout
from akool_mcp.local.engine_errors import INVALID, NOT_FOUND, SPEECH_FAILED, JobFailed
from akool_mcp.local.lifecycle import AvatarLifecycle, VideoLifecycle
from akool_mcp.local.store import Store
from akool_mcp.log import get_logger
from akool_mcp.media.fetch import FetchError, FetchPolicy, MediaKind, fetch_media
from akool_mcp.media.transport import shorten
from akool_mcp.models import AvatarSource, Status, TalkingVideoRequest

if TYPE_CHECKING:
    from akool_mcp.render import RenderResult

log = get_logger(__name__)

PROGRESS_STEP = 0.05


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


class VideoProducer:
    """Renders one accepted video; every status change goes through the lifecycle."""

    def __init__(
        self, *, store: Store, lifecycle: VideoLifecycle, fetcher: MediaFetcher, layout: FileLayout, preset: str
    ) -> None:
        self._store = store
        self._lifecycle = lifecycle
        self._fetcher = fetcher
        self._layout = layout
        self._preset = preset

    async def __call__(self, video_id: str, stopping: threading.Event) -> None:
        row = self._lifecycle.start(video_id)
        if row is None:
            return
        log.info("video.render_start", video=video_id, attempt=row.attempts)
        workdir = self._layout.job_dir(video_id)
        try:
            request = TalkingVideoRequest.model_validate(row.request)
            files, avatar_media, builtin_id = await _gather_inputs(
                self._store, self._fetcher, self._layout, request, workdir
            )
            final = self._layout.files_root / "videos" / f"{video_id}.mp4"
            partial = final.with_name(f".{video_id}.partial.mp4")
            inputs = RenderInputs(request, files, avatar_media, builtin_id)

            def work() -> RenderResult:
                return _render(self._lifecycle, self._preset, video_id, inputs, partial, final, stopping)

            result = await anyio.to_thread.run_sync(work)
        except JobFailed as exc:
            self._lifecycle.fail(video_id, exc.msg, exc.code)
            return
        except Exception:
            if stopping.is_set():
                log.info("video.render_interrupted", video=video_id)
                return  # resumed on the next start
            raise  # the runner's boundary records it as an internal error
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        self._lifecycle.complete(video_id, str(final.relative_to(self._layout.files_root)), result.duration)
        log.info("video.completed", video=video_id, seconds=round(result.duration, 2), frames=result.frames)


@dataclass(frozen=True)
class RenderInputs:
    request: TalkingVideoRequest
    files: dict[int, Path]
    avatar_media: Path | None
    builtin_id: str | None


async def _gather_inputs(
    store: Store, fetcher: MediaFetcher, layout: FileLayout, request: TalkingVideoRequest, workdir: Path
) -> tuple[dict[int, Path], Path | None, str | None]:
    files: dict[int, Path] = {}
    avatar_media: Path | None = None
    builtin_id: str | None = None
    for i, el in enumerate(request.elements):
        field = f"elements[{i}].url"
        if el.type == "image" and el.url and not el.url.startswith("#"):
            files[i] = await fetcher.fetch(el.url, "image", workdir, field)
        elif el.type == "audio" and el.url:
            files[i] = await fetcher.fetch(el.url, "audio", workdir, field)
        elif el.type == "avatar" and el.url:
            files[i] = await fetcher.fetch(el.url, "avatar", workdir, field)
        elif el.type == "avatar" and el.avatar_id:
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
                avatar_media = layout.files_root / avatar.media_path
    return files, avatar_media, builtin_id


def _render(
    lifecycle: VideoLifecycle,
    preset: str,
    video_id: str,
    inputs: RenderInputs,
    partial: Path,
    final: Path,
    stopping: threading.Event,
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
            lifecycle.progress(video_id, fraction)

    try:
        result = render(
            Composition(layers=layers, speech=speech),
            partial,
            preset=preset,
            progress=progress,
            cancelled=stopping.is_set,
        )
    except RenderError as exc:
        partial.unlink(missing_ok=True)
        if stopping.is_set():
            raise
        raise JobFailed(str(exc)) from exc
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    # Only a complete file ever carries the final name.
    partial.replace(final)
    return result


class AvatarProducer:
    """Prepares one uploaded avatar: fetches it, checks it shows one face, and keeps it with a thumbnail."""

    def __init__(self, *, lifecycle: AvatarLifecycle, fetcher: MediaFetcher, layout: FileLayout) -> None:
        self._lifecycle = lifecycle
        self._fetcher = fetcher
        self._layout = layout

    async def __call__(self, record_id: str, stopping: threading.Event) -> None:
        row = self._lifecycle.start(record_id)
        if row is None or row.source_url is None:
            return
        workdir = self._layout.job_dir(record_id)
        folder = self._layout.files_root / "avatars" / record_id
        root = self._layout.files_root
        try:
            fetched = await self._fetcher.fetch(row.source_url, "avatar", workdir, "url")
            folder.mkdir(parents=True, exist_ok=True)
            media = folder / f"source{fetched.suffix.lower()}"
            await anyio.to_thread.run_sync(shutil.copyfile, fetched, media)
            from akool_mcp.render import RenderError, analyze_avatar_source

            try:
                analysis = await anyio.to_thread.run_sync(analyze_avatar_source, media)
            except RenderError as exc:
                raise JobFailed(str(exc), INVALID) from exc
            thumb = folder / "thumbnail.png"
            thumb.write_bytes(analysis.thumbnail_png)
            preview = media if analysis.kind == "image" else thumb
            self._lifecycle.complete(
                record_id,
                media_path=str(media.relative_to(root)),
                preview_path=str(preview.relative_to(root)),
                thumbnail_path=str(thumb.relative_to(root)),
                face=json.dumps(list(analysis.face_box)),
            )
        except JobFailed as exc:
            self._lifecycle.fail(record_id, exc.msg, exc.code)
        except Exception:
            if stopping.is_set():
                return
            raise  # the runner's boundary records it as an internal error
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
