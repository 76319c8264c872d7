"""The contract's validation rules, in one place for the client (before sending) and the local engine.

Each violation names the offending field the way the API spells it (`elements[1].url`) and says how
to fix it.
"""

from __future__ import annotations

import math
import re
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from akool_mcp.models.wire import AvatarCreateRequest, AvatarSource, Element, TalkingVideoRequest

CANVAS_WIDTH = 3840
CANVAS_HEIGHT = 2160
IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".webp"})
VIDEO_EXTENSIONS = frozenset({".mp4", ".mov", ".avi"})
AUDIO_EXTENSIONS = frozenset({".mp3", ".wav", ".m4a", ".aac", ".ogg", ".oga", ".opus", ".flac", ".webm"})
MAX_TEXT_CHARS = 50_000
MAX_URL_CHARS = 2048
MAX_AVATAR_ID_CHARS = 64
MAX_NAME_CHARS = 200
MAX_VOICE_ID_CHARS = 128
MAX_SCALE = 20.0
MAX_ELEMENT_SIDE = 4 * CANVAS_WIDTH
_HEX_COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$")
_AVATAR_ID = re.compile(r"^[A-Za-z0-9]+$")


class ContractViolation(ValueError):
    """A request breaks the contract; `field` is the API's name for the offending parameter."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def is_hex_colour(value: str) -> bool:
    return bool(_HEX_COLOUR.match(value))


def parse_hex_colour(value: str) -> tuple[int, int, int, int]:
    """`#RRGGBB` or `#RRGGBBAA` to an (r, g, b, a) tuple."""
    if not is_hex_colour(value):
        raise ValueError(f"not a hex colour: {value!r}")
    digits = value[1:]
    r, g, b = (int(digits[i : i + 2], 16) for i in (0, 2, 4))
    a = int(digits[6:8], 16) if len(digits) == 8 else 255
    return r, g, b, a


def url_extension(url: str) -> str:
    """The lower-cased extension of a URL's path (or a local path), '' if it has none."""
    path = urlsplit(url).path if "://" in url else url
    return PurePosixPath(path).suffix.lower()


def is_local_path(url: str) -> bool:
    return url.startswith(("/", "file://"))


def shown(value: str, limit: int = 60) -> str:
    """At most `limit` characters of what the caller sent, quoted, for messages."""
    return repr(value if len(value) <= limit else value[: limit - 1] + "…")


def _check_plain_text(field: str, value: str, limit: int) -> None:
    if len(value) > limit:
        raise ContractViolation(field, f"is {len(value)} characters long; at most {limit} are allowed.")
    if any(ord(c) < 0x20 or ord(c) == 0x7F or 0xD800 <= ord(c) <= 0xDFFF for c in value):
        raise ContractViolation(field, "contains control characters or invalid Unicode; remove them.")


