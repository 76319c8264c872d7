"""`akool-mcp local-api`: the local engine over HTTP, requiring its key like Akool does."""

from __future__ import annotations

import signal
import sys
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager

import anyio
import uvicorn
from starlette.applications import Starlette
from starlette.types import Receive, Scope, Send

from akool_mcp.config import Settings
from akool_mcp.local.datadir import prepare_data_dir
from akool_mcp.local.engine import LocalEngine, Role
from akool_mcp.log import get_logger

log = get_logger(__name__)


class EngineApp:
    """An ASGI app whose lifespan runs the engine and whose requests go to the engine's API."""

    def __init__(self, settings: Settings, base_url: str, role: Role = "all") -> None:
        self.settings = settings
        self.base_url = base_url
        self.role: Role = role
        self.engine: LocalEngine | None = None
        self.app = Starlette(lifespan=self._lifespan)

    @asynccontextmanager
    async def _lifespan(self, _: Starlette) -> AsyncGenerator[None]:
        async with LocalEngine.running(
            self.settings, in_process=False, base_url=self.base_url, role=self.role
        ) as engine:
            self.engine = engine
            announce_keys(engine)
            yield

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        assert self.engine is not None
        await self.engine.app(scope, receive, send)


def announce_keys(engine: LocalEngine) -> None:
    """Like Jupyter's token: say once, on stderr, how to authenticate against a generated key."""
    keys = engine.keys
    if keys.generated:
        sys.stderr.write(
            "\nakool-mcp local engine: generated credentials (kept in "
            f"{engine.data_dir / 'engine.sqlite3'}):\n"
            f"    x-api-key / AKOOL_API_KEY: {keys.api_key}\n"
            f"    clientId: {keys.client_id}\n"
            f"Point the MCP server at it with AKOOL_BASE_URL={engine.links.base_url} AKOOL_API_KEY=<the key>.\n\n"
        )
    else:
        sys.stderr.write(f"akool-mcp local engine: serving at {engine.links.base_url} (client id {keys.client_id})\n")


def serve_local_api(settings: Settings, *, host: str, port: int, role: Role = "all") -> None:
    """Serve until stopped. An unusable data directory raises DataDirError (a ConfigError) before binding.
    A cluster's render worker (`role="worker"`) serves no HTTP: it takes jobs until SIGTERM or SIGINT."""
    prepare_data_dir(settings.data_dir)
    if role == "worker":
        anyio.run(run_worker, settings)
        return
    shown_host = f"[{host}]" if ":" in host else host
    if host in ("0.0.0.0", "::"):  # noqa: S104 - naming the wildcard, not binding it
        shown_host = "127.0.0.1"  # links need an address a client can reach; AKOOL_PUBLIC_URL overrides
    app = EngineApp(settings, f"http://{shown_host}:{port}", role)
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False, lifespan="on")


async def run_worker(settings: Settings) -> None:
    """A render worker of a cluster: runs jobs from the database until told to stop, then hands back its
    running jobs (they resume elsewhere) and exits."""
    base = str(settings.public_url).rstrip("/") if settings.public_url else None
    with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        async with LocalEngine.running(settings, in_process=False, base_url=base, role="worker") as engine:
            log.info("worker.ready", worker=engine.worker_name)
            async for received in signals:
                log.info("worker.stopping", worker=engine.worker_name, signal=received.name)
                break
