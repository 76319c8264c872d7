"""Running one job: fetch the inputs, make the speech, render, and record the outcome."""

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
from akool_mcp.local.lifecycle import VideoLifecycle
from akool_mcp.local.store import Store
from akool_mcp.log import get_logger
from akool_mcp.media.fetch import FetchError, FetchPolicy, MediaKind, fetch_media
from akool_mcp.media.transport import shorten
from akool_mcp.models import AvatarSource, Status, TalkingVideoRequest

if TYPE_CHECKING:
    from akool_mcp.render import RenderResult

log = get_logger(__name__)

PROGRESS_STEP = 0.05


class JobFailed(Exception):
    def __init__(self, reason: str, code: int = 1109) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


@dataclass(frozen=True)
class MediaFetcher:
    """Fetches a job's media under the engine's policy, through its guarded HTTP client."""

    policy: FetchPolicy
    http: httpx2.AsyncClient

    async def fetch(self, url: str, kind: MediaKind, workdir: Path, field: str) -> Path:
        try:
            fetched = await fetch_media(url, kind, workdir, policy=self.policy, client=self.http)
        except FetchError as exc:
            raise JobFailed(f"{field}: {exc}", 1003) from exc
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

    async def __call__(self, record_id: str, stopping: threading.Event) -> None:
        row = self._lifecycle.start(record_id)
        if row is None:
            return
        log.info("video.render_start", video=record_id, attempt=row.attempts)
        workdir = self._layout.job_dir(record_id)
        try:
            request = TalkingVideoRequest.model_validate(row.request)
            files, avatar_media, builtin_id = await _gather_inputs(
                self._store, self._fetcher, self._layout, request, workdir
            )
            final = self._layout.files_root / "videos" / f"{record_id}.mp4"
            partial = final.with_name(f".{record_id}.partial.mp4")
            inputs = RenderInputs(request, files, avatar_media, builtin_id)

            def work() -> RenderResult:
                return _render(self._lifecycle, self._preset, record_id, inputs, partial, final, stopping)

            result = await anyio.to_thread.run_sync(work)
        except JobFailed as exc:
            self._lifecycle.fail(record_id, exc.reason, exc.code)
            return
        except Exception:
            if stopping.is_set():
                log.info("video.render_interrupted", video=record_id)
                return  # resumed on the next start
            raise  # the runner's boundary records it as an internal error
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        self._lifecycle.complete(record_id, str(final.relative_to(self._layout.files_root)), result.duration)
        log.info("video.completed", video=record_id, seconds=round(result.duration, 2), frames=result.frames)


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
                    f"elements[{i}].avatar_id: avatar {shorten(el.avatar_id)!r} is no longer available", 1008
                )
            if avatar.source == AvatarSource.OFFICIAL:
                builtin_id = avatar.avatar_id
            elif avatar.media_path:
                avatar_media = layout.files_root / avatar.media_path
    return files, avatar_media, builtin_id


def _render(
    lifecycle: VideoLifecycle,
    preset: str,
    record_id: str,
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
        raise JobFailed(f"elements[{audio_index}]: {exc}", 1201) from exc
    try:
        layers = build_layers(request.elements, files, avatar_media=inputs.avatar_media, builtin_id=inputs.builtin_id)
    except ValueError as exc:
        raise JobFailed(str(exc), 1003) from exc
    last = [0.0]

    def progress(fraction: float) -> None:
        if fraction - last[0] >= PROGRESS_STEP:
            last[0] = fraction
            lifecycle.progress(record_id, fraction)

    try:
        result = render(
            Composition(layers=layers, speech=speech, burn_captions=bool(request.burn_captions)),
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
    if speech.cues:
        # Captions first, so that whenever the video carries its final name its captions are there too.
        from akool_mcp.speech import to_webvtt

        captions = final.with_suffix(".vtt")
        partial_captions = captions.with_name(f".{captions.stem}.partial.vtt")
        partial_captions.write_text(to_webvtt(speech.cues), encoding="utf-8")
        partial_captions.replace(captions)
    # Only a complete file ever carries the final name.
    partial.replace(final)
    return result


async def produce_avatar(
    store: Store, fetcher: MediaFetcher, layout: FileLayout, record_id: str, stopping: threading.Event
) -> None:
    row = store.get_avatar(record_id)
    if row is None or row.status not in (Status.QUEUEING, Status.PROCESSING) or row.source_url is None:
        return
    store.update_avatar(record_id, status=Status.PROCESSING, attempts=row.attempts + 1)
    workdir = layout.job_dir(record_id)
    folder = layout.files_root / "avatars" / record_id
    try:
        fetched = await fetcher.fetch(row.source_url, "avatar", workdir, "url")
        folder.mkdir(parents=True, exist_ok=True)
        media = folder / f"source{fetched.suffix.lower()}"
        await anyio.to_thread.run_sync(shutil.copyfile, fetched, media)
        from akool_mcp.render import RenderError, analyze_avatar_source

        try:
            analysis = await anyio.to_thread.run_sync(analyze_avatar_source, media)
        except RenderError as exc:
            raise JobFailed(str(exc), 1003) from exc
        thumb = folder / "thumbnail.png"
        thumb.write_bytes(analysis.thumbnail_png)
        preview = media if analysis.kind == "image" else thumb
        store.update_avatar(
            record_id,
            status=Status.COMPLETED,
            media_path=str(media.relative_to(layout.files_root)),
            preview_path=str(preview.relative_to(layout.files_root)),
            thumbnail_path=str(thumb.relative_to(layout.files_root)),
            face_json=json.dumps(list(analysis.face_box)),
        )
        log.info("avatar.ready", avatar=record_id)
    except JobFailed as exc:
        store.update_avatar(record_id, status=Status.FAILED, error_reason=exc.reason)
        log.info("avatar.failed", avatar=record_id, reason=exc.reason)
    except Exception:
        if stopping.is_set():
            return
        raise  # the runner's boundary records it as an internal error
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
