"""A fake of Akool's contract on httpx2.MockTransport: state, both auth schemes, scripted faults."""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import httpx2

from tests.fakes.media import MP3_HEAD, TINY_PNG, tiny_mp4

API_KEY = "test-api-key-0123456789"
CLIENT_ID = "client-id-1"
CLIENT_SECRET = "client-secret-abcdefghijklmnop"

OFFICIAL: dict[str, Any] = {
    "_id": "655ffeada6976ea317087193",
    "disabled": False,
    "uid": 1,
    "type": 1,
    "from": 2,
    "status": 3,
    "sort": 12,
    "create_time": 1700788730000,
    "name": "Yasmin in White shirt",
    "avatar_id": "Yasmin_in_White_shirt_20231121",
    "url": "https://cdn.example/8169.png",
    "modify_url": "https://cdn.example/8169.png",
    "gender": "female",
    "thumbnailUrl": "https://cdn.example/thumbnail/8169.png",
    "crop_arr": [],
}
MINE: dict[str, Any] = {
    **OFFICIAL, "_id": "6560000000000000000000aa", "from": 3, "name": "Me", "avatar_id": "Me1", "status": 3
}  # fmt: skip


CDN = "cdn.example"
API_HOST = "openapi.akool.com"
PUBLIC_ADDRESS = "93.184.215.14"  # what every name resolves to in the fake's world, but those below
PRIVATE_NAMES = {"localhost": "127.0.0.1", "printer.internal": "192.168.1.20"}
# Any other host is a media host serving files by their extension (what create-time checks probe).
MEDIA_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".mp4": "video/mp4", ".mp3": "audio/mpeg"}

CDN_ADDRESS = PUBLIC_ADDRESS  # the fake CDN name resolves to a public address


async def resolve_cdn(host: str, port: int) -> list[str]:
    """DNS for the fake: its CDN is a public host; nothing else resolves."""
    if host == CDN:
        return [CDN_ADDRESS]
    raise OSError(f"no such host {host}")


