"""The MCP tools through the in-memory client, against a fake of Akool's contract (MockTransport)."""

from __future__ import annotations

import io
import json
from typing import Any, cast

import httpx2
import pytest
from mcp import Client

from akool_mcp.log import configure_logging
from akool_mcp.server import build_server
from tests.fakes.akool import API_KEY, CLIENT_ID, CLIENT_SECRET, MINE, OFFICIAL, FakeAkool
from tests.support import FakeClock, cloud_settings, data, text

pytestmark = pytest.mark.anyio

CREATE = "/api/open/v3/talkingavatar/create"
LIST = "/api/open/v3/avatar/list"
INFO = "/api/open/v3/content/video/infobymodelid"


def connect(fake: FakeAkool, clock: FakeClock | None = None, **settings: Any) -> Client:
    server = build_server(
        cloud_settings(**settings),
        transport=fake.transport(),
        resolver=fake.resolve,
        clock=clock or FakeClock(),
    )
    return Client(server)


def envelope_error(code: int, msg: str = "") -> tuple[int, dict[str, Any], dict[str, str]]:
    return (200, {"code": code, "msg": msg}, {})


async def test_every_tool_declares_an_output_schema_and_annotations() -> None:
    async with connect(FakeAkool()) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert set(tools) >= {"list_avatars", "create_avatar", "get_avatar", "create_talking_video", "get_video_status"}
    for tool in tools.values():
        assert tool.output_schema is not None, tool.name
        assert tool.annotations is not None, tool.name
    read_only = tools["list_avatars"].annotations
    create = tools["create_talking_video"].annotations
    keeps = tools["get_video_status"].annotations
    assert read_only is not None and read_only.read_only_hint is True
    # A hint left out means the spec's default: not read-only, not idempotent, destructive, open world.
    assert create is not None and not create.idempotent_hint and create.destructive_hint is False
    assert keeps is not None and not keeps.read_only_hint and keeps.idempotent_hint is True  # it writes the MP4
    for paid in ("create_talking_video", "create_avatar"):
        assert "bill" in (tools[paid].description or "").lower()


@pytest.mark.parametrize("shape", ["paged", "array"])
async def test_list_avatars_reads_both_response_shapes(shape: str) -> None:
    fake = FakeAkool(list_shape=shape)
    async with connect(fake) as client:
        result = data(await client.call_tool("list_avatars", {}))
    assert result["backend"] == "akool"
    assert [a["avatar_id"] for a in result["avatars"]] == [OFFICIAL["avatar_id"], MINE["avatar_id"]]
    first = result["avatars"][0]
    assert first["record_id"] == OFFICIAL["_id"]
    assert first["source"] == "official" and first["kind"] == "talking" and first["status"] == "completed"
    assert first["thumbnail_url"] == OFFICIAL["thumbnailUrl"]
    assert result["total"] == 2


async def test_list_avatars_maps_source_and_kind_to_akool_parameters() -> None:
    fake = FakeAkool()
    async with connect(fake) as client:
        result = data(await client.call_tool("list_avatars", {"source": "mine", "kind": "talking", "size": 5}))
    params = fake.calls(LIST)[0].url.params
    assert (params["from"], params["type"], params["page"], params["size"]) == ("3", "1", "1", "5")
    assert [a["avatar_id"] for a in result["avatars"]] == ["Me1"]


async def test_list_avatars_refuses_a_page_size_over_100_naming_the_field() -> None:
    async with connect(FakeAkool()) as client:
        result = await client.call_tool("list_avatars", {"size": 500})
    assert result.is_error and "size" in text(result)


@pytest.mark.parametrize("shape", ["object", "array"])
async def test_get_avatar_by_record_id_reads_both_detail_shapes(shape: str) -> None:
    async with connect(FakeAkool(detail_shape=shape)) as client:
        result = data(await client.call_tool("get_avatar", {"avatar_id": OFFICIAL["_id"]}))
    assert result["avatar"]["avatar_id"] == OFFICIAL["avatar_id"]
    assert result["ready"] is True


