from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest

from akool_mcp.media.fetch import (
    FetchedFile,
    FetchError,
    FetchPolicy,
    MediaKind,
    Resolver,
    check_url_syntax,
    fetch_media,
)
from akool_mcp.media.transport import GuardedTransport

PUBLIC_IP = "93.184.215.14"
# A PNG signature and a 1x1 IHDR (the pixel limit is read from it), then filler.
PNG = b"\x89PNG\r\n\x1a\n" + b"\0\0\0\x0dIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0" + b"\0" * 64
MP3 = b"ID3" + b"\1" * 64
MOV = b"\0\0\0\x14ftypqt  " + b"\2" * 64

Handler = Callable[[httpx2.Request], Coroutine[Any, Any, httpx2.Response]]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def resolver_for(table: dict[str, list[str]], calls: list[str] | None = None) -> Resolver:
    async def resolve(host: str, port: int) -> list[str]:
        if calls is not None:
            calls.append(f"{host}:{port}")
        if host not in table:
            raise OSError(f"no such host {host}")
        return table[host]

    return resolve


PUBLIC = resolver_for(
    {
        "cdn.example.com": [PUBLIC_IP],
        "other.example.net": ["151.101.1.1"],
        "evil.example.com": ["10.0.0.7"],
    }
)


class Recorder:
    """A MockTransport handler that records requests and serves canned responses by path."""

    def __init__(self, routes: dict[str, Callable[[httpx2.Request], httpx2.Response]]) -> None:
        self.routes = routes
        self.requests: list[httpx2.Request] = []

    async def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        route = self.routes.get(request.url.path)
        if route is None:
            return httpx2.Response(404)
        return route(request)


def client_for(
    handler: Handler,
    headers: dict[str, str] | None = None,
    *,
    resolver: Resolver | None = PUBLIC,
    allow_private: bool = False,
) -> httpx2.AsyncClient:
    """A client whose requests go through the engine's guarded transport to `handler`."""
    guarded = GuardedTransport(httpx2.MockTransport(handler), allow_private=allow_private, resolver=resolver)
    return httpx2.AsyncClient(transport=guarded, headers=headers)


def body(content: bytes, content_type: str | None, **headers: str) -> Callable[[httpx2.Request], httpx2.Response]:
    def respond(_: httpx2.Request) -> httpx2.Response:
        h = dict(headers)
        if content_type is not None:
            h["Content-Type"] = content_type
        return httpx2.Response(200, content=content, headers=h)

    return respond


def redirect(location: str, status: int = 302) -> Callable[[httpx2.Request], httpx2.Response]:
    return lambda _: httpx2.Response(status, headers={"Location": location})


async def fetch(
    url: str,
    kind: MediaKind,
    dest: Path,
    handler: Handler,
    *,
    policy: FetchPolicy | None = None,
    resolver: Resolver | None = PUBLIC,
    allow_private: bool = False,
) -> FetchedFile:
    policy = policy or FetchPolicy()
    async with client_for(handler, resolver=resolver, allow_private=allow_private) as client:
        return await fetch_media(url, kind, dest, policy=policy, client=client)


def leftovers(dest: Path) -> list[str]:
    return sorted(p.name for p in dest.iterdir()) if dest.exists() else []


# --------------------------------------------------------------------------- happy paths


@pytest.mark.anyio
async def test_image_download_is_pinned_to_the_checked_address(tmp_path: Path) -> None:
    rec = Recorder({"/pics/face.png": body(PNG, "image/png")})
    async with client_for(rec, headers={"x-api-key": "sk-do-not-leak"}) as client:
        got = await fetch_media(
            "https://cdn.example.com/pics/face.png?sig=abc",
            "image",
            tmp_path,
            policy=FetchPolicy(),
            client=client,
        )

    assert got.path.parent == tmp_path
    assert got.path.suffix == ".png"
    assert "face" not in got.path.name
    assert got.path.read_bytes() == PNG
    assert got.size == len(PNG)
    assert got.content_type == "image/png"
    assert got.source == "https://cdn.example.com/pics/face.png"
    assert leftovers(tmp_path) == [got.path.name]

    (req,) = rec.requests
    assert req.url.host == PUBLIC_IP
    assert req.url.query == b"sig=abc"
    assert req.headers["host"] == "cdn.example.com"
    assert req.extensions["sni_hostname"] == "cdn.example.com"
    assert "x-api-key" not in req.headers