@dataclass
class FakeAkool:
    """Answers like the contract; `list_shape` and `detail_shape` pick between the sources' readings."""

    list_shape: str = "paged"  # or "array"
    detail_shape: str = "object"  # or "array"
    avatars: list[dict[str, Any]] = field(default_factory=lambda: [dict(OFFICIAL), dict(MINE)])
    videos: dict[str, dict[str, Any]] = field(default_factory=dict[str, dict[str, Any]])
    # Scripted answers per path, served first: (status, body, headers) or an exception to raise.
    script: dict[str, deque[Any]] = field(default_factory=dict[str, deque[Any]])
    requests: list[httpx2.Request] = field(default_factory=list[httpx2.Request])
    tokens_issued: int = 0
    valid_tokens: set[str] = field(default_factory=set[str])
    video_polls_until_done: int = 2
    # The CDN behind finished videos' links: expired links answer 403; `cdn_drops` cuts that many downloads.
    cdn_expired: bool = False
    cdn_drops: int = 0
    cdn_video: bytes | None = None  # the finished videos' MP4 (a tiny silent one when not set)
    credit: float = 1234.5
    cdn_files: dict[str, bytes] = field(default_factory=dict[str, bytes])  # other CDN paths, e.g. pictures

    def transport(self) -> httpx2.MockTransport:
        return httpx2.MockTransport(self.handle)

    def queue(self, path: str, *answers: Any) -> None:
        self.script.setdefault(path, deque()).extend(answers)

    def calls(self, path: str) -> list[httpx2.Request]:
        return [r for r in self.requests if r.url.path == path]

    async def resolve(self, host: str, port: int) -> list[str]:
        """DNS in the fake's world: one public address for every name but a few private ones."""
        return [PRIVATE_NAMES.get(host, PUBLIC_ADDRESS)]

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        path = request.url.path
        if request.headers.get("host", request.url.host) == CDN:  # pinned fetches keep the name in Host
            return self._cdn(request)
        if request.url.host != API_HOST:
            return self._media(request)
        scripted = self.script.get(path)
        if scripted:
            answer = scripted.popleft()
            if isinstance(answer, Exception):
                raise answer
            status, body, headers = answer
            return httpx2.Response(status, json=body, headers=headers)
        if path == "/api/open/v3/getToken":
            body = json.loads(request.content)
            if body.get("clientId") != CLIENT_ID or body.get("clientSecret") != CLIENT_SECRET:
                return self._ok(code=1101, msg="invalid clientId or clientSecret")
            self.tokens_issued += 1
            token = f"tok-{self.tokens_issued}"
            self.valid_tokens.add(token)
            return httpx2.Response(200, json={"code": 1000, "token": token})
        auth_error = self._auth(request)
        if auth_error is not None:
            return auth_error
        routes = {
            "/api/open/v3/avatar/list": self._avatar_list,
            "/api/open/v3/avatar/detail": self._avatar_detail,
            "/api/open/v3/avatar/create": self._avatar_create,
            "/api/open/v3/talkingavatar/create": self._video_create,
            "/api/open/v3/content/video/infobymodelid": self._video_info,
            "/api/open/v4/voice/list": self._voices,
            "/api/open/v3/faceswap/quota/info": self._quota,
        }
        route = routes.get(path)
        if route is None:
            return httpx2.Response(404, text="not found")
        return route(request)

    def _quota(self, request: httpx2.Request) -> httpx2.Response:
        return self._ok({"credit": self.credit})

    def _cdn(self, request: httpx2.Request) -> httpx2.Response:
        assert "authorization" not in request.headers and "x-api-key" not in request.headers, "leaked credentials"
        if request.url.path in self.cdn_files:
            return httpx2.Response(200, content=self.cdn_files[request.url.path], headers={"content-type": "image/png"})
        if self.cdn_expired:
            return httpx2.Response(403, text="AccessDenied: Request has expired")
        if self.cdn_drops:
            self.cdn_drops -= 1
            raise httpx2.ReadError("connection reset by peer")
        body = self.cdn_video or tiny_mp4()
        return httpx2.Response(200, content=body, headers={"content-type": "video/mp4"})

    def _media(self, request: httpx2.Request) -> httpx2.Response:
        assert "authorization" not in request.headers and "x-api-key" not in request.headers, "leaked credentials"
        if request.url.path.endswith("/picture"):  # no extension, but the server says what it is
            return httpx2.Response(200, content=TINY_PNG, headers={"content-type": "image/png"})
        if "page" in request.url.path:  # a web page, whatever the link says
            return httpx2.Response(200, text="<!DOCTYPE html><title>x</title>", headers={"content-type": "text/html"})
        suffix = "." + request.url.path.rsplit(".", 1)[-1] if "." in request.url.path else ""
        if suffix not in MEDIA_TYPES or "missing" in request.url.path:
            return httpx2.Response(404, text="Not Found")
        body = {".png": TINY_PNG, ".jpg": b"\xff\xd8\xff\xe0" + bytes(60), ".mp3": MP3_HEAD}.get(suffix) or tiny_mp4()
        return httpx2.Response(200, content=body, headers={"content-type": MEDIA_TYPES[suffix]})

    def _ok(self, data: Any = None, *, code: int = 1000, msg: str = "OK") -> httpx2.Response:
        body: dict[str, Any] = {"code": code, "msg": msg}
        if data is not None:
            body["data"] = data
        return httpx2.Response(200, json=body)

    def _auth(self, request: httpx2.Request) -> httpx2.Response | None:
        authorization = request.headers.get("authorization")
        if authorization:
            token = authorization.removeprefix("Bearer ")
            return None if token in self.valid_tokens else self._ok(code=1101, msg="token expired")
        if request.headers.get("x-api-key") == API_KEY:
            return None
        if request.headers.get("x-api-key"):
            return self._ok(code=1101, msg="invalid api key")
        return self._ok(code=1102, msg="authorization cannot be empty")

    def _avatar_list(self, request: httpx2.Request) -> httpx2.Response:
        params = request.url.params
        items = [
            a
            for a in self.avatars
            if ("from" not in params or a["from"] == int(params["from"]))
            and ("type" not in params or a["type"] == int(params["type"]))
        ]
        page, size = int(params.get("page", 1)), int(params.get("size", 100))
        chunk = items[(page - 1) * size : page * size]
        return self._ok(chunk if self.list_shape == "array" else {"count": len(items), "result": chunk})

    def _avatar_detail(self, request: httpx2.Request) -> httpx2.Response:
        found = next((a for a in self.avatars if a["_id"] == request.url.params.get("id")), None)
        if found is None:
            return self._ok(code=1014, msg="resource does not exist")
        return self._ok([found] if self.detail_shape == "array" else found)

    def _avatar_create(self, request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        if any(a["avatar_id"] == body["avatar_id"] for a in self.avatars):
            return self._ok(code=1222, msg="resource already exists")
        item = {**OFFICIAL, "_id": f"{len(self.avatars):024x}", "from": 3, "status": 1, **body}
        self.avatars.append(item)
        return self._ok([item] if self.detail_shape == "array" else item)

    def _video_create(self, request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        record_id = f"{0x67491CDB4D9D1664A9780000 + len(self.videos):024x}"
        video = {
            "_id": record_id,
            "uid": 100002,
            "video_id": "f1a489f4-0cca-4723-843b-e42003dc9f32",
            "task_id": "67491cdb1acd9d0ce2cc8998",
            "video_status": 1,
            "video": "",
            "create_time": 1732844763774,
            "request": body,
            "polls": 0,
        }
        self.videos[record_id] = video
        return self._ok({k: v for k, v in video.items() if k not in ("request", "polls")})

    def _video_info(self, request: httpx2.Request) -> httpx2.Response:
        video = self.videos.get(request.url.params.get("video_model_id", ""))
        if video is None:
            return self._ok(code=1014, msg="resource does not exist")
        video["polls"] += 1
        if video["polls"] >= self.video_polls_until_done:
            video["video_status"] = 3
            video["video"] = "https://cdn.example/video.mp4"
        else:
            video["video_status"] = 2
        return self._ok({k: v for k, v in video.items() if k not in ("request", "polls")})

    def _voices(self, request: httpx2.Request) -> httpx2.Response:
        voices = [
            {"voice_id": "en-US-1", "name": "Ava", "gender": "female", "language": "English", "locale": "en-US"},
            {"voice_id": "es-ES-1", "name": "Lucia", "gender": "female", "language": "Spanish", "locale": "es-ES"},
        ]
        return self._ok({"result": voices, "count": 2, "page": 1, "size": 100})
