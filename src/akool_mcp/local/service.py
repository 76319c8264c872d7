"""`akool-mcp local-api`: the local engine over HTTP, requiring its key like Akool does."""

from __future__ import annotations

import sys
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager

import uvicorn
from starlette.applications import Starlette
from starlette.types import Receive, Scope, Send

from akool_mcp.config import Settings
from akool_mcp.local.datadir import prepare_data_dir
from akool_mcp.local.engine import LocalEngine


class EngineApp:
    """An ASGI app whose lifespan runs the engine and whose requests go to the engine's API."""

    def __init__(self, settings: Settings, base_url: str) -> None:
        self.settings = settings
        self.base_url = base_url
        self.engine: LocalEngine | None = None
        self.app = Starlette(lifespan=self._lifespan)

    @asynccontextmanager
    async def _lifespan(self, _: Starlette) -> AsyncGenerator[None]:
        async with LocalEngine.running(self.settings, in_process=False, base_url=self.base_url) as engine:
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


def serve_local_api(settings: Settings, *, host: str, port: int) -> None:
    """Serve until stopped. An unusable data directory raises DataDirError (a ConfigError) before binding."""
    prepare_data_dir(settings.data_dir)
    shown_host = f"[{host}]" if ":" in host else host
    if host in ("0.0.0.0", "::"):  # noqa: S104 - naming the wildcard, not binding it
        shown_host = "127.0.0.1"  # links need an address a client can reach; AKOOL_PUBLIC_URL overrides
    app = EngineApp(settings, f"http://{shown_host}:{port}")
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False, lifespan="on")
