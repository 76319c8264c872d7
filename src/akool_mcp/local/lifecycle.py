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
from akool_mcp.local.leases import MAX_ATTEMPTS, Lease
from akool_mcp.local.records import AvatarRow, EngineStore, VideoRow, WebhookNote
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

    def fail(self, record_id: str, reason: str, code: int = FAILED, holder: str | None = None) -> bool:
        """Record the failure (with `holder`: only while that attempt holds the job); whether it was recorded."""
        ...

    def release(self, lease: Lease) -> bool:
        """Back to waiting, letting the lease go (a stop mid-job); False if the attempt no longer held it."""
        ...

    def held_until(self, record_id: str) -> int | None:
        """When the lease of an unfinished record lapses (epoch ms), if an attempt holds it; else None."""
        ...


class Notifier(Protocol):
    def wake(self) -> None:
        """A webhook was queued: deliver it soon."""
        ...


def _bounded(reason: str) -> str:
    return reason if len(reason) <= MAX_REASON else reason[: MAX_REASON - 1] + "…"


class VideoLifecycle:
    doing = "rendering"

    def __init__(self, store: EngineStore, notifier: Notifier, clock: Clock, links: FileLinks) -> None:
        self._store = store
        self._notifier = notifier
        self._clock = clock
        self._links = links

    def unfinished(self) -> list[Unfinished]:
        return [Unfinished(row.id, row.attempts) for row in self._store.unfinished_videos()]

    def start(self, lease: Lease) -> VideoRow | None:
        """Take the video for this attempt (one more attempt, processing, announced); None if it is not
        waiting to run or another attempt holds it."""
        row = self._store.claim_video(lease.record_id, lease.holder, lease.seconds, self._announce_processing)
        if row is None:
            return None
        lease.claimed = True
        self._notifier.wake()
        if row.attempts > MAX_ATTEMPTS:
            times = f"{row.attempts - 1} times (its worker stopped, crashed or lost contact)"
            self.fail(row.id, f"{self.doing} was interrupted {times}", holder=lease.holder)
            return None
        return row

    def progress(self, lease: Lease, fraction: float) -> bool:
        """Record progress and renew the lease; False once the lease is lost."""
        return lease.renew(self._store, progress=round(fraction, 3))

    def complete(self, lease: Lease, output_path: str, duration: float) -> bool:
        row = self._require(lease.record_id)
        return self._move(row, Status.COMPLETED, lease.holder, progress=1.0, output_path=output_path, duration=duration)

    def fail(self, record_id: str, reason: str, code: int = FAILED, holder: str | None = None) -> bool:
        row = self._require(record_id)
        reason = _bounded(reason)
        moved = self._move(row, Status.FAILED, holder, error_code=code, error_reason=reason)
        if moved:
            log.info("video.failed", video=record_id, reason=reason)
        return moved

    def release(self, lease: Lease) -> bool:
        fields = {"status": int(Status.QUEUEING), "progress": 0.0, "lease_owner": None, "lease_until": None}
        return self._store.transition_video(lease.record_id, fields, None, lease.holder)

    def held_until(self, record_id: str) -> int | None:
        return _held_until(self._store.get_video(record_id))

    def requeue(self, record_id: str) -> None:
        """Back to the queue after an interruption (no webhook: queued is not announced)."""
        self._store.update_video(record_id, status=Status.QUEUEING, progress=0.0, lease_owner=None, lease_until=None)

    def _require(self, video_id: str) -> VideoRow:
        row = self._store.get_video(video_id)
        if row is None:
            raise LookupError(f"no video {video_id}")
        return row

    def _announce_processing(self, row: VideoRow) -> WebhookNote | None:
        return self._note(row, Status.PROCESSING, {})

    def _note(self, row: VideoRow, status: Status, fields: dict[str, Any]) -> WebhookNote | None:
        if not row.webhook_url:
            return None
        payload: dict[str, Any] = {"_id": row.id, "status": int(status), "type": "avatar", "url": ""}
        output = fields.get("output_path")
        if status == Status.COMPLETED and isinstance(output, str):
            payload["url"] = self._links.url(output)
        if status == Status.FAILED:
            payload["error_reason"] = fields.get("error_reason", "")
        return WebhookNote(url=row.webhook_url, payload=payload, at_ms=self._clock.now_ms())

    def _move(self, row: VideoRow, status: Status, holder: str | None, **fields: Any) -> bool:
        """A final status, with its webhook, in one transaction; the lease goes with it."""
        note = self._note(row, status, fields)
        moved = self._store.transition_video(
            row.id, {"status": int(status), **fields, "lease_owner": None, "lease_until": None}, note, holder
        )
        if moved and note is not None:
            self._notifier.wake()
        return moved


class AvatarLifecycle:
    """An uploaded avatar: fetched, checked for one face turned to the camera, then ready for videos."""

    doing = "preparing the avatar"

    def __init__(self, store: EngineStore) -> None:
        self._store = store

    def unfinished(self) -> list[Unfinished]:
        return [Unfinished(row.id, row.attempts) for row in self._store.unfinished_avatars()]

    def start(self, lease: Lease) -> AvatarRow | None:
        """Take the avatar for this attempt (one more attempt); None if it is not waiting to be prepared."""
        row = self._store.claim_avatar(lease.record_id, lease.holder, lease.seconds)
        if row is not None:
            lease.claimed = True
        if row is not None and row.attempts > MAX_ATTEMPTS:
            times = f"{row.attempts - 1} times (its worker stopped, crashed or lost contact)"
            self.fail(row.id, f"{self.doing} was interrupted {times}", holder=lease.holder)
            return None
        return row

    def complete(self, lease: Lease, *, media_path: str, preview_path: str, thumbnail_path: str, face: str) -> bool:
        done = self._store.update_avatar(
            lease.record_id,
            lease.holder,
            status=Status.COMPLETED,
            media_path=media_path,
            preview_path=preview_path,
            thumbnail_path=thumbnail_path,
            face_json=face,
            lease_owner=None,
            lease_until=None,
        )
        if done:
            log.info("avatar.ready", avatar=lease.record_id)
        return done

    def fail(self, record_id: str, reason: str, code: int = FAILED, holder: str | None = None) -> bool:
        reason = _bounded(reason)
        failed = self._store.update_avatar(
            record_id, holder, status=Status.FAILED, error_reason=reason, lease_owner=None, lease_until=None
        )
        if failed:
            log.info("avatar.failed", avatar=record_id, reason=reason)
        return failed

    def requeue(self, record_id: str) -> None:
        self._store.update_avatar(record_id, status=Status.QUEUEING, lease_owner=None, lease_until=None)

    def release(self, lease: Lease) -> bool:
        return self._store.update_avatar(
            lease.record_id, lease.holder, status=Status.QUEUEING, lease_owner=None, lease_until=None
        )

    def held_until(self, record_id: str) -> int | None:
        return _held_until(self._store.get_avatar(record_id))


def _held_until(row: VideoRow | AvatarRow | None) -> int | None:
    if row is None or row.status not in (Status.QUEUEING, Status.PROCESSING) or row.lease_owner is None:
        return None
    return row.lease_until
