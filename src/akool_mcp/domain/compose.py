"""Turn friendly parameters (an avatar, some speech, a background, a placement) into Akool's request."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import PurePosixPath
from typing import Any

from pydantic import ValidationError

from akool_mcp.errors import InputError
from akool_mcp.models import (
    CANVAS_HEIGHT,
    CANVAS_WIDTH,
    AvatarSource,
    ContractViolation,
    Element,
    TalkingVideoRequest,
    is_hex_colour,
    validate_talking_video,
)
from akool_mcp.models.contract import shown

DEFAULT_BACKGROUND = "#EEF1F6"

# Plain colour names a person would say, as the hex colours Akool takes.
COLOUR_NAMES = {
    "black": "#000000",
    "white": "#FFFFFF",
    "red": "#FF0000",
    "green": "#008000",
    "blue": "#0000FF",
    "yellow": "#FFFF00",
    "orange": "#FFA500",
    "purple": "#800080",
    "pink": "#FFC0CB",
    "gray": "#808080",
    "grey": "#808080",
    "navy": "#000080",
    "teal": "#008080",
    "transparent": "#00000000",
}


def background_colour(value: str) -> str | None:
    """The hex colour a background names (#RRGGBB[AA] or a colour name), None when it is a picture's link or
    file; anything else is refused with what a background may be."""
    bg = value.strip()
    named = COLOUR_NAMES.get(bg.lower())
    if named is not None:
        return named
    if re.fullmatch(r"[0-9a-fA-F]{6}(?:[0-9a-fA-F]{2})?", bg):
        return f"#{bg}"  # a hex colour without its '#'
    if bg.startswith("#"):
        if is_hex_colour(bg):
            return bg
        raise InputError("background", f"{shown(bg)} is not a hex colour: write #RRGGBB or #RRGGBBAA, e.g. #1E90FF.")
    if "://" in bg or bg.startswith(("/", "~")) or PurePosixPath(bg).suffix:
        return None
    raise InputError(
        "background",
        f"{shown(bg)} is not a colour or a picture: give a hex colour such as #1E90FF, a colour name "
        f"({', '.join(sorted(set(COLOUR_NAMES) - {'grey'}))}), or an image link (.png .jpg .jpeg .webp).",
    )


@dataclass(frozen=True)
class Placement:
    """Where the avatar sits: its centre on the 3840x2160 canvas, its box size, and a uniform scale."""

    center_x: float = CANVAS_WIDTH / 2
    center_y: float = CANVAS_HEIGHT / 2
    width: float = CANVAS_WIDTH
    height: float = CANVAS_HEIGHT
    scale: float = 1.0


@dataclass(frozen=True)
class VideoSpec:
    avatar_id: str | None = None
    avatar_url: str | None = None
    avatar_from: int | None = None  # known from the avatar list when avatar_id is given
    text: str | None = None
    voice_id: str | None = None
    audio_url: str | None = None
    background: str | None = DEFAULT_BACKGROUND
    placement: Placement = Placement()
    webhook_url: str | None = None
    elements: list[dict[str, Any]] | None = None
    burn_captions: bool = False  # the local engine's: captions drawn into the picture


def _exactly_one(a: str | None, b: str | None, names: tuple[str, str], what: str) -> None:
    if bool(a) == bool(b):
        raise InputError(f"{names[0]}/{names[1]}", f"give exactly one {what}: {names[0]} or {names[1]}.")


def build_request(spec: VideoSpec, *, allow_local_paths: bool = False) -> TalkingVideoRequest:
    """Build and validate the request; errors name the tool's parameter (or the element field)."""
    if spec.elements is not None:
        elements = _parse_elements(spec.elements)
        has_url_avatar = any(el.type == "avatar" and el.url for el in elements)
        avatar_from = AvatarSource.USER if has_url_avatar else (spec.avatar_from or AvatarSource.OFFICIAL)
    else:
        _exactly_one(spec.avatar_id, spec.avatar_url, ("avatar_id", "avatar_url"), "avatar")
        if spec.audio_url and (spec.text or spec.voice_id):
            raise InputError("audio_url/text", "give either audio_url, or text with voice_id, not both.")
        if not spec.audio_url and not spec.text:
            raise InputError("text", "give the words to speak (text with voice_id), or audio_url of recorded speech.")
        if spec.text and not spec.voice_id:
            raise InputError("voice_id", "is needed with text: call list_voices and pick a voice_id.")
        elements = _elements_from_spec(spec)
        avatar_from = AvatarSource.USER if spec.avatar_url else (spec.avatar_from or AvatarSource.OFFICIAL)
    request = TalkingVideoRequest(
        width=CANVAS_WIDTH,
        height=CANVAS_HEIGHT,
        avatar_from=int(avatar_from),
        elements=elements,
        webhookUrl=spec.webhook_url or None,
        burn_captions=True if spec.burn_captions else None,
    )
    try:
        validate_talking_video(request, allow_local_paths=allow_local_paths)
    except ContractViolation as exc:
        raise InputError(tool_field(exc.field, spec), exc.message) from exc
    return request


# A stand-in speech so the visual elements pass the same checks a real request does; never fetched.
_SILENT_SPEECH = "https://preview.invalid/silence.mp3"


def build_visuals(spec: VideoSpec, *, allow_local_paths: bool = False) -> list[Element]:
    """The background and avatar elements a request for `spec` would carry, checked the same way."""
    stand_in = replace(spec, text=None, voice_id=None, audio_url=_SILENT_SPEECH, webhook_url=None, elements=None)
    request = build_request(stand_in, allow_local_paths=allow_local_paths)
    return [el for el in request.elements if el.type != "audio"]


def _parse_elements(raw: list[dict[str, Any]]) -> list[Element]:
    elements: list[Element] = []
    for i, item in enumerate(raw):
        try:
            elements.append(Element.model_validate(item))
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = ".".join(str(p) for p in first["loc"])
            raise InputError(f"elements[{i}].{loc}", first["msg"]) from exc
    return elements


def _elements_from_spec(spec: VideoSpec) -> list[Element]:
    p = spec.placement
    elements: list[Element] = []
    if spec.background:
        bg = background_colour(spec.background) or spec.background.strip()
        elements.append(
            Element(
                type="image",
                url=bg,
                width=CANVAS_WIDTH,
                height=CANVAS_HEIGHT,
                scale_x=1,
                scale_y=1,
                offset_x=CANVAS_WIDTH / 2,
                offset_y=CANVAS_HEIGHT / 2,
                layer_number=0,
            )
        )
    elements.append(
        Element(
            type="avatar",
            avatar_id=spec.avatar_id or None,
            url=spec.avatar_url or None,
            width=p.width,
            height=p.height,
            scale_x=p.scale,
            scale_y=p.scale,
            offset_x=p.center_x,
            offset_y=p.center_y,
            layer_number=1,
        )
    )
    if spec.audio_url:
        elements.append(Element(type="audio", url=spec.audio_url))
    else:
        elements.append(Element(type="audio", input_text=spec.text, voice_id=spec.voice_id))
    return elements


# The request's field names mapped back to the tool's parameter names, so the model knows what to change.
_AVATAR_PARAMS = {
    "url": "avatar_url",
    "avatar_id": "avatar_id",
    "scale_x": "avatar_scale",
    "scale_y": "avatar_scale",
    "offset_x": "avatar_x",
    "offset_y": "avatar_y",
    "width": "avatar_width",
    "height": "avatar_height",
}
_AUDIO_PARAMS = {"url": "audio_url", "input_text": "text", "voice_id": "voice_id"}
_ELEMENT_FIELD = re.compile(r"^elements\[(\d+)\](?:\.(\w+))?$")


def tool_field(field: str, spec: VideoSpec) -> str:
    """The tool parameter behind a request field such as `elements[2].voice_id`."""
    match = _ELEMENT_FIELD.match(field)
    if spec.elements is not None or match is None:
        return field
    kinds = (["image"] if spec.background else []) + ["avatar", "audio"]
    index, name = int(match.group(1)), match.group(2) or ""
    kind = kinds[index] if index < len(kinds) else ""
    if kind == "image":
        return "background"
    if kind == "avatar":
        return _AVATAR_PARAMS.get(name, "avatar_id/avatar_url")
    if kind == "audio":
        return _AUDIO_PARAMS.get(name, "text/audio_url")
    return field
