"""Tools about videos: create a talking-avatar video and follow it; list the voices for speech."""

from __future__ import annotations

import json
from textwrap import dedent
from typing import Annotated, Any

from mcp.server.elicitation import ElicitationResult
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.resolve import Resolve
from mcp.types import CallToolResult, ContentBlock, TextContent
from pydantic import Field

from akool_mcp.domain.compose import VideoSpec
from akool_mcp.domain.follow import is_final, wait_for_video
from akool_mcp.domain.keeping import kept_captions
from akool_mcp.domain.links import Links
from akool_mcp.domain.requests import describe, element_params, explain_failure, in_tool_words
from akool_mcp.domain.script_videos import is_script
from akool_mcp.domain.video_library import Observed
from akool_mcp.errors import AkoolAPIError, InputError, NotFoundError
from akool_mcp.models import Status, Video, Voice, status_label
from akool_mcp.tools import params
from akool_mcp.tools.content import finished_blocks
from akool_mcp.tools.plans import confirm_video, plan_video
from akool_mcp.tools.results import VideoCreated, VideoStatus, VoiceInfo, VoiceList
from akool_mcp.tools.scripts import script_status
from akool_mcp.tools.spending import Plan, SpendConfirmation, send_once
from akool_mcp.tools.state import (
    PAID_CREATE,
    READ_AND_KEEP,
    READ_ONLY,
    AppContext,
    AppState,
    ClientDep,
    LibraryDep,
    LinksDep,
    StateDep,
    model_errors,
)

MAX_WAIT_SECONDS = 50  # Claude Desktop cuts tool calls at about 60 s
FOLLOW = "call get_video_status with video_id={id!r} and wait_seconds=45"
FOLLOW_NEXT = "Call get_video_status with video_id={id!r} and wait_seconds=45"


def voice_preview_url(voice: Voice, links: Links, *, local: bool) -> str | None:
    """A preview the model can hand on: Akool's https link, over HTTP this server's, else the local engine's
    voice as a resource (akool://voices/{voice_id}/preview); never a disk path."""
    preview = voice.preview
    if preview and preview.startswith(("https://", "http://")):
        return preview
    served = links.engine(preview) if preview and links.over_http else None
    return served or (f"akool://voices/{voice.voice_id}/preview" if local else None)


def video_status(video: Video, observed: Observed, links: Links, *, waited: float, now_ms: float) -> VideoStatus:
    status = status_label(video.video_status)
    elapsed = round((now_ms - video.create_time) / 1000, 1) if video.create_time else None
    record = observed.record
    error_reason = explain_failure(video.error_reason, record.params)
    file_path = None if links.over_http else record.file_path
    # Over HTTP: the kept copy's signed link (fresh at each call); over stdio the kept file. Never the engine's copy.
    url = links.playable(record.file_path, video.video or None)
    if video.video_status == Status.COMPLETED:
        where = f" the video is kept at {file_path}." if file_path else f" the video is at {url}." if url else ""
        next_step = f"Done:{where}" if where else "Done."
        captions = links.video(kept_captions(record.file_path))
        if captions:
            next_step += f" WebVTT captions: {captions}."
        if observed.saving:
            next_step += (
                " It is still being saved to the output folder: call get_video_status again in a few seconds "
                "for its file_path."
            )
        if observed.problem:
            next_step += f" It could not be kept in the output folder: {observed.problem}"
    elif video.video_status == Status.FAILED:
        reason = error_reason or "no reason given"
        next_step = f"The render failed ({reason}). Fix the inputs and call create_talking_video again."
    else:
        next_step = f"Still {status}: {FOLLOW.format(id=video.id)} to keep following."
    # The avatar, when it was given by id (a URL is the user's own file, not a listed avatar).
    avatar_id = record.avatar if record.avatar and "/" not in record.avatar else None
    return VideoStatus(
        video_id=video.id,
        status=status,
        done=is_final(video),
        avatar_id=avatar_id,
        video_url=url if video.video_status == Status.COMPLETED else None,
        file_path=file_path,
        elapsed_seconds=elapsed,
        waited_seconds=round(waited, 1),
        progress_percent=percent_done(video),
        error_reason=error_reason,
        next_step=next_step,
    )


