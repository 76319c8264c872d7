"""Pydantic models of Akool's wire format, shared by the client and the local engine.

Unknown fields are kept (extra="allow"): the service adds fields over time and we must not reject them.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any, Literal, cast

from pydantic import AliasChoices, BaseModel, ConfigDict, Field


class Status(IntEnum):
    QUEUEING = 1
    PROCESSING = 2
    COMPLETED = 3
    FAILED = 4

    @property
    def label(self) -> StatusName:
        return cast(StatusName, self.name.lower())


StatusName = Literal["queueing", "processing", "completed", "failed", "unknown"]
_NAMES: dict[int | str, StatusName] = {**{s.value: s.label for s in Status}, **{s.label: s.label for s in Status}}


def status_label(status: int | str | None) -> StatusName:
    """The one name of a status, from its code (1-4) or a name kept earlier; "unknown" for anything else."""
    return _NAMES.get(status, "unknown") if status is not None else "unknown"


class AvatarSource(IntEnum):
    OFFICIAL = 2
    USER = 3


class AvatarType(IntEnum):
    TALKING = 1
    STREAMING = 2


class WireModel(BaseModel):
    # defer_build: the schemas are built on first use, not at import (start-up does not parse any wire data).
    model_config = ConfigDict(extra="allow", populate_by_name=True, serialize_by_alias=True, defer_build=True)


class Envelope(WireModel):
    code: int
    msg: str = ""
    data: Any = None


class Avatar(WireModel):
    id: str = Field(default="", alias="_id")
    uid: int | str | None = None
    type: int | None = None
    from_: int | None = Field(default=None, alias="from")
    status: int | None = None
    name: str = ""
    avatar_id: str = ""
    url: str = ""
    thumbnail_url: str = Field(
        default="", alias="thumbnailUrl", validation_alias=AliasChoices("thumbnailUrl", "thumbnail_url")
    )
    gender: str | None = None
    create_time: int | None = None
    modify_url: str | None = None
    crop_arr: list[Any] = Field(default_factory=list)
    sort: int | None = None
    disabled: bool | None = None
    error_reason: str | None = None


class AvatarPage(WireModel):
    count: int = 0
    result: list[Avatar] = Field(default_factory=list[Avatar])


class Video(WireModel):
    id: str = Field(default="", alias="_id")
    uid: int | str | None = None
    video_id: str | None = None
    task_id: str | None = None
    video_status: int = Status.QUEUEING
    video: str = ""
    create_time: int | None = None
    deduction_duration: float | None = None
    error_code: int | None = None
    error_reason: str | None = None
    progress: float | None = None  # the local engine's render progress, 0..1 (not in Akool's documentation)


class Voice(WireModel):
    voice_id: str
    name: str = ""
    gender: str | None = None
    language: str | None = None
    locale: str | None = None
    preview: str | None = None
    quality: str | None = None  # the local engine's: "neural", or "basic" (eSpeak NG)


class VoicePage(WireModel):
    result: list[Voice] = Field(default_factory=list[Voice])
    count: int = 0
    page: int = 1
    size: int = 100


class Credit(WireModel):
    credit: float = 0


class Element(WireModel):
    """One element of a talking-avatar video: an avatar, an image (or colour), or the audio."""

    type: str
    url: str | None = None
    avatar_id: str | None = None
    scale_x: float | None = None
    scale_y: float | None = None
    offset_x: float | None = None
    offset_y: float | None = None
    width: float | None = None
    height: float | None = None
    layer_number: int | None = None
    input_text: str | None = None
    voice_id: str | None = None


class TalkingVideoRequest(WireModel):
    width: int = 3840
    height: int = 2160
    avatar_from: int
    elements: list[Element]
    webhook_url: str | None = Field(default=None, alias="webhookUrl")
    # The local engine's own: draw the speech's captions into the picture (never sent to Akool).
    burn_captions: bool | None = None


class AvatarCreateRequest(WireModel):
    url: str
    avatar_id: str
    name: str | None = None
    type: int = AvatarType.TALKING
    url_from: int | None = None
