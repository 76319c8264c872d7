"""Tolerant readings of response shapes where Akool's sources disagree."""

from __future__ import annotations

from typing import Any, cast

from akool_mcp.errors import AkoolAPIError
from akool_mcp.models import Avatar, AvatarPage, Video, VoicePage


def _one(data: Any, what: str) -> dict[str, Any]:
    """An object, or the single item of a one-item array (the doc shows arrays, the demo reads objects)."""
    if isinstance(data, list):
        if not data:
            raise AkoolAPIError(f"Akool returned no {what}.")
        data = cast("list[Any]", data)[0]
    if not isinstance(data, dict):
        raise AkoolAPIError(f"Akool returned an unexpected {what} shape ({type(data).__name__}).")
    return cast("dict[str, Any]", data)


def avatar_page(data: Any) -> AvatarPage:
    """`data` as a bare array (the doc) or as {count, result} (the demo and v4)."""
    if isinstance(data, list):
        items = [Avatar.model_validate(item) for item in cast("list[Any]", data)]
        return AvatarPage(count=len(items), result=items)
    if isinstance(data, dict):
        return AvatarPage.model_validate(data)
    if data is None:
        return AvatarPage()
    raise AkoolAPIError(f"Akool returned an unexpected avatar list shape ({type(data).__name__}).")


def avatar(data: Any) -> Avatar:
    return Avatar.model_validate(_one(data, "avatar"))


def video(data: Any) -> Video:
    return Video.model_validate(_one(data, "video"))


def voice_page(data: Any) -> VoicePage:
    if isinstance(data, list):
        items = cast("list[Any]", data)
        return VoicePage.model_validate({"result": items, "count": len(items)})
    return VoicePage.model_validate(data or {})