async def test_get_avatar_resolves_an_avatar_id_through_the_list() -> None:
    fake = FakeAkool()
    async with connect(fake) as client:
        result = data(await client.call_tool("get_avatar", {"avatar_id": "Me1"}))
    assert result["avatar"]["record_id"] == MINE["_id"]
    assert fake.calls("/api/open/v3/avatar/detail")[0].url.params["id"] == MINE["_id"]


async def test_get_avatar_with_an_unknown_id_says_how_to_find_valid_ones() -> None:
    async with connect(FakeAkool()) as client:
        result = await client.call_tool("get_avatar", {"avatar_id": "Nobody"})
    assert result.is_error and "list_avatars" in text(result)


async def test_create_avatar_refuses_a_bad_avatar_id_before_sending() -> None:
    fake = FakeAkool()
    async with connect(fake) as client:
        result = await client.call_tool(
            "create_avatar", {"video_url": "https://x.example/me.mp4", "avatar_id": "my_avatar!"}
        )
    assert result.is_error and "avatar_id" in text(result) and "letters and digits" in text(result)
    assert fake.calls("/api/open/v3/avatar/create") == []


async def test_create_avatar_returns_the_queued_record_and_the_next_step() -> None:
    fake = FakeAkool()
    async with connect(fake) as client:
        result = data(
            await client.call_tool(
                "create_avatar", {"video_url": "https://x.example/me.mp4", "avatar_id": "Mary1", "name": "Mary"}
            )
        )
    sent = json.loads(fake.calls("/api/open/v3/avatar/create")[0].content)
    assert sent == {"url": "https://x.example/me.mp4", "avatar_id": "Mary1", "name": "Mary", "type": 1}
    assert result["avatar"]["status"] == "queueing" and result["ready"] is False
    assert "get_avatar" in result["next_step"]


async def test_create_avatar_with_a_taken_avatar_id_says_to_choose_another() -> None:
    async with connect(FakeAkool()) as client:
        result = await client.call_tool("create_avatar", {"video_url": "https://x.example/a.mp4", "avatar_id": "Me1"})
    assert result.is_error and "'Me1' is already one of your avatars; choose another avatar_id" in text(result)


async def test_create_video_with_an_official_avatar_sends_avatar_from_2() -> None:
    fake = FakeAkool()
    async with connect(fake) as client:
        result = data(
            await client.call_tool(
                "create_talking_video",
                {"avatar_id": OFFICIAL["avatar_id"], "text": "Hello there", "voice_id": "en-US-1"},
            )
        )
    body = json.loads(fake.calls(CREATE)[0].content)
    assert body["width"] == 3840 and body["height"] == 2160 and body["avatar_from"] == 2
    kinds = [e["type"] for e in body["elements"]]
    assert kinds == ["image", "avatar", "audio"]
    avatar = body["elements"][1]
    assert (avatar["offset_x"], avatar["offset_y"], avatar["scale_x"]) == (1920, 1080, 1.0)
    assert body["elements"][2] == {"type": "audio", "input_text": "Hello there", "voice_id": "en-US-1"}
    assert result["video_id"] and result["status"] == "queueing" and "get_video_status" in result["next_step"]


async def test_create_video_with_the_users_own_avatar_sends_avatar_from_3() -> None:
    fake = FakeAkool()
    async with connect(fake) as client:
        data(
            await client.call_tool("create_talking_video", {"avatar_id": "Me1", "audio_url": "https://a.example/s.mp3"})
        )
    assert json.loads(fake.calls(CREATE)[0].content)["avatar_from"] == 3


