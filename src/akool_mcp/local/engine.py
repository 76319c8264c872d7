"""The local engine: Akool's Talking Avatar API on this machine, with durable jobs and real renders.

This module assembles the parts and hands each the collaborators it uses: the store, the guarded
HTTP client, the clock, the lifecycle, the webhook dispatcher, the job runner and its producers.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import anyio
import httpx2

from akool_mcp.clock import Clock, SystemClock
from akool_mcp.config import Settings
from akool_mcp.local.api import Authenticator, LocalApi
from akool_mcp.local.catalogue import Catalogue
from akool_mcp.local.datadir import FileLayout, prepare_data_dir
from akool_mcp.local.filelinks import FileLinks
from akool_mcp.local.health import DISPATCHER_KIND, Health
from akool_mcp.local.intake import Intake
from akool_mcp.local.jobs import Job, JobRunner
from akool_mcp.local.keys import LocalKeys, RateLimiter, TokenIssuer, load_keys
from akool_mcp.local.lifecycle import AvatarLifecycle, VideoLifecycle
from akool_mcp.local.production import AvatarProducer, Budget, MediaFetcher, VideoProducer
from akool_mcp.local.store import Room, Store
from akool_mcp.local.supervisor import Supervisor
from akool_mcp.local.webhooks import WebhookDispatcher
from akool_mcp.log import get_logger
from akool_mcp.media.fetch import FetchPolicy
from akool_mcp.media.transport import GuardedTransport, Resolver, system_resolver

if TYPE_CHECKING:
    from starlette.applications import Starlette

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
        self.layout: FileLayout = prepare_data_dir(settings.data_dir)
        self.data_dir = self.layout.data_dir
        self.files_root = self.layout.files_root
        self.clock: Clock = clock or SystemClock()
        self.store = store or Store(self.layout.database, self.clock)
        self.keys: LocalKeys = load_keys(settings, self.store)
        tokens = TokenIssuer(
            self.keys.client_secret, ttl_seconds=settings.local_token_ttl_days * 86_400, clock=self.clock
        )
        token_limiter = RateLimiter(per_minute=TOKENS_PER_MINUTE, burst=TOKENS_PER_MINUTE, clock=self.clock)
        # Local file paths are for the user's own in-process engine only, never for HTTP callers.
        self.local_paths = in_process if local_paths is None else (local_paths and in_process)
        self.http = httpx2.AsyncClient(
            transport=GuardedTransport(outbound, allow_private=settings.allow_private_urls, resolver=resolver),
            timeout=60,
            follow_redirects=False,
        )
        public = str(settings.public_url).rstrip("/") if settings.public_url else base_url
        self.links = FileLinks(self.files_root, None if in_process else public)
        self.supervisor = Supervisor(self.clock)
        self.webhooks = WebhookDispatcher(self.store, self.http, self.keys, self.clock)
        videos = VideoLifecycle(self.store, self.webhooks, self.clock, self.links)
        avatars = AvatarLifecycle(self.store)
        fetcher = MediaFetcher(FetchPolicy(allow_local_paths=self.local_paths), self.http)
        self.runner = JobRunner(
            jobs={
                "video": Job(
                    videos,
                    VideoProducer(
                        store=self.store,
                        lifecycle=videos,
                        fetcher=fetcher,
                        layout=self.layout,
                        preset=settings.render_preset,
                        clock=self.clock,
                        budget=Budget(settings.render_budget_seconds, settings.render_budget_factor),
                    ),
                ),
                "avatar": Job(avatars, AvatarProducer(lifecycle=avatars, fetcher=fetcher, layout=self.layout)),
            },
            layout=self.layout,
            supervisor=self.supervisor,
            workers=settings.max_concurrent_renders,
        )
        self.catalogue = Catalogue(self.store, self.files_root)
        self.room = Room(total=settings.max_queued_jobs, per_client=settings.max_queued_per_client)
        self.health = Health(self.store, self.supervisor, self.runner, self.room)
        self.intake = Intake(
            store=self.store,
            queue=self.runner,
            catalogue=self.catalogue,
            clock=self.clock,
            resolver=resolver or system_resolver,
            allow_private=settings.allow_private_urls,
            local_paths=self.local_paths,
            room=self.room,
        )
        self.app: Starlette = LocalApi(
            store=self.store,
            intake=self.intake,
            auth=Authenticator(keys=self.keys, tokens=tokens, limiter=token_limiter, required=not in_process),
            catalogue=self.catalogue,
            links=self.links,
            health=self.health,
        ).app()

    @classmethod
    @asynccontextmanager
    async def running(cls, settings: Settings, *, in_process: bool, **parts: Any) -> AsyncGenerator[LocalEngine]:
        """Open the engine, resume every unfinished job, and stop its workers on exit."""
        engine = cls(settings, in_process=in_process, **parts)
        try:
            async with anyio.create_task_group() as tg:
                await engine.runner.start(tg)
                engine.supervisor.start(tg, "webhooks", DISPATCHER_KIND, engine.webhooks.run)
                try:
                    yield engine
                finally:
                    engine.runner.stop()
                    tg.cancel_scope.cancel()
        finally:
            engine.runner.close()
            await engine.http.aclose()
