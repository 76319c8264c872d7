"""Hostile requests get a 1003 naming the field (or a 4xx), never a 5xx, and the engine serves on."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from akool_mcp.local.api import MAX_BODY
from tests.local.engine_support import ENGINE_CLIENT_ID, ENGINE_KEY, akool_mode
from tests.support import make_settings

pytestmark = pytest.mark.anyio

KEY = {"x-api-key": ENGINE_KEY}
CREATE = "/api/open/v3/talkingavatar/create"
AVATAR = "/api/open/v3/avatar/create"
TOKEN = "/api/open/v3/getToken"
NO_DNS: dict[str, Any] = {"resolver": None}


def talking(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "width": 3840,
        "height": 2160,
        "avatar_from": 3,
        "elements": [
            {"type": "avatar", "url": "https://media.example.com/me.png", "width": 1000, "height": 1000,
             "scale_x": 1, "scale_y": 1, "offset_x": 1920, "offset_y": 1080},
            {"type": "audio", "input_text": "Hello there.", "voice_id": "en-US-female-1"},
        ],
    }  # fmt: skip
    body.update(changes)
    return body


async def post_raw(http: httpx2.AsyncClient, path: str, raw: str) -> httpx2.Response:
    return await http.post(path, content=raw.encode("utf-8"), headers={**KEY, "content-type": "application/json"})


@pytest.mark.parametrize(
    ("webhook", "words"),
    [
        ("http://example.com:abc/hook", "not a valid URL"),
        ("http://example.com/\x7f", "control characters"),
        ("http://example.com/" + "a" * 70_000, "at most 2048"),
        ("ftp://example.com/hook", "http"),
        ("http://[::1/hook", "not a valid URL"),
    ],
)
async def test_an_unusable_webhook_url_is_refused_at_create_naming_it(tmp_path: Path, webhook: str, words: str) -> None:
    async with akool_mode(tmp_path) as (engine, http):
        answer = (await http.post(CREATE, json=talking(webhookUrl=webhook), headers=KEY)).json()
        health = await http.get("/health")
        rows = engine.store.unfinished_videos()
    assert answer["code"] == 1003 and answer["msg"].startswith("webhookUrl:")
    assert words in answer["msg"] and len(answer["msg"]) < 300
    assert rows == [] and health.status_code == 200


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "10.1.2.3", "[::1]", "0x7f000001"])
async def test_a_private_webhook_target_is_refused_unless_allowed(tmp_path: Path, host: str) -> None:
    body = talking(webhookUrl=f"http://{host}:8080/hook")
    async with akool_mode(tmp_path, allow_private_urls=False) as (_, http):
        refused = (await http.post(CREATE, json=body, headers=KEY)).json()
    async with akool_mode(tmp_path / "open") as (_, http):
        allowed = (await http.post(CREATE, json=body, headers=KEY)).json()
    assert refused["code"] == 1003 and refused["msg"].startswith("webhookUrl:")
    assert "AKOOL_ALLOW_PRIVATE_URLS=true" in refused["msg"]
    assert allowed["code"] == 1000


@pytest.mark.parametrize("host", ["169.254.169.254", "[fd00:ec2::254]", "[fe80::1]", "100.100.100.200"])
async def test_a_metadata_webhook_target_is_refused_even_where_private_targets_are_allowed(
    tmp_path: Path, host: str
) -> None:
    async with akool_mode(tmp_path) as (_, http):  # the test engine allows private targets
        refused = (await http.post(CREATE, json=talking(webhookUrl=f"http://{host}/hook"), headers=KEY)).json()
    assert refused["code"] == 1003 and refused["msg"].startswith("webhookUrl:")
    assert "cloud metadata" in refused["msg"]


async def test_a_webhook_host_that_resolves_privately_is_refused(tmp_path: Path) -> None:
    async def resolver(host: str, port: int) -> list[str]:
        return {"hooks.example.com": ["93.184.215.14"], "sneaky.example.com": ["93.184.215.14", "10.0.0.5"]}[host]

    async with akool_mode(tmp_path, parts={"resolver": resolver}, allow_private_urls=False) as (_, http):
        sneaky = (await http.post(CREATE, json=talking(webhookUrl="https://sneaky.example.com/h"), headers=KEY)).json()
        fine = (await http.post(CREATE, json=talking(webhookUrl="https://hooks.example.com/h"), headers=KEY)).json()
    assert sneaky["code"] == 1003 and "private" in sneaky["msg"]
    assert fine["code"] == 1000


@pytest.mark.parametrize(
    ("field_path", "field"),
    [
        (["webhookUrl"], "webhookUrl"),
        (["elements", 0, "url"], "elements[0].url"),
        (["elements", 1, "input_text"], "elements.1.input_text"),
        (["elements", 1, "voice_id"], "elements.1.voice_id"),
    ],
)
@pytest.mark.parametrize("bad", ["\\ud800", "\\u0000"])
async def test_lone_surrogates_and_nul_in_text_are_refused_naming_the_field(
    tmp_path: Path, field_path: list[str | int], field: str, bad: str
) -> None:
    body = talking(webhookUrl="https://hooks.example.com/h")
    target: Any = body
    for step in field_path[:-1]:
        target = target[step]
    target[field_path[-1]] = "MARKER"
    raw = json.dumps(body).replace("MARKER", f"https://x.example.com/a{bad}b.png")
    async with akool_mode(tmp_path) as (_, http):
        response = await post_raw(http, CREATE, raw)
    answer = response.json()
    assert response.status_code == 200 and answer["code"] == 1003
    shown = field.replace("elements.1", "elements[1]").replace("elements.0", "elements[0]")
    assert answer["msg"].startswith((field, shown)), answer["msg"]


@pytest.mark.parametrize("name", ["avatar_id", "name", "url"])
async def test_a_lone_surrogate_in_an_avatar_upload_is_refused_naming_the_field(tmp_path: Path, name: str) -> None:
    body = {"url": "https://media.example.com/me.png", "avatar_id": "Me1", "name": "Me"}
    raw = json.dumps(body).replace(f'"{name}": "', f'"{name}": "\\udfff')
    async with akool_mode(tmp_path) as (_, http):
        answer = (await post_raw(http, AVATAR, raw)).json()
    assert answer["code"] == 1003 and answer["msg"].startswith(name)


async def test_deeply_nested_json_is_refused_without_a_server_error(tmp_path: Path) -> None:
    async with akool_mode(tmp_path) as (_, http):
        deep = await post_raw(http, CREATE, "[" * 100_000 + "]" * 100_000)
        nested = await post_raw(http, CREATE, json.dumps(talking(extra=json.loads("[" * 30 + "]" * 30))))
        unauthenticated = await http.post(TOKEN, content=b'{"a":' * 50_000 + b"1" + b"}" * 50_000)
    for response in (deep, nested, unauthenticated):
        assert response.status_code == 200
        assert response.json()["code"] == 1003 and "nested too deeply" in response.json()["msg"]


async def test_a_declared_oversized_body_is_refused_before_it_is_read(tmp_path: Path) -> None:
    read: list[int] = []

    async def body() -> AsyncIterator[bytes]:
        for _ in range(64):
            read.append(1)
            yield b" " * 65_536

    async with akool_mode(tmp_path) as (_, http):
        for path in (TOKEN, CREATE):
            response = await http.post(path, content=body(), headers={**KEY, "content-length": str(4 * MAX_BODY)})
            assert response.status_code == 413 and response.json()["code"] == 1003
    assert read == []


async def test_a_chunked_body_is_read_only_up_to_the_limit(tmp_path: Path) -> None:
    read: list[int] = []

    async def endless() -> AsyncIterator[bytes]:
        while len(read) < 10_000:  # 640 MiB if it were all read
            read.append(1)
            yield b" " * 65_536

    async with akool_mode(tmp_path) as (_, http):
        response = await http.post(TOKEN, content=endless())
    assert response.status_code == 413 and "larger than 1024 KiB" in response.json()["msg"]
    assert len(read) * 65_536 <= MAX_BODY + 2 * 65_536


async def test_a_malformed_media_url_is_refused_naming_the_element(tmp_path: Path) -> None:
    body = talking()
    body["elements"][0]["url"] = "http://[::1/x.png"
    async with akool_mode(tmp_path) as (_, http):
        answer = (await http.post(CREATE, json=body, headers=KEY)).json()
    assert answer["code"] == 1003 and answer["msg"].startswith("elements[0].url:")


@pytest.mark.parametrize(
    "headers",
    [
        [(b"x-api-key", "ключ-доступа".encode())],
        [(b"authorization", "Bearer токен".encode())],
        [(b"authorization", b"Bearer \xff\xfe")],
    ],
)
async def test_non_ascii_credentials_are_refused_not_crashed_on(
    tmp_path: Path, headers: list[tuple[bytes, bytes]]
) -> None:
    async with akool_mode(tmp_path) as (_, http):
        response = await http.get("/api/open/v3/avatar/list", headers=headers)
    assert response.status_code == 200 and response.json()["code"] == 1101


async def test_a_non_ascii_client_secret_is_refused_not_crashed_on(tmp_path: Path) -> None:
    async with akool_mode(tmp_path) as (_, http):
        answer = (await http.post(TOKEN, json={"clientId": ENGINE_CLIENT_ID, "clientSecret": "секрет"})).json()
    assert answer["code"] == 1101


@pytest.mark.parametrize("path", ["/files/videos/x.mp4%00.png", "/files/%00", "/files/videos/%ff%fe.mp4"])
async def test_odd_file_paths_are_not_found(tmp_path: Path, path: str) -> None:
    async with akool_mode(tmp_path) as (_, http):
        response = await http.get(path)
    assert response.status_code == 404


async def test_a_huge_avatar_id_is_refused_and_never_echoed_whole(tmp_path: Path) -> None:
    huge = "A" * 900_000
    async with akool_mode(tmp_path) as (engine, http):
        upload = await http.post(AVATAR, json={"url": "https://m.example.com/a.png", "avatar_id": huge}, headers=KEY)
        body = talking(avatar_from=2)
        body["elements"][0] = {**body["elements"][0], "url": None, "avatar_id": huge}
        video = await http.post(CREATE, json=body, headers=KEY)
        count, _ = engine.store.list_avatars(source=3, type_=None, offset=0, limit=10)
    for response in (upload, video):
        answer = response.json()
        assert answer["code"] == 1003 and "avatar_id" in answer["msg"] and len(answer["msg"]) < 200
    assert count == 0


async def test_file_links_never_come_from_the_host_header(tmp_path: Path) -> None:
    async with akool_mode(tmp_path) as (_, http):
        listed = (await http.get("/api/open/v3/avatar/list", headers={**KEY, "host": "evil.example"})).json()
    urls = [a["thumbnailUrl"] for a in listed["data"]["result"]]
    assert urls and all(u.startswith("http://engine.test/files/") for u in urls)


async def test_an_unresolvable_webhook_host_is_accepted_and_its_delivery_state_is_shown(tmp_path: Path) -> None:
    async def nowhere(host: str, port: int) -> list[str]:
        raise OSError("no such host")

    network = httpx2.MockTransport(lambda _: httpx2.Response(404))
    parts = {"resolver": nowhere}
    async with akool_mode(tmp_path, network=network, parts=parts, allow_private_urls=False) as (engine, http):
        created = (await http.post(CREATE, json=talking(webhookUrl="https://gone.example.com/h"), headers=KEY)).json()
        record_id = created["data"]["_id"]
        await engine.runner.wait_done(record_id)
        await engine.webhooks.run_once()
        info = (
            await http.get(
                "/api/open/v3/content/video/infobymodelid", params={"video_model_id": record_id}, headers=KEY
            )
        ).json()
    assert created["code"] == 1000
    hook = info["data"]["webhook"]
    assert hook["state"] == "pending" and hook["attempts"] == 1 and "does not resolve" in hook["last_error"]


async def test_a_decompression_bomb_upload_fails_from_its_header_with_the_reason(tmp_path: Path) -> None:
    from tests.media.test_imagesize import png_header

    bomb = png_header(20_000, 20_000) + b"\0" * 1000
    network = httpx2.MockTransport(lambda _: httpx2.Response(200, content=bomb, headers={"content-type": "image/png"}))
    async with akool_mode(tmp_path, network=network) as (engine, http):
        created = await http.post(AVATAR, json={"url": "http://m.test/bomb.png", "avatar_id": "Bomb1"}, headers=KEY)
        record_id = created.json()["data"]["_id"]
        await engine.runner.wait_done(record_id)
        detail = (await http.get("/api/open/v3/avatar/detail", params={"id": record_id}, headers=KEY)).json()
    assert detail["data"]["status"] == 4
    assert "20000x20000 pixels" in detail["data"]["error_reason"] and "50 megapixels" in detail["data"]["error_reason"]


async def test_a_bad_webhook_url_through_the_mcp_tool_is_refused_and_later_calls_work(tmp_path: Path) -> None:
    from mcp import Client

    from akool_mcp.server import build_server

    settings = make_settings({"data_dir": tmp_path / "data", "backend": "local"})
    arguments = {"avatar_url": "https://media.example.com/me.png", "text": "Hi.", "voice_id": "en-US-female-1"}
    async with Client(build_server(settings)) as client:
        refused = await client.call_tool(
            "create_talking_video", {**arguments, "webhook_url": "http://example.com:abc/h"}
        )
        listed = await client.call_tool("list_avatars", {})
    async with Client(build_server(settings)) as client:
        after_restart = await client.call_tool("list_voices", {})
    message = " ".join(getattr(c, "text", "") for c in refused.content)
    assert refused.is_error and "webhook" in message.lower() and "not a valid URL" in message
    assert not listed.is_error and not after_restart.is_error


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity"])
async def test_non_finite_placement_numbers_are_refused_naming_the_field(tmp_path: Path, number: str) -> None:
    raw = json.dumps(talking()).replace('"scale_x": 1', f'"scale_x": {number}')
    async with akool_mode(tmp_path) as (_, http):
        answer = (await post_raw(http, CREATE, raw)).json()
    assert answer["code"] == 1003 and answer["msg"].startswith("elements[0].scale_x")