@pytest.mark.anyio
async def test_audio_without_extension_takes_type_from_content_type(tmp_path: Path) -> None:
    rec = Recorder({"/tts": body(MP3, "audio/mpeg; charset=binary")})
    got = await fetch("https://cdn.example.com/tts?id=7", "audio", tmp_path, rec)
    assert got.path.suffix == ".mp3"
    assert got.content_type == "audio/mpeg"
    assert got.path.read_bytes() == MP3


@pytest.mark.anyio
async def test_video_mov(tmp_path: Path) -> None:
    rec = Recorder({"/clip.MOV": body(MOV, "video/quicktime")})
    got = await fetch("https://cdn.example.com/clip.MOV", "video", tmp_path, rec)
    assert got.path.suffix == ".mov"
    assert got.path.read_bytes() == MOV


@pytest.mark.anyio
async def test_avatar_accepts_video(tmp_path: Path) -> None:
    rec = Recorder({"/a.mp4": body(MOV, "video/mp4")})
    got = await fetch("https://cdn.example.com/a.mp4", "avatar", tmp_path, rec)
    assert got.path.suffix == ".mp4"


@pytest.mark.anyio
async def test_audio_webm_labelled_as_video_webm_is_accepted(tmp_path: Path) -> None:
    rec = Recorder({"/voice.webm": body(b"\x1a\x45\xdf\xa3" + b"\0" * 8, "video/webm")})
    got = await fetch("https://cdn.example.com/voice.webm", "audio", tmp_path, rec)
    assert got.path.suffix == ".webm"


@pytest.mark.anyio
async def test_octet_stream_with_good_extension_is_accepted(tmp_path: Path) -> None:
    rec = Recorder(
        {
            "/a.jpeg": body(PNG, "application/octet-stream"),
            "/b.wav": body(MP3, "binary/octet-stream"),
            "/c.png": body(PNG, None),
        }
    )
    got = await fetch("https://cdn.example.com/a.jpeg", "image", tmp_path, rec)
    assert (got.path.suffix, got.content_type) == (".jpeg", "image/jpeg")
    got = await fetch("https://cdn.example.com/b.wav", "audio", tmp_path, rec)
    assert (got.path.suffix, got.content_type) == (".wav", "audio/wav")
    got = await fetch("https://cdn.example.com/c.png", "image", tmp_path, rec)
    assert got.path.suffix == ".png"


@pytest.mark.anyio
async def test_octet_stream_without_extension_is_refused(tmp_path: Path) -> None:
    rec = Recorder({"/blob": body(PNG, "application/octet-stream")})
    with pytest.raises(FetchError, match="no file extension"):
        await fetch("https://cdn.example.com/blob", "image", tmp_path, rec)
    assert leftovers(tmp_path) == []


@pytest.mark.anyio
async def test_userinfo_is_sent_as_basic_auth_but_never_shown(tmp_path: Path) -> None:
    rec = Recorder({"/a.png": body(PNG, "image/png"), "/gone.png": lambda _: httpx2.Response(404)})
    got = await fetch("https://bob:hunter2@cdn.example.com/a.png", "image", tmp_path, rec)
    expected = "Basic " + base64.b64encode(b"bob:hunter2").decode()
    assert rec.requests[0].headers["authorization"] == expected
    assert b"hunter2" not in rec.requests[0].url.userinfo
    assert "hunter2" not in got.source
    assert "bob" not in got.source

    with pytest.raises(FetchError) as info:
        await fetch("https://bob:hunter2@cdn.example.com/gone.png?token=s3cr3t", "image", tmp_path, rec)
    message = str(info.value)
    assert "404" in message
    assert "hunter2" not in message
    assert "s3cr3t" not in message
    assert "https://cdn.example.com/gone.png" in message


# --------------------------------------------------------------------------- syntax


@pytest.mark.parametrize(
    "url",
    [
        "ftp://cdn.example.com/a.png",
        "javascript:alert(1)",
        "data:image/png;base64,iVBORw0KGgo=",
        "gopher://cdn.example.com/a.png",
        "//cdn.example.com/a.png",
        "cdn.example.com/a.png",
    ],
)
def test_wrong_scheme_is_refused(url: str) -> None:
    with pytest.raises(FetchError, match=r"http\(s\)"):
        check_url_syntax(url, "image", allow_local_paths=False)


