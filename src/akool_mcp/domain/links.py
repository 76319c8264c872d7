"""What the model is given to reach a file: over stdio a path on the user's own machine; over HTTP a URL.

Under the HTTP transports the server's own address (a configured public URL, or the bound one) serves
the kept videos, their posters and the local engine's files. Each link is signed and expires, like a
presigned object-store URL: an HMAC over its path and its expiry, keyed from a server secret. So a
browser, a `<video>` element or a person's click opens it with no header, while a changed or expired
link is refused. The URL is never built from a request's Host header: a caller must not choose where
links point.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from akool_mcp.privacy import private_dir

MEDIA_PREFIX = "/media"
LINK_SECRET_FILE = "link-secret"  # noqa: S105 - the file's name, not a secret
_KEY_CONTEXT = b"akool-mcp media links v1"
_EXPIRY_STEP = 60  # expiries are rounded up to the minute: the same file gets the same link for a minute


@dataclass(frozen=True)
class LinkSigner:
    """Signs `/media/...` paths with an expiry, and checks them. `now` is the wall clock (epoch seconds)."""

    key: bytes = field(repr=False)
    ttl: float
    now: Callable[[], float] = time.time

    @classmethod
    def from_secret(cls, secret: str, ttl: float, now: Callable[[], float] = time.time) -> LinkSigner:
        key = hmac.new(secret.encode("utf-8", "surrogatepass"), _KEY_CONTEXT, hashlib.sha256).digest()
        return cls(key, ttl, now)

    def query(self, path: str) -> str:
        """`expires=...&signature=...` for the decoded path (e.g. `/media/videos/a b.mp4`)."""
        expires = math.ceil((self.now() + self.ttl) / _EXPIRY_STEP) * _EXPIRY_STEP
        return f"expires={expires}&signature={self._mac(path, expires)}"

    def refusal(self, path: str, expires: str | None, signature: str | None) -> str | None:
        """Why a request for `path` may not be served, in words for the person who opened the link; None if fine."""
        if not expires or not signature:
            return (
                "This link is not signed. Media links from akool-mcp carry expires= and signature=; ask the "
                "assistant for the video or picture again to get a working link."
            )
        if (
            not expires.isdigit()
            or len(expires) > 12
            or not hmac.compare_digest(self._mac(path, int(expires)), signature)
        ):
            return (
                "This link is not valid: it was changed, or made by another server. Ask the assistant again "
                "(get_video_status gives a fresh link)."
            )
        if int(expires) < self.now():
            when = datetime.fromtimestamp(int(expires), UTC).strftime("%Y-%m-%d %H:%M UTC")
            return (
                f"This link expired at {when}. Ask the assistant again: get_video_status (or list_avatars) "
                "gives a fresh link."
            )
        return None

    def _mac(self, path: str, expires: int) -> str:
        message = f"{path}\n{expires}".encode("utf-8", "surrogatepass")
        digest = hmac.new(self.key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def load_link_secret(data_dir: Path, configured: str | None) -> str:
    """The configured secret, or one generated once and kept in the data directory (0600 in a 0700 folder),
    so links handed out stay valid across restarts until they expire."""
    if configured:
        return configured
    path = data_dir / LINK_SECRET_FILE
    try:
        return _read_secret(path)
    except FileNotFoundError:
        pass
    private_dir(data_dir)
    secret = secrets.token_urlsafe(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return _read_secret(path)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret)
    return secret


def _read_secret(path: Path) -> str:
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)  # a secret: the user's eyes only
    secret = path.read_text().strip()
    if not secret:
        raise FileNotFoundError(path)
    return secret


@dataclass(frozen=True)
class Links:
    output_dir: Path
    poster_dir: Path
    files_root: Path | None = None  # the local engine's files: thumbnails, previews, renders
    base_url: str | None = None  # set under the HTTP transports
    signer: LinkSigner | None = None  # signs every link under the HTTP transports

    @property
    def over_http(self) -> bool:
        return self.base_url is not None

    def video(self, file_path: str | None) -> str | None:
        if file_path is None or self.base_url is None:
            return file_path
        return self._under(Path(file_path), self.output_dir, "videos")

    def poster(self, poster_path: str | None) -> str | None:
        if poster_path is None or self.base_url is None:
            return poster_path
        return self._under(Path(poster_path), self.poster_dir, "posters")

    def engine(self, url_or_path: str | None) -> str | None:
        """A local-engine link as the model may use it; Akool's own https links pass through."""
        if not url_or_path or self.base_url is None or url_or_path.startswith(("https://", "http://")):
            return url_or_path
        if self.files_root is None:
            return None
        return self._under(Path(url_or_path), self.files_root, "files")

    def picture(self, url_or_path: str | None) -> str | None:
        """An avatar's picture as a link: over HTTP the engine's file on this server; over stdio a `file://` URL
        for a file on this machine (http(s) links pass as they are)."""
        if self.over_http:
            return self.engine(url_or_path)
        if url_or_path and url_or_path.startswith("/"):
            return Path(url_or_path).as_uri()
        return url_or_path

    def playable(self, file_path: str | None, backend_url: str | None) -> str | None:
        """The finished video as a link a person or a player can open.

        Over HTTP the kept file's signed URL (else the backend's file made reachable here). Over stdio Akool's own
        link, or for the local engine the kept file as a `file://` URL: never the engine's internal copy.
        """
        if self.over_http:
            return self.video(file_path) or self.engine(backend_url)
        if backend_url and backend_url.startswith(("https://", "http://")):
            return backend_url
        return Path(file_path).resolve().as_uri() if file_path else None

    def _under(self, path: Path, root: Path, kind: str) -> str | None:
        try:
            rel = path.resolve().relative_to(root.resolve())
        except ValueError:
            return None  # never hand out a path on the server's disk over HTTP
        route = f"{MEDIA_PREFIX}/{kind}/{rel.as_posix()}"
        url = f"{self.base_url}{MEDIA_PREFIX}/{kind}/{quote(rel.as_posix())}"
        return f"{url}?{self.signer.query(route)}" if self.signer is not None else url


def bound_base_url(host: str, port: int, public_url: str | None) -> str:
    if public_url:
        return public_url.rstrip("/")
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else "[::1]" if host == "::" else host  # noqa: S104
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"
