"""Download user-supplied media URLs for the local engine without trusting them.

The URLs come from whoever calls the MCP tools, so every fetch is treated as hostile input: only
http(s) (or local paths when the policy says so), redirects followed by hand so each hop is
re-checked, a hard byte limit and a total time limit, a file-type check on both the URL extension
and the response Content-Type, and, for images, the pixel count read from the file's header before
anything decodes it. Where a request may go (no private or loopback targets, pinned to the checked
address) is the client's transport's job: see `akool_mcp.media.transport.GuardedTransport`.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import anyio
import anyio.to_thread
import httpx2

from akool_mcp import user_agent
from akool_mcp.media.imagesize import ImageSizeError, check_image_pixels
from akool_mcp.media.kinds import CONTENT_TYPES as _CONTENT_TYPES
from akool_mcp.media.kinds import GENERIC_TYPES as _GENERIC_TYPES
from akool_mcp.media.kinds import KIND_CATEGORIES as _KIND_CATEGORIES
from akool_mcp.media.kinds import Category as _Category
from akool_mcp.media.kinds import MediaKind
from akool_mcp.media.kinds import allowed_exts as _allowed_exts
from akool_mcp.media.kinds import ext_category as _ext_category
from akool_mcp.media.kinds import ext_hint as _ext_hint
from akool_mcp.media.kinds import path_extension as _path_extension
from akool_mcp.media.sniff import HEAD_BYTES, describe, sniff
from akool_mcp.media.transport import Resolver, TargetRefused, UrlError, is_blocked_address, parse_http_url

__all__ = [
    "FetchError",
    "FetchPolicy",
    "FetchedFile",
    "MediaKind",
    "Resolver",
    "check_url_syntax",
    "fetch_media",
    "is_blocked_address",
    "probe_media",
]

PROBE_SECONDS = 15.0  # a check at the call: long enough for a slow host to answer its first bytes


class FetchError(Exception):
    """A media URL could not be used; the message says why and how to fix it.

    Messages only ever contain the URL without userinfo, query string or
    fragment, because signed URLs carry their credentials there.
    """


@dataclass(frozen=True)
class FetchPolicy:
    """What a fetch may do. Private addresses are the transport's business (see `GuardedTransport`)."""

    allow_local_paths: bool = False
    max_bytes: int = 300 * 1024 * 1024
    timeout: float = 60.0
    max_redirects: int = 5
    max_pixels: int = 50_000_000  # the renderer's limit, enforced from the header before decoding


@dataclass(frozen=True)
class FetchedFile:
    """A media file ready for the engine.

    ``path`` is a fresh file in ``dest_dir`` for downloads, but for local paths
    it is the caller's ORIGINAL file (nothing is copied), so consumers must
    never modify or delete it. ``content_type`` is the server's media type
    when it was specific, otherwise the type implied by the extension.
    ``source`` is the URL without userinfo/query/fragment, or the local path.
    """

    path: Path
    content_type: str
    size: int
    source: str


_REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
_WRITE_CHUNK = 1024 * 1024
_USER_AGENT = user_agent("local engine; media fetch")

# --------------------------------------------------------------------------- helpers


def _fail(message: str) -> NoReturn:
    # Underlying httpx/OS errors can quote the full URL, query string included; the
    # message here is complete on its own, so do not chain them into tracebacks.
    raise FetchError(message) from None


def _redact(url: httpx2.URL | str) -> str:
    """The URL as safe to show: no userinfo, no query string, no fragment."""
    try:
        u = url if isinstance(url, httpx2.URL) else httpx2.URL(url)
        text = f"{u.scheme}://{u.netloc.decode('ascii')}{u.path}" if u.scheme else u.path
    except (httpx2.InvalidURL, UnicodeDecodeError, TypeError):
        text = str(url).split("?", 1)[0].split("#", 1)[0]
        # Without a parseable URL we cannot locate userinfo, so drop the authority part entirely.
        if "@" in text:
            text = "<unparseable URL>"
    return text if len(text) <= 200 else text[:197] + "..."


