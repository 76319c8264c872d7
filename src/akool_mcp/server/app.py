"""build_server(): the MCPServer with its lifespan and tools."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import TYPE_CHECKING

import anyio
import httpx2
from mcp.server.mcpserver import MCPServer

from akool_mcp import __version__
from akool_mcp.client import AkoolClient
from akool_mcp.client.http import OnDemandClient
from akool_mcp.clock import Clock, SystemClock
from akool_mcp.config import Settings
from akool_mcp.domain.ledger import Ledger, PaidLedger
from akool_mcp.domain.links import Links, LinkSigner, load_link_secret
from akool_mcp.domain.registry import Registry, VideoRegistry
from akool_mcp.domain.script_videos import ScriptBook
from akool_mcp.server.apps import PLAYER_TOOLS, PLAYER_URI, player_extension
from akool_mcp.server.backend import USER_AGENT, BackgroundBackend, SharedBackend
from akool_mcp.server.media_routes import register_media
from akool_mcp.server.surface import AkoolServer
from akool_mcp.tools import avatars, library, preview, resources, scripts, videos
from akool_mcp.tools.params import PAID_ONLY, url_descriptions
from akool_mcp.tools.state import AppState, open_library, open_scripts

if TYPE_CHECKING:
    from akool_mcp.blobs import BlobStore
    from akool_mcp.domain.shared_db import SharedDatabase
    from akool_mcp.media.transport import Resolver

_WORKFLOW = """\
This server makes talking-avatar videos (3840x2160 MP4) with {where}.

Workflow:
1. Pick an avatar: list_avatars (source "official" for ready-made ones). Or upload the user's own with
   create_avatar (a ~1 minute video or a photo of a face) and follow it with get_avatar until completed.
2. Pick a voice with list_voices, unless the user gives recorded speech (audio_url).
3. Check the framing with preview_video_layout (same avatar, background and placement parameters; it
   returns the first frame as an image and creates nothing).{check}
4. create_talking_video once, with avatar_id (or avatar_url), text + voice_id (or audio_url), and
   optionally a background colour/image and placement.{cost}
5. Follow it with get_video_status(video_id, wait_seconds=45); repeat until done. The finished video is
   saved to the user's output folder (file_path) and shown with a poster; save_video gives it a name.
   list_videos lists past videos.
