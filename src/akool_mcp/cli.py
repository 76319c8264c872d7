"""The `akool-mcp` command: the MCP server (stdio by default), the local engine over HTTP, and the demo."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from types import SimpleNamespace
from typing import TYPE_CHECKING

from pydantic import ValidationError

from akool_mcp import __version__
from akool_mcp.config import ConfigError, Settings, check_settings

if TYPE_CHECKING:
    import argparse


def _parser() -> argparse.ArgumentParser:
    import argparse

    parser = argparse.ArgumentParser(
        prog="akool-mcp",
        description="MCP server for Akool talking-avatar videos, with an offline local engine. "
        "With no command, serves MCP over stdio.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="serve MCP over stdio, streamable HTTP or SSE")
    serve.add_argument("--transport", choices=["stdio", "streamable-http", "sse"], default="stdio")
    serve.add_argument("--host", default="127.0.0.1", help="interface for the HTTP transports (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8765, help="port for the HTTP transports (default 8765)")
    local = sub.add_parser("local-api", help="serve the local engine's Akool-compatible HTTP API")
    local.add_argument("--host", default="127.0.0.1")
    local.add_argument("--port", type=int, default=8000)
    demo = sub.add_parser("demo", help="make a real talking-avatar video through the MCP server on the local engine")
    demo.add_argument("--out", default="out/akool-demo.mp4", help="where to save the MP4 (default out/akool-demo.mp4)")
    demo.add_argument(
        "--text",
        default="Hello! I am a talking avatar, rendered in 4K on your own computer by the akool-mcp local engine.",
    )
    demo.add_argument("--voice", default=None, help="voice_id (default: the first English voice)")
    demo.add_argument("--background", default="#2B5F8E", help="hex colour of the background")
    return parser


def load_settings() -> Settings:
    try:
        settings = Settings.from_environ()
        check_settings(settings)
    except ValidationError as exc:
        err = exc.errors()[0]
        name = "AKOOL_" + str(err["loc"][0]).upper() if err["loc"] else "configuration"
        raise ConfigError(f"{name}: {err['msg']}") from None
    return settings


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace | SimpleNamespace:
    given = sys.argv[1:] if argv is None else list(argv)
    if not given:
        # How MCP clients start us: serve stdio. argparse and the parser are not needed for that (start-up).
        return SimpleNamespace(command=None)
    return _parser().parse_args(given)


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    try:
        settings = load_settings()
        if args.command == "demo":
            from akool_mcp.demo import run_demo

            return run_demo(out=args.out, text=args.text, voice=args.voice, background=args.background)
        _setup_logging(settings)
        if args.command == "local-api" or settings.effective_backend == "local":
            from akool_mcp.local.datadir import prepare_data_dir

            prepare_data_dir(settings.data_dir)  # one clear line now, rather than a failure later
        if args.command == "local-api":
            from akool_mcp.local.service import serve_local_api

            serve_local_api(settings, host=args.host, port=args.port)
            return 0
        transport: str = getattr(args, "transport", "stdio")
        if transport == "stdio":
            from akool_mcp.server import build_server

            build_server(settings).run("stdio")
            return 0
        from akool_mcp.server.transports import serve_http

        serve_http(settings, "sse" if transport == "sse" else "streamable-http", host=args.host, port=args.port)
        return 0
    except ConfigError as exc:
        sys.stderr.write(f"akool-mcp: configuration error: {exc}\n")
        return 2
    except KeyboardInterrupt:
        return 130


def _setup_logging(settings: Settings) -> None:
    from akool_mcp.log import configure_logging

    secrets = [
        s.get_secret_value()
        for s in (settings.api_key, settings.client_secret, settings.mcp_token, settings.local_api_key,
                  settings.local_client_secret, settings.link_secret)
        if s is not None
    ]  # fmt: skip
    configure_logging(settings.log_level, fmt=settings.log_format, secrets=secrets)
