"""Accepting work: every check a request must pass before it is stored and queued.

A request that passes here can be run: its URLs were parsed by the parser that will fetch them, its
webhook target is public (unless private targets are allowed), and what it refers to (avatars,
voices) exists. This is where lower errors (contract rules, URL checks) become the engine's own
`EngineError`, with the field in the API's words.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

import anyio

from akool_mcp.clock import Clock
from akool_mcp.local.catalogue import Catalogue
from akool_mcp.local.engine_errors import EXISTS, INVALID, NOT_FOUND, TOO_FREQUENT, EngineError
from akool_mcp.local.records import (
    AvatarRow,
    DuplicateError,
    EngineStore,
    Enqueue,
    NoRoom,
    Room,
    VideoRow,
    new_object_id,
)
from akool_mcp.log import get_logger
from akool_mcp.media.fetch import FetchError, MediaKind, check_url_syntax
from akool_mcp.media.transport import Resolver, TargetRefused, UrlError, parse_http_url, resolve_public
from akool_mcp.media.transport import shorten as short
from akool_mcp.models import (
    AvatarCreateRequest,
    AvatarSource,
    ContractViolation,
    Status,
    TalkingVideoRequest,
    validate_avatar_create,
    validate_talking_video,
)

if TYPE_CHECKING:
    from akool_mcp.local.jobs import JobKind

log = get_logger(__name__)

WEBHOOK_DNS_SECONDS = 3.0


class JobQueue(Protocol):
    def submit(self, kind: JobKind, record_id: str) -> None:
        """Queue a job whose record is stored (a queue in this process's memory)."""
        ...

    def enqueue_with(self, kind: JobKind, record_id: str) -> Enqueue | None:
        """How to queue the job inside the transaction that stores its record, for a queue in the same
        database (a row and a job, or neither); None for a queue that `submit` fills after the commit."""
        ...

    def estimated_wait(self, jobs_ahead: int) -> float: ...


MIN_RETRY_AFTER = 5
MAX_RETRY_AFTER = 600


def _contract(check: Callable[[], None]) -> None:
    """Run a contract check; a broken rule is answered as an invalid parameter, naming the field."""
    try:
        check()
    except ContractViolation as exc:
        raise EngineError(INVALID, exc.message, field=exc.field) from None


class Intake:
    def __init__(
        self,
        *,
        store: EngineStore,
        queue: JobQueue,
        catalogue: Catalogue,
        clock: Clock,
        resolver: Resolver,
        allow_private: bool,
        local_paths: bool,
        room: Room,
    ) -> None:
        self._store = store
        self._room = room
        self._queue = queue
        self._catalogue = catalogue
        self._clock = clock
        self._resolver = resolver
        self._allow_private = allow_private
        self._local_paths = local_paths

    async def accept_video(self, req: TalkingVideoRequest, client: str = "local") -> VideoRow:
        _contract(lambda: validate_talking_video(req, allow_local_paths=self._local_paths))
        self._check_media_urls(req)
        if req.webhook_url:
            await self._check_webhook_url(req.webhook_url)
        if any(el.type == "avatar" and el.avatar_id for el in req.elements):
            await self._catalogue.ensure_builtins()
        self._check_references(req)
        stamp = self._clock.now_ms()
        row = VideoRow.accepted(
            new_object_id(stamp),
            uuid=str(uuid.uuid4()),
            task_id=new_object_id(stamp),
            request_json=json.dumps(req.model_dump(mode="json", by_alias=True, exclude_none=True)),
            webhook_url=req.webhook_url or None,
            stamp=stamp,
            client=client,
        )
        enqueue = self._queue.enqueue_with("video", row.id)
        self._admitted(lambda: self._store.insert_video(row, self._room, enqueue))
        log.info("video.accepted", video=row.id)
        if enqueue is None:
            self._queue.submit("video", row.id)
        return row

    def _check_media_urls(self, req: TalkingVideoRequest) -> None:
        """Parse each media URL now with the parser that will fetch it, so a bad one fails at the door."""
        kinds: dict[str, MediaKind] = {"image": "image", "audio": "audio", "avatar": "avatar"}
        for i, el in enumerate(req.elements):
            if not el.url or el.url.startswith("#") or el.type not in kinds:
                continue
            try:
                check_url_syntax(el.url, kinds[el.type], allow_local_paths=self._local_paths)
            except FetchError as exc:
                raise EngineError(INVALID, str(exc), field=f"elements[{i}].url") from None

    async def _check_webhook_url(self, url: str) -> None:
        try:
            parsed = parse_http_url(url)
        except UrlError as exc:
            raise EngineError(INVALID, str(exc), field="webhookUrl") from None
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        try:
            with anyio.move_on_after(WEBHOOK_DNS_SECONDS):
                await resolve_public(parsed.host, port, self._resolver, allow_private=self._allow_private)
        except TargetRefused as exc:
            if exc.kind == "private" and self._allow_private:
                raise EngineError(
                    INVALID, f"{exc}; the engine never calls link-local or cloud metadata addresses", field="webhookUrl"
                ) from None
            if exc.kind == "private":
                raise EngineError(
                    INVALID,
                    "points at a private, loopback or link-local address; the engine only calls public "
                    "receivers. To allow private receivers, start the engine with AKOOL_ALLOW_PRIVATE_URLS=true.",
                    field="webhookUrl",
                ) from None
            # A name that does not resolve now may resolve later: the delivery retries, and the
            # video's detail shows how it went.

    def _check_references(self, req: TalkingVideoRequest) -> None:
        voices = self._catalogue.voices()
        voice_ids = {v.voice_id for v in voices}
        for i, el in enumerate(req.elements):
            if el.type == "avatar" and el.avatar_id:
                field = f"elements[{i}].avatar_id"
                row = self._store.get_avatar_by_avatar_id(el.avatar_id)
                if row is None:
                    raise EngineError(NOT_FOUND, f"no avatar {short(el.avatar_id)!r}; see avatar/list", field=field)
                if row.status != Status.COMPLETED:
                    status = Status(row.status).label
                    raise EngineError(INVALID, f"avatar {short(el.avatar_id)!r} is not ready ({status})", field=field)
                if row.source != req.avatar_from:
                    kind = "an official" if row.source == AvatarSource.OFFICIAL else "your own"
                    raise EngineError(
                        INVALID,
                        f"must be {row.source}: {short(el.avatar_id)!r} is {kind} avatar (its `from`)",
                        field="avatar_from",
                    )
            if el.type == "audio" and not el.url and el.voice_id not in voice_ids:
                raise EngineError(
                    INVALID,
                    f"unknown voice {short(el.voice_id or '')!r}; see the voice list",
                    field=f"elements[{i}].voice_id",
                )
            if el.type == "audio" and not el.url and el.input_text:
                from akool_mcp.speech.sentences import unspeakable_reason

                reason = unspeakable_reason(el.input_text)
                if reason is not None:
                    languages = ", ".join(sorted({v.language for v in voices}))
                    raise EngineError(
                        INVALID,
                        f"{reason}; the voices read {languages} (Latin alphabet): see the voice list, or give "
                        "recorded speech instead",
                        field=f"elements[{i}].input_text",
                    )

    def _admitted(self, insert: Callable[[], None]) -> None:
        """Run the insert if the queue has room; otherwise refuse as Akool's rate limit, saying when to come back."""
        try:
            insert()
        except NoRoom as full:
            ahead = full.ahead - full.limit + 1
            wait = self._queue.estimated_wait(ahead)
            seconds = int(min(MAX_RETRY_AFTER, max(MIN_RETRY_AFTER, wait)))
            raise EngineError(
                TOO_FREQUENT,
                f"the engine is busy: {full.ahead} jobs are waiting or rendering ({full.whose} limit is "
                f"{full.limit}); nothing was queued, try again in {seconds} s",
                retry_after=seconds,
            ) from None

    async def accept_avatar(self, req: AvatarCreateRequest, client: str = "local") -> AvatarRow:
        _contract(lambda: validate_avatar_create(req, allow_local_paths=self._local_paths))
        if req.url_from == 2:
            raise EngineError(
                INVALID,
                "the local engine cannot download from YouTube/TikTok/X/Drive; give a direct link",
                field="url_from",
            )
        try:
            check_url_syntax(req.url, "avatar", allow_local_paths=self._local_paths)
        except FetchError as exc:
            raise EngineError(INVALID, str(exc), field="url") from None
        await self._catalogue.ensure_builtins()  # an upload may not take a built-in avatar's avatar_id
        stamp = self._clock.now_ms()
        row = AvatarRow(
            id=new_object_id(stamp),
            avatar_id=req.avatar_id,
            name=req.name or req.avatar_id,
            type=req.type,
            source=AvatarSource.USER,
            status=Status.QUEUEING,
            gender=None,
            source_url=req.url,
            media_path=None,
            preview_path=None,
            thumbnail_path=None,
            face_json=None,
            error_reason=None,
            attempts=0,
            sort=0,
            create_time=stamp,
            update_time=stamp,
            client=client,
        )
        enqueue = self._queue.enqueue_with("avatar", row.id)
        try:
            self._admitted(lambda: self._store.insert_avatar(row, self._room, enqueue))
        except DuplicateError:
            # An upload that failed leaves nothing usable behind: its avatar_id may be used again.
            taken = self._store.get_avatar_by_avatar_id(req.avatar_id)
            if taken is None or taken.source != AvatarSource.USER or taken.status != Status.FAILED:
                raise EngineError(
                    EXISTS, f"{req.avatar_id!r} already exists; choose another avatar_id", field="avatar_id"
                ) from None
            self._store.delete_avatar(taken.id)
            log.info("avatar.replaced_failed", avatar=taken.id)
            self._admitted(lambda: self._store.insert_avatar(row, self._room, enqueue))
        if enqueue is None:
            self._queue.submit("avatar", row.id)
        return row
