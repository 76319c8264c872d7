"""Tools about videos: create a talking-avatar video and follow it; list the voices for speech."""

from __future__ import annotations

import time
from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from pydantic import Field

from akool_mcp.domain.compose import DEFAULT_BACKGROUND, Placement, VideoSpec, build_request
from akool_mcp.domain.follow import is_final, wait_for_video
from akool_mcp.domain.lookup import find_by_avatar_id
from akool_mcp.errors import InputError
from akool_mcp.models import AvatarSource, Status, Video
from akool_mcp.tools.results import VideoCreated, VideoStatus, VoiceInfo, VoiceList, status_name
from akool_mcp.tools.state import PAID_CREATE, READ_ONLY, AppContext, AppState, model_errors, state_of

MAX_WAIT_SECONDS = 50  # Claude Desktop cuts tool calls at about 60 s


def _video_status(video: Video, *, waited: float, now_ms: float) -> VideoStatus:
    status = status_name(video.video_status)
    elapsed = round((now_ms - video.create_time) / 1000, 1) if video.create_time else None
    if video.video_status == Status.COMPLETED:
        next_step = f"Done: the video is at {video.video}."
    elif video.video_status == Status.FAILED:
        reason = video.error_reason or "no reason given"
        next_step = f"The render failed ({reason}). Fix the inputs and call create_talking_video again."
    else:
        next_step = (
            f"Still {status}: call get_video_status with video_id={video.id!r} and wait_seconds=45 to keep following."
        )
    return VideoStatus(
        video_id=video.id,
        status=status,
        status_code=video.video_status,
        done=is_final(video),
        video_url=video.video or None if video.video_status == Status.COMPLETED else None,
        elapsed_seconds=elapsed,
        waited_seconds=round(waited, 1),
        progress=video.progress,
        error_reason=video.error_reason,
        next_step=next_step,
    )


def _progress_message(video: Video) -> str:
    message = f"video {status_name(video.video_status)}"
    if video.video_status == Status.PROCESSING and video.progress is not None:
        message += f" {video.progress:.0%}"
    return message


