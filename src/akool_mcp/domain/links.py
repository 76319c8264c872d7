"""What the model is given to reach a file: over stdio a path on the user's own machine; over HTTP a URL.

Under the HTTP transports the server's own address (a configured public URL, or the bound one) serves
the kept videos, their posters and the local engine's files behind the same bearer token. The URL is
never built from a request's Host header: a caller must not choose where links point.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

MEDIA_PREFIX = "/media"


@dataclass(frozen=True)
class Links:
    output_dir: Path
    poster_dir: Path
    files_root: Path | None = None  # the local engine's files: thumbnails, previews, renders
    base_url: str | None = None  # set under the HTTP transports
    # Servers side by side: a kept copy or poster another replica made is served by name from the shared blob
    # store, so its link is the same whichever replica kept it.
    shared: bool = False

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

    def _under(self, path: Path, root: Path, kind: str) -> str | None:
        try:
            rel = path.resolve().relative_to(root.resolve())
        except ValueError:
            if self.shared and kind in ("videos", "posters"):
                return f"{self.base_url}{MEDIA_PREFIX}/{kind}/{quote(path.name)}"
            return None  # never hand out a path on the server's disk over HTTP
        return f"{self.base_url}{MEDIA_PREFIX}/{kind}/{quote(rel.as_posix())}"


def bound_base_url(host: str, port: int, public_url: str | None) -> str:
    if public_url:
        return public_url.rstrip("/")
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else "[::1]" if host == "::" else host  # noqa: S104
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"
