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
async def akool_mode(tmp_path: Path, **overrides: Any) -> AsyncGenerator[tuple[LocalEngine, httpx2.AsyncClient]]:
    """The engine as Akool: key required; `http` is a raw client to it (no credentials attached)."""
    async with LocalEngine.running(engine_settings(tmp_path, **overrides), in_process=False) as engine:
        engine.base_url = "http://engine.test"
        transport = httpx2.ASGITransport(app=engine.app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://engine.test") as http:
            yield engine, http
