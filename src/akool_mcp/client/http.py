"""HTTP clients made when first needed, all sharing one TLS context.

Loading the CA certificates into a TLS context takes 20-50 ms of CPU on the machines we measure, and
httpx2 does it whenever a client is made with its default transport. A server that answers `initialize`
and `tools/list` talks to nobody, so it should not pay for that at start: every client akool-mcp makes
takes its TLS context from `tls_context()` (made once, on first need, and shared), and the clients that
are not needed at start are made on first use by `OnDemandClient`.
"""

from __future__ import annotations

import functools
import ssl
from collections.abc import Awaitable, Callable

import anyio
import anyio.to_thread
import httpx2

# Something that hands out the client to use: an `OnDemandClient`, or `ready(client)` for one already made.
HttpSource = Callable[[], Awaitable[httpx2.AsyncClient]]


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The process's one TLS context, httpx2's default (system CAs, SSL_CERT_FILE/SSL_CERT_DIR honoured).

    Made on first need and kept (`tls_context.cache_clear()` forgets it, for a test that counts loads).
    """
    return httpx2.create_ssl_context()


class OnDemandClient:
    """An httpx2.AsyncClient made on the first call, with the TLS context loaded off the event loop.

    `make` receives the shared TLS context and returns the client; closing closes it only if it was made.
    """

    def __init__(self, make: Callable[[ssl.SSLContext], httpx2.AsyncClient]) -> None:
        self._make = make
        self._client: httpx2.AsyncClient | None = None
        self._lock = anyio.Lock()

    async def __call__(self) -> httpx2.AsyncClient:
        async with self._lock:
            if self._client is None:
                context = await anyio.to_thread.run_sync(tls_context)
                self._client = self._make(context)
            return self._client

    async def aclose(self) -> None:
        async with self._lock:
            client, self._client = self._client, None
        if client is not None:
            await client.aclose()


def ready(client: httpx2.AsyncClient) -> HttpSource:
    """An HttpSource for a client that already exists (tests, a MockTransport)."""

    async def source() -> httpx2.AsyncClient:
        return client

    return source
