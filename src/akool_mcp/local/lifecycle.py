"""One lifecycle per kind of record: queued -> processing -> completed | failed.

Every status change of a video or an avatar goes through here and nowhere else. A video's change is
recorded together with its webhook, in one transaction, so a status that was recorded is always
announced. The job runner sees both kinds through the same `Lifecycle` protocol.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from akool_mcp.clock import Clock
from akool_mcp.local.engine_errors import FAILED
from akool_mcp.local.filelinks import FileLinks
from akool_mcp.local.store import AvatarRow, Store, VideoRow, WebhookNote
from akool_mcp.log import get_logger
from akool_mcp.models import Status

log = get_logger(__name__)

MAX_REASON = 500


@dataclass(frozen=True)
class Unfinished:
    """A record found queued or processing when the engine starts."""

    record_id: str
    attempts: int


class Lifecycle(Protocol):
    """What the job runner needs of one kind of record (its id is a video_id or an avatar's record id)."""

    @property
    def doing(self) -> str:
        """The work in a few words, for failure reasons ("rendering", "preparing the avatar")."""
        ...

    def unfinished(self) -> list[Unfinished]: ...

    def requeue(self, record_id: str) -> None:
        """Back to the queue after an interruption."""
        ...

    def fail(self, record_id: str, reason: str, code: int = FAILED) -> None: ...


class Notifier(Protocol):
    def wake(self) -> None:
        """A webhook was queued: deliver it soon."""
        ...


def _bounded(reason: str) -> str:
    return reason if len(reason) <= MAX_REASON else reason[: MAX_REASON - 1] + "…"


class VideoLifecycle:
    doing = "rendering"

    def __init__(self, store: Store, notifier: Notifier, clock: Clock, links: FileLinks) -> None:
        self._store = store
        self._notifier = notifier
        self._clock = clock
        self._links = links

    def unfinished(self) -> list[Unfinished]:
        return [Unfinished(row.id, row.attempts) for row in self._store.unfinished_videos()]

    def start(self, video_id: str) -> VideoRow | None:
        """Mark the video processing (one more attempt); None if it is not waiting to run."""
        row = self._store.get_video(video_id)
        if row is None or row.status not in (Status.QUEUEING, Status.PROCESSING):
            return None
        self._move(row, Status.PROCESSING, attempts=row.attempts + 1, progress=0.0)
        return self._store.get_video(video_id)

    def progress(self, video_id: str, fraction: float) -> None:
        self._store.update_video(video_id, progress=round(fraction, 3))

    def complete(self, video_id: str, output_path: str, duration: float) -> None:
        row = self._require(video_id)
        self._move(row, Status.COMPLETED, progress=1.0, output_path=output_path, duration=duration)

    def fail(self, record_id: str, reason: str, code: int = FAILED) -> None:
        row = self._require(record_id)
        reason = _bounded(reason)
        self._move(row, Status.FAILED, error_code=code, error_reason=reason)
        log.info("video.failed", video=record_id, reason=reason)

    def requeue(self, record_id: str) -> None:
        """Back to the queue after an interruption (no webhook: queued is not announced)."""
        self._store.update_video(record_id, status=Status.QUEUEING, progress=0.0)

    def _require(self, video_id: str) -> VideoRow:
        row = self._store.get_video(video_id)
        if row is None:
            raise LookupError(f"no video {video_id}")
        return row

    def _move(self, row: VideoRow, status: Status, **fields: Any) -> None:
        note: WebhookNote | None = None
        if row.webhook_url:
            payload: dict[str, Any] = {"_id": row.id, "status": int(status), "type": "avatar", "url": ""}
            output = fields.get("output_path")
            if status == Status.COMPLETED and isinstance(output, str):
                payload["url"] = self._links.url(output)
            if status == Status.FAILED:
                payload["error_reason"] = fields.get("error_reason", "")
            note = WebhookNote(url=row.webhook_url, payload=payload, at_ms=self._clock.now_ms())
        self._store.transition_video(row.id, {"status": int(status), **fields}, note)
        if note is not None:
            self._notifier.wake()


class AvatarLifecycle:
    """An uploaded avatar: fetched, checked for one face turned to the camera, then ready for videos."""

    doing = "preparing the avatar"

    def __init__(self, store: Store) -> None:
        self._store = store

    def unfinished(self) -> list[Unfinished]:
        return [Unfinished(row.id, row.attempts) for row in self._store.unfinished_avatars()]

    def start(self, record_id: str) -> AvatarRow | None:
        """Mark the avatar processing (one more attempt); None if it is not waiting to be prepared."""
        row = self._store.get_avatar(record_id)
        if row is None or row.status not in (Status.QUEUEING, Status.PROCESSING) or row.source_url is None:
            return None
        self._store.update_avatar(record_id, status=Status.PROCESSING, attempts=row.attempts + 1)
        return self._store.get_avatar(record_id)

    def complete(self, record_id: str, *, media_path: str, preview_path: str, thumbnail_path: str, face: str) -> None:
        self._store.update_avatar(
            record_id,
            status=Status.COMPLETED,
            media_path=media_path,
            preview_path=preview_path,
            thumbnail_path=thumbnail_path,
            face_json=face,
        )
        log.info("avatar.ready", avatar=record_id)

    def fail(self, record_id: str, reason: str, code: int = FAILED) -> None:
        reason = _bounded(reason)
        self._store.update_avatar(record_id, status=Status.FAILED, error_reason=reason)
        log.info("avatar.failed", avatar=record_id, reason=reason)

    def requeue(self, record_id: str) -> None:
        self._store.update_avatar(record_id, status=Status.QUEUEING)