def percent_done(video: Video) -> float | None:
    """The render's progress out of 100: 100 once completed, the backend's fraction scaled, else unknown."""
    if video.video_status == Status.COMPLETED:
        return 100.0
    if video.progress is not None:
        return round(max(0.0, min(1.0, video.progress)) * 100, 1)
    return None


def progress_report(video: Video, waited: float, wait_seconds: float) -> tuple[float, float, str]:
    """(progress, total, message): the render percentage out of 100 when known, else seconds waited."""
    status = status_label(video.video_status)
    percent = percent_done(video)
    if percent is not None:
        return percent, 100.0, f"video {status} {percent:g}%, {waited:.0f} s waited"
    return min(waited, wait_seconds), wait_seconds, f"video {status}, {waited:.0f} s of {wait_seconds:g} s waited"


def create_description(backend: str) -> str:
    cost = (
        "Akool bills each video to the user's credit (see get_credit; check framing with preview_video_layout)."
        if backend == "akool"
        else "Renders free on this computer."
    )
    return dedent(f"""\
        Create a 3840x2160 talking-avatar video. {cost}
        One avatar (avatar_id or avatar_url), one speech (text + voice_id, or audio_url).
        Call once; follow it with get_video_status.""")


def register(server: MCPServer[AppState], backend: str) -> None:
    @server.tool(
        title="Create a talking-avatar video", annotations=PAID_CREATE, description=create_description(backend)
    )
    @model_errors
    async def create_talking_video(
        state: StateDep,
        client: ClientDep,
        library: LibraryDep,
        plan: Annotated[Plan, Resolve(plan_video)],
        consent: Annotated[ElicitationResult[SpendConfirmation], Resolve(confirm_video)],
        avatar_id: params.AvatarId = None,
        avatar_url: params.AvatarUrl = None,
        text: Annotated[
            str | None,
            Field(max_length=params.MAX_TEXT, description="What the avatar says (with voice_id), up to 10 minutes."),
        ] = None,
        voice_id: Annotated[str | None, Field(max_length=200, description="A voice_id from list_voices.")] = None,
        audio_url: params.AudioUrl = None,
        background: params.Background = params.BACKGROUND,
        avatar_x: params.AvatarX = params.X,
        avatar_y: params.AvatarY = params.Y,
        avatar_scale: params.AvatarScale = params.SCALE,
        avatar_width: params.AvatarWidth = params.WIDTH,
        avatar_height: params.AvatarHeight = params.HEIGHT,
        webhook_url: Annotated[str | None, Field(description="http(s) URL called when the status changes.")] = None,
        elements: Annotated[
            list[dict[str, Any]] | None,
            Field(
                max_length=10,
                description="Advanced: Akool's raw elements; replaces avatar, speech, background, placement.",
            ),
        ] = None,
        request_id: params.RequestId = None,
        allow_duplicate: params.AllowDuplicate = False,
        burn_captions: Annotated[bool, Field(description="Also draw the captions into the picture.")] = False,
    ) -> VideoCreated:
        spec: VideoSpec = plan.spec

        async def send() -> Video:
            try:
                return await client.create_talking_video(plan.request)
            except AkoolAPIError as exc:
                raise in_tool_words(exc, spec) from exc

        sent = await send_once(
            state,
            plan,
            "video",
            request_id=request_id,
            allow_duplicate=allow_duplicate,
            consent=consent,
            what="this video",
            send=send,
            made_id=lambda made: made.id,
        )
        if sent.made is None:
            assert sent.earlier is not None
            assert sent.earlier.result_id is not None
            known = library.registry.get(sent.earlier.result_id)
            return VideoCreated(
                video_id=sent.earlier.result_id,
                status=status_label(known.status) if known else "queueing",
                backend=state.backend,
                next_step=f"{sent.note} {FOLLOW_NEXT.format(id=sent.earlier.result_id)} to follow it.",
            )
        video = sent.made
        avatar, summary = describe(spec)
        library.created(
            video, backend=state.backend, avatar=avatar, summary=summary, params=element_params(spec), script=spec.text
        )
        billed = " Akool bills it to your credit." if state.backend == "akool" else ""
        return VideoCreated(
            video_id=video.id,
            status=status_label(video.video_status),
            backend=state.backend,
            next_step=f"Rendering has started.{billed} {FOLLOW_NEXT.format(id=video.id)} to follow it to the "
            "finished file.",
        )

    @server.tool(title="Get a video's status", annotations=READ_AND_KEEP)
    @model_errors
    async def get_video_status(
        ctx: AppContext,
        state: StateDep,
        client: ClientDep,
        library: LibraryDep,
        links: LinksDep,
        video_id: Annotated[str, Field(min_length=1, max_length=200, description="From create_talking_video.")],
        wait_seconds: Annotated[
            float,
            Field(ge=0, le=MAX_WAIT_SECONDS, description="Wait up to this long for the end (0: just check)."),
        ] = 0,
    ) -> Annotated[CallToolResult, VideoStatus]:
        """Check a video's status. Once completed, the MP4 and its WebVTT captions are kept in the output folder
        and the result shows a poster frame and links the files."""

        if is_script(video_id.strip()):
            return await script_status(ctx, state, client, links, video_id.strip(), wait_seconds)

        async def on_poll(video: Video, waited: float) -> None:
            if wait_seconds > 0:
                await ctx.report_progress(*progress_report(video, waited, wait_seconds))

        try:
            video, waited = await wait_for_video(
                client,
                video_id.strip(),
                wait_seconds=wait_seconds,
                clock=state.clock,
                on_poll=on_poll,
                max_interval=state.poll_max,
            )
        except NotFoundError as exc:
            where = "Akool has" if state.backend == "akool" else "the local engine has"
            raise InputError(
                "video_id",
                f"{where} no video {video_id.strip()[:60]!r}; list_videos shows the videos made through this server "
                "(create_talking_video gives the id of a new one).",
            ) from exc
        saving_wait = max(min(5.0, state.save_budget), state.save_budget - waited)
        observed = await library.observe(video, backend=state.backend, wait=saving_wait)
        result = video_status(video, observed, links, waited=waited, now_ms=state.clock.now_ms())
        structured = result.model_dump(mode="json")
        blocks: list[ContentBlock] = [TextContent(type="text", text=json.dumps(structured, indent=2))]
        if video.video_status == Status.COMPLETED:
            blocks += finished_blocks(observed.record, links)
        return CallToolResult(content=blocks, structured_content=structured)

    @server.tool(title="List voices", annotations=READ_ONLY)
    @model_errors
    async def list_voices(
        state: StateDep,
        client: ClientDep,
        links: LinksDep,
        language: Annotated[str | None, Field(max_length=35, description="e.g. 'en' or 'es-ES'.")] = None,
        page: Annotated[int, Field(ge=1, le=10_000)] = 1,
        size: Annotated[int, Field(ge=1, le=100)] = 100,
    ) -> VoiceList:
        """List the voices that can speak text in create_talking_video (pass a voice_id with text); each
        has a spoken sample at preview_url."""
        listing = await client.list_voices(page=page, size=size)
        voices = [
            VoiceInfo(
                voice_id=v.voice_id,
                name=v.name,
                gender=v.gender,
                language=v.language,
                locale=v.locale,
                quality=v.quality,
                preview_url=voice_preview_url(v, links, local=state.backend == "local"),
            )
            for v in listing.result
        ]
        if language:
            wanted = language.lower()
            voices = [v for v in voices if any((x or "").lower().startswith(wanted) for x in (v.language, v.locale))]
        return VoiceList(backend=state.backend, voices=voices, total=len(voices) if language else listing.count)