def check_http_url(field: str, url: str, what: str) -> None:
    """An absolute http(s) URL with a host and a valid port, of bounded length and plain characters."""
    _check_plain_text(field, url, MAX_URL_CHARS)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ContractViolation(field, f"is not a valid URL ({shown(url)}); check it for typos.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ContractViolation(field, f"must be an http:// or https:// URL of the {what}, not {shown(url)}.")
    if port == 0:
        raise ContractViolation(field, "has an invalid port number.")


def check_url(field: str, url: str, allowed: frozenset[str], what: str, *, allow_local_paths: bool) -> None:
    if not url.strip():
        raise ContractViolation(field, f"is empty; give the {what}'s URL.")
    if is_local_path(url):
        if not allow_local_paths:
            raise ContractViolation(field, "must be an http(s) URL; local file paths are not accepted here.")
        _check_plain_text(field, url, MAX_URL_CHARS)
    else:
        check_http_url(field, url.strip(), what)
    ext = url_extension(url)
    if ext and ext not in allowed:
        raise ContractViolation(
            field, f"has the extension {ext!r}; the {what} must be one of {', '.join(sorted(allowed))}."
        )


def _require_number(field: str, value: float | None, *, positive: bool, upper: float) -> None:
    if value is None:
        raise ContractViolation(field, "is required for image and avatar elements.")
    if not math.isfinite(value):
        raise ContractViolation(field, f"must be a finite number, got {value}.")
    if positive and value <= 0:
        raise ContractViolation(field, f"must be greater than 0, got {value:g}.")
    if abs(value) > upper:
        raise ContractViolation(field, f"is out of range ({value:g}); keep it within ±{upper:g}.")


def _check_placement(prefix: str, el: Element, *, size_required: bool) -> None:
    _require_number(f"{prefix}.scale_x", el.scale_x, positive=True, upper=MAX_SCALE)
    _require_number(f"{prefix}.scale_y", el.scale_y, positive=True, upper=MAX_SCALE)
    _require_number(f"{prefix}.offset_x", el.offset_x, positive=False, upper=MAX_ELEMENT_SIDE)
    _require_number(f"{prefix}.offset_y", el.offset_y, positive=False, upper=MAX_ELEMENT_SIDE)
    for name in ("width", "height"):
        value: float | None = getattr(el, name)
        if value is None:
            if size_required:
                raise ContractViolation(f"{prefix}.{name}", "is required: the element's size in pixels.")
            continue
        _require_number(f"{prefix}.{name}", value, positive=True, upper=MAX_ELEMENT_SIDE)


def validate_talking_video(req: TalkingVideoRequest, *, allow_local_paths: bool = False) -> None:
    """Raise ContractViolation for the first rule `req` breaks."""
    if req.width != CANVAS_WIDTH:
        raise ContractViolation("width", f"must be {CANVAS_WIDTH} (the only canvas Akool renders), got {req.width}.")
    if req.height != CANVAS_HEIGHT:
        raise ContractViolation("height", f"must be {CANVAS_HEIGHT} (the only canvas Akool renders), got {req.height}.")
    if req.avatar_from not in (AvatarSource.OFFICIAL, AvatarSource.USER):
        raise ContractViolation(
            "avatar_from",
            f"must be 2 (official avatar) or 3 (your own avatar or URL), got {req.avatar_from}.",
        )
    if req.webhook_url is not None and req.webhook_url != "":
        check_http_url("webhookUrl", req.webhook_url, "webhook receiver")
    if not req.elements:
        raise ContractViolation("elements", "is empty; it needs one avatar element and one audio element.")
    kinds = [el.type for el in req.elements]
    for i, kind in enumerate(kinds):
        if kind not in ("avatar", "image", "audio"):
            raise ContractViolation(f"elements[{i}].type", f"must be avatar, image or audio, got {kind!r}.")
    for kind in ("avatar", "audio"):
        count = kinds.count(kind)
        if count != 1:
            raise ContractViolation("elements", f"needs exactly one {kind} element, found {count}.")
    for i, el in enumerate(req.elements):
        prefix = f"elements[{i}]"
        if el.type == "image":
            _validate_image(prefix, el, allow_local_paths=allow_local_paths)
        elif el.type == "avatar":
            _validate_avatar(prefix, el, req.avatar_from, allow_local_paths=allow_local_paths)
        else:
            _validate_audio(prefix, el, allow_local_paths=allow_local_paths)


def _validate_image(prefix: str, el: Element, *, allow_local_paths: bool) -> None:
    if el.url is None or not el.url.strip():
        raise ContractViolation(f"{prefix}.url", "is required: an image link or a hex colour like #1E90FF.")
    colour = el.url.startswith("#")
    if colour and not is_hex_colour(el.url):
        raise ContractViolation(f"{prefix}.url", f"{el.url!r} is not a hex colour; use #RRGGBB or #RRGGBBAA.")
    if not colour:
        check_url(f"{prefix}.url", el.url, IMAGE_EXTENSIONS, "image", allow_local_paths=allow_local_paths)
    _check_placement(prefix, el, size_required=colour)


def _validate_avatar(prefix: str, el: Element, avatar_from: int, *, allow_local_paths: bool) -> None:
    has_url = bool(el.url and el.url.strip())
    has_id = bool(el.avatar_id and el.avatar_id.strip())
    if has_url == has_id:
        raise ContractViolation(
            prefix, "give exactly one of avatar_id (from list_avatars) or url (your own image or video)."
        )
    if has_id and el.avatar_id is not None:
        _check_plain_text(f"{prefix}.avatar_id", el.avatar_id, MAX_AVATAR_ID_CHARS * 2)
    if has_url:
        assert el.url is not None
        check_url(
            f"{prefix}.url",
            el.url,
            IMAGE_EXTENSIONS | VIDEO_EXTENSIONS,
            "avatar image or video",
            allow_local_paths=allow_local_paths,
        )
        if avatar_from != AvatarSource.USER:
            raise ContractViolation("avatar_from", "must be 3 when the avatar is given by URL.")
    _check_placement(prefix, el, size_required=True)


def _validate_audio(prefix: str, el: Element, *, allow_local_paths: bool) -> None:
    if el.url and el.url.strip():
        check_url(f"{prefix}.url", el.url, AUDIO_EXTENSIONS, "audio", allow_local_paths=allow_local_paths)
        return
    text = (el.input_text or "").strip()
    voice = (el.voice_id or "").strip()
    if not text and not voice:
        raise ContractViolation(prefix, "needs either url (the speech audio) or input_text with voice_id.")
    if not text:
        raise ContractViolation(f"{prefix}.input_text", "is required with voice_id: the text to speak.")
    if not voice:
        raise ContractViolation(f"{prefix}.voice_id", "is required with input_text: pick one from the voice list.")
    _check_plain_text(f"{prefix}.voice_id", voice, MAX_VOICE_ID_CHARS)
    if "\x00" in text or any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        raise ContractViolation(f"{prefix}.input_text", "contains a NUL character or invalid Unicode; remove it.")
    if len(text) > MAX_TEXT_CHARS:
        raise ContractViolation(f"{prefix}.input_text", f"is too long ({len(text)} characters, max {MAX_TEXT_CHARS}).")


def validate_avatar_create(req: AvatarCreateRequest, *, allow_local_paths: bool = False) -> None:
    if len(req.avatar_id) > MAX_AVATAR_ID_CHARS:
        raise ContractViolation(
            "avatar_id", f"is {len(req.avatar_id)} characters long; at most {MAX_AVATAR_ID_CHARS} are allowed."
        )
    if not _AVATAR_ID.fullmatch(req.avatar_id):
        raise ContractViolation(
            "avatar_id", "may contain only letters and digits (A-Z, a-z, 0-9), e.g. 'MaryPortrait1'."
        )
    if req.type not in (1, 2):
        raise ContractViolation("type", f"must be 1 (talking) or 2 (streaming), got {req.type}.")
    if req.url_from not in (None, 1, 2):
        raise ContractViolation("url_from", "must be 1 (direct link) or 2 (YouTube/TikTok/X/Drive link).")
    if req.name is not None:
        _check_plain_text("name", req.name, MAX_NAME_CHARS)
    if req.url_from == 2:
        check_http_url("url", req.url, "avatar video")
        return
    check_url(
        "url",
        req.url,
        IMAGE_EXTENSIONS | VIDEO_EXTENSIONS,
        "avatar video or image",
        allow_local_paths=allow_local_paths,
    )
