"""Opening the one shared HTTP client, against Akool's cloud or the built-in local engine."""

from __future__ import annotations

import importlib
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Literal

import anyio
import anyio.to_thread
import httpx2

from akool_mcp import user_agent
from akool_mcp.client import AkoolClient, ApiKey, ClientCredentials, Credentials, NoCredentials
from akool_mcp.client.http import tls_context
from akool_mcp.clock import Clock, SystemClock
from akool_mcp.config import Settings
from akool_mcp.errors import LOCAL_ENGINE, BackendUnavailableError
from akool_mcp.log import get_logger

log = get_logger(__name__)

LOCAL_BASE_URL = "http://akool-local.invalid"
LOCAL_GRACE = 2.0  # seconds after start when the local engine opens unasked (see BackgroundBackend)
USER_AGENT = user_agent()


def credentials_from(settings: Settings) -> Credentials:
    if settings.api_key is not None:
        return ApiKey(settings.api_key.get_secret_value())
    if settings.client_id is not None and settings.client_secret is not None:
        return ClientCredentials(settings.client_id, settings.client_secret.get_secret_value())
    return NoCredentials()


def http_client(base_url: str, settings: Settings, transport: httpx2.AsyncBaseTransport | None) -> httpx2.AsyncClient:
    # Reads can be slow on a busy service; connecting should not be. Pooling is bounded so a burst of
    # tool calls cannot open unbounded sockets.
    timeout = httpx2.Timeout(settings.timeout, connect=min(10.0, settings.timeout))
    limits = httpx2.Limits(max_connections=20, max_keepalive_connections=10, keepalive_expiry=30)
    return httpx2.AsyncClient(
        base_url=base_url,
        verify=True if transport is not None else tls_context(),
        timeout=timeout,
        limits=limits,
        transport=transport,
        headers={"user-agent": USER_AGENT},
        follow_redirects=False,
    )


@asynccontextmanager
async def open_backend(
    settings: Settings,
    *,
    transport: httpx2.AsyncBaseTransport | None = None,
    local_paths: bool = True,
    clock: Clock | None = None,
) -> AsyncGenerator[tuple[AkoolClient, Literal["akool", "local"]]]:
    """Yield the shared client. With the local backend, the engine runs in this process behind ASGI."""
    backend = settings.effective_backend
    sleep = (clock or SystemClock()).sleep
    if backend == "akool" or transport is not None:
        if transport is None:
            # Loading the CA bundle takes tens of milliseconds and releases the GIL: do it off the event
            # loop, which is answering `initialize` meanwhile.
            http = await anyio.to_thread.run_sync(http_client, settings.resolved_base_url, settings, None)
        else:
            http = http_client(settings.resolved_base_url, settings, transport)
        async with http:
            log.info("backend.ready", backend=backend, base_url=settings.resolved_base_url)
            yield AkoolClient(http, credentials_from(settings), max_retries=settings.max_retries, sleep=sleep), backend
        return
    from akool_mcp.local.engine import LocalEngine  # lazy: only the local backend pays for it

    async with LocalEngine.running(settings, in_process=True, local_paths=local_paths) as engine:
        asgi = httpx2.ASGITransport(app=engine.app)
        async with http_client(LOCAL_BASE_URL, settings, asgi) as http:
            log.info("backend.ready", backend="local", data_dir=str(settings.data_dir))
            client = AkoolClient(
                http, NoCredentials(), max_retries=settings.max_retries, sleep=sleep, service=LOCAL_ENGINE
            )
            yield client, "local"


class SharedBackend:
    """One backend for the whole process, for transports that run the MCP lifespan per connection (SSE).

    The ASGI app's lifespan holds it open; each connection borrows it.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.value: tuple[AkoolClient, Literal["akool", "local"]] | None = None

    @asynccontextmanager
    async def hold(self, _app: object = None) -> AsyncGenerator[None]:
        async with open_backend(self.settings, local_paths=False) as value:
            self.value = value
            try:
                yield
            finally:
                self.value = None


class BackgroundBackend:
    """Opens the backend in a background task, so the first protocol messages do not wait for it.

    It opens when the first tool call asks for it (`client()`), and the local engine also opens by itself
    `LOCAL_GRACE` seconds after start, since it resumes the jobs and webhooks left from the last run. Not
    at once: importing the engine (numpy, PyAV, OpenCV, LiteRT) would compete with answering `initialize`
    and `tools/list` for the interpreter. A client of Akool's cloud has nothing to resume, so a server that
    is only listed never loads TLS certificates. The backend stays open until `stop()`.
    """

    def __init__(self) -> None:
        self._wanted = anyio.Event()
        self._ready = anyio.Event()
        self._stop = anyio.Event()
        self._client: AkoolClient | None = None
        self._error: str | None = None

    async def run(
        self, settings: Settings, transport: httpx2.AsyncBaseTransport | None, local_paths: bool, clock: Clock | None
    ) -> None:
        local = settings.effective_backend == "local" and transport is None
        try:
            await self._until_wanted(LOCAL_GRACE if local else None, (clock or SystemClock()).sleep)
            if self._stop.is_set():
                return
            if local:
                # Imported off the event loop, which goes on answering requests meanwhile.
                await anyio.to_thread.run_sync(importlib.import_module, "akool_mcp.local.engine")
            async with open_backend(settings, transport=transport, local_paths=local_paths, clock=clock) as (
                client,
                _,
            ):
                self._client = client
                self._ready.set()
                await self._stop.wait()
        except Exception as exc:
            log.exception("backend.failed")
            self._error = f"The {settings.effective_backend} backend could not start: {exc}"
        finally:
            self._ready.set()

    async def _until_wanted(self, grace: float | None, sleep: Callable[[float], Awaitable[None]]) -> None:
        if grace is None:
            await self._wanted.wait()
            return
        async with anyio.create_task_group() as tg:

            async def after_grace() -> None:
                await sleep(grace)
                self._wanted.set()

            tg.start_soon(after_grace)
            await self._wanted.wait()
            tg.cancel_scope.cancel()

    async def opened(self) -> bool:
        """Waits, without asking for it, until the backend opened (True) or could not (False)."""
        await self._ready.wait()
        return self._client is not None

    async def client(self) -> AkoolClient:
        self._wanted.set()
        await self._ready.wait()
        if self._client is None:
            raise BackendUnavailableError(self._error or "the backend has stopped")
        return self._client

    def stop(self) -> None:
        self._stop.set()
        self._wanted.set()