"""


def instructions_for(backend: str) -> str:
    if backend == "local":
        return _WORKFLOW.format(
            where="the built-in local engine (offline, on this machine; no Akool account needed; free)",
            check="",
            cost=" Rendering happens on this computer and takes about as long as the speech.",
        )
    return _WORKFLOW.format(
        where="Akool's cloud API",
        check=" Rendering is billed: get_credit shows the balance.",
        cost=" Each video and avatar upload is billed to the user's Akool credit.",
    )


def link_signer(settings: Settings) -> LinkSigner:
    """Signs media links: from AKOOL_LINK_SECRET, or a secret generated once and kept in the data directory."""
    configured = settings.link_secret.get_secret_value() if settings.link_secret else None
    return LinkSigner.from_secret(load_link_secret(settings.data_dir, configured), settings.link_ttl_hours * 3600)


def build_server(
    settings: Settings,
    *,
    transport: httpx2.AsyncBaseTransport | None = None,
    clock: Clock | None = None,
    shared: SharedBackend | None = None,
    local_paths: bool = True,
    media_base: str | None = None,
    resolver: Resolver | None = None,
) -> MCPServer[AppState]:
    """The server; `transport` replaces the network (tests pass an httpx2 MockTransport) and `resolver` the
    DNS that the guarded fetches of untrusted media use.

    With `shared`, every connection borrows the backend that the hosting app keeps open. `local_paths`
    lets the in-process engine read local files (stdio, for the user's own machine; never over HTTP).
    `media_base` is the server's own http(s) address under the HTTP transports: links to files use it.
    """
    backend = "akool" if transport is not None else settings.effective_backend
    time = clock or SystemClock()
    links = Links(
        output_dir=settings.output_dir,
        poster_dir=settings.data_dir / "posters",
        files_root=settings.data_dir / "files" if backend == "local" else None,
        base_url=media_base,
        signer=link_signer(settings) if media_base is not None else None,
        shared=settings.database_url is not None,
    )
    registry: Registry
    ledger: PaidLedger
    book: ScriptBook
    kept_elsewhere: BlobStore | None = None
    shared_db: SharedDatabase | None = None

    def now() -> float:
        return time.now_ms() / 1000

    if settings.database_url is not None:
        # Servers side by side (cluster mode): the list of videos, the paid requests and the scripts in
        # PostgreSQL, kept copies and joined scripts also in the shared blob store, so any replica answers any
        # request. Imported only then (start-up pays nothing otherwise).
        from akool_mcp.blobs import open_blobs
        from akool_mcp.domain.shared_db import SharedDatabase
        from akool_mcp.domain.shared_ledger import SharedLedger
        from akool_mcp.domain.shared_registry import SharedVideoRegistry
        from akool_mcp.domain.shared_scripts import SharedScriptBook

        shared_db = SharedDatabase(settings.database_url.get_secret_value())
        registry = SharedVideoRegistry(shared_db)
        ledger = SharedLedger(shared_db, now=now)
        book = SharedScriptBook(settings.data_dir / "scripts", shared_db)
        kept_elsewhere = open_blobs(settings, settings.data_dir / "files")
    else:
        registry = VideoRegistry(settings.data_dir / "library.sqlite3")
        ledger = Ledger(settings.data_dir / "paid-requests.sqlite3", now=now)
        book = ScriptBook(settings.data_dir / "scripts")

    @asynccontextmanager
    async def lifespan(_: MCPServer[AppState]) -> AsyncGenerator[AppState]:
        async with AsyncExitStack() as stack:
            stack.callback(registry.close)  # reopened on next use (SSE runs a lifespan per connection)
            stack.callback(ledger.close)
            if shared_db is not None:
                await anyio.to_thread.run_sync(shared_db.check_schema)  # never serve on an older schema
            # Downloads of finished videos from the links Akool returns: a client of its own, never carrying
            # the API key, made on first use (start-up should not pay for loading TLS certificates).
            media_http = OnDemandClient(
                lambda tls: httpx2.AsyncClient(
                    transport=transport,
                    verify=tls,
                    timeout=httpx2.Timeout(60, connect=10),
                    follow_redirects=True,
                    max_redirects=3,
                    headers={"user-agent": USER_AGENT},
                )
            )
            stack.push_async_callback(media_http.aclose)
            from akool_mcp.media.transport import GuardedTransport  # lazy: start-up should not pay for it

            preview_http = await stack.enter_async_context(
                httpx2.AsyncClient(
                    transport=GuardedTransport(transport, allow_private=settings.allow_private_urls, resolver=resolver),
                    timeout=httpx2.Timeout(30, connect=10),
                    follow_redirects=False,
                    headers={"user-agent": USER_AGENT},
                )
            )
            kept = await stack.enter_async_context(
                open_library(
                    registry,
                    links,
                    media_http,
                    max_bytes=settings.max_download_mb * 1024 * 1024,
                    clock=time,
                    shared=kept_elsewhere,
                ).running()
            )
            scripts = open_scripts(
                kept,
                book,
                media_http,
                max_bytes=settings.max_download_mb * 1024 * 1024,
                clock=time,
            )
            if shared is not None:
                if shared.value is None:
                    raise RuntimeError("the shared backend is not open")
                client, opened = shared.value

                async def borrowed() -> AkoolClient:
                    return client

                yield AppState(
                    backend=opened,
                    open_client=borrowed,
                    allow_local_paths=False,
                    clock=time,
                    library=kept,
                    links=links,
                    preview_http=preview_http,
                    allow_private_urls=settings.allow_private_urls,
                    ledger=ledger,
                    confirm_spend=settings.confirm_spend,
                    scripts=scripts,
                )
                return
            opener = BackgroundBackend()
            async with anyio.create_task_group() as tg:
                tg.start_soon(opener.run, settings, transport, local_paths, clock)
                try:
                    yield AppState(
                        backend=backend,
                        open_client=opener.client,
                        allow_local_paths=backend == "local" and transport is None and local_paths,
                        clock=time,
                        library=kept,
                        links=links,
                        preview_http=preview_http,
                        allow_private_urls=settings.allow_private_urls,
                        ledger=ledger,
                        confirm_spend=settings.confirm_spend,
                        scripts=scripts,
                    )
                finally:
                    opener.stop()

    server = AkoolServer(
        "akool-mcp",
        title="Akool talking avatars",
        version=__version__,
        instructions=instructions_for(backend),
        lifespan=lifespan,
        log_level=settings.log_level,
        extensions=[player_extension(media_base)],
    )
    avatars.register(server, backend)
    videos.register(server, backend)
    scripts.register(server, backend)
    library.register(server, backend)
    preview.register(server, backend)
    resources.register(server)
    if media_base is not None:
        register_media(server, links, kept_elsewhere)
    server.describe_parameters(url_descriptions(backend == "local" and transport is None and local_paths))
    if backend == "local":  # nothing is billed there: no request_id, no duplicates to allow
        server.omit_parameters(
            {"create_talking_video": PAID_ONLY, "create_avatar": PAID_ONLY, "create_video_from_script": PAID_ONLY}
        )
    else:  # Akool draws no captions into its pictures (its videos from text get a .vtt file beside them)
        server.omit_parameters({"create_talking_video": ("burn_captions",)})
    server.bind_ui(PLAYER_TOOLS, PLAYER_URI)
    return server
