"""The local engine: Akool's Talking Avatar API on this machine, with durable jobs and real renders.

This module assembles the parts and hands each the collaborators it uses: the store, the guarded
HTTP client, the clock, the lifecycle, the webhook dispatcher, the job runner and its producers.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from functools import cached_property, partial
from typing import TYPE_CHECKING, Any

import anyio
import httpx2

from akool_mcp.config import Settings
from akool_mcp.local.api import Authenticator, LocalApi
from akool_mcp.local.clock import Clock, SystemClock
from akool_mcp.local.datadir import FileLayout, prepare_data_dir
from akool_mcp.local.intake import Intake
from akool_mcp.local.jobs import WORKER_KIND, JobRunner
from akool_mcp.local.keys import LocalKeys, RateLimiter, TokenIssuer, load_keys
from akool_mcp.local.lifecycle import VideoLifecycle
from akool_mcp.local.production import MediaFetcher, VideoProducer, produce_avatar
from akool_mcp.local.store import Store
from akool_mcp.local.supervisor import Supervisor
from akool_mcp.local.webhooks import WebhookDispatcher
from akool_mcp.log import get_logger
from akool_mcp.media.fetch import FetchPolicy
from akool_mcp.media.transport import (
    GuardedTransport,
    Resolver,
    system_resolver,
)
from akool_mcp.models import (
    Status,
)

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from akool_mcp.speech import Voice

log = get_logger(__name__)

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
        self.intake = Intake(
            store=self.store,
            submit=self.runner.submit,
            voices=self.voices,
            ensure_builtins=self.ensure_builtins,
            resolver=resolver or system_resolver,
            allow_private=settings.allow_private_urls,
            local_paths=self.local_paths,
        )
        self.app: Starlette = LocalApi(
            store=self.store,
            intake=self.intake,
            auth=Authenticator(
                keys=self.keys, tokens=self.tokens, limiter=self.token_limiter, required=self.require_auth
            ),
            ensure_builtins=self.ensure_builtins,
            voices=self.voices,
            file_url=self.file_url,
            files_root=self.files_root,
            health=self.health,
        ).app()
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
                from akool_mcp.local.seeding import seed_builtin_avatars

                await anyio.to_thread.run_sync(seed_builtin_avatars, self.store, self.files_root)
                self._builtins_ready = True

    @cached_property
    def _voices(self) -> list[Voice]:
        from akool_mcp.speech import list_voices

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
