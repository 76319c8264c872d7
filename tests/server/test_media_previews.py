"""Under the HTTP transports a voice's preview is a signed http(s) URL on this server, made on its first request."""

from __future__ import annotations

from pathlib import Path

import httpx2
import pytest
from mcp import Client

from akool_mcp.config import Settings
from akool_mcp.server import build_server
from tests.support import data

pytestmark = pytest.mark.anyio
BASE = "http://127.0.0.1:8765"


def local(tmp_path: Path) -> Settings:
    return Settings.model_validate(
        {"data_dir": tmp_path / "data", "output_dir": tmp_path / "Videos", "backend": "local"}
    )


async def test_preview_urls_are_served_by_this_server_and_made_on_first_request(tmp_path: Path) -> None:
    server = build_server(local(tmp_path), media_base=BASE)
    async with Client(server) as client:
        voices = data(await client.call_tool("list_voices", {"language": "en-GB"}))["voices"]
    for voice in voices:  # signed, like every link handed out over HTTP
        path, _, query = voice["preview_url"].partition("?")
        assert path == f"{BASE}/media/files/voices/{voice['voice_id']}/preview.mp3"
        assert "expires=" in query and "signature=" in query
    app = server.streamable_http_app(host="127.0.0.1")
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url=BASE) as http:
        served = await http.get(voices[0]["preview_url"].removeprefix(BASE))
        unsigned = await http.get(f"/media/files/voices/{voices[1]['voice_id']}/preview.mp3")
    assert served.status_code == 200 and served.headers["content-type"] == "audio/mpeg" and len(served.content) > 5_000
    assert (tmp_path / "data" / "files" / "voices" / voices[0]["voice_id"] / "preview.mp3").is_file()
    # A link the server did not sign is refused before any speech is made.
    assert unsigned.status_code == 403
    assert not (tmp_path / "data" / "files" / "voices" / voices[1]["voice_id"]).exists()
