"""Running the MCP server over its HTTP transports with uvicorn."""

from __future__ import annotations

import uvicorn

from akool_mcp.config import Settings
from akool_mcp.domain.links import bound_base_url
from akool_mcp.server.app import build_server
from akool_mcp.server.backend import SharedBackend
from akool_mcp.server.http_guard import Transport, http_app


def serve_http(settings: Settings, transport: Transport, *, host: str, port: int) -> None:
    shared = SharedBackend(settings) if transport == "sse" else None
    public = str(settings.public_url) if settings.public_url else None
    # Links the model is given point at this server (never at its disk, never at a request's Host header).
    server = build_server(settings, shared=shared, local_paths=False, media_base=bound_base_url(host, port, public))
    app = http_app(
        server, transport, host=host, port=port, settings=settings, sse_lifespan=shared.hold if shared else None
    )
    # uvicorn's own logging is routed through the root handler configured in log.py (stderr).
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False, lifespan="on")
