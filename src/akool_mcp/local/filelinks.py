"""Where the engine's files are, and how a caller is told to reach one."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class FileLinks:
    """In process the user gets a path to open; over HTTP, a URL on the engine's own public address.

    Never built from a request's Host header: a caller must not choose where links point.
    """

    root: Path  # the engine's files folder (finished videos, avatar pictures)
    base_url: str | None  # the engine's own public address; None in process

    def url(self, relative: str) -> str:
        if self.base_url is None:
            return str(self.root / relative)
        return f"{self.base_url}/files/{relative}"