@pytest.mark.anyio
async def test_wrong_scheme_never_reaches_the_network(tmp_path: Path) -> None:
    rec = Recorder({})
    with pytest.raises(FetchError, match="only http"):
        await fetch("ftp://cdn.example.com/a.png", "image", tmp_path, rec)
    assert rec.requests == []


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("https://cdn.example.com/a.gif", "image"),
        ("https://cdn.example.com/a.mp3", "image"),
        ("https://cdn.example.com/a.png", "audio"),
        ("https://cdn.example.com/a.mp3", "avatar"),
        ("https://cdn.example.com/a.webm", "video"),
        ("https://cdn.example.com/index.html", "video"),
    ],
)
def test_wrong_extension_is_refused(url: str, kind: MediaKind) -> None:
    with pytest.raises(FetchError, match="not a supported"):
        check_url_syntax(url, kind, allow_local_paths=False)


@pytest.mark.parametrize(
    "url",
    [
        "http:///a.png",
        "https://",
        "http://exa mple.com/a.png",
        "",
        "   ",
        "http://[::1/a.png",
        "http://cdn.example.com:99999/a.png",
        "http://cdn.example.com/a\x00.png",
    ],
)
def test_missing_or_bad_host_is_refused(url: str) -> None:
    with pytest.raises(FetchError):
        check_url_syntax(url, "image", allow_local_paths=False)


def test_good_urls_pass_syntax_check() -> None:
    check_url_syntax("https://cdn.example.com/a/b.webp?x=1", "image", allow_local_paths=False)
    check_url_syntax("http://cdn.example.com:8080/voice", "audio", allow_local_paths=False)
    check_url_syntax("  https://cdn.example.com/a.avi\n", "avatar", allow_local_paths=False)


@pytest.mark.anyio
async def test_content_type_mismatch_is_refused(tmp_path: Path) -> None:
    rec = Recorder(
        {
            "/a.png": body(b"<html>login</html>", "text/html"),
            "/b.mp4": body(PNG, "image/png"),
            "/noext": body(b"GIF89a", "image/gif"),
        }
    )
    with pytest.raises(FetchError, match="text/html"):
        await fetch("https://cdn.example.com/a.png", "image", tmp_path, rec)
    with pytest.raises(FetchError, match="image/png"):
        await fetch("https://cdn.example.com/b.mp4", "avatar", tmp_path, rec)
    with pytest.raises(FetchError, match="image/gif"):
        await fetch("https://cdn.example.com/noext", "image", tmp_path, rec)
    assert leftovers(tmp_path) == []


# --------------------------------------------------------------------------- private addresses


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("url", "resolver"),
    [
        ("http://169.254.169.254/a.png", None),
        ("http://evil.example.com/a.png", PUBLIC),
    ],
)
async def test_a_private_target_is_refused_as_a_fetch_error_naming_it(
    tmp_path: Path, url: str, resolver: Resolver | None
) -> None:
    """The transport refuses private targets (tests/media/test_transport.py); a fetch says so in its words."""
    rec = Recorder({"/a.png": body(PNG, "image/png")})
    with pytest.raises(FetchError, match="private"):
        await fetch(url, "image", tmp_path, rec, resolver=resolver)
    assert rec.requests == []


@pytest.mark.anyio
async def test_fetch_errors_do_not_chain_underlying_errors(tmp_path: Path) -> None:
    async def handler(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError(f"refused {request.url}", request=request)

    with pytest.raises(FetchError) as info:
        await fetch("https://cdn.example.com/a.png?token=s3cr3t", "image", tmp_path, handler)
    assert info.value.__suppress_context__
    assert "s3cr3t" not in str(info.value)


# --------------------------------------------------------------------------- redirects


@pytest.mark.anyio
async def test_redirects_are_followed_and_rechecked(tmp_path: Path) -> None:
    calls: list[str] = []
    resolver = resolver_for({"cdn.example.com": [PUBLIC_IP], "other.example.net": ["151.101.1.1"]}, calls)

    async def handler(request: httpx2.Request) -> httpx2.Response:
        if request.headers["host"] == "cdn.example.com":
            return httpx2.Response(301, headers={"Location": "https://other.example.net/store/x?sig=1"})
        return httpx2.Response(200, content=PNG, headers={"Content-Type": "image/png"})

    got = await fetch("https://cdn.example.com/a.png", "image", tmp_path, handler, resolver=resolver)
    # The original URL's extension names the file even when the CDN's final URL has none.
    assert got.path.suffix == ".png"
    assert calls == ["cdn.example.com:443", "other.example.net:443"]


@pytest.mark.anyio
async def test_relative_redirect(tmp_path: Path) -> None:
    rec = Recorder({"/old.png": redirect("/new.png", 308), "/new.png": body(PNG, "image/png")})
    got = await fetch("https://cdn.example.com/old.png", "image", tmp_path, rec)
    assert got.size == len(PNG)
    assert [r.url.path for r in rec.requests] == ["/old.png", "/new.png"]


@pytest.mark.anyio
@pytest.mark.parametrize(
    "location",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:7f00:1]/a.png",
        "https://evil.example.com/a.png",
    ],
)
async def test_redirect_to_private_address_is_refused(tmp_path: Path, location: str) -> None:
    rec = Recorder({"/a.png": redirect(location)})
    with pytest.raises(FetchError, match="private"):
        await fetch("https://cdn.example.com/a.png", "image", tmp_path, rec)
    assert len(rec.requests) == 1


