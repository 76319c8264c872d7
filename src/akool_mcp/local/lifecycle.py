"""One lifecycle for a video: queued -> processing -> completed | failed.

Every change goes through here, is recorded in the store, and queues the video's webhook in the same
transaction, so a status that was recorded is always announced and nothing else changes a status.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from akool_mcp.local.clock import Clock
from akool_mcp.local.store import Store, VideoRow, WebhookNote
from akool_mcp.log import get_logger
from akool_mcp.models import Status

log = get_logger(__name__)

MAX_REASON = 500


class Notifier(Protocol):
    def wake(self) -> None:
        """A webhook was queued: deliver it soon."""
        ...


class VideoLifecycle:
    def __init__(self, store: Store, notifier: Notifier, clock: Clock, file_url: Callable[[str], str]) -> None:
        self._store = store
        self._notifier = notifier
        self._clock = clock
        self._file_url = file_url

    def start(self, record_id: str) -> VideoRow | None:
        """Mark the video processing (one more attempt); None if it is not waiting to run."""
        row = self._store.get_video(record_id)
        if row is None or row.status not in (Status.QUEUEING, Status.PROCESSING):
            return None
        self._move(row, Status.PROCESSING, attempts=row.attempts + 1, progress=0.0)
        return self._store.get_video(record_id)

    def progress(self, record_id: str, fraction: float) -> None:
        self._store.update_video(record_id, progress=round(fraction, 3))

    def complete(self, record_id: str, output_path: str, duration: float) -> None:
        row = self._require(record_id)
        self._move(row, Status.COMPLETED, progress=1.0, output_path=output_path, duration=duration)

    def fail(self, record_id: str, reason: str, code: int = 1109) -> None:
        row = self._require(record_id)
        reason = reason if len(reason) <= MAX_REASON else reason[: MAX_REASON - 1] + "…"
        self._move(row, Status.FAILED, error_code=code, error_reason=reason)
        log.info("video.failed", video=record_id, reason=reason)

    def requeue(self, record_id: str) -> None:
        """Back to the queue after an interruption (no webhook: queued is not announced)."""
        self._store.update_video(record_id, status=Status.QUEUEING, progress=0.0)

    def _require(self, record_id: str) -> VideoRow:
        row = self._store.get_video(record_id)
        if row is None:
            raise LookupError(f"no video {record_id}")
        return row

    def _move(self, row: VideoRow, status: Status, **fields: Any) -> None:
        note: WebhookNote | None = None
        if row.webhook_url:
            payload: dict[str, Any] = {"_id": row.id, "status": int(status), "type": "avatar", "url": ""}
            output = fields.get("output_path")
            if status == Status.COMPLETED and isinstance(output, str):
                payload["url"] = self._file_url(output)
            if status == Status.FAILED:
                payload["error_reason"] = fields.get("error_reason", "")
            note = WebhookNote(url=row.webhook_url, payload=payload, at_ms=self._clock.now_ms())
        self._store.transition_video(row.id, {"status": int(status), **fields}, note)
        if note is not None:
            self._notifier.wake()