async def test_create_video_from_an_avatar_url_sends_avatar_from_3() -> None:
    fake = FakeAkool()
    async with connect(fake) as client:
        data(
            await client.call_tool(
                "create_talking_video",
                {
                    "avatar_url": "https://a.example/me.png",
                    "text": "Hi",
                    "voice_id": "en-US-1",
                    "background": "#112233",
                },
            )
        )
    body = json.loads(fake.calls(CREATE)[0].content)
    assert body["avatar_from"] == 3 and body["elements"][1]["url"] == "https://a.example/me.png"
    assert body["elements"][0]["url"] == "#112233"


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"avatar_id": "Me1"}, "text"),
        ({"avatar_id": "Me1", "avatar_url": "https://a.example/me.png", "text": "x", "voice_id": "v"}, "avatar_id"),
        ({"text": "x", "voice_id": "v"}, "avatar_id"),
        ({"avatar_id": "Me1", "text": "x"}, "voice_id"),
        ({"avatar_id": "Me1", "text": "x", "voice_id": "v", "background": "#12345"}, "background"),
        ({"avatar_id": "Me1", "text": "x", "voice_id": "v", "background": "ftp://a.example/b.png"}, "background"),
        ({"avatar_url": "https://a.example/me.gif", "text": "x", "voice_id": "v"}, "avatar_url"),
        ({"avatar_id": "Me1", "audio_url": "javascript:alert(1)"}, "audio_url"),
        ({"avatar_id": "Me1", "text": "x", "voice_id": "v", "avatar_scale": 0}, "avatar_scale"),
        ({"avatar_id": "Nobody", "text": "x", "voice_id": "v"}, "avatar_id"),
        ({"elements": [{"type": "avatar", "avatar_id": "Me1"}]}, "elements"),
    ],
)
async def test_bad_video_inputs_are_refused_before_sending_naming_the_field(
    arguments: dict[str, Any], field: str
) -> None:
    fake = FakeAkool()
    async with connect(fake) as client:
        result = await client.call_tool("create_talking_video", arguments)
    assert result.is_error
    assert field in text(result), text(result)
    assert fake.calls(CREATE) == []


async def test_advanced_elements_pass_through_with_offsets_as_given() -> None:
    fake = FakeAkool()
    elements = [
        {"type": "image", "url": "#000000FF", "width": 3840, "height": 2160, "scale_x": 1, "scale_y": 1,
         "offset_x": 1920, "offset_y": 1080},
        {"type": "avatar", "avatar_id": "Me1", "width": 1000, "height": 1000, "scale_x": 0.5, "scale_y": 0.5,
         "offset_x": 600, "offset_y": 1600, "layer_number": 2},
        {"type": "audio", "url": "https://a.example/speech.wav"},
    ]  # fmt: skip
    async with connect(fake) as client:
        data(await client.call_tool("create_talking_video", {"elements": elements}))
    body = json.loads(fake.calls(CREATE)[0].content)
    assert body["elements"][1]["offset_x"] == 600 and body["elements"][1]["layer_number"] == 2


async def test_get_video_status_waits_with_progress_until_completed() -> None:
    fake = FakeAkool(video_polls_until_done=3)
    clock = FakeClock()
    seen: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, total, message))

    async with connect(fake, clock) as client:
        created = data(
            await client.call_tool("create_talking_video", {"avatar_id": "Me1", "audio_url": "https://a.example/s.mp3"})
        )
        status = data(
            await client.call_tool(
                "get_video_status", {"video_id": created["video_id"], "wait_seconds": 30}, progress_callback=on_progress
            )
        )
    assert status["status"] == "completed" and status["done"] is True
    assert status["video_url"] == "https://cdn.example/video.mp4"
    assert len(fake.calls(INFO)) == 3
    assert clock.sleeps == [1.0, 1.5]
    # Akool reports no percentage: progress counts the seconds waited, until the video is done (100 of 100).
    assert [p[:2] for p in seen] == [(0, 30), (1.0, 30), (100, 100)]
    assert [p[2] for p in seen] == [
        "video processing, 0 s of 30 s waited",
        "video processing, 1 s of 30 s waited",
        "video completed 100%, 2 s waited",
    ]


