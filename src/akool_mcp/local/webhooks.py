"""Webhook deliveries: the Akool envelope POSTed on status changes, persisted and retried until HTTP 200."""

from __future__ import annotations

import ipaddress
import json
from typing import TYPE_CHECKING, Any

import anyio
import httpx2
import structlog

from akool_mcp import user_agent
from akool_mcp.client.webhook import seal_webhook
from akool_mcp.local.fetch import is_blocked_address
from akool_mcp.local.store import WebhookRow, now_ms
from akool_mcp.models import Status

if TYPE_CHECKING:
    from akool_mcp.local.engine import LocalEngine

log = structlog.get_logger(__name__)

MAX_ATTEMPTS = 8
BACKOFF_SECONDS = (5, 15, 60, 300, 900, 1800, 3600)
IDLE_SECONDS = 60.0


def retry_delay_ms(attempts: int) -> int:
    return BACKOFF_SECONDS[min(attempts - 1, len(BACKOFF_SECONDS) - 1)] * 1000


class WebhookDispatcher:
    def __init__(self, engine: LocalEngine) -> None:
        self.engine = engine
        self._wake = anyio.Event()

    def notify_video(self, record_id: str) -> None:
        """Queue the envelope for a video's current status, if the video asked for webhooks."""
        row = self.engine.store.get_video(record_id)
        if row is None or not row.webhook_url or row.status == Status.QUEUEING:
            return
        payload: dict[str, Any] = {"_id": row.id, "status": row.status, "type": "avatar", "url": ""}
        if row.status == Status.COMPLETED and row.output_path:
            payload["url"] = self.engine.public_file_url(row.output_path)
        if row.status == Status.FAILED and row.error_reason:
            payload["error_reason"] = row.error_reason
        self.engine.store.add_webhook(row.webhook_url, payload)
        self._wake.set()

    async def run(self) -> None:
        while True:
            for row in self.engine.store.due_webhooks(now_ms()):
                await self.deliver(row)
            next_at = self.engine.store.next_webhook_time()
            wait = IDLE_SECONDS if next_at is None else max(0.0, (next_at - now_ms()) / 1000)
            self._wake = anyio.Event()
            if wait > 0:
                with anyio.move_on_after(min(wait, IDLE_SECONDS)):
                    await self._wake.wait()

    async def deliver(self, row: WebhookRow) -> bool:
        keys = self.engine.keys
        envelope = seal_webhook(
            json.loads(row.payload_json), client_id=keys.client_id, client_secret=keys.client_secret
        )
        attempts = row.attempts + 1
        error: str | None = None
        try:
            request = await self._request_for(row.url, envelope)
            response = await self.engine.fetch_http.send(request, follow_redirects=False)
            if response.status_code == 200:
                self.engine.store.update_webhook(row.seq, state="delivered", attempts=attempts, last_error=None)
                log.info("webhook.delivered", seq=row.seq, attempts=attempts)
                return True
            error = f"HTTP {response.status_code}"
        except (httpx2.HTTPError, OSError, ValueError) as exc:
            error = f"{type(exc).__name__}: {exc}"[:300]
        if attempts >= MAX_ATTEMPTS or error.startswith("ValueError"):
            self.engine.store.update_webhook(row.seq, state="failed", attempts=attempts, last_error=error)
            log.warning("webhook.given_up", seq=row.seq, attempts=attempts, error=error)
        else:
            self.engine.store.update_webhook(
                row.seq, attempts=attempts, last_error=error, next_attempt=now_ms() + retry_delay_ms(attempts)
            )
            log.info("webhook.retry_later", seq=row.seq, attempts=attempts, error=error)
        return False

    async def _request_for(self, url: str, envelope: dict[str, Any]) -> httpx2.Request:
        """Webhook URLs are untrusted too: refuse private and loopback targets unless allowed, and send to
        the address that was checked (not a second DNS answer), keeping the name for Host and TLS."""
        target = httpx2.URL(url)
        if target.scheme not in ("http", "https") or not target.host:
            raise ValueError("the webhook URL must be http(s)")
        body = json.dumps(envelope).encode()
        headers = {"Content-Type": "application/json", "User-Agent": user_agent("local engine; webhook")}
        if self.engine.fetch_policy.allow_private:
            return httpx2.Request("POST", target, content=body, headers=headers)
        host = target.host
        if _is_ip(host):
            if is_blocked_address(host):
                raise ValueError("the webhook URL points at a private or loopback address")
            return httpx2.Request("POST", target, content=body, headers=headers)
        port = target.port or (443 if target.scheme == "https" else 80)
        addresses = [str(info[4][0]) for info in await anyio.getaddrinfo(host, port)]
        if not addresses or any(is_blocked_address(a) for a in addresses):
            raise ValueError("the webhook URL points at a private or loopback address")
        pinned = target.copy_with(host=addresses[0].split("%", 1)[0])
        headers.update({"Host": target.netloc.decode("ascii"), "Connection": "close"})
        return httpx2.Request("POST", pinned, content=body, headers=headers, extensions={"sni_hostname": host})


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