def register(server: MCPServer[AppState]) -> None:
    @server.tool(
        title="Create a talking-avatar video",
        annotations=PAID_CREATE,
    )
    @model_errors
    async def create_talking_video(
        ctx: AppContext,
        avatar_id: Annotated[
            str | None, Field(description="An avatar_id from list_avatars. Give this or avatar_url.")
        ] = None,
        avatar_url: Annotated[
            str | None,
            Field(description="http(s) link to your own image (.png .jpg .jpeg .webp) or video (.mp4 .mov .avi)."),
        ] = None,
        text: Annotated[
            str | None, Field(description="What the avatar says (with voice_id). Or give audio_url instead.")
        ] = None,
        voice_id: Annotated[str | None, Field(description="A voice_id from list_voices, used with text.")] = None,
        audio_url: Annotated[
            str | None, Field(description="http(s) link to recorded speech (.mp3 .wav .m4a .ogg ...).")
        ] = None,
        background: Annotated[
            str | None,
            Field(
                description="A hex colour like #1E90FF (or #RRGGBBAA), or an http(s) link to a background image. "
                "Empty string for none."
            ),
        ] = DEFAULT_BACKGROUND,
        avatar_x: Annotated[
            float, Field(ge=-3840, le=7680, description="Horizontal centre of the avatar on the 3840-wide canvas.")
        ] = 1920,
        avatar_y: Annotated[
            float, Field(ge=-2160, le=4320, description="Vertical centre of the avatar on the 2160-high canvas.")
        ] = 1080,
        avatar_scale: Annotated[float, Field(gt=0, le=4, description="Size multiplier of the avatar.")] = 1.0,
        avatar_width: Annotated[float, Field(gt=0, le=15360, description="Avatar box width in pixels.")] = 3840,
        avatar_height: Annotated[float, Field(gt=0, le=8640, description="Avatar box height in pixels.")] = 2160,
        webhook_url: Annotated[
            str | None, Field(description="Optional http(s) URL Akool calls when the status changes.")
        ] = None,
        elements: Annotated[
            list[dict[str, Any]] | None,
            Field(
                description="Advanced: Akool's raw elements list (type avatar/image/audio, url, avatar_id, "
                "scale_x, scale_y, offset_x, offset_y as the element's centre, width, height, layer_number, "
                "input_text, voice_id). When given, it replaces the avatar, speech, background and placement "
                "parameters."
            ),
        ] = None,
    ) -> VideoCreated:
        """Create a 3840x2160 talking-avatar video. Akool bills each video to your account's credit.

        Give one avatar (avatar_id from list_avatars, or avatar_url) and one speech (text with voice_id
        from list_voices, or audio_url). The video renders in the background: follow it with
        get_video_status. Call this once per video; do not repeat it to check progress.
        """
        state = state_of(ctx)
        client = await state.client()
        avatar_from: int | None = None
        if avatar_id and elements is None:
            found = await find_by_avatar_id(client, avatar_id.strip())
            if found is None:
                raise InputError("avatar_id", f"no avatar has avatar_id {avatar_id!r}; call list_avatars.")
            if found.status not in (None, Status.COMPLETED):
                raise InputError(
                    "avatar_id",
                    f"avatar {avatar_id!r} is not ready (status {status_name(found.status)}); "
                    "check it with get_avatar.",
                )
            avatar_from = found.from_ or AvatarSource.OFFICIAL
        spec = VideoSpec(
            avatar_id=avatar_id.strip() if avatar_id else None,
            avatar_url=avatar_url.strip() if avatar_url else None,
            avatar_from=avatar_from,
            text=text,
            voice_id=voice_id.strip() if voice_id else None,
            audio_url=audio_url.strip() if audio_url else None,
            background=background,
            placement=Placement(
                center_x=avatar_x, center_y=avatar_y, width=avatar_width, height=avatar_height, scale=avatar_scale
            ),
            webhook_url=webhook_url,
            elements=elements,
        )
        request = build_request(spec, allow_local_paths=state.allow_local_paths)
        video = await client.create_talking_video(request)
        return VideoCreated(
            video_id=video.id,
            status=status_name(video.video_status),
            status_code=video.video_status,
            avatar_from=request.avatar_from,
            backend=state.backend,
            next_step=f"Rendering has started. Call get_video_status with video_id={video.id!r} and "
            "wait_seconds=45 to follow it to the finished file.",
        )

    @server.tool(
        title="Get a video's status",
        annotations=READ_ONLY,
    )
    @model_errors
    async def get_video_status(
        ctx: AppContext,
        video_id: Annotated[str, Field(min_length=1, description="The video_id that create_talking_video returned.")],
        wait_seconds: Annotated[
            float,
            Field(
                ge=0,
                le=MAX_WAIT_SECONDS,
                description="Wait up to this many seconds for the video to finish, with progress updates (0 = just "
                "check). Returns early when it finishes.",
            ),
        ] = 0,
    ) -> VideoStatus:
        """Check a video's status (queueing, processing, completed, failed) and get its URL once completed.

        With wait_seconds it follows the render and returns as soon as it finishes, or with the status so
        far when the wait ends; call again to keep waiting.
        """
        state = state_of(ctx)

        async def on_poll(video: Video, waited: float) -> None:
            if wait_seconds > 0:
                await ctx.report_progress(min(waited, wait_seconds), wait_seconds, _progress_message(video))

        video, waited = await wait_for_video(
            await state.client(),
            video_id.strip(),
            wait_seconds=wait_seconds,
            clock=state.clock,
            on_poll=on_poll,
            max_interval=state.poll_max,
        )
        return _video_status(video, waited=waited, now_ms=time.time() * 1000)

    @server.tool(
        title="List voices",
        annotations=READ_ONLY,
    )
    @model_errors
    async def list_voices(
        ctx: AppContext,
        language: Annotated[
            str | None, Field(description="Filter by language or locale, e.g. 'en' or 'es-ES'.")
        ] = None,
        page: Annotated[int, Field(ge=1)] = 1,
        size: Annotated[int, Field(ge=1, le=100)] = 100,
    ) -> VoiceList:
        """List the voices that can speak text in create_talking_video (pass a voice_id with text)."""
        state = state_of(ctx)
        client = await state.client()
        listing = await client.list_voices(page=page, size=size)
        voices = [
            VoiceInfo(
                voice_id=v.voice_id,
                name=v.name,
                gender=v.gender,
                language=v.language,
                locale=v.locale,
                preview_url=v.preview,
            )
            for v in listing.result
        ]
        if language:
            wanted = language.lower()
            voices = [v for v in voices if any((x or "").lower().startswith(wanted) for x in (v.language, v.locale))]
        return VoiceList(backend=state.backend, voices=voices, total=len(voices) if language else listing.count)
