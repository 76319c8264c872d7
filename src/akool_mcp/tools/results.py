"""Typed, structured tool results (their JSON schemas become the tools' output schemas)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from akool_mcp.models import Avatar, AvatarSource, AvatarType, StatusName, status_label

Backend = Literal["akool", "local"]


def _is_none(value: object) -> bool:
    return value is None


class Result(BaseModel):
    """A tool's result (its schema is built when the tool is registered; its validators on first use).

    A field with nothing to say is left out rather than sent as `null`: the output schemas then type each
    field with one `type` (portable to clients that map schemas onto single-type dialects), and the model
    reads less.
    """

    model_config = ConfigDict(defer_build=True)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        for field in cls.model_fields.values():
            if field.default is None:
                field.exclude_if = _is_none


class AvatarInfo(Result):
    record_id: str = Field(description="The avatar record `_id` (use it with get_avatar).")
    avatar_id: str = Field(description="The id to pass as avatar_id to create_talking_video.")
    name: str
    source: Literal["official", "mine", "unknown"]
    kind: Literal["talking", "streaming", "unknown"]
    status: StatusName
    gender: str | None = None
    preview_url: str | None = None
    thumbnail_url: str | None = None
    error_reason: str | None = None

    @classmethod
    def from_wire(cls, avatar: Avatar) -> AvatarInfo:
        source: Literal["official", "mine", "unknown"] = (
            "official"
            if avatar.from_ == AvatarSource.OFFICIAL
            else "mine"
            if avatar.from_ == AvatarSource.USER
            else "unknown"
        )
        kind: Literal["talking", "streaming", "unknown"] = (
            "talking"
            if avatar.type == AvatarType.TALKING
            else "streaming"
            if avatar.type == AvatarType.STREAMING
            else "unknown"
        )
        return cls(
            record_id=avatar.id,
            avatar_id=avatar.avatar_id,
            name=avatar.name,
            source=source,
            kind=kind,
            # Official avatars are listed without a status on some accounts: they are ready to use.
            status=status_label(avatar.status) if avatar.status is not None else "completed",
            gender=avatar.gender,
            preview_url=avatar.url or None,
            thumbnail_url=avatar.thumbnail_url or None,
            error_reason=avatar.error_reason,
        )


class AvatarList(Result):
    backend: Backend = Field(description="Which backend answered: Akool cloud or the built-in local engine.")
    avatars: list[AvatarInfo]
    total: int
    page: int
    size: int
    has_more: bool


class AvatarResult(Result):
    avatar: AvatarInfo
    ready: bool = Field(description="True when the avatar can be used in create_talking_video.")
    next_step: str


class AvatarDeleted(Result):
    avatar_id: str
    record_id: str
    next_step: str


class VideoCreated(Result):
    video_id: str = Field(description="The video record id: pass it to get_video_status.")
    status: StatusName
    backend: Backend
    next_step: str


class ScriptCreated(Result):
    video_id: str = Field(description="The script video's id: pass it to get_video_status.")
    scenes: int
    backend: Backend
    next_step: str


class VideoStatus(Result):
    video_id: str
    status: StatusName
    done: bool
    avatar_id: str | None = None
    video_url: str | None = Field(default=None, description="The MP4 once completed (Akool links expire after 7 days).")
    file_path: str | None = Field(default=None, description="Where the finished MP4 is kept (AKOOL_OUTPUT_DIR).")
    elapsed_seconds: float | None = Field(default=None, description="Seconds since the video was created.")
    waited_seconds: float = 0.0
    progress_percent: float | None = Field(default=None, description="Render progress out of 100, when known.")
    error_reason: str | None = None
    next_step: str


class VoiceInfo(Result):
    voice_id: str
    name: str
    gender: str | None = None
    language: str | None = None
    locale: str | None = None
    quality: str | None = None
    preview_url: str | None = None


class VoiceList(Result):
    backend: Backend
    voices: list[VoiceInfo]
    total: int


class VideoEntry(Result):
    video_id: str
    status: StatusName
    backend: Backend
    created_at: str = Field(description="UTC, ISO 8601.")
    avatar: str | None = None
    summary: str | None = Field(default=None, description="The first words of the text.")
    file_path: str | None = None
    video_url: str | None = None


class VideoListing(Result):
    videos: list[VideoEntry] = Field(description="Newest first.")
    total: int
    output_dir: str | None = Field(default=None, description="The folder finished videos are kept in.")


class SavedVideo(Result):
    video_id: str
    file_path: str | None = None
    video_url: str | None = None


class CreditInfo(Result):
    backend: Backend
    credit: float | None = Field(default=None, description="Akool credit balance; None on the free local engine.")
    note: str
