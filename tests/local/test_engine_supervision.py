"""One bad job, delivery or store fault never stops the engine: each is failed with a reason, loops restart."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest

from akool_mcp.local.store import WebhookNote
from akool_mcp.models import Status
from tests.local.engine_support import DISK_FULL, ENGINE_KEY, EngineClock, FaultyStore, akool_mode

pytestmark = pytest.mark.anyio

KEY = {"x-api-key": ENGINE_KEY}
CREATE = "/api/open/v3/talkingavatar/create"
INFO = "/api/open/v3/content/video/infobymodelid"


def video(webhook: str | None = None, avatar: str = "http://media.test/me.png") -> dict[str, Any]:
    body: dict[str, Any] = {
        "width": 3840,
        "height": 2160,
        "avatar_from": 3,
        "elements": [
            {"type": "avatar", "url": avatar, "width": 1000, "height": 1000,
             "scale_x": 1, "scale_y": 1, "offset_x": 1920, "offset_y": 1080},
            {"type": "audio", "url": "http://media.test/speech.mp3"},
        ],
    }  # fmt: skip
    if webhook is not None:
        body["webhookUrl"] = webhook
    return body


def not_found(request: httpx2.Request) -> httpx2.Response:
    return httpx2.Response(404)


async def create(http: httpx2.AsyncClient, body: dict[str, Any], key: str = ENGINE_KEY) -> dict[str, Any]:
    answer: dict[str, Any] = (await http.post(CREATE, json=body, headers={"x-api-key": key})).json()
    return answer


async def info(http: httpx2.AsyncClient, record_id: str, key: str = ENGINE_KEY) -> dict[str, Any]:
    answer = (await http.get(INFO, params={"video_model_id": record_id}, headers={"x-api-key": key})).json()
    assert answer["code"] == 1000, answer
    details: dict[str, Any] = answer["data"]
    return details


async def test_a_disk_full_at_the_start_of_a_job_fails_that_job_and_the_engine_goes_on(tmp_path: Path) -> None:
    first_start: list[str] = []

    def failing(record_id: str, fields: dict[str, Any]) -> bool:
        if fields.get("status") == Status.PROCESSING and not first_start:
            first_start.append(record_id)
            return True
        return False

    store = FaultyStore(tmp_path / "engine" / "engine.sqlite3", failing)
    network = httpx2.MockTransport(not_found)
    async with akool_mode(tmp_path, network=network, parts={"store": store}) as (engine, http):
        doomed = (await create(http, video()))["data"]["_id"]
        await engine.runner.wait_done(doomed)
        after = (await create(http, video()))["data"]["_id"]
        await engine.runner.wait_done(after)
        health = await http.get("/health")
        first, second = await info(http, doomed), await info(http, after)
    assert store.faults == 1
    assert first["video_status"] == Status.FAILED and DISK_FULL in first["error_reason"]
    assert second["video_status"] == Status.FAILED and "elements[0].url" in second["error_reason"]
    assert health.status_code == 200 and health.json()["workers"] == {"alive": 1, "total": 1}


async def test_a_job_whose_failure_cannot_be_recorded_restarts_the_worker_then_is_quarantined(tmp_path: Path) -> None:
    stuck: list[str] = []
    store = FaultyStore(tmp_path / "engine" / "engine.sqlite3", lambda record_id, _: record_id in stuck)
    clock = EngineClock()
    network = httpx2.MockTransport(not_found)
    with anyio.fail_after(60):  # a broken supervisor must fail this test, not hang it
        async with akool_mode(tmp_path, network=network, parts={"store": store, "clock": clock}) as (engine, http):
            stuck.append((await create(http, video()))["data"]["_id"])
            await clock.waiting_for(1.0)  # the worker died and waits out its first backoff
            dead = await http.get("/health")
            await clock.advance(1.0)
            await clock.waiting_for(2.0)  # the same job killed it again
            await clock.advance(2.0)
            await engine.runner.wait_done(stuck[0])  # third time: set aside
            await clock.waiting_for(5.0)
            await clock.advance(5.0)
            healthy = (await create(http, video()))["data"]["_id"]
            await engine.runner.wait_done(healthy)
            alive = await http.get("/health")
            served = await info(http, healthy)
    assert dead.status_code == 503
    report = dead.json()
    assert report["status"] == "unavailable" and report["workers"] == {"alive": 0, "total": 1}
    assert DISK_FULL in report["last_error"]
    assert store.faults == 6  # three starts, three failed attempts to record the failure
    assert engine.runner.quarantined == {stuck[0]}
    assert alive.status_code == 200 and alive.json()["restarts"] == 3 and alive.json()["quarantined"] == 1
    assert served["video_status"] == Status.FAILED


class Receiver:
    """The internet, for webhooks: media 404; /hook raises inside the HTTP client until told otherwise."""

    def __init__(self) -> None:
        self.explode = True
        self.received: list[dict[str, Any]] = []

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        if request.url.path != "/hook":
            return httpx2.Response(404)
        if self.explode:
            raise RuntimeError("injected fault inside a webhook delivery")
        self.received.append(json.loads(request.content))
        return httpx2.Response(200)


async def test_an_exception_inside_a_webhook_delivery_fails_that_delivery_and_the_loop_goes_on(
    tmp_path: Path,
) -> None:
    receiver = Receiver()
    async with akool_mode(tmp_path, network=httpx2.MockTransport(receiver.handle)) as (engine, http):
        first = (await create(http, video(webhook="http://hooks.test/hook")))["data"]["_id"]
        await engine.runner.wait_done(first)
        await engine.webhooks.run_once()
        broken = await info(http, first)
        receiver.explode = False
        second = (await create(http, video(webhook="http://hooks.test/hook")))["data"]["_id"]
        await engine.runner.wait_done(second)
        await engine.webhooks.run_once()
        delivered = await info(http, second)
        dispatcher = engine.supervisor.alive("webhook dispatcher")
    assert broken["webhook"]["state"] == "failed"
    assert broken["webhook"]["last_error"] == "internal error (RuntimeError)"
    assert delivered["webhook"] == {"state": "delivered", "attempts": 1, "last_error": None}
    assert len(receiver.received) == 2 and dispatcher == (1, 1)


async def test_a_stored_webhook_with_a_url_the_client_refuses_is_failed_not_fatal_across_restarts(
    tmp_path: Path,
) -> None:
    network = httpx2.MockTransport(not_found)
    async with akool_mode(tmp_path, network=network) as (engine, http):
        record_id = (await create(http, video()))["data"]["_id"]
        await engine.runner.wait_done(record_id)
        # As an older engine would have queued it: a URL that passed a looser check.
        for bad in ("http://example.com:abc/hook", "http://example.com/\x7f", "http://x.test/" + "a" * 70_000):
            engine.store.transition_video(record_id, {}, WebhookNote(bad, {"_id": record_id, "status": 4}, 0))
        await engine.webhooks.run_once()
        hooks = engine.store.list_webhooks()
    async with akool_mode(tmp_path, network=network) as (engine, http):
        health = await http.get("/health")
        again = await create(http, video())
    assert [h.state for h in hooks] == ["failed"] * 3
    assert all((h.last_error or "").startswith("the webhook URL ") for h in hooks)
    assert health.status_code == 200 and again["code"] == 1000


async def test_a_secret_that_cannot_seal_fails_each_delivery_with_the_reason(tmp_path: Path) -> None:
    receiver = Receiver()
    receiver.explode = False
    async with akool_mode(
        tmp_path, network=httpx2.MockTransport(receiver.handle), local_client_secret="ten-bytes!"
    ) as (engine, http):
        record_id = (await create(http, video(webhook="http://hooks.test/hook"), "ten-bytes!"))["data"]["_id"]
        await engine.runner.wait_done(record_id)
        await engine.webhooks.run_once()
        details = await info(http, record_id, "ten-bytes!")
        health = await http.get("/health")
    assert details["webhook"]["state"] == "failed" and "cannot be sealed" in details["webhook"]["last_error"]
    assert receiver.received == [] and health.status_code == 200


@pytest.mark.slow
async def test_an_exception_inside_a_render_fails_the_video_and_the_engine_goes_on(tmp_path: Path) -> None:
    def in_render(_: str, fields: dict[str, Any]) -> bool:
        return "status" not in fields and fields.get("progress", 0) > 0

    store = FaultyStore(tmp_path / "engine" / "engine.sqlite3", in_render)
    async with akool_mode(tmp_path, parts={"store": store}) as (engine, http):
        voice = (await http.get("/api/open/v4/voice/list", headers=KEY)).json()["data"]["result"][0]["voice_id"]
        avatars = (await http.get("/api/open/v3/avatar/list", params={"from": 2}, headers=KEY)).json()
        body = {
            "width": 3840,
            "height": 2160,
            "avatar_from": 2,
            "elements": [
                {"type": "avatar", "avatar_id": avatars["data"]["result"][0]["avatar_id"], "width": 1000,
                 "height": 1000, "scale_x": 1, "scale_y": 1, "offset_x": 1920, "offset_y": 1080},
                {"type": "audio", "input_text": "Hi.", "voice_id": voice},
            ],
        }  # fmt: skip
        record_id = (await create(http, body))["data"]["_id"]
        with anyio.fail_after(120):
            await engine.runner.wait_done(record_id)
        details = await info(http, record_id)
        health = await http.get("/health")
        leftovers = sorted(p.name for p in (tmp_path / "engine" / "files" / "videos").iterdir())
    assert store.faults >= 1
    assert details["video_status"] == Status.FAILED
    assert "RuntimeError: injected fault inside the render" in details["error_reason"]
    assert health.status_code == 200 and leftovers == []
