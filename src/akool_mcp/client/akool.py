"""The shared async client of Akool's Talking Avatar API. No MCP here.

One `httpx2.AsyncClient` serves every call; this class adds auth, retries and the mapping of HTTP
statuses and business codes to typed errors.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import anyio
import httpx2

from akool_mcp.client import parse
from akool_mcp.client.auth import Credentials
from akool_mcp.client.retry import backoff_delay, parse_retry_after, should_retry_status
from akool_mcp.errors import (
    AKOOL,
    AKOOL_CODES,
    AkoolAPIError,
    AkoolConnectionError,
    AuthenticationError,
    error_for_code,
    error_for_http_status,
    is_retryable_code,
)
from akool_mcp.log import get_logger
from akool_mcp.models import (
    Avatar,
    AvatarCreateRequest,
    AvatarPage,
    Credit,
    Envelope,
    TalkingVideoRequest,
    Video,
    VoicePage,
)

log = get_logger(__name__)

Sleep = Callable[[float], Awaitable[None]]
V3 = "/api/open/v3"

# Errors raised before a single byte could reach the server: safe to re-send even a paid create.
_NOT_SENT = (httpx2.ConnectError, httpx2.ConnectTimeout, httpx2.PoolTimeout)


class AkoolClient:
    def __init__(
        self,
        http: httpx2.AsyncClient,
        credentials: Credentials,
        *,
        max_retries: int = 2,
        sleep: Sleep = anyio.sleep,
        jitter: Callable[[], float] = random.random,
        service: str = AKOOL,
    ) -> None:
        self._http = http
        self._credentials = credentials
        self.service = service  # who answers, as messages name it: Akool, or the local engine
        self._max_retries = max_retries
        self._sleep = sleep
        self._jitter = jitter

    @property
    def base_url(self) -> str:
        return str(self._http.base_url).rstrip("/")

    # -- the five endpoints -------------------------------------------------------------------

    async def list_avatars(
        self, *, from_: int | None = None, type_: int | None = None, page: int = 1, size: int = 100
    ) -> AvatarPage:
        params: dict[str, Any] = {"page": page, "size": size}
        if from_ is not None:
            params["from"] = from_
        if type_ is not None:
            params["type"] = type_
        return parse.avatar_page(await self._get(f"{V3}/avatar/list", params))

    async def get_avatar(self, record_id: str) -> Avatar:
        return parse.avatar(await self._get(f"{V3}/avatar/detail", {"id": record_id}))

    async def create_avatar(self, request: AvatarCreateRequest) -> Avatar:
        body = request.model_dump(mode="json", exclude_none=True)
        return parse.avatar(await self._create(f"{V3}/avatar/create", body))

    async def delete_avatar(self, record_id: str) -> None:
        """The local engine's extension (Akool's v3 API has no delete); not re-sent on a lost answer."""
        await self._call("POST", f"{V3}/avatar/delete", json={"id": record_id}, idempotent=False)

    async def create_talking_video(self, request: TalkingVideoRequest) -> Video:
        body = request.model_dump(mode="json", exclude_none=True)
        return parse.video(await self._create(f"{V3}/talkingavatar/create", body))

    async def get_video(self, video_model_id: str) -> Video:
        return parse.video(await self._get(f"{V3}/content/video/infobymodelid", {"video_model_id": video_model_id}))

    # -- neighbours ---------------------------------------------------------------------------

    async def list_voices(self, *, page: int = 1, size: int = 100) -> VoicePage:
        return parse.voice_page(await self._get("/api/open/v4/voice/list", {"type": 2, "page": page, "size": size}))

    async def get_credit(self) -> Credit:
        data = await self._get(f"{V3}/faceswap/quota/info", {})
        return Credit.model_validate(data if isinstance(data, dict) else {})

    # -- plumbing -----------------------------------------------------------------------------

    async def _get(self, path: str, params: Mapping[str, Any]) -> Any:
        return await self._call("GET", path, params=params, idempotent=True)

    async def _create(self, path: str, body: Mapping[str, Any]) -> Any:
        return await self._call("POST", path, json=body, idempotent=False)

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Mapping[str, Any] | None = None,
        idempotent: bool,
    ) -> Any:
        attempt = 0
        refreshed = False
        while True:
            retry_after: float | None = None
            try:
                headers = await self._credentials.headers(self._http)
                response = await self._http.request(method, path, params=params, json=json, headers=headers)
            except httpx2.TransportError as exc:
                may_retry = idempotent or isinstance(exc, _NOT_SENT)
                if may_retry and attempt < self._max_retries:
                    await self._wait(attempt, None, path, reason=type(exc).__name__)
                    attempt += 1
                    continue
                raise AkoolConnectionError(self._connection_message(exc, idempotent)) from exc
            try:
                return self._unwrap(response, self.service)
            except AuthenticationError as exc:
                # A token refused with 1101 is refreshed once; the request was refused, so re-sending is safe.
                if exc.code == 1101 and not refreshed and self._credentials.invalidate():
                    refreshed = True
                    log.info("akool.token_refresh", path=path)
                    continue
                raise
            except AkoolAPIError as exc:
                retryable = (exc.http_status is not None and should_retry_status(exc.http_status)) or (
                    exc.code is not None and is_retryable_code(exc.code)
                )
                if not (idempotent and retryable and attempt < self._max_retries):
                    raise
                retry_after = parse_retry_after(response.headers.get("retry-after"))
                await self._wait(attempt, retry_after, path, reason=f"code={exc.code} status={exc.http_status}")
                attempt += 1

    async def _wait(self, attempt: int, retry_after: float | None, path: str, *, reason: str) -> None:
        delay = backoff_delay(attempt, retry_after=retry_after, jitter=self._jitter)
        log.info("akool.retry", path=path, attempt=attempt + 1, delay=round(delay, 3), reason=reason)
        await self._sleep(delay)

    @staticmethod
    def _connection_message(exc: httpx2.TransportError, idempotent: bool) -> str:
        if isinstance(exc, httpx2.TimeoutException):
            what = "did not answer in time"
        else:
            what = f"could not be reached ({type(exc).__name__})"
        if idempotent:
            return f"The Akool API {what}. Check the network, then try again."
        return (
            f"The Akool API {what} while creating; it was NOT re-sent, because it may already have been "
            "accepted and a second render would be charged twice. Check list_avatars or your Akool "
            "dashboard before creating it again."
        )

    @staticmethod
    def _unwrap(response: httpx2.Response, service: str = AKOOL) -> Any:
        try:
            raw: Any = response.json()
        except ValueError:
            raw = None
        envelope = Envelope.model_validate(raw) if isinstance(raw, dict) and "code" in raw else None
        # An HTTP error whose body code is not one of Akool's (e.g. a gateway's 500) is judged by the status.
        if (
            envelope is not None
            and envelope.code != 1000
            and (response.status_code < 400 or envelope.code in AKOOL_CODES)
        ):
            raise error_for_code(envelope.code, envelope.msg, http_status=response.status_code, service=service)
        if response.status_code >= 400 or envelope is None:
            excerpt = "" if envelope is not None else response.text[:200]
            if response.status_code < 400:
                raise AkoolAPIError(
                    f"Akool answered HTTP {response.status_code} without the expected JSON envelope "
                    f"({excerpt!r}). Check AKOOL_BASE_URL."
                )
            raise error_for_http_status(response.status_code, excerpt)
        return envelope.data
