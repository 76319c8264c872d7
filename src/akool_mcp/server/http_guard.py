"""The HTTP transports (streamable HTTP and SSE): bearer token, Host/Origin checks, CORS, safe binding."""

from __future__ import annotations

import hmac
import ipaddress
import re
from typing import Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import JSONResponse
from starlette.routing import Mount
from starlette.types import ASGIApp, Receive, Scope, Send

from akool_mcp.config import ConfigError, Settings
from akool_mcp.domain.links import MEDIA_PREFIX
from akool_mcp.tools.state import AppState

Transport = Literal["streamable-http", "sse"]


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_binding(host: str, settings: Settings) -> None:
    """Anyone who can reach a non-loopback port could spend the user's credit: require a token there."""
    if not is_loopback(host) and settings.mcp_token is None:
        raise ConfigError(
            f"Refusing to listen on {host} without a token: anyone on the network could use this server. "
            "Set AKOOL_MCP_TOKEN to a long random secret (clients then send 'Authorization: Bearer <token>'), "
            "or bind to 127.0.0.1."
        )


def security_settings(host: str, port: int, settings: Settings) -> TransportSecuritySettings:
    hosts = ["127.0.0.1:*", "localhost:*", "[::1]:*"]
    origins = ["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"]
    if not is_loopback(host) and host not in ("0.0.0.0", "::"):  # noqa: S104 - compared, not bound
        hosts.append(f"{host}:{port}")
        origins.append(f"http://{host}:{port}")
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=hosts if host not in ("0.0.0.0", "::") else ["*"],  # noqa: S104
        allowed_origins=[*origins, *settings.allowed_origins],
    )


# What a browser-based client sends and must read on the MCP endpoint (streamable HTTP and SSE).
CORS_REQUEST_HEADERS = ["authorization", "content-type", "accept", "mcp-session-id", "mcp-protocol-version",
                        "last-event-id"]  # fmt: skip
CORS_EXPOSED_HEADERS = ["mcp-session-id", "mcp-protocol-version", "www-authenticate"]


def cors(app: ASGIApp, origins: list[str]) -> ASGIApp:
    """CORS for the configured origins only (AKOOL_ALLOWED_ORIGINS; `:*` stands for any port), none for others.

    Outermost, so a preflight is answered before the bearer token is asked for (a browser never sends it on
    a preflight); a preflight from any other origin is refused and other answers carry no CORS headers.
    """
    if not origins:
        return app
    exact = [o.rstrip("/") for o in origins if "*" not in o]
    patterns = [re.escape(o.rstrip("/")).replace(r"\*", "[0-9]+") for o in origins if "*" in o]
    return CORSMiddleware(
        app,
        allow_origins=exact,
        allow_origin_regex="|".join(f"(?:{p})" for p in patterns) or None,
        allow_methods=["GET", "POST", "DELETE", "HEAD", "OPTIONS"],
        allow_headers=CORS_REQUEST_HEADERS,
        expose_headers=CORS_EXPOSED_HEADERS,
        max_age=600,
    )


class BearerTokenMiddleware:
    """Require `Authorization: Bearer <AKOOL_MCP_TOKEN>` on every HTTP request but the signed media links."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self._token = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or str(scope.get("path", "")).startswith(MEDIA_PREFIX + "/"):
            # Media links carry their own signature and expiry (a <video> element cannot send a header).
            await self.app(scope, receive, send)
            return
        header = dict(scope.get("headers") or []).get(b"authorization", b"")
        scheme, _, token = header.partition(b" ")
        if scheme.lower() != b"bearer" or not hmac.compare_digest(token.strip(), self._token):
            response = JSONResponse(
                {"error": "unauthorized", "error_description": "send Authorization: Bearer <AKOOL_MCP_TOKEN>"},
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="akool-mcp"'},
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def http_app(
    server: MCPServer[AppState],
    transport: Transport,
    *,
    host: str,
    port: int,
    settings: Settings,
    sse_lifespan: object | None = None,
) -> ASGIApp:
    check_binding(host, settings)
    security = security_settings(host, port, settings)
    app: ASGIApp
    if transport == "streamable-http":
        app = server.streamable_http_app(transport_security=security, host=host)
    else:
        inner = server.sse_app(transport_security=security, host=host)
        app = Starlette(routes=[Mount("/", app=inner)], lifespan=sse_lifespan)  # type: ignore[arg-type]
    if settings.mcp_token is not None:
        app = BearerTokenMiddleware(app, settings.mcp_token.get_secret_value())
    return cors(app, settings.allowed_origins)
