"""The local engine: Akool's Talking Avatar API on this machine, with durable jobs and real renders.

This module assembles the parts and hands each the collaborators it uses: the store, the guarded
HTTP client, the clock, the lifecycle, the webhook dispatcher, the job runner and its producers.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from functools import cached_property, partial
from typing import TYPE_CHECKING, Any

import anyio
import httpx2
import structlog

from akool_mcp.config import Settings
from akool_mcp.local.api import LocalApi
from akool_mcp.local.clock import Clock, SystemClock
from akool_mcp.local.datadir import FileLayout, prepare_data_dir
from akool_mcp.local.errors import ApiError
from akool_mcp.local.fetch import FetchError, FetchPolicy, MediaKind, check_url_syntax
from akool_mcp.local.jobs import WORKER_KIND, JobRunner
from akool_mcp.local.keys import LocalKeys, RateLimiter, TokenIssuer, load_keys
from akool_mcp.local.lifecycle import VideoLifecycle
from akool_mcp.local.net import (
    GuardedTransport,
    Resolver,
    TargetRefused,
    UrlError,
    parse_http_url,
    resolve_public,
    system_resolver,
)
from akool_mcp.local.net import shorten as short
from akool_mcp.local.production import MediaFetcher, VideoProducer, produce_avatar
from akool_mcp.local.store import AvatarRow, DuplicateError, Store, VideoRow, new_object_id, now_ms
from akool_mcp.local.supervisor import Supervisor
from akool_mcp.local.webhooks import WebhookDispatcher
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

WEBHOOK_DNS_SECONDS = 3.0
TOKENS_PER_MINUTE = 10


class LocalEngine:
    def __init__(
        self,
        settings: Settings,
        *,
        in_process: bool,
        local_paths: bool | None = None,
        base_url: str | None = None,
        outbound: httpx2.AsyncBaseTransport | None = None,
        resolver: Resolver | None = None,
        clock: Clock | None = None,
        store: Store | None = None,
    ) -> None:
        self.settings = settings
        self.in_process = in_process
        self.require_auth = not in_process
        self.layout: FileLayout = prepare_data_dir(settings.data_dir)
        self.data_dir = self.layout.data_dir
        self.files_root = self.layout.files_root
        self.store = store or Store(self.layout.database)
        self.clock: Clock = clock or SystemClock()
        self.keys: LocalKeys = load_keys(settings, self.store)
        self.tokens = TokenIssuer(
            self.keys.client_secret, ttl_seconds=settings.local_token_ttl_days * 86_400, clock=self.clock
        )
        self.token_limiter = RateLimiter(per_minute=TOKENS_PER_MINUTE, burst=TOKENS_PER_MINUTE, clock=self.clock)
        # Local file paths are for the user's own in-process engine only, never for HTTP callers.
        self.local_paths = in_process if local_paths is None else (local_paths and in_process)
        self.fetch_policy = FetchPolicy(allow_private=settings.allow_private_urls, allow_local_paths=self.local_paths)
        self._resolver = resolver
        self.http = httpx2.AsyncClient(
            transport=GuardedTransport(outbound, allow_private=settings.allow_private_urls, resolver=resolver),
            timeout=60,
            follow_redirects=False,
        )
        self.base_url: str | None = str(settings.public_url).rstrip("/") if settings.public_url else base_url
        self.supervisor = Supervisor(self.clock)
        self.webhooks = WebhookDispatcher(self.store, self.http, self.keys, self.clock)
        self.lifecycle = VideoLifecycle(self.store, self.webhooks, self.clock, self.public_file_url)
        fetcher = MediaFetcher(self.fetch_policy, self.http)
        self.runner = JobRunner(
            store=self.store,
            lifecycle=self.lifecycle,
            layout=self.layout,
            supervisor=self.supervisor,
            produce_video=VideoProducer(
                store=self.store,
                lifecycle=self.lifecycle,
                fetcher=fetcher,
                layout=self.layout,
                preset=settings.render_preset,
            ),
            produce_avatar=partial(produce_avatar, self.store, fetcher, self.layout),
            workers=settings.max_concurrent_renders,
        )
        self.app: Starlette = LocalApi(self).app()
        self._builtins_ready = False
        self._builtins_lock = anyio.Lock()

    @classmethod
    @asynccontextmanager
    async def running(cls, settings: Settings, *, in_process: bool, **parts: Any) -> AsyncGenerator[LocalEngine]:
        """Open the engine, resume every unfinished job, and stop its workers on exit."""
        engine = cls(settings, in_process=in_process, **parts)
        try:
            async with anyio.create_task_group() as tg:
                await engine.runner.start(tg)
                engine.supervisor.start(tg, "webhooks", "webhook dispatcher", engine.webhooks.run)
                try:
                    yield engine
                finally:
                    engine.runner.stop()
                    tg.cancel_scope.cancel()
        finally:
            engine.runner.close()
            await engine.http.aclose()

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

    def file_url(self, rel: str) -> str:
        """In process the user gets a path to open; over HTTP, a URL on the engine's own public address.

        Never built from the request's Host header: a caller must not choose where links point.
        """
        return self.public_file_url(rel)

    def public_file_url(self, rel: str) -> str:
        if self.in_process or self.base_url is None:
            return str(self.files_root / rel)
        return f"{self.base_url}/files/{rel}"

    def health(self) -> tuple[bool, dict[str, Any]]:
        """(can take work, details): workers alive, queue depth, webhook backlog, the last error."""
        alive, total = self.supervisor.alive(WORKER_KIND)
        dispatcher_alive, _ = self.supervisor.alive("webhook dispatcher")
        details: dict[str, Any] = {}
        try:
            self.store.ping()
            details["queue"] = {
                "queued": self.store.count_videos(Status.QUEUEING),
                "processing": self.store.count_videos(Status.PROCESSING),
            }
            details["webhooks"] = {"pending": self.store.count_webhooks("pending"), "dispatcher_alive": True}
            store_ok = True
        except Exception as exc:
            details["store_error"] = f"{type(exc).__name__}: {str(exc)[:200]}"
            store_ok = False
        ready = store_ok and alive > 0
        details.setdefault("webhooks", {})["dispatcher_alive"] = dispatcher_alive > 0
        status = "ok" if ready and dispatcher_alive else "degraded" if ready else "unavailable"
        body: dict[str, Any] = {
            "status": status,
            "workers": {"alive": alive, "total": total},
            **details,
            "restarts": sum(h.restarts for h in self.supervisor.loops.values()),
            "quarantined": len(self.runner.quarantined),
            "last_error": self.supervisor.last_error,
            "last_error_at": self.supervisor.last_error_at,
        }
        return ready, body

    # -- accepting work -----------------------------------------------------------------------

    async def accept_video(self, req: TalkingVideoRequest) -> VideoRow:
        validate_talking_video(req, allow_local_paths=self.local_paths)
        self._check_media_urls(req)
        if req.webhook_url:
            await self._check_webhook_url(req.webhook_url)
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

    def _check_media_urls(self, req: TalkingVideoRequest) -> None:
        """Parse each media URL now with the parser that will fetch it, so a bad one fails at the door."""
        kinds: dict[str, MediaKind] = {"image": "image", "audio": "audio", "avatar": "avatar"}
        for i, el in enumerate(req.elements):
            if not el.url or el.url.startswith("#") or el.type not in kinds:
                continue
            try:
                check_url_syntax(el.url, kinds[el.type], allow_local_paths=self.local_paths)
            except FetchError as exc:
                raise ContractViolation(f"elements[{i}].url", str(exc)) from None

    async def _check_webhook_url(self, url: str) -> None:
        try:
            parsed = parse_http_url(url)
        except UrlError as exc:
            raise ContractViolation("webhookUrl", str(exc)) from None
        if self.settings.allow_private_urls:
            return
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        try:
            with anyio.move_on_after(WEBHOOK_DNS_SECONDS):
                await resolve_public(parsed.host, port, self._resolver or system_resolver)
        except TargetRefused as exc:
            if exc.kind == "private":
                raise ContractViolation(
                    "webhookUrl",
                    "points at a private, loopback or link-local address; the engine only calls public "
                    "receivers. To allow private receivers, start the engine with AKOOL_ALLOW_PRIVATE_URLS=true.",
                ) from None
            # A name that does not resolve now may resolve later: the delivery retries, and the
            # video's detail shows how it went.

    def _check_references(self, req: TalkingVideoRequest) -> None:
        voice_ids = {v.voice_id for v in self.voices()}
        for i, el in enumerate(req.elements):
            if el.type == "avatar" and el.avatar_id:
                row = self.store.get_avatar_by_avatar_id(el.avatar_id)
                if row is None:
                    raise ApiError(1008, f"elements[{i}].avatar_id: no avatar {short(el.avatar_id)!r}; see avatar/list")
                if row.status != Status.COMPLETED:
                    raise ApiError(
                        1003,
                        f"elements[{i}].avatar_id: avatar {short(el.avatar_id)!r} is not ready (status {row.status})",
                    )
                if row.source != req.avatar_from:
                    kind = "an official" if row.source == AvatarSource.OFFICIAL else "your own"
                    raise ContractViolation(
                        "avatar_from", f"must be {row.source}: {short(el.avatar_id)!r} is {kind} avatar (its `from`)"
                    )
            if el.type == "audio" and not el.url and el.voice_id not in voice_ids:
                raise ContractViolation(
                    f"elements[{i}].voice_id", f"unknown voice {short(el.voice_id or '')!r}; see the voice list"
                )

    async def accept_avatar(self, req: AvatarCreateRequest) -> AvatarRow:
        try:
            validate_avatar_create(req, allow_local_paths=self.local_paths)
            if req.url_from != 2:
                try:
                    check_url_syntax(req.url, "avatar", allow_local_paths=self.local_paths)
                except FetchError as exc:
                    raise ContractViolation("url", str(exc)) from None
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