def _check_extension(ext: str | None, kind: MediaKind, shown: str) -> None:
    if ext is not None and ext not in _allowed_exts(kind):
        _fail(f"{shown} ends in '{ext}', which is not a supported {kind} file; use a URL to a {_ext_hint(kind)} file.")


def _is_local_path(url: str) -> bool:
    if url.startswith("/") and not url.startswith("//"):
        return True
    if url[:7].lower() == "file://":
        return True
    return os.name == "nt" and re.match(r"^[A-Za-z]:[\\/]", url) is not None


def _local_path_from(url: str) -> Path:
    if url[:7].lower() != "file://":
        return Path(url)
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        _fail(f"{_redact(url)} is not a valid file URL.")
    if parts.netloc not in ("", "localhost"):
        _fail(f"file URL {_redact(url)} names a remote host; only local files can be used.")
    return Path(urllib.request.url2pathname(parts.path))


def _parse_http_url(url: str) -> httpx2.URL:
    try:
        return parse_http_url(url)
    except UrlError as exc:
        _fail(f"{_redact(url)} {exc}")


# --------------------------------------------------------------------------- public API


def check_url_syntax(url: str, kind: MediaKind, *, allow_local_paths: bool) -> None:
    """Validate a media URL without touching the network (for API-time validation)."""
    _check_syntax(url, kind, allow_local_paths=allow_local_paths)


def _check_syntax(url: str, kind: MediaKind, *, allow_local_paths: bool) -> httpx2.URL | Path:
    if kind not in _KIND_CATEGORIES:
        _fail(f"unknown media kind {kind!r}")
    url = url.strip()
    if not url:
        _fail(f"the {kind} URL is empty; pass an http(s) URL to a {_ext_hint(kind)} file.")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        _fail("the URL contains control characters; pass a plain http(s) URL.")
    if _is_local_path(url):
        if not allow_local_paths:
            _fail("local file paths are not accepted by this server; upload the file and pass its http(s) URL instead.")
        path = _local_path_from(url)
        if not path.is_absolute():
            _fail(f"local path {path} must be absolute.")
        _check_extension(_path_extension(path.as_posix()), kind, f"local file {path}")
        return path
    parsed = _parse_http_url(url)
    _check_extension(_path_extension(parsed.path), kind, _redact(parsed))
    return parsed


async def fetch_media(
    url: str,
    kind: MediaKind,
    dest_dir: Path,
    *,
    policy: FetchPolicy,
    client: httpx2.AsyncClient,
) -> FetchedFile:
    """Fetch ``url`` as ``kind`` media into ``dest_dir`` and return where it landed.

    Local paths (only with ``policy.allow_local_paths``) are validated and
    returned as-is, without copying; see ``FetchedFile``.
    """
    target = _check_syntax(url, kind, allow_local_paths=policy.allow_local_paths)
    if isinstance(target, Path):
        return await anyio.to_thread.run_sync(_use_local_file, target, kind, policy)
    shown = _redact(target)
    try:
        with anyio.fail_after(policy.timeout):
            return await _fetch_remote(target, kind, dest_dir, policy, client)
    except TimeoutError:
        raise FetchError(
            f"timed out after {policy.timeout:g}s fetching {shown}; check that the server is "
            "reachable and the file is not too large, or use a faster host."
        ) from None


async def probe_media(url: str, kind: MediaKind, *, policy: FetchPolicy, client: httpx2.AsyncClient) -> str:
    """Check now what fetching `url` later would find wrong, reading only its first bytes: a local file
    exists and is a picture, video or sound by its header; a link is public, answers, and serves such a file
    as the engine would accept it. Returns the media category; FetchError says what is wrong."""
    target = _check_syntax(url, kind, allow_local_paths=policy.allow_local_paths)
    if isinstance(target, Path):
        return await anyio.to_thread.run_sync(_probe_local, target, kind, policy)
    shown = _redact(target)
    try:
        with anyio.fail_after(min(policy.timeout, PROBE_SECONDS)):
            return await _probe_remote(target, kind, client)
    except TimeoutError:
        raise FetchError(f"{shown} did not answer within {PROBE_SECONDS:g} s; check that the server is up.") from None


