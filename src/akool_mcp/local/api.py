"""The local engine's HTTP API: Akool's Talking Avatar endpoints, answered like the contract says.

Business errors travel in the envelope's `code` with HTTP 200, as Akool documents; routing errors
(unknown path, wrong method) keep their HTTP status, and a body over the limit gets 413. Everything a
caller sends is checked at the door: the body is read only up to its limit, its JSON nesting is
bounded, and text with lone surrogates or NUL is refused naming its field, before any of it reaches
the store or a job.
"""

from __future__ import annotations

import errno
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import anyio
import anyio.to_thread
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from akool_mcp.blobs import BlobKeyError, BlobStore
from akool_mcp.local.catalogue import Catalogue
from akool_mcp.local.engine_errors import (
    DENIED,
    FAILED,
    INVALID,
    NO_RECORD,
    TOO_FREQUENT,
    BodyTooLarge,
    EngineError,
)
from akool_mcp.local.filelinks import FileLinks
from akool_mcp.local.health import Health
from akool_mcp.local.keys import Limiter, LocalKeys, TokenIssuer, same_secret
from akool_mcp.local.openapi import openapi_document
from akool_mcp.local.records import AvatarRow, EngineStore, VideoRow
from akool_mcp.log import get_logger
from akool_mcp.models import AvatarCreateRequest, AvatarSource, Status, TalkingVideoRequest

if TYPE_CHECKING:
    from akool_mcp.local.intake import Intake

log = get_logger(__name__)

V3 = "/api/open/v3"
MAX_BODY = 1024 * 1024
MAX_DEPTH = 16


def envelope(
    data: Any = None, *, code: int = 1000, msg: str = "OK", status: int = 200, headers: dict[str, str] | None = None
) -> JSONResponse:
    body: dict[str, Any] = {"code": code, "msg": msg}
    if data is not None:
        body["data"] = data
    return JSONResponse(body, status_code=status, headers=headers)


def error_response(exc: EngineError) -> JSONResponse:
    headers = None if exc.retry_after is None else {"Retry-After": str(exc.retry_after)}
    return envelope(code=exc.code, msg=exc.msg, status=413 if isinstance(exc, BodyTooLarge) else 200, headers=headers)


def caller_of(request: Request) -> str:
    """Who is asking, for per-client limits: the peer's address (the engine in process: "local")."""
    return request.client.host if request.client else "local"


def _int_param(request: Request, name: str, default: int | None, *, low: int, high: int) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise EngineError(INVALID, f"{name} must be a whole number, got {raw[:20]!r}") from None
    if not low <= value <= high:
        raise EngineError(INVALID, f"{name} must be between {low} and {high}, got {value}")
    return value


async def _read_body(request: Request, limit: int = MAX_BODY) -> bytes:
    """The body, read no further than `limit`: a declared or streamed size over it is refused (413)."""
    declared = request.headers.get("content-length", "")
    if declared.strip().isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        chunks.append(chunk)
    return b"".join(chunks)


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await _read_body(request)
    try:
        body = json.loads(raw or b"null")
    except RecursionError:
        raise EngineError(INVALID, f"the request body is nested too deeply (at most {MAX_DEPTH} levels)") from None
    except ValueError:
        raise EngineError(INVALID, "the request body must be JSON") from None
    if not isinstance(body, dict):
        raise EngineError(INVALID, "the request body must be a JSON object")
    parsed = cast("dict[str, Any]", body)
    check_text(parsed, "", 0)
    return parsed