@pytest.mark.anyio
async def test_redirect_to_other_scheme_is_refused(tmp_path: Path) -> None:
    rec = Recorder({"/a.png": redirect("file:///etc/passwd")})
    with pytest.raises(FetchError, match="only http"):
        await fetch("https://cdn.example.com/a.png", "image", tmp_path, rec)


@pytest.mark.anyio
async def test_redirect_loop_is_refused(tmp_path: Path) -> None:
    rec = Recorder({"/a.png": redirect("/b.png"), "/b.png": redirect("/a.png")})
    with pytest.raises(FetchError, match="loop"):
        await fetch("https://cdn.example.com/a.png", "image", tmp_path, rec)
    assert len(rec.requests) == 2


@pytest.mark.anyio
async def test_too_many_redirects_are_refused(tmp_path: Path) -> None:
    routes = {f"/r{i}": redirect(f"/r{i + 1}") for i in range(10)}
    rec = Recorder(routes)
    with pytest.raises(FetchError, match="more than 2 times"):
        await fetch("https://cdn.example.com/r0", "image", tmp_path, rec, policy=FetchPolicy(max_redirects=2))
    assert len(rec.requests) == 3


@pytest.mark.anyio
async def test_redirect_without_location(tmp_path: Path) -> None:
    rec = Recorder({"/a.png": lambda _: httpx2.Response(302)})
    with pytest.raises(FetchError, match="Location"):
        await fetch("https://cdn.example.com/a.png", "image", tmp_path, rec)


# --------------------------------------------------------------------------- size, status, errors


@pytest.mark.anyio
async def test_declared_size_over_limit_is_refused_before_download(tmp_path: Path) -> None:
    rec = Recorder({"/big.png": body(PNG * 4, "image/png")})
    with pytest.raises(FetchError, match="larger than"):
        await fetch("https://cdn.example.com/big.png", "image", tmp_path, rec, policy=FetchPolicy(max_bytes=100))
    assert leftovers(tmp_path) == []


@pytest.mark.anyio
async def test_streamed_body_over_limit_is_aborted_and_partial_file_removed(tmp_path: Path) -> None:
    sent: list[int] = []

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            sent.append(600)
            yield b"\0" * 600

    async def handler(_: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, content=chunks(), headers={"Content-Type": "audio/mpeg"})

    with pytest.raises(FetchError, match="larger than"):
        await fetch("https://cdn.example.com/long.mp3", "audio", tmp_path, handler, policy=FetchPolicy(max_bytes=1000))
    assert len(sent) == 2  # stopped reading as soon as the limit was crossed
    assert leftovers(tmp_path) == []


@pytest.mark.anyio
@pytest.mark.parametrize(("status", "text"), [(404, "HTTP 404"), (403, "HTTP 403"), (503, "HTTP 503")])
async def test_http_errors_name_the_status(tmp_path: Path, status: int, text: str) -> None:
    rec = Recorder({"/a.png": lambda _: httpx2.Response(status)})
    with pytest.raises(FetchError, match=text):
        await fetch("https://cdn.example.com/a.png", "image", tmp_path, rec)
    assert leftovers(tmp_path) == []


@pytest.mark.anyio
async def test_empty_body_is_refused(tmp_path: Path) -> None:
    rec = Recorder({"/a.png": body(b"", "image/png")})
    with pytest.raises(FetchError, match="empty"):
        await fetch("https://cdn.example.com/a.png", "image", tmp_path, rec)
    assert leftovers(tmp_path) == []