def _probe_local(path: Path, kind: MediaKind, policy: FetchPolicy) -> str:
    """What the file is, by its first bytes (a text file named .png is still text), then what the engine
    checks when it uses it (extension, size, picture size)."""
    if not path.exists():
        _fail(f"there is no file at {path}; check the path (the full path on this computer).")
    if not path.is_file():
        _fail(f"{path} is a folder or a device, not a file.")
    try:
        with path.open("rb") as handle:
            head = handle.read(HEAD_BYTES)
    except OSError as exc:
        _fail(f"local file {path} cannot be read ({exc.strerror or type(exc).__name__}).")
    found = sniff(head)
    if found is None or found not in _KIND_CATEGORIES[kind]:
        what = describe(head) if found is None else f"a {_WORDS[found]}"
        wanted = " or ".join(_WORDS[c] for c in _KIND_CATEGORIES[kind])
        _fail(f"local file {path} is {what}, not a {wanted}; give a {_ext_hint(kind)} file.")
    _use_local_file(path, kind, policy)
    return found


async def _probe_remote(url: httpx2.URL, kind: MediaKind, client: httpx2.AsyncClient) -> str:
    current = url
    for _ in range(FetchPolicy().max_redirects + 1):
        response = await _open(current, kind, client, first_bytes=True)
        try:
            location = response.headers.get("location")
            if response.status_code in _REDIRECT_CODES and location:
                try:
                    current = _parse_http_url(str(current.join(location)))
                except httpx2.InvalidURL:
                    _fail(f"{_redact(current)} redirected to an invalid URL.")
                continue
            shown = _redact(url)
            _check_status(response, shown)
            ext, _ = _output_ext(kind, _media_type(response), _path_extension(url.path), None, shown)
            head = b""
            try:
                async for chunk in response.aiter_bytes():
                    head += chunk
                    if len(head) >= HEAD_BYTES:
                        break
            except httpx2.HTTPError as exc:
                _fail(f"the answer from {shown} broke off ({type(exc).__name__}); try again.")
            return _judge(head, _ext_category(ext), kind, shown)
        finally:
            await response.aclose()
    _fail(f"{_redact(url)} redirected too many times; pass the final URL of the file directly.")


def _judge(head: bytes, claimed: _Category, kind: MediaKind, shown: str) -> str:
    found = sniff(head)
    if found is None or found != claimed:
        what = describe(head) if found is None else f"a {_WORDS[found]}"
        _fail(f"{shown} serves {what}, not a {_WORDS[claimed]}; give a link to a {_ext_hint(kind)} file itself.")
    return found


_WORDS: dict[_Category, str] = {"image": "picture", "video": "video", "audio": "sound file"}


# --------------------------------------------------------------------------- local files


def _use_local_file(path: Path, kind: MediaKind, policy: FetchPolicy) -> FetchedFile:
    try:
        st = path.stat()
    except FileNotFoundError:
        _fail(f"local file {path} does not exist.")
    except OSError as exc:
        _fail(f"local file {path} cannot be read ({exc.strerror or type(exc).__name__}).")
    if not path.is_file():
        _fail(f"{path} is not a regular file.")
    if not os.access(path, os.R_OK):
        _fail(f"local file {path} is not readable.")
    ext = _path_extension(path.as_posix())
    if ext is None:
        _fail(f"local file {path} has no extension; rename it to end in one of {_ext_hint(kind)}.")
    _check_size(st.st_size, policy, str(path))
    if st.st_size == 0:
        _fail(f"local file {path} is empty.")
    if _ext_category(ext) == "image":
        _check_pixels(path, policy, f"local file {path}")
    return FetchedFile(path=path, content_type=_allowed_exts(kind)[ext], size=st.st_size, source=str(path))


