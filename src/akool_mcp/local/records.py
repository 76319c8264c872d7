"""The engine's records and the one interface both of its stores keep: SQLite (`store.Store`, one machine,
the default) and PostgreSQL (`pgstore.PgStore`, cluster mode).

A job is held by one attempt at a time through a lease: `claim_*` takes it (only while nobody holds it, or
the holder's lease lapsed), every write of that attempt names its holder and changes nothing once the
lease has passed to someone else, and the final write lets it go. Webhook deliveries are claimed the same
way, one receiver at a time, so two dispatchers never send the same one at once.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any, Protocol

from akool_mcp.clock import Clock
from akool_mcp.models import Status

UNFINISHED = (int(Status.QUEUEING), int(Status.PROCESSING))


def new_object_id(now_ms: int) -> str:
    """A 24-hex id shaped like a MongoDB ObjectId: 4 bytes of time (seconds), 8 random."""
    return f"{now_ms // 1000:08x}{secrets.token_hex(8)}"


@dataclass(frozen=True)
class AvatarRow:
    id: str
    avatar_id: str
    name: str
    type: int
    source: int
    status: int
    gender: str | None
    source_url: str | None
    media_path: str | None
    preview_path: str | None
    thumbnail_path: str | None
    face_json: str | None
    error_reason: str | None
    attempts: int
    sort: int
    create_time: int
    update_time: int
    client: str | None = None  # who asked for it (the caller's address; "local" in process)
    lease_owner: str | None = None  # the attempt that holds the job (see `Lease`); None while queued or done
    lease_until: int | None = None  # epoch ms, on the store's clock, when the hold lapses unless renewed


@dataclass(frozen=True)
class VideoRow:
    id: str  # the video_id: the `_id` a create returns
    uuid: str  # the wire's `video_id`, a second id Akool gives the same video; nothing looks it up
    task_id: str
    status: int
    request_json: str
    webhook_url: str | None
    output_path: str | None
    duration: float | None
    progress: float
    error_code: int | None
    error_reason: str | None
    attempts: int
    create_time: int
    update_time: int
    client: str | None = None  # who asked for it (the caller's address; "local" in process)
    lease_owner: str | None = None  # the attempt that holds the job (see `Lease`); None while queued or done
    lease_until: int | None = None  # epoch ms, on the store's clock, when the hold lapses unless renewed

    @classmethod
    def accepted(
        cls,
        video_id: str,
        *,
        uuid: str,
        task_id: str,
        request_json: str,
        webhook_url: str | None,
        stamp: int,
        client: str | None,
    ) -> VideoRow:
        """A video just accepted: queued at `stamp`, nothing made or tried yet."""
        return cls(
            id=video_id,
            uuid=uuid,
            task_id=task_id,
            status=Status.QUEUEING,
            request_json=request_json,
            webhook_url=webhook_url,
            output_path=None,
            duration=None,
            progress=0.0,
            error_code=None,
            error_reason=None,
            attempts=0,
            create_time=stamp,
            update_time=stamp,
            client=client,
        )

    @property
    def request(self) -> dict[str, Any]:
        return json.loads(self.request_json)


@dataclass(frozen=True)
class WebhookRow:
    seq: int
    url: str
    payload_json: str
    attempts: int
    next_attempt: int
    state: str
    last_error: str | None
    create_time: int
    video_id: str | None = None
    claimed_by: str | None = None  # the dispatcher sending it now
    claimed_until: int | None = None


@dataclass(frozen=True)
class WebhookNote:
    """A webhook to queue together with a status change, in the same transaction."""

    url: str
    payload: dict[str, Any]
    at_ms: int


class DuplicateError(Exception):
    """The unique key exists already."""


@dataclass(frozen=True)
class Room:
    """How many unfinished jobs (videos and avatars) may wait or run: in all, and for one client."""

    total: int
    per_client: int


class NoRoom(Exception):
    """The queue is full; `ahead` jobs are unfinished, `whose` says which bound was reached."""

    def __init__(self, ahead: int, limit: int, whose: str) -> None:
        super().__init__(f"{ahead} unfinished jobs ({whose} limit {limit})")
        self.ahead = ahead
        self.limit = limit
        self.whose = whose


Announce = Callable[["VideoRow"], "WebhookNote | None"]


class EngineStore(Protocol):
    """What the engine keeps: avatars, videos, the webhook outbox and settings (`meta`)."""

    clock: Clock

    def ping(self) -> None: ...
    def close(self) -> None: ...

    def get_meta(self, key: str) -> str | None: ...
    def set_meta(self, key: str, value: str) -> None: ...
    def delete_meta(self, key: str) -> None: ...

    def upsert_builtin_avatar(self, row: AvatarRow) -> None: ...
    def insert_avatar(self, row: AvatarRow, room: Room | None = None, then: Enqueue | None = None) -> None: ...
    def update_avatar(self, record_id: str, holder: str | None = None, **fields: Any) -> bool: ...
    def get_avatar(self, record_id: str) -> AvatarRow | None: ...
    def get_avatar_by_avatar_id(self, avatar_id: str) -> AvatarRow | None: ...
    def list_avatars(
        self, *, source: int | None, type_: int | None, offset: int, limit: int
    ) -> tuple[int, list[AvatarRow]]: ...
    def unfinished_avatars(self) -> list[AvatarRow]: ...
    def delete_avatar(self, record_id: str) -> bool:
        """Remove one of the user's own avatars (never a built-in one); False when there was none."""
        ...

    def claim_avatar(self, record_id: str, holder: str, lease_seconds: float) -> AvatarRow | None: ...

    def insert_video(self, row: VideoRow, room: Room | None = None, then: Enqueue | None = None) -> None: ...
    def update_video(self, video_id: str, **fields: Any) -> None: ...
    def get_video(self, video_id: str) -> VideoRow | None: ...
    def claim_video(self, video_id: str, holder: str, lease_seconds: float, announce: Announce) -> VideoRow | None: ...
    def renew(self, kind: str, record_id: str, holder: str, lease_seconds: float, **fields: Any) -> bool:
        """Extend the holder's lease (and write `fields`, progress say); False if it is no longer theirs."""
        ...

    def transition_video(
        self, video_id: str, fields: dict[str, Any], webhook: WebhookNote | None, holder: str | None = None
    ) -> bool: ...
    def count_videos(self, status: int) -> int: ...
    def count_unfinished(self, client: str | None = None) -> int: ...
    def unfinished_videos(self) -> list[VideoRow]: ...

    def latest_webhook(self, video_id: str) -> WebhookRow | None: ...
    def count_webhooks(self, state: str) -> int: ...
    def claim_webhooks(
        self, at_ms: int, holder: str, lease_seconds: float, limit: int = 20, skip_urls: Collection[str] = ()
    ) -> list[WebhookRow]:
        """Take the due deliveries (the oldest due one per receiver with none in flight) for `holder`."""
        ...

    def next_webhook_time(self, skip_urls: Collection[str] = ()) -> int | None: ...
    def list_webhooks(self) -> list[WebhookRow]: ...
    def update_webhook(self, seq: int, holder: str | None = None, **fields: Any) -> bool: ...


Enqueue = Callable[[Any], None]
"""Queues a job inside the transaction that stores its record (given that transaction's connection)."""
