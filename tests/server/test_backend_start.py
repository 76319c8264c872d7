"""The backend opens in the background; if it cannot, tool calls say why instead of hanging or crashing."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Generator
from pathlib import Path
from typing import Any

import anyio
import httpcore2
import httpx2
import pytest
from mcp import Client

from akool_mcp.client import AkoolClient
from akool_mcp.client.http import OnDemandClient, tls_context
from akool_mcp.errors import BackendUnavailableError
from akool_mcp.media.transport import GuardedTransport
from akool_mcp.server import build_server
from akool_mcp.server.backend import LOCAL_GRACE, BackgroundBackend
from tests.support import FakeClock, cloud_settings, make_settings, text

pytestmark = pytest.mark.anyio


async def test_a_local_engine_that_cannot_start_is_reported_to_the_model(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the data directory should be")
    settings = make_settings({"data_dir": blocker / "data", "backend": "local"})
    async with Client(build_server(settings)) as client:
        tools = await client.list_tools()
        result = await client.call_tool("list_voices", {})
    assert tools.tools  # the protocol answered although the backend failed
    assert result.is_error
    assert "local backend could not start" in text(result)


@pytest.fixture
def tls_loads(monkeypatch: pytest.MonkeyPatch) -> Generator[list[int]]:
    """Counts the TLS contexts made (loading CA certificates costs tens of milliseconds of start-up)."""
    made: list[int] = []
    real = httpcore2.default_ssl_context  # what every httpx2 client with default verification calls

    def counting(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        made.append(1)
        return real(*args, **kwargs)

    tls_context.cache_clear()
    monkeypatch.setattr(httpcore2, "default_ssl_context", counting)
    yield made
    tls_context.cache_clear()


async def test_answering_the_handshake_loads_no_tls_certificates(tls_loads: list[int]) -> None:
    async with Client(build_server(cloud_settings())) as client:
        await client.list_tools()
        await client.list_prompts()
        listed = await client.call_tool("list_videos", {})  # reads the local library only
    assert not listed.is_error, text(listed)
    assert tls_loads == []


async def test_the_cloud_client_is_made_when_a_tool_first_asks_and_all_clients_share_one_tls_context(
    tls_loads: list[int],
) -> None:
    opener = BackgroundBackend()
    client: AkoolClient | None = None
    async with anyio.create_task_group() as tg:
        tg.start_soon(opener.run, cloud_settings(), None, False, None)
        await anyio.wait_all_tasks_blocked()
        assert tls_loads == []  # nothing asked for Akool yet
        client = await opener.client()
        media = OnDemandClient(lambda tls: httpx2.AsyncClient(verify=tls))
        downloads = await media()
        assert await media() is downloads
        await media.aclose()
        opener.stop()
    assert isinstance(client, AkoolClient)
    assert tls_loads == [1]


async def test_a_backend_never_asked_for_stops_without_opening(tls_loads: list[int]) -> None:
    opener = BackgroundBackend()
    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(opener.run, cloud_settings(), None, False, None)
            await anyio.wait_all_tasks_blocked()
            opener.stop()
    assert tls_loads == []
    with pytest.raises(BackendUnavailableError):
        await opener.client()


async def test_the_local_engine_opens_unasked_after_a_grace_to_resume_its_jobs(tmp_path: Path) -> None:
    clock = FakeClock()
    opener = BackgroundBackend()
    settings = make_settings({"data_dir": tmp_path / "data", "backend": "local"})
    with anyio.fail_after(120):
        async with anyio.create_task_group() as tg:
            tg.start_soon(opener.run, settings, None, False, clock)
            assert await opener.opened()  # no tool asked for it
            opener.stop()
    assert clock.sleeps == [LOCAL_GRACE]


async def test_the_guarded_transport_loads_its_certificates_off_the_event_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Webhooks and media downloads go through the guarded transport; the first one it sends
    must not stall every other request while the CA bundle loads (20-50 ms)."""
    threads: list[bool] = []
    real = httpcore2.default_ssl_context

    def recording(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        threads.append(threading.current_thread() is threading.main_thread())
        return real(*args, **kwargs)

    tls_context.cache_clear()
    monkeypatch.setattr(httpcore2, "default_ssl_context", recording)
    transport = GuardedTransport(allow_private=True)
    with pytest.raises(httpx2.ConnectError):  # nothing listens there: only the set-up matters
        await transport.handle_async_request(httpx2.Request("GET", "http://127.0.0.1:9/hook"))
    await transport.aclose()
    assert threading.current_thread() is threading.main_thread()  # the test's event loop
    assert threads == [False]
