"""Webhooks from the local engine: sealed like Akool's, opened by the client helper, retried, persisted."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import httpx2
import pytest

from akool_mcp.client.webhook import WebhookEvent, verify_and_decrypt
from akool_mcp.models import Status
from tests.local.engine_support import ENGINE_CLIENT_ID, ENGINE_KEY, akool_mode

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
