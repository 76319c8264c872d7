"""The local engine: Akool's Talking Avatar API on this machine, with durable jobs and real renders."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import anyio
import httpx2
import structlog
from starlette.requests import Request

from akool_mcp.config import Settings
from akool_mcp.local.api import LocalApi
from akool_mcp.local.errors import ApiError
from akool_mcp.local.fetch import FetchPolicy
from akool_mcp.local.jobs import JobRunner
from akool_mcp.local.keys import LocalKeys, TokenBook, load_keys
from akool_mcp.local.store import AvatarRow, DuplicateError, Store, VideoRow, new_object_id, now_ms
from akool_mcp.models import (
    AvatarCreateRequest,
    AvatarSource,
    ContractViolation,
    Status,
    TalkingVideoRequest,
    validate_avatar_create,
    validate_talking_video,
)

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from akool_mcp.local.speech import Voice

log = structlog.get_logger(__name__)


class LocalEngine:
    def __init__(self, settings: Settings, *, in_process: bool, local_paths: bool | None = None) -> None:
        self.settings = settings
        self.in_process = in_process
        self.require_auth = not in_process
        self.data_dir = settings.data_dir
        self.files_root = self.data_dir / "files"
        self.work_root = self.data_dir / "work"
        for folder in (self.files_root / "videos", self.files_root / "avatars", self.work_root):
            folder.mkdir(parents=True, exist_ok=True)
        self.store = Store(self.data_dir / "engine.sqlite3")
        self.keys: LocalKeys = load_keys(settings, self.store)
        self.tokens = TokenBook(self.store)
        # Local file paths are for the user's own in-process engine only, never for HTTP callers.
        self.local_paths = in_process if local_paths is None else (local_paths and in_process)
        self.fetch_policy = FetchPolicy(allow_private=settings.allow_private_urls, allow_local_paths=self.local_paths)
        self.runner = JobRunner(self)
        self.app: Starlette = LocalApi(self).app()
        self._builtins_ready = False
        self._builtins_lock = anyio.Lock()
        self._fetch_http: httpx2.AsyncClient | None = None
        self.base_url: str | None = str(settings.public_url).rstrip("/") if settings.public_url else None

    @classmethod
    @asynccontextmanager
    async def running(
        cls, settings: Settings, *, in_process: bool, local_paths: bool | None = None
    ) -> AsyncGenerator[LocalEngine]:
        """Open the engine, resume every unfinished job, and stop its workers on exit."""
        engine = cls(settings, in_process=in_process, local_paths=local_paths)
        try:
            async with anyio.create_task_group() as tg:
                await engine.runner.start(tg)
                try:
                    yield engine
                finally:
                    engine.runner.stop()
                    tg.cancel_scope.cancel()
        finally:
            engine.runner.close()
            if engine._fetch_http is not None:
                await engine._fetch_http.aclose()

    @property
    def fetch_http(self) -> httpx2.AsyncClient:
        """The client for user media and webhooks, made on first use (its TLS set-up costs start-up time)."""
        if self._fetch_http is None:
            self._fetch_http = httpx2.AsyncClient(timeout=60, follow_redirects=False)
        return self._fetch_http

    # -- helpers used by the API --------------------------------------------------------------

    async def ensure_builtins(self) -> None:
        """Register the drawn avatars on first use (drawing them costs imports start-up should not pay)."""
        if self._builtins_ready:
            return
        async with self._builtins_lock:
            if not self._builtins_ready:
                from akool_mcp.local.builtins import seed_builtin_avatars

                await anyio.to_thread.run_sync(seed_builtin_avatars, self.store, self.files_root)
                self._builtins_ready = True

    @cached_property
    def _voices(self) -> list[Voice]:
        from akool_mcp.local.speech import list_voices

        return list_voices()

    def voices(self) -> list[Voice]:
        return self._voices

    def file_url(self, rel: str, request: Request) -> str:
        """In process the user gets a path to open; over HTTP, a URL served with byte ranges."""
        if self.in_process:
            return str(self.files_root / rel)
        base = str(self.settings.public_url or request.base_url).rstrip("/")
        return f"{base}/files/{rel}"

    def public_file_url(self, rel: str) -> str:
        """A file's URL where no request is at hand (webhooks): the public URL, or a path in process."""
        if self.in_process or self.base_url is None:
            return str(self.files_root / rel)
        return f"{self.base_url}/files/{rel}"

    # -- accepting work -----------------------------------------------------------------------

    async def accept_video(self, req: TalkingVideoRequest) -> VideoRow:
        validate_talking_video(req, allow_local_paths=self.local_paths)
        if any(el.type == "avatar" and el.avatar_id for el in req.elements):
            await self.ensure_builtins()
        self._check_references(req)
        stamp = now_ms()
        row = VideoRow(
            id=new_object_id(),
            video_id=str(uuid.uuid4()),
            task_id=new_object_id(),
            status=Status.QUEUEING,
            request_json=json.dumps(req.model_dump(mode="json", by_alias=True, exclude_none=True)),
            webhook_url=req.webhook_url or None,
            output_path=None,
            duration=None,
            progress=0.0,
            error_code=None,
            error_reason=None,
            attempts=0,
            create_time=stamp,
            update_time=stamp,
        )
        self.store.insert_video(row)
        log.info("video.accepted", video=row.id)
        self.runner.submit("video", row.id)
        return row

    def _check_references(self, req: TalkingVideoRequest) -> None:
        voice_ids = {v.voice_id for v in self.voices()}
        for i, el in enumerate(req.elements):
            if el.type == "avatar" and el.avatar_id:
                row = self.store.get_avatar_by_avatar_id(el.avatar_id)
                if row is None:
                    raise ApiError(1008, f"elements[{i}].avatar_id: no avatar {el.avatar_id!r}; see avatar/list")
                if row.status != Status.COMPLETED:
                    raise ApiError(
                        1003, f"elements[{i}].avatar_id: avatar {el.avatar_id!r} is not ready (status {row.status})"
                    )
                if row.source != req.avatar_from:
                    kind = "an official" if row.source == AvatarSource.OFFICIAL else "your own"
                    raise ContractViolation(
                        "avatar_from", f"must be {row.source}: {el.avatar_id!r} is {kind} avatar (its `from`)"
                    )
            if el.type == "audio" and not el.url and el.voice_id not in voice_ids:
                raise ContractViolation(
                    f"elements[{i}].voice_id", f"unknown voice {el.voice_id!r}; see /api/open/v4/voice/list"
                )

    async def accept_avatar(self, req: AvatarCreateRequest) -> AvatarRow:
        try:
            validate_avatar_create(req, allow_local_paths=self.local_paths)
        except ContractViolation as exc:
            raise ApiError(1003, str(exc)) from None
        if req.url_from == 2:
            raise ApiError(
                1003, "url_from: the local engine cannot download from YouTube/TikTok/X/Drive; give a direct link"
            )
        await self.ensure_builtins()  # an upload may not take a built-in avatar's avatar_id
        stamp = now_ms()
        row = AvatarRow(
            id=new_object_id(),
            avatar_id=req.avatar_id,
            name=req.name or req.avatar_id,
            type=req.type,
            source=AvatarSource.USER,
            status=Status.QUEUEING,
            gender=None,
            source_url=req.url,
            media_path=None,
            preview_path=None,
            thumbnail_path=None,
            face_json=None,
            error_reason=None,
            attempts=0,
            sort=0,
            create_time=stamp,
            update_time=stamp,
        )
        try:
            self.store.insert_avatar(row)
        except DuplicateError:
            raise ApiError(1222, f"avatar_id: {req.avatar_id!r} already exists; choose another avatar_id") from None
        self.runner.submit("avatar", row.id)
        return row

    def job_dir(self, record_id: str) -> Path:
        path = self.work_root / record_id
        path.mkdir(parents=True, exist_ok=True)
        return path
