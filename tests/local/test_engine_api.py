"""The local engine answers like the contract: envelope, auth, codes, shapes (no rendering here)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx2
import pytest

from akool_mcp.client import AkoolClient, ApiKey, ClientCredentials
from akool_mcp.errors import AuthenticationError, InvalidRequestError, NotFoundError
from akool_mcp.models import Element, TalkingVideoRequest
from tests.local.engine_support import ENGINE_CLIENT_ID, ENGINE_KEY, akool_mode

pytestmark = pytest.mark.anyio
KEY = {"x-api-key": ENGINE_KEY}
V3 = "/api/open/v3"


def video_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "width": 3840,
        "height": 2160,
        "avatar_from": 2,
        "elements": [
            {"type": "image", "url": "#223344", "width": 3840, "height": 2160, "scale_x": 1, "scale_y": 1,
             "offset_x": 1920, "offset_y": 1080},
            {"type": "avatar", "avatar_id": "nobody", "width": 2160, "height": 2160, "scale_x": 1, "scale_y": 1,
             "offset_x": 1920, "offset_y": 1080},
            {"type": "audio", "input_text": "Hello", "voice_id": "en-US-male-1"},
        ],
    }  # fmt: skip
    body.update(overrides)
    return body


async def test_requests_without_credentials_get_1102(tmp_path: Path) -> None:
    async with akool_mode(tmp_path) as (_, http):
        body = (await http.get(f"{V3}/content/video/infobymodelid", params={"video_model_id": "x"})).json()
    assert body["code"] == 1102 and "authorization" in body["msg"]


async def test_a_wrong_api_key_gets_1101(tmp_path: Path) -> None:
    async with akool_mode(tmp_path) as (_, http):
        body = (await http.get(f"{V3}/faceswap/quota/info", headers={"x-api-key": "nope"})).json()
    assert body["code"] == 1101


async def test_get_token_answers_the_token_at_the_top_level_and_it_authorises(tmp_path: Path) -> None:
    async with akool_mode(tmp_path) as (_, http):
        issued = (
            await http.post(f"{V3}/getToken", json={"clientId": ENGINE_CLIENT_ID, "clientSecret": ENGINE_KEY})
        ).json()
        token = issued["token"]
        ok = (await http.get(f"{V3}/faceswap/quota/info", headers={"Authorization": f"Bearer {token}"})).json()
        # Authorization wins when both are sent: a bad bearer with a good key is refused.
        both = (await http.get(f"{V3}/faceswap/quota/info", headers={"Authorization": "Bearer bad", **KEY})).json()
        refused = (await http.post(f"{V3}/getToken", json={"clientId": ENGINE_CLIENT_ID, "clientSecret": "x"})).json()
    assert issued["code"] == 1000 and "data" not in issued
    assert ok["code"] == 1000 and "credit" in ok["data"]
    assert both["code"] == 1101
    assert refused["code"] == 1101


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"width": 1920}, "width"),
        ({"height": 1080}, "height"),
        ({"avatar_from": 5}, "avatar_from"),
        ({"elements": []}, "elements"),
        ({"webhookUrl": "ftp://x"}, "webhookUrl"),
    ],
)
async def test_invalid_video_requests_get_1003_naming_the_field(
    tmp_path: Path, overrides: dict[str, Any], field: str
) -> None:
    async with akool_mode(tmp_path) as (_, http):
        body = (await http.post(f"{V3}/talkingavatar/create", json=video_body(**overrides), headers=KEY)).json()
    assert body["code"] == 1003 and field in body["msg"]


@pytest.mark.parametrize(
    ("index", "change", "field"),
    [
        (0, {"url": "#12GG34"}, "elements[0].url"),
        (0, {"url": "https://x.example/bg.gif"}, "elements[0].url"),
        (0, {"scale_x": None}, "elements[0].scale_x"),
        (1, {"width": None}, "elements[1].width"),
        (1, {"url": "https://x.example/me.png"}, "elements[1]"),
        (2, {"voice_id": None}, "elements[2].voice_id"),
        (2, {"input_text": None, "voice_id": None}, "elements[2]"),
        (2, {"type": "music"}, "elements[2].type"),
    ],
)
async def test_invalid_elements_get_1003_naming_the_element_field(
    tmp_path: Path, index: int, change: dict[str, Any], field: str
) -> None:
    body = video_body()
    body["elements"][index] = {k: v for k, v in {**body["elements"][index], **change}.items() if v is not None}
    async with akool_mode(tmp_path) as (_, http):
        answer = (await http.post(f"{V3}/talkingavatar/create", json=body, headers=KEY)).json()
    assert answer["code"] == 1003 and field in answer["msg"], answer


async def test_unknown_video_ids_get_1014_and_a_missing_id_1003(tmp_path: Path) -> None:
    async with akool_mode(tmp_path) as (_, http):
        unknown = (
            await http.get(f"{V3}/content/video/infobymodelid", params={"video_model_id": "0" * 24}, headers=KEY)
        ).json()
        missing = (await http.get(f"{V3}/content/video/infobymodelid", headers=KEY)).json()
    assert unknown["code"] == 1014
    assert missing["code"] == 1003 and "video_model_id" in missing["msg"]


async def test_avatar_create_refuses_a_non_alphanumeric_avatar_id(tmp_path: Path) -> None:
    async with akool_mode(tmp_path) as (_, http):
        body = (
            await http.post(
                f"{V3}/avatar/create", json={"url": "https://x.example/v.mp4", "avatar_id": "a_b"}, headers=KEY
            )
        ).json()
    assert body["code"] == 1003 and "avatar_id" in body["msg"]


async def test_the_voice_list_has_the_v4_shape(tmp_path: Path) -> None:
    async with akool_mode(tmp_path) as (_, http):
        body = (await http.get("/api/open/v4/voice/list", params={"type": 2, "size": 3}, headers=KEY)).json()
    data = body["data"]
    assert body["code"] == 1000 and set(data) >= {"result", "count", "page", "size"}
    assert len(data["result"]) == 3 and data["count"] >= 6
    assert set(data["result"][0]) >= {"voice_id", "name", "gender", "language", "locale"}


async def test_each_voice_says_its_quality_and_links_a_preview_served_as_mp3(tmp_path: Path) -> None:
    async with akool_mode(tmp_path) as (_, http):
        voices = (await http.get("/api/open/v4/voice/list", headers=KEY)).json()["data"]["result"]
        ava = next(v for v in voices if v["voice_id"] == "en-US-female-1")
        path = ava["preview"].removeprefix("http://engine.test")
        served = await http.get(path)
        missing = await http.get("/files/voices/nobody-1/preview.mp3")
    assert ava["quality"] == "neural" and {v["quality"] for v in voices if v["locale"] == "de-DE"} == {"basic"}
    assert all(v["preview"] == f"http://engine.test/files/voices/{v['voice_id']}/preview.mp3" for v in voices)
    assert served.status_code == 200 and served.headers["content-type"] == "audio/mpeg"
    assert served.content[:3] == b"ID3" or served.content[0] == 0xFF  # an MP3 stream
    assert (tmp_path / "engine" / "files" / "voices" / "en-US-female-1" / "preview.mp3").is_file()
    assert missing.status_code == 404


async def test_the_openapi_document_lists_every_endpoint(tmp_path: Path) -> None:
    async with akool_mode(tmp_path) as (_, http):
        doc = (await http.get("/openapi.json")).json()
    assert doc["openapi"].startswith("3.")
    assert {
        "/api/open/v3/getToken",
        "/api/open/v3/avatar/list",
        "/api/open/v3/avatar/detail",
        "/api/open/v3/avatar/create",
        "/api/open/v3/talkingavatar/create",
        "/api/open/v3/content/video/infobymodelid",
        "/api/open/v4/voice/list",
    } <= set(doc["paths"])


async def test_the_cloud_client_speaks_to_the_engine_with_either_auth_scheme(tmp_path: Path) -> None:
    async with akool_mode(tmp_path) as (engine, _):
        transport = httpx2.ASGITransport(app=engine.app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://engine.test") as http:
            by_key = AkoolClient(http, ApiKey(ENGINE_KEY))
            by_token = AkoolClient(http, ClientCredentials(ENGINE_CLIENT_ID, ENGINE_KEY))
            assert (await by_key.get_credit()).credit > 0
            assert (await by_token.list_voices(size=2)).count >= 6
            with pytest.raises(NotFoundError):
                await by_token.get_video("f" * 24)
            with pytest.raises(InvalidRequestError, match="width"):
                await by_key.create_talking_video(
                    TalkingVideoRequest(width=100, height=2160, avatar_from=2, elements=[Element(type="audio")])
                )
            with pytest.raises(AuthenticationError, match="AKOOL_API_KEY"):
                await AkoolClient(http, ApiKey("wrong")).get_credit()
