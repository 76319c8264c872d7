"""Which files are pictures, videos and sounds: the extensions and media types the renderer takes, per kind
of media a request names (an avatar may be a picture or a video)."""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Literal

MediaKind = Literal["image", "video", "audio", "avatar"]
Category = Literal["image", "video", "audio"]

KIND_CATEGORIES: dict[MediaKind, tuple[Category, ...]] = {
    "image": ("image",),
    "video": ("video",),
    "audio": ("audio",),
    "avatar": ("image", "video"),
}

# Extension -> canonical media type, per category.
EXTENSIONS: dict[Category, dict[str, str]] = {
    "image": {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp"},
    "video": {".mp4": "video/mp4", ".mov": "video/quicktime", ".avi": "video/x-msvideo"},
    "audio": {
        ".mp3": "audio/mpeg",
        ".wav": "audio/wav",
        ".m4a": "audio/mp4",
        ".aac": "audio/aac",
        ".ogg": "audio/ogg",
        ".oga": "audio/ogg",
        ".opus": "audio/opus",
        ".flac": "audio/flac",
        ".webm": "audio/webm",
    },
}

# Media type -> extension to save under, used when the URL has no extension.
CONTENT_TYPES: dict[Category, dict[str, str]] = {
    "image": {
        "image/png": ".png",
        "image/x-png": ".png",
        "image/jpeg": ".jpg",
        "image/jpg": ".jpg",
        "image/pjpeg": ".jpg",
        "image/webp": ".webp",
    },
    "video": {
        "video/mp4": ".mp4",
        "video/quicktime": ".mov",
        "video/x-msvideo": ".avi",
        "video/avi": ".avi",
        "video/msvideo": ".avi",
    },
    "audio": {
        "audio/mpeg": ".mp3",
        "audio/mp3": ".mp3",
        "audio/mpeg3": ".mp3",
        "audio/x-mpeg": ".mp3",
        "audio/wav": ".wav",
        "audio/x-wav": ".wav",
        "audio/wave": ".wav",
        "audio/vnd.wave": ".wav",
        "audio/mp4": ".m4a",
        "audio/x-m4a": ".m4a",
        "audio/m4a": ".m4a",
        "audio/aac": ".aac",
        "audio/x-aac": ".aac",
        "audio/aacp": ".aac",
        "audio/ogg": ".ogg",
        "audio/opus": ".opus",
        "audio/flac": ".flac",
        "audio/x-flac": ".flac",
        "audio/webm": ".webm",
        # Servers label audio-only WebM/Ogg by container, not by content.
        "video/webm": ".webm",
        "video/ogg": ".ogg",
        "application/ogg": ".ogg",
    },
}

GENERIC_TYPES = frozenset({"application/octet-stream", "binary/octet-stream", ""})
_EXT_RE = re.compile(r"^\.[a-z0-9]{1,5}$")


def allowed_exts(kind: MediaKind) -> dict[str, str]:
    merged: dict[str, str] = {}
    for category in KIND_CATEGORIES[kind]:
        merged.update(EXTENSIONS[category])
    return merged


def ext_category(ext: str) -> Category:
    for category, exts in EXTENSIONS.items():
        if ext in exts:
            return category
    raise AssertionError(ext)  # pragma: no cover - callers pass validated extensions


def ext_hint(kind: MediaKind) -> str:
    return ", ".join(allowed_exts(kind))


def path_extension(path: str) -> str | None:
    """Lower-cased extension of the last path segment, or None if it has none."""
    name = PurePosixPath(path).name if not path.endswith("/") else ""
    suffix = PurePosixPath(name).suffix.lower()
    return suffix if suffix and _EXT_RE.match(suffix) else None
