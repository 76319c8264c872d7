"""Webhook deliveries: the Akool envelope POSTed on status changes, persisted and retried until HTTP 200.

Deliveries to different receivers (webhook URLs) go in parallel, up to `MAX_PARALLEL` at once; one
receiver gets one delivery at a time, in the order the changes happened. So a receiver that is slow
or failing delays only its own deliveries: each waits at most `DELIVERY_TIMEOUT`, and its retries
come when the backoff says, whatever the other receivers do.

Each delivery runs inside its own boundary: whatever goes wrong with one (a URL the HTTP client
refuses, a key that cannot seal, a receiver that hangs) is recorded on that delivery, as a retry for
passing faults or as failed for permanent ones. Where the request may go is the guarded transport's
job (see `media.transport`): private and loopback receivers are refused, and the connection is pinned
to the checked address.
"""

from __future__ import annotations

import json
from collections import Counter

import anyio
import httpx2
from anyio.abc import TaskGroup

from akool_mcp import user_agent
from akool_mcp.client.webhook import WebhookKeyError, seal_webhook
from akool_mcp.clock import Clock
from akool_mcp.local.keys import LocalKeys
from akool_mcp.local.store import Store, WebhookRow
from akool_mcp.log import get_logger
from akool_mcp.media.transport import TargetRefused, UrlError, parse_http_url

log = get_logger(__name__)

MAX_ATTEMPTS = 8
USER_AGENT = user_agent("local engine; webhook")
BACKOFF_SECONDS = (5, 15, 60, 300, 900, 1800, 3600)
IDLE_SECONDS = 60.0
# Seconds a receiver has to answer one delivery (Akool documents none; ten is what hosted webhook
# senders commonly allow). A slow receiver then costs only its own queue this much per attempt.
DELIVERY_TIMEOUT = 10.0
MAX_PARALLEL = 16  # deliveries in flight at once, each to a different receiver
DUE_BATCH = 100
MAX_ERROR = 300
# A delivery whose bookkeeping itself keeps failing is set aside for this process's lifetime.
QUARANTINE_AFTER = 3


def retry_delay_ms(attempts: int) -> int:
    return BACKOFF_SECONDS[min(attempts - 1, len(BACKOFF_SECONDS) - 1)] * 1000


class PermanentDeliveryError(Exception):
    """Trying again cannot help (the URL or the key is unusable)."""


class WebhookDispatcher:
    def __init__(self, store: Store, http: httpx2.AsyncClient, keys: LocalKeys, clock: Clock) -> None:
        self._store = store
        self._http = http
        self._keys = keys
        self._clock = clock
        self._wake = anyio.Event()
        self._crashes: Counter[int] = Counter()
        self._busy: set[str] = set()  # receivers (webhook URLs) with a delivery in flight
        self._finished = anyio.Event()  # set (and replaced) each time a delivery ends
        self._parallel = anyio.CapacityLimiter(MAX_PARALLEL)

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        async with anyio.create_task_group() as tg:
            while True:
                wait = self._start_due(tg)
                await self._clock.wait(self._wake, wait)

    async def run_once(self) -> float:
        """Deliver everything due now and wait until it has gone (deliveries already under way included);
        return the seconds until the next delivery is due."""
        async with anyio.create_task_group() as tg:
            while True:
                finished = self._finished
                self._start_due(tg)
                if not self._busy:
                    break
                await finished.wait()
        return self._until_next()

    def _start_due(self, tg: TaskGroup) -> float:
        """Start a delivery for each receiver that has one due and none in flight; the seconds to wait."""
        self._wake = anyio.Event()
        for row in self._store.due_webhooks(self._clock.now_ms(), limit=DUE_BATCH, skip_urls=self._busy):
            if row.url in self._busy or self._crashes[row.seq] >= QUARANTINE_AFTER:
                continue
            self._busy.add(row.url)
            tg.start_soon(self._deliver_in_turn, row)
        return self._until_next()

    def _until_next(self) -> float:
        next_at = self._store.next_webhook_time(skip_urls=self._busy)
        if next_at is None:
            return IDLE_SECONDS
        return min(IDLE_SECONDS, max(0.0, (next_at - self._clock.now_ms()) / 1000))

    async def _deliver_in_turn(self, row: WebhookRow) -> None:
        try:
            async with self._parallel:
                self._crashes[row.seq] += 1
                await self.deliver(row)  # a store failure here ends the loop; its supervisor restarts it
                del self._crashes[row.seq]
        finally:
            self._busy.discard(row.url)
            self._finished.set()
            self._finished = anyio.Event()
            self.wake()  # the receiver's next delivery may be due already

    async def deliver(self, row: WebhookRow) -> bool:
        attempts = row.attempts + 1
        try:
            status = await self._post(row)
        except PermanentDeliveryError as exc:
            self._give_up(row, attempts, str(exc))
            return False
        except (httpx2.HTTPError, OSError) as exc:
            error = _describe(exc)
        except Exception as exc:  # the boundary: any surprise fails this delivery, never the loop
            log.exception("webhook.crashed", seq=row.seq)
            self._give_up(row, attempts, f"internal error ({type(exc).__name__})")
            return False
        else:
            if status == 200:
                self._store.update_webhook(row.seq, state="delivered", attempts=attempts, last_error=None)
                log.info("webhook.delivered", seq=row.seq, attempts=attempts)
                return True
            error = f"the receiver answered HTTP {status}"
        if attempts >= MAX_ATTEMPTS:
            self._give_up(row, attempts, error)
        else:
            next_attempt = self._clock.now_ms() + retry_delay_ms(attempts)
            self._store.update_webhook(row.seq, attempts=attempts, last_error=error, next_attempt=next_attempt)
            log.info("webhook.retry_later", seq=row.seq, attempts=attempts, error=error)
        return False

    async def _post(self, row: WebhookRow) -> int:
        try:
            url = parse_http_url(row.url)
        except UrlError as exc:
            raise PermanentDeliveryError(f"the webhook URL {exc}") from None
        try:
            envelope = seal_webhook(
                json.loads(row.payload_json), client_id=self._keys.client_id, client_secret=self._keys.client_secret
            )
        except WebhookKeyError as exc:
            raise PermanentDeliveryError(f"the envelope cannot be sealed: {exc}") from None
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
        request = httpx2.Request("POST", url, content=json.dumps(envelope).encode(), headers=headers)
        try:
            with anyio.fail_after(DELIVERY_TIMEOUT):
                response = await self._http.send(request, follow_redirects=False)
        except TimeoutError:
            raise httpx2.TimeoutException(f"no answer within {DELIVERY_TIMEOUT:g} s") from None
        except TargetRefused as exc:
            if exc.kind == "private":
                raise PermanentDeliveryError(
                    "the webhook URL points at a private or loopback address; set AKOOL_ALLOW_PRIVATE_URLS=true "
                    "to allow private receivers"
                ) from None
            raise
        await response.aclose()
        return response.status_code

    def _give_up(self, row: WebhookRow, attempts: int, error: str) -> None:
        self._store.update_webhook(row.seq, state="failed", attempts=attempts, last_error=error[:MAX_ERROR])
        log.warning("webhook.given_up", seq=row.seq, attempts=attempts, error=error[:MAX_ERROR])


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:MAX_ERROR]
