"""Webhooks from the local engine: sealed like Akool's, opened by the client helper, retried, persisted."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import anyio.lowlevel
import httpx2
import pytest

from akool_mcp.client.webhook import WebhookEvent, verify_and_decrypt
from akool_mcp.local.store import WebhookNote
from akool_mcp.models import Status
from tests.local.engine_support import ENGINE_CLIENT_ID, ENGINE_KEY, EngineClock, akool_mode

pytestmark = pytest.mark.anyio


# Its media live at addresses the test network answers with 404, so the render fails and says so.
VIDEO_WITH_WEBHOOK = {
    "width": 3840,
    "height": 2160,
    "avatar_from": 3,
    "webhookUrl": "http://127.0.0.1/hook",
    "elements": [
        {"type": "avatar", "url": "http://127.0.0.1/me.png", "width": 1000, "height": 1000,
         "scale_x": 1, "scale_y": 1, "offset_x": 1920, "offset_y": 1080},
        {"type": "audio", "url": "http://127.0.0.1/speech.mp3"},
    ],
}  # fmt: skip


class Network:
    """Stands in for the internet: media URLs answer 404; the webhook receiver answers as told."""

    def __init__(self) -> None:
        self.hook_status = 500
        self.deliveries: list[dict[str, object]] = []
        self.delivered = anyio.Event()

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        if request.url.path == "/hook":
            self.deliveries.append(json.loads(request.content))
            self.delivered.set()
            return httpx2.Response(self.hook_status)
        return httpx2.Response(404)


async def test_a_failed_render_is_reported_by_a_sealed_webhook_retried_until_200(tmp_path: Path) -> None:
    network = Network()
    async with akool_mode(tmp_path, network=httpx2.MockTransport(network.handle)) as (engine, http):
        created = (
            await http.post(
                "/api/open/v3/talkingavatar/create", json=VIDEO_WITH_WEBHOOK, headers={"x-api-key": ENGINE_KEY}
            )
        ).json()
        video_id = created["data"]["_id"]
        with anyio.fail_after(30):
            while not any(verify(d).status == Status.FAILED for d in network.deliveries):
                await network.delivered.wait()
                network.delivered = anyio.Event()
        info = (
            await http.get(
                "/api/open/v3/content/video/infobymodelid",
                params={"video_model_id": video_id},
                headers={"x-api-key": ENGINE_KEY},
            )
        ).json()["data"]
        pending = [w for w in engine.store.list_webhooks() if w.state == "pending"]
        # The receiver said 500: the failure notice waits for a later attempt, persisted.
        failed_notice = next(w for w in pending if json.loads(w.payload_json)["status"] == Status.FAILED)
        assert failed_notice.attempts == 1 and failed_notice.next_attempt > engine.clock.now_ms()
        network.hook_status = 200
        assert await engine.webhooks.deliver(failed_notice)
        delivered = {w.seq: w.state for w in engine.store.list_webhooks()}
    assert info["video_status"] == Status.FAILED
    assert "elements[0].url" in info["error_reason"] and "404" in info["error_reason"]
    events = [verify(d) for d in network.deliveries]
    assert [e.status for e in events][:2] == [Status.PROCESSING, Status.FAILED]
    assert all(e.id == video_id and e.type == "avatar" for e in events)
    assert delivered[failed_notice.seq] == "delivered"


def verify(envelope: dict[str, object]) -> WebhookEvent:
    return verify_and_decrypt(envelope, client_id=ENGINE_CLIENT_ID, client_secret=ENGINE_KEY)


async def test_a_webhook_to_a_private_address_is_refused_at_create_naming_webhook_url(tmp_path: Path) -> None:
    network = Network()
    async with akool_mode(tmp_path, network=httpx2.MockTransport(network.handle), allow_private_urls=False) as (
        engine,
        http,
    ):
        answer = (
            await http.post(
                "/api/open/v3/talkingavatar/create", json=VIDEO_WITH_WEBHOOK, headers={"x-api-key": ENGINE_KEY}
            )
        ).json()
        hooks = engine.store.list_webhooks()
    assert answer["code"] == 1003
    assert answer["msg"].startswith("webhookUrl:") and "AKOOL_ALLOW_PRIVATE_URLS" in answer["msg"]
    assert hooks == [] and network.deliveries == []


class Receivers:
    """Webhook receivers by path: `/slow-*` hang until released, `/fail` answers 500, others 200."""

    def __init__(self) -> None:
        self.release = anyio.Event()
        self.arrived: dict[str, list[int]] = {}
        self.changed = anyio.Event()

    async def handle(self, request: httpx2.Request) -> httpx2.Response:
        path = request.url.path
        if path.startswith(("/me.png", "/speech")):
            return httpx2.Response(404)
        self.arrived.setdefault(path, []).append(json.loads(request.content)["dataEncrypt"] and 1)
        self.changed.set()
        self.changed = anyio.Event()
        if path.startswith("/slow"):
            await self.release.wait()
        return httpx2.Response(500 if path == "/fail" else 200)

    async def until(self, path: str, count: int) -> None:
        while len(self.arrived.get(path, [])) < count:
            await self.changed.wait()


async def test_slow_and_failing_receivers_delay_only_their_own_webhooks(tmp_path: Path) -> None:
    receivers = Receivers()
    clock = EngineClock()
    async with akool_mode(tmp_path, network=httpx2.MockTransport(receivers.handle), parts={"clock": clock}) as (
        engine,
        http,
    ):
        created = await http.post(
            "/api/open/v3/talkingavatar/create",
            json={**VIDEO_WITH_WEBHOOK, "webhookUrl": None},
            headers={"x-api-key": ENGINE_KEY},
        )
        video_id = created.json()["data"]["_id"]
        await engine.runner.wait_done(video_id)
        for path in ("/slow-1", "/slow-2", "/slow-3", "/fail", "/healthy"):
            note = WebhookNote(f"http://127.0.0.1{path}", {"_id": video_id, "status": 4}, clock.now_ms())
            engine.store.transition_video(video_id, {}, note)
        engine.webhooks.wake()
        with anyio.fail_after(10):
            await receivers.until("/healthy", 1)  # while three receivers hang
            await receivers.until("/fail", 1)
            await clock.waiting_for(5.0)  # the failing receiver's retry, as the backoff says
            await clock.advance(5.0)
            await receivers.until("/fail", 2)
        states = {w.url.rsplit("/", 1)[1]: (w.state, w.attempts) for w in engine.store.list_webhooks()}
        receivers.release.set()
    assert states["healthy"] == ("delivered", 1)
    assert states["fail"][0] == "pending" and states["fail"][1] >= 1
    assert [states[f"slow-{n}"] for n in (1, 2, 3)] == [("pending", 0)] * 3  # still in flight, nothing lost
    assert receivers.arrived["/healthy"] == [1] and len(receivers.arrived["/fail"]) == 2


async def test_one_receiver_gets_its_webhooks_one_at_a_time_in_order(tmp_path: Path) -> None:
    receivers = Receivers()
    seen: list[int] = []

    async def ordered(request: httpx2.Request) -> httpx2.Response:
        if request.url.path == "/ordered":
            seen.append(len(seen))
            if len(seen) == 1:
                await receivers.release.wait()
            return httpx2.Response(200)
        return await receivers.handle(request)

    clock = EngineClock()
    async with akool_mode(tmp_path, network=httpx2.MockTransport(ordered), parts={"clock": clock}) as (engine, http):
        created = await http.post(
            "/api/open/v3/talkingavatar/create",
            json={**VIDEO_WITH_WEBHOOK, "webhookUrl": None},
            headers={"x-api-key": ENGINE_KEY},
        )
        video_id = created.json()["data"]["_id"]
        await engine.runner.wait_done(video_id)
        for status in (2, 3):
            note = WebhookNote("http://127.0.0.1/ordered", {"_id": video_id, "status": status}, clock.now_ms())
            engine.store.transition_video(video_id, {}, note)
        with anyio.fail_after(10):
            engine.webhooks.wake()
            while not seen:
                await anyio.lowlevel.checkpoint()
            await anyio.wait_all_tasks_blocked()
            in_flight_alone = list(seen)  # the second waits for the first to be answered
            receivers.release.set()
            await engine.webhooks.run_once()
        hooks = [(json.loads(w.payload_json)["status"], w.state) for w in engine.store.list_webhooks()]
    assert in_flight_alone == [0]
    assert hooks == [(2, "delivered"), (3, "delivered")]
