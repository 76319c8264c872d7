"""The HTTP transports' door, in process: signed media links open with no header, the token guards `/mcp`,
and CORS answers the configured origins' preflights before asking for the token, and no one else's."""

from __future__ import annotations

import time
from pathlib import Path

import httpx2
import pytest

from akool_mcp.config import Settings
from akool_mcp.domain.links import Links, LinkSigner
from akool_mcp.server.app import build_server, link_signer
from akool_mcp.server.http_guard import http_app
from tests.fakes.akool import FakeAkool
from tests.support import FakeClock, cloud_settings

pytestmark = pytest.mark.anyio

TOKEN = "mcp-test-token-5f1e2d3c4b5a"
BASE = "http://127.0.0.1:8765"
ALLOWED = "https://host.example"


def serving(settings: Settings, transport: str = "streamable-http") -> httpx2.AsyncClient:
    server = build_server(settings, transport=FakeAkool().transport(), clock=FakeClock(), media_base=BASE)
    app = http_app(server, transport, host="127.0.0.1", port=8765, settings=settings)  # type: ignore[arg-type]
    return httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url=BASE)


def kept_video(settings: Settings, signer: LinkSigner | None = None) -> tuple[Path, Links]:
    settings.output_dir.mkdir(parents=True)
    video = settings.output_dir / "akool-v1.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(200))
    signer = signer or link_signer(settings)
    links = Links(settings.output_dir, settings.data_dir / "posters", base_url=BASE, signer=signer)
    return video, links


@pytest.fixture
def settings() -> Settings:
    return cloud_settings(mcp_token=TOKEN, allowed_origins=[ALLOWED])


async def test_a_signed_link_opens_without_the_token_and_seeks(settings: Settings) -> None:
    video, links = kept_video(settings)
    url = links.video(str(video)) or ""
    async with serving(settings) as http:
        whole = await http.get(url)
        ranged = await http.get(url, headers={"Range": "bytes=0-9"})
        mcp = await http.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    assert whole.status_code == 200 and whole.headers["content-type"] == "video/mp4" and whole.content[4:8] == b"ftyp"
    assert ranged.status_code == 206 and len(ranged.content) == 10
    assert mcp.status_code == 401  # the token still guards the protocol


async def test_a_link_from_before_a_restart_still_opens(settings: Settings) -> None:
    video, links = kept_video(settings)
    url = links.video(str(video)) or ""
    async with serving(settings) as http:  # a new server, reading the kept secret
        assert (await http.get(url)).status_code == 200


@pytest.mark.parametrize("change", ["tampered", "expired", "other path", "unsigned", "other server"])
async def test_a_changed_expired_or_borrowed_link_gets_403_with_a_clear_text(settings: Settings, change: str) -> None:
    video, links = kept_video(settings)
    (settings.output_dir / "akool-v2.mp4").write_bytes(b"other")
    url = links.video(str(video)) or ""
    if change == "tampered":
        url = url.replace("expires=", "expires=9")
    elif change == "expired":
        past = LinkSigner(link_signer(settings).key, ttl=60, now=lambda: time.time() - 3600)
        url = Links(settings.output_dir, settings.data_dir, base_url=BASE, signer=past).video(str(video)) or ""
    elif change == "other path":
        url = url.replace("akool-v1.mp4", "akool-v2.mp4")
    elif change == "unsigned":
        url = url.split("?")[0]
    else:
        stranger = LinkSigner.from_secret("another-servers-secret-0123456789", ttl=3600)
        url = Links(settings.output_dir, settings.data_dir, base_url=BASE, signer=stranger).video(str(video)) or ""
    async with serving(settings) as http:
        answer = await http.get(url)
    assert answer.status_code == 403 and answer.headers["content-type"].startswith("text/plain")
    expected = {"expired": "expired at", "unsigned": "not signed"}.get(change, "not valid")
    assert expected in answer.text and "again" in answer.text
    assert b"ftyp" not in answer.content


@pytest.mark.parametrize("transport", ["streamable-http", "sse"])
async def test_a_preflight_from_an_allowed_origin_is_answered_before_the_token(
    settings: Settings, transport: str
) -> None:
    path = "/mcp" if transport == "streamable-http" else "/sse"
    async with serving(settings, transport) as http:
        answer = await http.options(
            path,
            headers={
                "Origin": ALLOWED,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type, mcp-protocol-version, mcp-session-id",
            },
        )
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == ALLOWED
    allowed = {h.strip().lower() for h in answer.headers["access-control-allow-headers"].split(",")}
    assert {"authorization", "content-type", "mcp-protocol-version", "mcp-session-id"} <= allowed
    assert "POST" in answer.headers["access-control-allow-methods"]


async def test_answers_to_an_allowed_origin_expose_the_mcp_headers(settings: Settings) -> None:
    async with serving(settings) as http:
        answer = await http.post("/mcp", json={}, headers={"Origin": ALLOWED})
    assert answer.status_code == 401  # no token: refused, but readable by the page that asked
    assert answer.headers["access-control-allow-origin"] == ALLOWED
    exposed = {h.strip().lower() for h in answer.headers["access-control-expose-headers"].split(",")}
    assert {"mcp-session-id", "mcp-protocol-version", "www-authenticate"} <= exposed


async def test_other_origins_get_no_cors_at_all(settings: Settings) -> None:
    async with serving(settings) as http:
        preflight = await http.options(
            "/mcp", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
        )
        plain = await http.post("/mcp", json={}, headers={"Origin": "https://evil.example"})
    assert preflight.status_code == 400 and "access-control-allow-origin" not in preflight.headers
    assert "access-control-allow-origin" not in plain.headers


async def test_an_origin_pattern_allows_any_port_of_that_host() -> None:
    settings = cloud_settings(mcp_token=TOKEN, allowed_origins=["http://localhost:*"])
    async with serving(settings) as http:
        good = await http.options(
            "/mcp", headers={"Origin": "http://localhost:5173", "Access-Control-Request-Method": "POST"}
        )
        bad = await http.options(
            "/mcp", headers={"Origin": "http://localhost.evil.example", "Access-Control-Request-Method": "POST"}
        )
    assert good.headers.get("access-control-allow-origin") == "http://localhost:5173"
    assert "access-control-allow-origin" not in bad.headers


async def test_without_configured_origins_no_cors_is_added() -> None:
    settings = cloud_settings(mcp_token=TOKEN)
    async with serving(settings) as http:
        answer = await http.options("/mcp", headers={"Origin": ALLOWED, "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in answer.headers