async def test_get_video_status_returns_the_status_so_far_when_the_wait_ends() -> None:
    fake = FakeAkool(video_polls_until_done=100)
    clock = FakeClock()
    async with connect(fake, clock) as client:
        created = data(
            await client.call_tool("create_talking_video", {"avatar_id": "Me1", "audio_url": "https://a.example/s.mp3"})
        )
        status = data(await client.call_tool("get_video_status", {"video_id": created["video_id"], "wait_seconds": 10}))
    assert status["status"] == "processing" and status["done"] is False
    assert status["waited_seconds"] == 10.0 and sum(clock.sleeps) == pytest.approx(10.0)
    assert "wait_seconds" in status["next_step"]


async def test_get_video_status_without_wait_polls_once() -> None:
    fake = FakeAkool(video_polls_until_done=100)
    async with connect(fake) as client:
        created = data(
            await client.call_tool("create_talking_video", {"avatar_id": "Me1", "audio_url": "https://a.example/s.mp3"})
        )
        status = data(await client.call_tool("get_video_status", {"video_id": created["video_id"]}))
    assert status["status"] == "processing" and len(fake.calls(INFO)) == 1


async def test_get_video_status_refuses_a_wait_over_50_seconds() -> None:
    async with connect(FakeAkool()) as client:
        result = await client.call_tool("get_video_status", {"video_id": "x", "wait_seconds": 120})
    assert result.is_error and "wait_seconds" in text(result)


@pytest.mark.parametrize(
    ("code", "advice"),
    [
        (1003, "Fix `avatar_id`"),  # the API's avatar_from is the tool's avatar_id
        (1005, "wait a minute"),
        (1006, "credit is spent"),
        (1008, "list_avatars"),
        (1009, "may not use"),
        (1014, "Check the id"),
        (1101, "AKOOL_API_KEY"),
        (1102, "AKOOL_API_KEY"),
        (1109, "could not create the video"),
        (1200, "banned"),
        (1201, "try again later"),
        (1204, "60 seconds"),
        (1207, "300 MB"),
        (1210, "30 fps"),
        (1222, "choose another"),
        (4242, "Akool error 4242"),
    ],
)
async def test_each_akool_code_becomes_a_message_the_model_can_act_on(code: int, advice: str) -> None:
    fake = FakeAkool()
    fake.queue(CREATE, envelope_error(code, "avatar_from is invalid" if code == 1003 else ""))
    async with connect(fake) as client:
        result = await client.call_tool(
            "create_talking_video", {"avatar_id": "Me1", "audio_url": "https://a.example/s.mp3"}
        )
    assert result.is_error
    assert advice in text(result), text(result)
    assert "Traceback" not in text(result)


async def test_an_http_error_carrying_a_business_code_is_mapped_by_the_code() -> None:
    fake = FakeAkool()
    fake.queue(CREATE, (500, {"code": 1006, "msg": "quota"}, {}))
    async with connect(fake) as client:
        result = await client.call_tool(
            "create_talking_video", {"avatar_id": "Me1", "audio_url": "https://a.example/s.mp3"}
        )
    assert result.is_error and "credit is spent" in text(result)


async def test_an_expired_token_is_refreshed_once_and_the_call_succeeds() -> None:
    fake = FakeAkool()
    async with connect(fake, api_key=None, client_id=CLIENT_ID, client_secret=CLIENT_SECRET) as client:
        data(await client.call_tool("list_avatars", {}))
        fake.valid_tokens.clear()  # the service expires the token
        result = data(await client.call_tool("list_avatars", {}))
    assert result["total"] == 2
    assert fake.tokens_issued == 2
    assert fake.calls(LIST)[-1].headers["authorization"] == "Bearer tok-2"


async def test_a_token_refused_twice_is_reported_not_looped() -> None:
    fake = FakeAkool()
    fake.queue(LIST, envelope_error(1101), envelope_error(1101))
    async with connect(fake, api_key=None, client_id=CLIENT_ID, client_secret=CLIENT_SECRET) as client:
        result = await client.call_tool("list_avatars", {})
    assert result.is_error and "AKOOL_CLIENT_ID" in text(result)
    assert fake.tokens_issued == 2 and len(fake.calls(LIST)) == 2


async def test_api_key_auth_sends_x_api_key() -> None:
    fake = FakeAkool()
    async with connect(fake) as client:
        data(await client.call_tool("list_avatars", {}))
    assert fake.calls(LIST)[0].headers["x-api-key"] == API_KEY