def check_text(value: object, path: str, depth: int) -> None:
    """Refuse nesting deeper than MAX_DEPTH, and strings (keys too) holding lone surrogates or NUL."""
    if depth > MAX_DEPTH:
        raise EngineError(INVALID, f"{path or 'body'}: nested too deeply (at most {MAX_DEPTH} levels)")
    if isinstance(value, str):
        _check_string(value, path)
    elif isinstance(value, dict):
        for key, item in cast("dict[object, object]", value).items():
            name = str(key)
            _check_string(name, f"{path}.<key>" if path else "<key>")
            check_text(item, f"{path}.{name[:40]}" if path else name[:40], depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(cast("list[object]", value)):
            check_text(item, f"{path}[{index}]", depth + 1)


def _check_string(text: str, field: str) -> None:
    if "\x00" in text:
        raise EngineError(INVALID, "contains a NUL character; remove it", field=field or "body")
    if any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        raise EngineError(
            INVALID, f"{field or 'body'}: contains invalid Unicode (a lone surrogate); send valid UTF-8 text"
        )


def _first_validation_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    parts = [str(p) for p in err["loc"]]
    field = ""
    for part in parts:
        field += f"[{part}]" if part.isdigit() else (f".{part}" if field else part)
    return f"{field or 'body'}: {err['msg']}"


@dataclass(frozen=True)
class Authenticator:
    """Who may call: the API key (the client secret) or a bearer token from getToken, as on Akool."""

    keys: LocalKeys
    tokens: TokenIssuer
    limiter: Limiter
    required: bool

    def check(self, request: Request) -> None:
        if not self.required:
            return
        authorization = request.headers.get("authorization")
        api_key = request.headers.get("x-api-key")
        if authorization:  # Authorization wins when both are sent, as on Akool.
            scheme, _, token = authorization.partition(" ")
            if scheme.lower() != "bearer" or not token or not self.tokens.valid(token.strip()):
                raise EngineError(1101, "invalid authorization or the token has expired; get a new one from getToken")
            return
        if api_key:
            if not same_secret(api_key.strip(), self.keys.api_key):
                raise EngineError(1101, "invalid authorization: the x-api-key is not valid")
            return
        raise EngineError(1102, "authorization cannot be empty: send x-api-key or Authorization: Bearer <token>")

    def credentials_match(self, client_id: str, secret: str) -> bool:
        return same_secret(client_id, self.keys.client_id) and same_secret(secret, self.keys.client_secret)


class LocalApi:
    """Route handlers, given the parts of the engine they answer from."""

    def __init__(
        self,
        *,
        store: EngineStore,
        intake: Intake,
        auth: Authenticator,
        catalogue: Catalogue,
        links: FileLinks,
        health: Health,
        blobs: BlobStore,
    ) -> None:
        self._blobs = blobs
        self._store = store
        self._intake = intake
        self._auth = auth
        self._catalogue = catalogue
        self._links = links
        self._health = health

    def app(self) -> Starlette:
        routes = [
            Route(f"{V3}/getToken", self.get_token, methods=["POST"]),
            Route(f"{V3}/avatar/list", self.guard(self.avatar_list), methods=["GET"]),
            Route(f"{V3}/avatar/detail", self.guard(self.avatar_detail), methods=["GET"]),
            Route(f"{V3}/avatar/create", self.guard(self.avatar_create), methods=["POST"]),
            Route(f"{V3}/avatar/delete", self.guard(self.avatar_delete), methods=["POST"]),
            Route(f"{V3}/talkingavatar/create", self.guard(self.video_create), methods=["POST"]),
            Route(f"{V3}/content/video/infobymodelid", self.guard(self.video_info), methods=["GET"]),
            Route(f"{V3}/faceswap/quota/info", self.guard(self.quota), methods=["GET"]),
            Route("/api/open/v4/voice/list", self.guard(self.voice_list), methods=["GET"]),
            Route("/openapi.json", self.openapi, methods=["GET"]),
            Route("/health", self.health, methods=["GET"]),
            Route("/files/voices/{voice_id}/preview.mp3", self.voice_preview, methods=["GET", "HEAD"]),
            Route("/files/{path:path}", self.files, methods=["GET", "HEAD"]),
        ]
        return Starlette(routes=routes, middleware=[Middleware(ErrorBoundary)])

    # -- auth ---------------------------------------------------------------------------------

    def guard(self, handler: Any) -> Any:
        async def guarded(request: Request) -> Response:
            try:
                self._auth.check(request)
                return await handler(request)
            except EngineError as exc:
                return error_response(exc)

        return guarded

    async def get_token(self, request: Request) -> Response:
        wait = self._auth.limiter.allow(caller_of(request))
        if wait > 0:
            seconds = max(1, round(wait))
            return envelope(
                code=TOO_FREQUENT,
                msg=f"operation too frequent: getToken is limited per client; try again in {seconds} s",
                headers={"Retry-After": str(seconds)},
            )
        try:
            body = await _json_body(request)
        except EngineError as exc:
            return error_response(exc)
        client_id, secret = body.get("clientId"), body.get("clientSecret")
        if not client_id or not secret:
            return envelope(code=INVALID, msg="clientId and clientSecret are required")
        if not self._auth.credentials_match(str(client_id), str(secret)):
            return envelope(code=1101, msg="invalid clientId or clientSecret")
        # The token sits at the top level, not in `data`, as on Akool.
        return JSONResponse({"code": 1000, "msg": "OK", "token": self._auth.tokens.issue()})

    # -- avatars ------------------------------------------------------------------------------

    async def avatar_list(self, request: Request) -> Response:
        await self._catalogue.ensure_builtins()
        source = _int_param(request, "from", None, low=2, high=3)
        type_ = _int_param(request, "type", None, low=1, high=2)
        page = _int_param(request, "page", 1, low=1, high=100_000) or 1
        size = _int_param(request, "size", 100, low=1, high=1000) or 100
        count, rows = self._store.list_avatars(source=source, type_=type_, offset=(page - 1) * size, limit=size)
        return envelope({"count": count, "result": [self.avatar_json(r) for r in rows]})

    async def avatar_detail(self, request: Request) -> Response:
        record_id = request.query_params.get("id", "").strip()
        if not record_id:
            raise EngineError(INVALID, "id is required: the avatar record _id from avatar/list")
        await self._catalogue.ensure_builtins()
        row = self._store.get_avatar(record_id)
        if row is None:
            raise EngineError(NO_RECORD, f"no avatar record {record_id[:40]!r}", field="id")
        return envelope(self.avatar_json(row))

    async def avatar_create(self, request: Request) -> Response:
        body = await _json_body(request)
        try:
            req = AvatarCreateRequest.model_validate(body)
        except ValidationError as exc:
            raise EngineError(INVALID, _first_validation_error(exc)) from None
        row = await self._intake.accept_avatar(req, caller_of(request))
        return envelope(self.avatar_json(row))

    async def avatar_delete(self, request: Request) -> Response:
        """Remove one of the user's own avatars (not Akool's v3 API, which has no delete: an engine extension)."""
        body = await _json_body(request)
        record_id = str(body.get("id") or body.get("_id") or "").strip()
        if not record_id:
            raise EngineError(INVALID, "id is required: the avatar record _id from avatar/list")
        row = self._store.get_avatar(record_id)
        if row is None:
            raise EngineError(NO_RECORD, f"no avatar record {record_id[:40]!r}", field="id")
        if row.source != AvatarSource.USER:
            raise EngineError(
                DENIED, f"{row.avatar_id!r} is a built-in avatar; only your own can be deleted", field="id"
            )
        if row.status in (Status.QUEUEING, Status.PROCESSING):
            raise EngineError(INVALID, f"{row.avatar_id!r} is still being prepared; delete it once done", field="id")
        self._store.delete_avatar(record_id)
        for key in (row.media_path, row.thumbnail_path, row.preview_path):
            if key:  # its pictures, wherever the blob store keeps them
                await anyio.to_thread.run_sync(self._blobs.delete, key)
        log.info("avatar.deleted", avatar=record_id)
        return envelope({"_id": record_id, "avatar_id": row.avatar_id, "deleted": True})

    def avatar_json(self, row: AvatarRow) -> dict[str, Any]:
        item: dict[str, Any] = {
            "_id": row.id,
            "uid": 1,
            "type": row.type,
            "from": row.source,
            "status": row.status,
            "name": row.name,
            "avatar_id": row.avatar_id,
            "url": self._links.url(row.preview_path) if row.preview_path else row.source_url or "",
            "thumbnailUrl": self._links.url(row.thumbnail_path) if row.thumbnail_path else "",
            "gender": row.gender or "",
            "create_time": row.create_time,
            "modify_url": self._links.url(row.preview_path) if row.preview_path else "",
            "crop_arr": [],
            "sort": row.sort,
            "disabled": False,
        }
        if row.error_reason:
            item["error_reason"] = row.error_reason
        return item

    # -- videos -------------------------------------------------------------------------------

    async def video_create(self, request: Request) -> Response:
        body = await _json_body(request)
        try:
            req = TalkingVideoRequest.model_validate(body)
        except ValidationError as exc:
            raise EngineError(INVALID, _first_validation_error(exc)) from None
        row = await self._intake.accept_video(req, caller_of(request))
        return envelope(self.video_json(row, brief=True))

    async def video_info(self, request: Request) -> Response:
        video_id = request.query_params.get("video_model_id", "").strip()
        if not video_id:
            raise EngineError(INVALID, "video_model_id is required: the _id that talkingavatar/create returned")
        row = self._store.get_video(video_id)
        if row is None:
            raise EngineError(NO_RECORD, f"no video {video_id[:40]!r}", field="video_model_id")
        return envelope(self.video_json(row))

    def video_json(self, row: VideoRow, *, brief: bool = False) -> dict[str, Any]:
        done = row.status == Status.COMPLETED and row.output_path
        item: dict[str, Any] = {
            "_id": row.id,
            "uid": 1,
            "video_id": row.uuid,
            "task_id": row.task_id,
            "video_status": row.status,
            "video": self._links.url(row.output_path) if done and row.output_path else "",
            "create_time": row.create_time,
        }
        if not brief:
            item["deduction_duration"] = round(row.duration or 0.0, 2)
            item["type"] = 1
            item["progress"] = round(row.progress, 3)
        if row.status == Status.FAILED:
            item["error_code"] = row.error_code or FAILED
            item["error_reason"] = row.error_reason or "render failed"
        if not brief and row.webhook_url:
            hook = self._store.latest_webhook(row.id)
            item["webhook"] = (
                {"state": "none yet", "attempts": 0, "last_error": None}
                if hook is None
                else {"state": hook.state, "attempts": hook.attempts, "last_error": hook.last_error}
            )
        return item

    # -- neighbours ---------------------------------------------------------------------------

    async def voice_list(self, request: Request) -> Response:
        page = _int_param(request, "page", 1, low=1, high=100_000) or 1
        size = _int_param(request, "size", 100, low=1, high=1000) or 100
        voices = self._catalogue.voices()
        chunk = voices[(page - 1) * size : page * size]
        result = [
            {
                "voice_id": v.voice_id,
                "name": v.name,
                "gender": v.gender,
                "language": v.language,
                "locale": v.locale,
                "preview": self._links.url(f"voices/{v.voice_id}/preview.mp3"),
                "quality": v.quality,
                "type": 2,
            }
            for v in chunk
        ]
        return envelope({"result": result, "count": len(voices), "page": page, "size": size})

    async def quota(self, request: Request) -> Response:
        # The local engine renders on the user's own machine and bills nothing.
        return envelope({"credit": 1_000_000, "local": True})

    async def openapi(self, request: Request) -> Response:
        return JSONResponse(openapi_document())

    async def health(self, request: Request) -> Response:
        ready, body = await self._health.report()
        return JSONResponse(body, status_code=200 if ready else 503)

    async def voice_preview(self, request: Request) -> Response:
        """A voice's preview, made on its first request and kept among the engine's files."""
        from akool_mcp.speech import SpeechError
        from akool_mcp.speech.samples import preview_file

        voice_id: str = request.path_params["voice_id"]
        if voice_id not in {v.voice_id for v in self._catalogue.voices()}:
            raise HTTPException(404)
        try:
            path = await anyio.to_thread.run_sync(preview_file, voice_id, self._links.root / "voices")
        except SpeechError as exc:
            return JSONResponse({"code": 1201, "msg": str(exc)}, status_code=500)
        return FileResponse(path, media_type="audio/mpeg")

    async def files(self, request: Request) -> Response:
        """A finished file from the blob store: from its folder with byte ranges, or by a presigned link."""
        rel: str = request.path_params["path"]
        try:
            target = self._blobs.local_path(rel)
            if target is not None:
                return FileResponse(target, media_type=_media_type(target))
            if await anyio.to_thread.run_sync(self._blobs.exists, rel):
                signed = self._blobs.presigned_url(rel)
                if signed is not None:
                    return RedirectResponse(signed, status_code=307)
        except (BlobKeyError, OSError):
            pass
        raise HTTPException(404)


def _media_type(path: Path) -> str:
    return {
        ".mp4": "video/mp4",
        ".png": "image/png",
        ".jpg": "image/jpeg",
        ".jpeg": "image/jpeg",
        ".vtt": "text/vtt; charset=utf-8",
        ".mp3": "audio/mpeg",
    }.get(path.suffix.lower(), "application/octet-stream")


class ErrorBoundary:
    """The last line: an exception no handler expected becomes a short JSON answer, never a traceback.

    The store being full or locked is the engine's state, not the caller's fault: 503, try later.
    Anything else is a bug: 500 with nothing of its insides, and the traceback in the engine's log.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception as exc:
            log.exception("api.unexpected_error", path=str(scope.get("path", ""))[:100])
            if started:
                return  # the answer is under way; the server closes the connection
            status, msg = _describe_failure(exc)
            await JSONResponse({"code": FAILED, "msg": msg}, status_code=status)(scope, receive, send)


def _describe_failure(exc: Exception) -> tuple[int, str]:
    text = str(exc).lower()
    # SQLite says "database or disk is full" when it knows, and "disk I/O error" when a write of its log
    # fails for want of space.
    full = (isinstance(exc, OSError) and exc.errno == errno.ENOSPC) or "disk is full" in text or "disk i/o" in text
    if full:
        return 503, (
            "not enough disk space in the engine's data folder (AKOOL_DATA_DIR), or its disk is failing; nothing "
            "was stored: free some space and try again"
        )
    # psycopg's connection failures, named without importing it (the single-user engine does not carry it).
    unreachable = type(exc).__module__.startswith(("psycopg", "psycopg_pool")) and type(exc).__name__ in (
        "OperationalError",
        "PoolTimeout",
    )
    if isinstance(exc, sqlite3.OperationalError) or unreachable:
        return 503, "the engine's store is busy or unavailable; try again in a moment"
    return 500, "internal error in the local engine; see its log"