def _check_size(size: int, policy: FetchPolicy, shown: str) -> None:
    if size > policy.max_bytes:
        _fail(
            f"{shown} is {_mb(size)}, larger than the {_mb(policy.max_bytes)} limit; "
            "use a smaller or more compressed file."
        )


def _check_pixels(path: Path, policy: FetchPolicy, shown: str) -> None:
    try:
        check_image_pixels(path, policy.max_pixels)
    except ImageSizeError as exc:
        _fail(f"{shown} {exc}.")
    except OSError as exc:
        _fail(f"{shown} cannot be read ({exc.strerror or type(exc).__name__}).")


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB" if n >= 1024 * 1024 else f"{n} bytes"


# --------------------------------------------------------------------------- remote files


async def _fetch_remote(
    url: httpx2.URL,
    kind: MediaKind,
    dest_dir: Path,
    policy: FetchPolicy,
    client: httpx2.AsyncClient,
) -> FetchedFile:
    original_ext = _path_extension(url.path)
    current = url
    visited = {str(current)}
    for hop in range(policy.max_redirects + 1):
        response = await _open(current, kind, client)
        try:
            if response.status_code in _REDIRECT_CODES:
                location = response.headers.get("location")
                if not location:
                    _fail(f"{_redact(current)} answered a redirect without a Location header.")
                if hop == policy.max_redirects:
                    _fail(
                        f"{_redact(url)} redirected more than {policy.max_redirects} times; "
                        "pass the final URL of the file directly."
                    )
                try:
                    nxt = current.join(location)
                except httpx2.InvalidURL:
                    _fail(f"{_redact(current)} redirected to an invalid URL.")
                if str(nxt) in visited:
                    _fail(f"{_redact(url)} redirects in a loop; pass the final URL of the file directly.")
                visited.add(str(nxt))
                current = _parse_http_url(str(nxt))
                continue
            return await _save(response, current, url, original_ext, kind, dest_dir, policy)
        finally:
            await response.aclose()
    raise AssertionError("unreachable")  # pragma: no cover


async def _open(
    url: httpx2.URL, kind: MediaKind, client: httpx2.AsyncClient, *, first_bytes: bool = False
) -> httpx2.Response:
    """Send the GET through the client's guarded transport (see `net`): it resolves, checks and pins."""
    shown = _redact(url)
    headers = {
        "User-Agent": _USER_AGENT,
        "Accept": ", ".join(f"{c}/*" for c in _KIND_CATEGORIES[kind]) + ", */*;q=0.1",
        "Accept-Encoding": "identity",
    }
    if first_bytes:
        headers["Range"] = f"bytes=0-{HEAD_BYTES - 1}"
    auth = httpx2.BasicAuth(url.username, url.password) if url.userinfo else None
    # Built directly rather than via client.build_request so the client's default headers and
    # cookies (possibly API credentials) are never sent to an arbitrary host.
    request = httpx2.Request("GET", url.copy_with(username=None, password=None), headers=headers)
    try:
        return await client.send(request, stream=True, follow_redirects=False, auth=auth)
    except TargetRefused as exc:
        if exc.kind == "private":
            _refuse_private(shown)
        _fail(f"could not resolve the host in {shown}; check the URL for typos.")
    except httpx2.ConnectError:
        _fail(
            f"could not connect to the server for {shown} (refused, unreachable, or its TLS certificate "
            "is not valid for the host); check the URL and that the server is up."
        )
    except httpx2.TimeoutException:
        _fail(f"timed out fetching {shown}; check that the server is reachable.")
    except httpx2.HTTPError as exc:
        _fail(f"could not fetch {shown}: {type(exc).__name__}; check the URL and that the server is up.")


def _refuse_private(shown: str) -> NoReturn:
    _fail(
        f"{shown} points to a private, loopback or link-local address, which this server does not "
        "fetch from; use a publicly reachable URL."
    )