@pytest.mark.parametrize(
    "fault",
    [
        (503, {"code": 500, "msg": "busy"}, {}),
        (429, {"code": 1005, "msg": "slow down"}, {"retry-after": "7"}),
        (200, {"code": 1005, "msg": "operation too frequent"}, {}),
        httpx2.ReadTimeout("slow"),
        httpx2.ConnectError("refused"),
    ],
)
async def test_idempotent_reads_are_retried_after_transient_faults(fault: Any) -> None:
    fake = FakeAkool()
    fake.queue(LIST, fault)
    clock = FakeClock()
    async with connect(fake, clock) as client:
        result = data(await client.call_tool("list_avatars", {}))
    assert result["total"] == 2 and len(fake.calls(LIST)) == 2
    assert len(clock.sleeps) == 1
    if isinstance(fault, tuple) and cast("dict[str, str]", fault[2]).get("retry-after"):
        assert clock.sleeps == [7.0]
    else:
        assert 0.375 <= clock.sleeps[0] <= 0.5


async def test_reads_give_up_after_the_retry_budget() -> None:
    fake = FakeAkool()
    fake.queue(LIST, *[(503, {"code": 500, "msg": "down"}, {})] * 3)
    clock = FakeClock()
    async with connect(fake, clock) as client:
        result = await client.call_tool("list_avatars", {})
    assert result.is_error and "Try again" in text(result)
    assert len(fake.calls(LIST)) == 3 and len(clock.sleeps) == 2 and clock.sleeps[1] > clock.sleeps[0] * 1.4


async def test_a_create_that_may_have_reached_the_server_is_never_resent() -> None:
    fake = FakeAkool()
    fake.queue(CREATE, httpx2.ReadTimeout("no answer"))
    async with connect(fake) as client:
        result = await client.call_tool(
            "create_talking_video", {"avatar_id": "Me1", "audio_url": "https://a.example/s.mp3"}
        )
    assert result.is_error and "NOT re-sent" in text(result)
    assert len(fake.calls(CREATE)) == 1


async def test_a_create_refused_with_503_is_not_resent() -> None:
    fake = FakeAkool()
    fake.queue(CREATE, (503, {"code": 500, "msg": "busy"}, {}))
    async with connect(fake) as client:
        result = await client.call_tool(
            "create_talking_video", {"avatar_id": "Me1", "audio_url": "https://a.example/s.mp3"}
        )
    assert result.is_error and len(fake.calls(CREATE)) == 1


async def test_a_create_that_could_not_connect_is_retried() -> None:
    fake = FakeAkool()
    fake.queue(CREATE, httpx2.ConnectError("refused"))
    async with connect(fake) as client:
        data(
            await client.call_tool("create_talking_video", {"avatar_id": "Me1", "audio_url": "https://a.example/s.mp3"})
        )
    assert len(fake.calls(CREATE)) == 2


async def test_secrets_never_reach_logs_or_tool_results() -> None:
    stream = io.StringIO()
    configure_logging("DEBUG", secrets=[API_KEY, CLIENT_SECRET], stream=stream)
    fake = FakeAkool()
    fake.queue(LIST, (503, {"code": 500, "msg": f"echo {API_KEY}"}, {}), *[(503, {"code": 500}, {})] * 2)
    async with connect(fake, FakeClock()) as client:
        failed = await client.call_tool("list_avatars", {})
        ok = await client.call_tool("list_voices", {})
    output = stream.getvalue()
    assert "akool.retry" in output  # the logs were written, and redacted
    for secret in (API_KEY, CLIENT_SECRET):
        assert secret not in output
        assert secret not in text(failed) and secret not in json.dumps(ok.structured_content)


async def test_list_voices_filters_by_language() -> None:
    async with connect(FakeAkool()) as client:
        result = data(await client.call_tool("list_voices", {"language": "es"}))
    assert [v["voice_id"] for v in result["voices"]] == ["es-ES-1"]
