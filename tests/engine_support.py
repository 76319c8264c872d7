"""Running the local engine in tests: in Akool mode (auth required) behind an ASGI transport."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx2

from akool_mcp.config import Settings
from akool_mcp.local.engine import LocalEngine

ENGINE_KEY = "engine-secret-0123456789abcdefgh"  # 32 bytes: AES-256 for webhooks
ENGINE_CLIENT_ID = "engine-client-1"


def engine_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp_path / "engine",
        "local_client_id": ENGINE_CLIENT_ID,
        "local_client_secret": ENGINE_KEY,
        "allow_private_urls": True,
        "render_preset": "ultrafast",
    }
    values.update(overrides)
    return Settings.model_validate(values)


@asynccontextmanager
async def akool_mode(
    tmp_path: Path,
    *,
    network: httpx2.AsyncBaseTransport | None = None,
    parts: dict[str, Any] | None = None,
    **overrides: Any,
) -> AsyncGenerator[tuple[LocalEngine, httpx2.AsyncClient]]:
    """The engine as Akool: key required; `http` is a raw client to it (no credentials attached).

    `network` stands in for the internet (media and webhook receivers); `parts` replaces engine parts
    (resolver, clock, store).
    """
    settings = engine_settings(tmp_path, **overrides)
    async with LocalEngine.running(
        settings, in_process=False, base_url="http://engine.test", outbound=network, **(parts or {})
    ) as engine:
        transport = httpx2.ASGITransport(app=engine.app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://engine.test") as http:
            yield engine, http
