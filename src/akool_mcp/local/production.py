"""Running one job: fetch the inputs, make the speech, render, and record the outcome."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import anyio
import structlog

from akool_mcp.local.fetch import FetchError, MediaKind, fetch_media
from akool_mcp.models import AvatarSource, Status, TalkingVideoRequest

if TYPE_CHECKING:
    from akool_mcp.local.engine import LocalEngine
    from akool_mcp.local.render import RenderResult

log = structlog.get_logger(__name__)

PROGRESS_STEP = 0.05


class JobFailed(Exception):
    def __init__(self, reason: str, code: int = 1109) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


async def _fetch(engine: LocalEngine, url: str, kind: MediaKind, workdir: Path, field: str) -> Path:
    try:
        fetched = await fetch_media(url, kind, workdir, policy=engine.fetch_policy, client=engine.fetch_http)
    except FetchError as exc:
        raise JobFailed(f"{field}: {exc}", 1003) from exc
    return fetched.path


async def produce_video(engine: LocalEngine, record_id: str, stopping: threading.Event) -> None:
    store = engine.store
    row = store.get_video(record_id)
    if row is None or row.status not in (Status.QUEUEING, Status.PROCESSING):
        return
    store.update_video(record_id, status=Status.PROCESSING, attempts=row.attempts + 1, progress=0.0)
    engine.runner.webhooks.notify_video(record_id)
    log.info("video.render_start", video=record_id, attempt=row.attempts + 1)
    workdir = engine.job_dir(record_id)
    try:
        request = TalkingVideoRequest.model_validate(row.request)
        files, avatar_media, builtin_id = await _gather_inputs(engine, request, workdir)
        final = engine.files_root / "videos" / f"{record_id}.mp4"
        partial = final.with_name(f".{record_id}.partial.mp4")

        def work() -> RenderResult:
            return _render(engine, record_id, request, files, avatar_media, builtin_id, partial, final, stopping)

        result = await anyio.to_thread.run_sync(work)
    except JobFailed as exc:
        _fail_video(engine, record_id, exc.reason, exc.code)
    except Exception as exc:
        if stopping.is_set():
            log.info("video.render_interrupted", video=record_id)
            return  # resumed on the next start
        log.exception("video.render_crashed", video=record_id)
        _fail_video(engine, record_id, f"internal error while rendering ({type(exc).__name__}); see the engine log")
    else:
        store.update_video(
            record_id,
            status=Status.COMPLETED,
            progress=1.0,
            output_path=str(final.relative_to(engine.files_root)),
            duration=result.duration,
        )
        log.info("video.completed", video=record_id, seconds=round(result.duration, 2), frames=result.frames)
        engine.runner.webhooks.notify_video(record_id)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _fail_video(engine: LocalEngine, record_id: str, reason: str, code: int = 1109) -> None:
    engine.store.update_video(record_id, status=Status.FAILED, error_code=code, error_reason=reason)
    log.info("video.failed", video=record_id, reason=reason)
    engine.runner.webhooks.notify_video(record_id)


async def _gather_inputs(
    engine: LocalEngine, request: TalkingVideoRequest, workdir: Path
) -> tuple[dict[int, Path], Path | None, str | None]:
    files: dict[int, Path] = {}
    avatar_media: Path | None = None
    builtin_id: str | None = None
    for i, el in enumerate(request.elements):
        field = f"elements[{i}].url"
        if el.type == "image" and el.url and not el.url.startswith("#"):
            files[i] = await _fetch(engine, el.url, "image", workdir, field)
        elif el.type == "audio" and el.url:
            files[i] = await _fetch(engine, el.url, "audio", workdir, field)
        elif el.type == "avatar" and el.url:
            files[i] = await _fetch(engine, el.url, "avatar", workdir, field)
        elif el.type == "avatar" and el.avatar_id:
            avatar = engine.store.get_avatar_by_avatar_id(el.avatar_id)
            if avatar is None or avatar.status != Status.COMPLETED:
                raise JobFailed(f"elements[{i}].avatar_id: avatar {el.avatar_id!r} is no longer available", 1008)
            if avatar.source == AvatarSource.OFFICIAL:
                builtin_id = avatar.avatar_id
            elif avatar.media_path:
                avatar_media = engine.files_root / avatar.media_path
    return files, avatar_media, builtin_id


def _render(
    engine: LocalEngine,
    record_id: str,
    request: TalkingVideoRequest,
    files: dict[int, Path],
    avatar_media: Path | None,
    builtin_id: str | None,
    partial: Path,
    final: Path,
    stopping: threading.Event,
) -> RenderResult:
    from akool_mcp.local.layout import build_layers
    from akool_mcp.local.render import Composition, RenderError, render
    from akool_mcp.local.speech import SpeechError, decode_audio, synthesize

    audio_index, audio = next((i, el) for i, el in enumerate(request.elements) if el.type == "audio")
    try:
        speech = (
            decode_audio(files[audio_index]) if audio.url else synthesize(audio.input_text or "", audio.voice_id or "")
        )
    except SpeechError as exc:
        raise JobFailed(f"elements[{audio_index}]: {exc}", 1201) from exc
    try:
        layers = build_layers(request.elements, files, avatar_media=avatar_media, builtin_id=builtin_id)
    except ValueError as exc:
        raise JobFailed(str(exc), 1003) from exc
    last = [0.0]

    def progress(fraction: float) -> None:
        if fraction - last[0] >= PROGRESS_STEP:
            last[0] = fraction
            engine.store.update_video(record_id, progress=round(fraction, 3))

    try:
        result = render(
            Composition(layers=layers, speech=speech),
            partial,
            preset=engine.settings.render_preset,
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


async def produce_avatar(engine: LocalEngine, record_id: str, stopping: threading.Event) -> None:
    store = engine.store
    row = store.get_avatar(record_id)
    if row is None or row.status not in (Status.QUEUEING, Status.PROCESSING) or row.source_url is None:
        return
    store.update_avatar(record_id, status=Status.PROCESSING, attempts=row.attempts + 1)
    workdir = engine.job_dir(record_id)
    folder = engine.files_root / "avatars" / record_id
    try:
        fetched = await _fetch(engine, row.source_url, "avatar", workdir, "url")
        folder.mkdir(parents=True, exist_ok=True)
        media = folder / f"source{fetched.suffix.lower()}"
        await anyio.to_thread.run_sync(shutil.copyfile, fetched, media)
        from akool_mcp.local.render import RenderError, analyze_avatar_source

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
            media_path=str(media.relative_to(engine.files_root)),
            preview_path=str(preview.relative_to(engine.files_root)),
            thumbnail_path=str(thumb.relative_to(engine.files_root)),
            face_json=json.dumps(list(analysis.face_box)),
        )
        log.info("avatar.ready", avatar=record_id)
    except JobFailed as exc:
        store.update_avatar(record_id, status=Status.FAILED, error_reason=exc.reason)
        log.info("avatar.failed", avatar=record_id, reason=exc.reason)
    except Exception as exc:
        if stopping.is_set():
            return
        log.exception("avatar.crashed", avatar=record_id)
        store.update_avatar(
            record_id, status=Status.FAILED, error_reason=f"internal error while preparing ({type(exc).__name__})"
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