def _media_type(response: httpx2.Response) -> str:
    return response.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def _output_ext(
    kind: MediaKind, ctype: str, original_ext: str | None, final_ext: str | None, shown: str
) -> tuple[str, str]:
    """Pick (extension, content type) for the download, or refuse a type mismatch."""
    allowed = _allowed_exts(kind)
    ext = original_ext if original_ext is not None else final_ext if final_ext in allowed else None
    if ext is not None:
        category = _ext_category(ext)
        if ctype in _GENERIC_TYPES:
            return ext, allowed[ext]
        if ctype.startswith(category + "/") or ctype in _CONTENT_TYPES[category]:
            return ext, ctype
        _fail(
            f"{shown} ends in '{ext}' but the server sent '{ctype}', not {category} data; "
            "check that the URL points to the file itself and not to a web page."
        )
    if ctype in _GENERIC_TYPES:
        _fail(
            f"{shown} has no file extension and the server did not say what type it is; "
            f"use a URL ending in one of {_ext_hint(kind)}."
        )
    for category in _KIND_CATEGORIES[kind]:
        found = _CONTENT_TYPES[category].get(ctype)
        if found is not None:
            return found, ctype
    _fail(f"{shown} returned '{ctype}', which is not a supported {kind} type; use a {_ext_hint(kind)} file.")


def _check_status(response: httpx2.Response, shown: str) -> None:
    status = response.status_code
    if status >= 400:
        hint = {
            401: "the file is not public; use a public or freshly signed URL",
            403: "the file is not public or the signed URL expired; use a public or freshly signed URL",
            404: "check the URL",
            410: "the file was removed; check the URL",
        }.get(status, "check the URL" if status < 500 else "the server failed; try again later")
        reason = f" {response.reason_phrase}" if response.reason_phrase else ""
        _fail(f"{shown} answered HTTP {status}{reason}; {hint}.")
    if not 200 <= status < 300 or status in (204, 205):
        _fail(f"{shown} answered HTTP {status} without a file; pass a direct link to the file.")


async def _save(
    response: httpx2.Response,
    final_url: httpx2.URL,
    original_url: httpx2.URL,
    original_ext: str | None,
    kind: MediaKind,
    dest_dir: Path,
    policy: FetchPolicy,
) -> FetchedFile:
    shown = _redact(original_url)
    _check_status(response, shown)

    ext, ctype = _output_ext(kind, _media_type(response), original_ext, _path_extension(final_url.path), shown)

    declared = response.headers.get("content-length")
    if declared is not None and declared.strip().isdigit():
        _check_size(int(declared), policy, shown)

    await anyio.to_thread.run_sync(lambda: dest_dir.mkdir(parents=True, exist_ok=True))
    fd, tmp_name = tempfile.mkstemp(dir=dest_dir, prefix=".fetch-", suffix=".part")
    tmp = Path(tmp_name)
    done = False
    try:
        size = 0
        with os.fdopen(fd, "wb") as fh:
            buffer = bytearray()
            try:
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    _check_size(size, policy, shown)
                    buffer += chunk
                    if len(buffer) >= _WRITE_CHUNK:
                        await anyio.to_thread.run_sync(fh.write, bytes(buffer))
                        buffer.clear()
            except httpx2.TimeoutException:
                _fail(f"timed out downloading {shown}; try again or use a faster host.")
            except httpx2.HTTPError as exc:
                _fail(f"the download of {shown} broke off ({type(exc).__name__}); try again.")
            if buffer:
                await anyio.to_thread.run_sync(fh.write, bytes(buffer))
        if size == 0:
            _fail(f"{shown} returned an empty file; check the URL.")
        if _ext_category(ext) == "image":
            await anyio.to_thread.run_sync(_check_pixels, tmp, policy, shown)
        final = dest_dir / f"{kind}-{uuid.uuid4().hex}{ext}"
        os.replace(tmp, final)
        done = True
        return FetchedFile(path=final, content_type=ctype, size=size, source=shown)
    finally:
        if not done:
            # Synchronous on purpose: this must also run when the fetch is being cancelled.
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
