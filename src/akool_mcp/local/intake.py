"""Accepting work: every check a request must pass before it is stored and queued.

A request that passes here can be run: its URLs were parsed by the parser that will fetch them, its
webhook target is public (unless private targets are allowed), and what it refers to (avatars,
voices) exists.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import anyio

from akool_mcp.local.api_errors import ApiError
from akool_mcp.local.store import AvatarRow, DuplicateError, Store, VideoRow, new_object_id, now_ms
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
    from akool_mcp.speech import Voice

log = get_logger(__name__)

WEBHOOK_DNS_SECONDS = 3.0


class Intake:
    def __init__(
        self,
        *,
        store: Store,
        submit: Callable[[JobKind, str], None],
        voices: Callable[[], list[Voice]],
        ensure_builtins: Callable[[], Awaitable[None]],
        resolver: Resolver,
        allow_private: bool,
        local_paths: bool,
    ) -> None:
        self._store = store
        self._submit = submit
        self._voices = voices
        self._ensure_builtins = ensure_builtins
        self._resolver = resolver
        self._allow_private = allow_private
        self._local_paths = local_paths

    async def accept_video(self, req: TalkingVideoRequest) -> VideoRow:
        validate_talking_video(req, allow_local_paths=self._local_paths)
        self._check_media_urls(req)
        if req.webhook_url:
            await self._check_webhook_url(req.webhook_url)
        if any(el.type == "avatar" and el.avatar_id for el in req.elements):
            await self._ensure_builtins()
        self._check_references(req)
        stamp = now_ms()
        row = VideoRow(
            id=new_object_id(),
            video_id=str(uuid.uuid4()),
            task_id=new_object_id(),
            status=Status.QUEUEING,
            request_json=json.dumps(req.model_dump(mode="json", by_alias=True, exclude_none=True)),
            webhook_url=req.webhook_url or None,
            output_path=None,
            duration=None,
            progress=0.0,
            error_code=None,
            error_reason=None,
            attempts=0,
            create_time=stamp,
            update_time=stamp,
        )
        self._store.insert_video(row)
        log.info("video.accepted", video=row.id)
        self._submit("video", row.id)
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
                raise ContractViolation(f"elements[{i}].url", str(exc)) from None

    async def _check_webhook_url(self, url: str) -> None:
        try:
            parsed = parse_http_url(url)
        except UrlError as exc:
            raise ContractViolation("webhookUrl", str(exc)) from None
        if self._allow_private:
            return
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        try:
            with anyio.move_on_after(WEBHOOK_DNS_SECONDS):
                await resolve_public(parsed.host, port, self._resolver)
        except TargetRefused as exc:
            if exc.kind == "private":
                raise ContractViolation(
                    "webhookUrl",
                    "points at a private, loopback or link-local address; the engine only calls public "
                    "receivers. To allow private receivers, start the engine with AKOOL_ALLOW_PRIVATE_URLS=true.",
                ) from None
            # A name that does not resolve now may resolve later: the delivery retries, and the
            # video's detail shows how it went.

    def _check_references(self, req: TalkingVideoRequest) -> None:
        voice_ids = {v.voice_id for v in self._voices()}
        for i, el in enumerate(req.elements):
            if el.type == "avatar" and el.avatar_id:
                row = self._store.get_avatar_by_avatar_id(el.avatar_id)
                if row is None:
                    raise ApiError(1008, f"elements[{i}].avatar_id: no avatar {short(el.avatar_id)!r}; see avatar/list")
                if row.status != Status.COMPLETED:
                    raise ApiError(
                        1003,
                        f"elements[{i}].avatar_id: avatar {short(el.avatar_id)!r} is not ready (status {row.status})",
                    )
                if row.source != req.avatar_from:
                    kind = "an official" if row.source == AvatarSource.OFFICIAL else "your own"
                    raise ContractViolation(
                        "avatar_from", f"must be {row.source}: {short(el.avatar_id)!r} is {kind} avatar (its `from`)"
                    )
            if el.type == "audio" and not el.url and el.voice_id not in voice_ids:
                raise ContractViolation(
                    f"elements[{i}].voice_id", f"unknown voice {short(el.voice_id or '')!r}; see the voice list"
                )
            if el.type == "audio" and not el.url and el.input_text:
                from akool_mcp.speech.sentences import unspeakable_reason

                reason = unspeakable_reason(el.input_text)
                if reason is not None:
                    raise ContractViolation(
                        f"elements[{i}].input_text",
                        f"{reason}; the voices read English, Spanish, French and German (Latin alphabet)",
                    )

    async def accept_avatar(self, req: AvatarCreateRequest) -> AvatarRow:
        try:
            validate_avatar_create(req, allow_local_paths=self._local_paths)
            if req.url_from != 2:
                try:
                    check_url_syntax(req.url, "avatar", allow_local_paths=self._local_paths)
                except FetchError as exc:
                    raise ContractViolation("url", str(exc)) from None
        except ContractViolation as exc:
            raise ApiError(1003, str(exc)) from None
        if req.url_from == 2:
            raise ApiError(
                1003, "url_from: the local engine cannot download from YouTube/TikTok/X/Drive; give a direct link"
            )
        await self._ensure_builtins()  # an upload may not take a built-in avatar's avatar_id
        stamp = now_ms()
        row = AvatarRow(
            id=new_object_id(),
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
        )
        try:
            self._store.insert_avatar(row)
        except DuplicateError:
            raise ApiError(1222, f"avatar_id: {req.avatar_id!r} already exists; choose another avatar_id") from None
        self._submit("avatar", row.id)
        return row
