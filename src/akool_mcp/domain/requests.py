"""From the tool's friendly parameters to a checked request: the avatar looked up, then the elements built."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import PurePosixPath

from akool_mcp.client import AkoolClient
from akool_mcp.domain.compose import VideoSpec, build_request, tool_field
from akool_mcp.domain.lookup import avatar_source, ready_avatar
from akool_mcp.domain.registry import summarize
from akool_mcp.errors import AkoolAPIError, InputError, InvalidRequestError
from akool_mcp.models import (
    IMAGE_EXTENSIONS,
    Avatar,
    AvatarCreateRequest,
    AvatarSource,
    ContractViolation,
    TalkingVideoRequest,
    validate_avatar_create,
)


async def prepare_request(client: AkoolClient, spec: VideoSpec, *, allow_local_paths: bool) -> TalkingVideoRequest:
    """Refuse an unknown or unfinished avatar before anything is sent; build and validate the request."""
    if spec.avatar_id and spec.elements is None:
        spec = replace(spec, avatar_from=avatar_source(await ready_avatar(client, spec.avatar_id)))
    return build_request(spec, allow_local_paths=allow_local_paths)


def describe(spec: VideoSpec) -> tuple[str | None, str]:
    """(avatar, summary) for the list of videos."""
    if spec.elements is not None:
        avatar = next(
            (str(e.get("avatar_id") or e.get("url")) for e in spec.elements if e.get("type") == "avatar"), None
        )
        text = next((str(e.get("input_text") or "") for e in spec.elements if e.get("type") == "audio"), None)
        return avatar, summarize(text, has_audio=not text)
    return spec.avatar_id or spec.avatar_url, summarize(spec.text, has_audio=bool(spec.audio_url))


async def avatar_picture(client: AkoolClient, spec: VideoSpec, *, backend: str) -> tuple[str | None, str | None, str]:
    """(built-in id, picture link, parameter) for a preview: the engine draws its built-ins itself;
    any other avatar is shown from its picture, or its thumbnail when its URL is a video."""
    if spec.avatar_url:
        return None, spec.avatar_url, "avatar_url"
    avatar = await ready_avatar(client, spec.avatar_id or "")
    if backend == "local" and avatar_source(avatar) == AvatarSource.OFFICIAL:
        return avatar.avatar_id, None, "avatar_id"
    return None, picture_link(avatar.url or None, avatar.thumbnail_url or None), "avatar_id"


def picture_link(url: str | None, thumbnail: str | None) -> str | None:
    """An avatar's still picture: its URL when that is an image, else its thumbnail."""
    if url and PurePosixPath(url.split("?", 1)[0]).suffix.lower() in IMAGE_EXTENSIONS:
        return url
    return thumbnail or url


_ELEMENT_REF = re.compile(r"`?elements\[(\d+)\]\.(\w+)`?")
_API_WORDS = {
    "see the voice list": "call list_voices",
    "/api/open/v4/voice/list": "list_voices",
    "see avatar/list": "call list_avatars",
}
# The API's field names, as every tool calls them (the wire's names never reach the model).
_WIRE_NAMES = {"video_model_id": "video_id", "webhookUrl": "webhook_url", "input_text": "text",
               "avatar_from": "avatar_id", "thumbnailUrl": "thumbnail_url"}  # fmt: skip
_WIRE_NAME = re.compile(r"(?<![\w.])(" + "|".join(_WIRE_NAMES) + r")(?!\w)")


def tool_words(message: str) -> str:
    """A message from either backend with the API's field and endpoint names replaced by the tools' own."""
    for api, tool in _API_WORDS.items():
        message = message.replace(api, tool)
    return _WIRE_NAME.sub(lambda m: _WIRE_NAMES[m[1]], message)


def in_tool_words(exc: AkoolAPIError, spec: VideoSpec) -> AkoolAPIError:
    """A refusal of the create call, naming the tool's parameters instead of the request's fields."""
    if exc.code != 1003 and not isinstance(exc, InvalidRequestError):
        return exc
    message = _ELEMENT_REF.sub(lambda m: tool_field(f"elements[{m[1]}].{m[2]}", spec), exc.message)
    for api, tool in _API_WORDS.items():
        message = message.replace(api, tool)
    if message == exc.message:
        return exc
    return type(exc)(message, code=exc.code, http_status=exc.http_status)


def element_params(spec: VideoSpec) -> str:
    """JSON of [parameter, value given] per request element, so a later failure can be told in those words."""
    if spec.elements is not None:
        return json.dumps([[f"elements[{i}]", e.get("url")] for i, e in enumerate(spec.elements)])
    pairs: list[list[str | None]] = []
    if spec.background:
        pairs.append(["background", spec.background])
    pairs.append(["avatar_url", spec.avatar_url] if spec.avatar_url else ["avatar_id", spec.avatar_id])
    pairs.append(["audio_url", spec.audio_url] if spec.audio_url else ["text", None])
    return json.dumps(pairs)


_FAILED_ELEMENT = re.compile(r"elements\[(\d+)\](?:\.\w+)?")
# The engine's downloads are saved as <kind>-<hex>.<ext>; the user knows the link they gave, not that name.
_FETCHED_NAME = re.compile(r"'(?:audio|image|avatar)-[0-9a-f]{32}\.\w+'")


def explain_failure(reason: str | None, params: str | None) -> str | None:
    """A render failure in the tool's words: the parameter instead of `elements[i]`, the link given
    instead of the engine's temporary file name."""
    if not reason or not params:
        return reason
    try:
        pairs: list[list[str | None]] = json.loads(params)
    except ValueError:
        return reason
    match = _FAILED_ELEMENT.search(reason)
    if match is None or int(match[1]) >= len(pairs):
        return reason
    name, value = pairs[int(match[1])]
    text = reason[: match.start()] + (name or match[0]) + reason[match.end() :]
    if value:
        text = _FETCHED_NAME.sub(repr(value), text)
    return text


async def upload_avatar(
    client: AkoolClient, *, url: str, avatar_id: str, name: str | None, type_: int, allow_local_paths: bool
) -> Avatar:
    """Check the upload (naming the tool's parameters) before sending it once; fill what Akool leaves out."""
    request = AvatarCreateRequest(url=url.strip(), avatar_id=avatar_id.strip(), name=name, type=type_)
    try:
        validate_avatar_create(request, allow_local_paths=allow_local_paths)
    except ContractViolation as exc:
        field = "video_url" if exc.field == "url" else "kind" if exc.field == "type" else exc.field
        raise InputError(field, exc.message) from exc
    created = await client.create_avatar(request)
    if not created.avatar_id:
        created.avatar_id = request.avatar_id
    return created
