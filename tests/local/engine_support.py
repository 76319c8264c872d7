"""Running the local engine in tests: in Akool mode (auth required) behind an ASGI transport."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncGenerator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import httpx2

from akool_mcp.config import Settings
from akool_mcp.local.engine import LocalEngine
from akool_mcp.local.store import Store, WebhookNote
from akool_mcp.media.transport import system_resolver
from tests.support import make_settings

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
    return make_settings(values)


async def test_names(host: str, port: int) -> list[str]:
    """DNS for tests: the reserved `.test` names are this machine (private targets are allowed in tests)."""
    if host.endswith(".test"):
        return ["127.0.0.1"]
    return await system_resolver(host, port)  # numbers in any spelling, localhost; no network for others


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
    parts = {"resolver": test_names, **(parts or {})}
    async with LocalEngine.running(
        settings, in_process=False, base_url="http://engine.test", outbound=network, **parts
    ) as engine:
        transport = httpx2.ASGITransport(app=engine.app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://engine.test") as http:
            yield engine, http


class EngineClock:
    """Engine time that moves only when the test says so.

    A wait ends when its event is set or when `advance` moves time past its deadline; `waiting_for`
    returns once some part of the engine is waiting for that many seconds (a backoff, say).
    """

    def __init__(self, start_ms: int = 1_800_000_000_000) -> None:
        self.ms = start_ms
        self._waiters: list[tuple[float, int, anyio.Event]] = []
        self._changed = anyio.Event()

    def now_ms(self) -> int:
        return self.ms

    def monotonic(self) -> float:
        return self.ms / 1000

    async def sleep(self, seconds: float) -> None:
        await self.wait(anyio.Event(), seconds)

    async def wait(self, event: anyio.Event, seconds: float) -> None:
        entry = (seconds, self.ms + round(seconds * 1000), anyio.Event())
        self._waiters.append(entry)
        self._changed.set()
        try:
            async with anyio.create_task_group() as tg:

                async def until(done: anyio.Event) -> None:
                    await done.wait()
                    tg.cancel_scope.cancel()

                tg.start_soon(until, event)
                tg.start_soon(until, entry[2])
        finally:
            self._waiters.remove(entry)

    async def advance(self, seconds: float) -> None:
        self.ms += round(seconds * 1000)
        for _, deadline, wake in list(self._waiters):
            if deadline <= self.ms:
                wake.set()
        await anyio.lowlevel.checkpoint()

    async def waiting_for(self, seconds: float) -> None:
        while not any(s == seconds for s, _, _ in self._waiters):
            self._changed = anyio.Event()
            await self._changed.wait()


DISK_FULL = "database or disk is full"


class FaultyStore(Store):
    """A store whose status changes fail (like a full disk) while `failing(record_id, fields)` says so."""

    def __init__(self, path: Path, failing: Callable[[str, dict[str, Any]], bool]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        super().__init__(path)
        self.failing = failing
        self.faults = 0

    def transition_video(self, video_id: str, fields: dict[str, Any], webhook: WebhookNote | None) -> None:
        if self.failing(video_id, fields):
            self.faults += 1
            raise sqlite3.OperationalError(DISK_FULL)
        super().transition_video(video_id, fields, webhook)

    def update_video(self, video_id: str, **fields: Any) -> None:
        if self.failing(video_id, fields):
            self.faults += 1
            raise RuntimeError("injected fault inside the render")
        super().update_video(video_id, **fields)