@pytest.mark.anyio
async def test_connection_error_becomes_fetch_error(tmp_path: Path) -> None:
    async def handler(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("refused", request=request)

    with pytest.raises(FetchError, match="could not connect"):
        await fetch("https://cdn.example.com/a.png", "image", tmp_path, handler)


@pytest.mark.anyio
async def test_broken_download_becomes_fetch_error(tmp_path: Path) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"\0" * 10
        raise httpx2.ReadError("reset")

    async def handler(_: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, content=chunks(), headers={"Content-Type": "image/png"})

    with pytest.raises(FetchError, match="broke off"):
        await fetch("https://cdn.example.com/a.png", "image", tmp_path, handler)
    assert leftovers(tmp_path) == []


@pytest.mark.anyio
async def test_timeout_bounds_the_whole_fetch(tmp_path: Path) -> None:
    never = anyio.Event()

    async def handler(_: httpx2.Request) -> httpx2.Response:
        await never.wait()
        raise AssertionError("unreachable")

    with pytest.raises(FetchError, match="timed out"):
        await fetch("https://cdn.example.com/a.png", "image", tmp_path, handler, policy=FetchPolicy(timeout=0.05))


@pytest.mark.anyio
async def test_timeout_mid_stream_removes_partial_file(tmp_path: Path) -> None:
    never = anyio.Event()

    async def chunks() -> AsyncIterator[bytes]:
        yield b"\0" * (2 * 1024 * 1024)  # large enough to be flushed to the temp file
        await never.wait()
        yield b""

    async def handler(_: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, content=chunks(), headers={"Content-Type": "image/png"})

    with pytest.raises(FetchError, match="timed out"):
        await fetch("https://cdn.example.com/a.png", "image", tmp_path, handler, policy=FetchPolicy(timeout=0.05))
    assert leftovers(tmp_path) == []


# --------------------------------------------------------------------------- local paths


@pytest.mark.anyio
async def test_local_path_allowed_returns_original_file(tmp_path: Path) -> None:
    src = tmp_path / "me.png"
    src.write_bytes(PNG)
    dest = tmp_path / "out"
    rec = Recorder({})
    policy = FetchPolicy(allow_local_paths=True)

    got = await fetch(str(src), "image", dest, rec, policy=policy)
    assert got == FetchedFile(path=src, content_type="image/png", size=len(PNG), source=str(src))
    got = await fetch(src.as_uri(), "avatar", dest, rec, policy=policy)
    assert got.path == src
    assert rec.requests == []
    assert leftovers(dest) == []


@pytest.mark.anyio
async def test_local_path_refused_by_default(tmp_path: Path) -> None:
    src = tmp_path / "me.png"
    src.write_bytes(PNG)
    for url in (str(src), src.as_uri()):
        with pytest.raises(FetchError, match=r"http\(s\) URL"):
            await fetch(url, "image", tmp_path, Recorder({}))
        with pytest.raises(FetchError, match="local file paths are not accepted"):
            check_url_syntax(url, "image", allow_local_paths=False)
    check_url_syntax(str(src), "image", allow_local_paths=True)


@pytest.mark.anyio
async def test_local_path_rules(tmp_path: Path) -> None:
    policy = FetchPolicy(allow_local_paths=True, max_bytes=100)
    (tmp_path / "dir.png").mkdir()
    (tmp_path / "song.mp3").write_bytes(MP3)
    (tmp_path / "big.png").write_bytes(b"\0" * 101)
    (tmp_path / "empty.png").write_bytes(b"")
    rec = Recorder({})

    cases = {
        str(tmp_path / "missing.png"): "does not exist",
        str(tmp_path / "dir.png"): "not a regular file",
        str(tmp_path / "song.mp3"): "not a supported image",
        str(tmp_path / "big.png"): "larger than",
        str(tmp_path / "empty.png"): "empty",
        "file://otherhost/x.png": "remote host",
    }
    for url, message in cases.items():
        with pytest.raises(FetchError, match=message):
            await fetch(url, "image", tmp_path, rec, policy=policy)


@pytest.mark.anyio
async def test_an_unresolvable_host_is_a_fetch_error_saying_so(tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="could not resolve"):
        await fetch("https://nowhere.invalid/a.png", "image", tmp_path, Recorder({}))
