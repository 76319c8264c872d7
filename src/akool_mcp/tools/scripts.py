"""create_video_from_script: several scenes made into one video, and the prompt from a brief to a script."""

from __future__ import annotations

import json
from typing import Annotated, Literal

from mcp.server.elicitation import ElicitationResult
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.resolve import Elicit, Resolve
from mcp.types import CallToolResult, ContentBlock, TextContent
from pydantic import BaseModel, ConfigDict, Field

from akool_mcp.client import AkoolClient
from akool_mcp.domain.compose import VideoSpec
from akool_mcp.domain.keeping import kept_captions
from akool_mcp.domain.ledger import fingerprint
from akool_mcp.domain.links import Links
from akool_mcp.domain.requests import describe, element_params, in_tool_words
from akool_mcp.domain.script_videos import Progress, ScenePlan, Scripts, Started, Transition
from akool_mcp.errors import AkoolAPIError, AkoolError, InputError
from akool_mcp.models import ContractViolation, StatusName, Video, status_label
from akool_mcp.tools import params
from akool_mcp.tools.content import finished_blocks
from akool_mcp.tools.plans import FIRST_WORDS, checked_video
from akool_mcp.tools.results import ScriptCreated, VideoStatus
from akool_mcp.tools.spending import Plan, SpendConfirmation, ask_before_spending, estimated_seconds, send_once
from akool_mcp.tools.state import PAID_CREATE, AppContext, AppState, ClientDep, StateDep, model_errors, state_of

MAX_SCENES = 10
VOICE_PAGES = 20  # of 100 voices: Akool lists a few hundred
FOLLOW_NEXT = "Call get_video_status with video_id={id!r} and wait_seconds=45"


# The fields are described once, in the tool's description, not one by one: every word in a schema is
# paid for in every conversation (tools/list).
class Scene(BaseModel):
    """A scene, as create_talking_video takes it."""

    model_config = ConfigDict(extra="forbid")

    avatar_id: Annotated[str | None, Field(max_length=200)] = None
    avatar_url: str | None = None
    text: Annotated[str | None, Field(max_length=params.MAX_TEXT)] = None
    voice_id: Annotated[str | None, Field(max_length=200)] = None
    audio_url: str | None = None
    background: str | None = None
    avatar_x: Annotated[float | None, Field(ge=-3840, le=7680)] = None
    avatar_y: Annotated[float | None, Field(ge=-2160, le=4320)] = None
    avatar_scale: Annotated[float | None, Field(gt=0, le=4)] = None
    avatar_width: Annotated[float | None, Field(gt=0, le=15360)] = None
    avatar_height: Annotated[float | None, Field(gt=0, le=8640)] = None

    def spec(self) -> VideoSpec:
        def given(value: float | None, default: float) -> float:
            return default if value is None else value

        return VideoSpec(
            avatar_id=self.avatar_id.strip() if self.avatar_id else None,
            avatar_url=self.avatar_url.strip() if self.avatar_url else None,
            text=self.text,
            voice_id=self.voice_id.strip() if self.voice_id else None,
            audio_url=self.audio_url.strip() if self.audio_url else None,
            background=params.BACKGROUND if self.background is None else self.background,
            placement=params.placement(
                given(self.avatar_x, params.X),
                given(self.avatar_y, params.Y),
                given(self.avatar_width, params.WIDTH),
                given(self.avatar_height, params.HEIGHT),
                given(self.avatar_scale, params.SCALE),
            ),
        )


Scenes = Annotated[
    list[Scene],
    Field(min_length=1, max_length=MAX_SCENES, description="1 to 10 scenes, in order."),
]
Title = Annotated[str | None, Field(max_length=200, description="Shown in list_videos.")]
TransitionParam = Annotated[
    Literal["cut", "crossfade"], Field(description="Between scenes: cut (no re-encoding) or crossfade.")
]


def _in_scene(index: int, exc: AkoolError | ContractViolation) -> AkoolError:
    """A scene's refusal, naming the scene and the parameter: scenes[1].voice_id: ..."""
    if isinstance(exc, ContractViolation):
        return InputError(f"scenes[{index}].{exc.field}", exc.message)
    if isinstance(exc, InputError):
        return InputError(f"scenes[{index}].{exc.field}", str(exc).split(": ", 1)[-1])
    return type(exc)(f"scenes[{index}]: {exc}", code=exc.code, http_status=exc.http_status)


async def plan_script(
    ctx: AppContext,
    scenes: list[Scene],
    title: str | None,
    transition: Transition,
    request_id: str | None,
    allow_duplicate: bool,
) -> Plan:
    """Every scene checked (its avatar, voice, links and files) before anything is asked or sent."""
    state = state_of(ctx)
    plans: list[ScenePlan] = []
    shown: list[str] = []
    voices: set[str] | None = None
    for index, scene in enumerate(scenes):
        try:
            spec, request, avatar = await checked_video(state, scene.spec())
            if spec.text and spec.voice_id:
                voices = voices if voices is not None else await known_voices(await state.client())
                if spec.voice_id not in voices:
                    raise InputError("voice_id", f"no voice has voice_id {spec.voice_id!r}; call list_voices.")
        except (AkoolError, ContractViolation) as exc:
            return Plan(error=_in_scene(index, exc))
        body = request.model_dump(mode="json", exclude_none=True)
        who, summary = describe(spec)
        seconds = float(estimated_seconds(spec.text)) if spec.text else 10.0
        plans.append(
            ScenePlan(
                request=request,
                fingerprint=fingerprint({"backend": state.backend, "request": body}),
                avatar=who,
                summary=summary,
                seconds=seconds,
                params=element_params(spec),
                text=spec.text,
            )
        )
        words = (spec.text or "").split()
        said = " ".join(words[:FIRST_WORDS]) + (" ..." if len(words) > FIRST_WORDS else "")
        name = f"{avatar.name} ({avatar.avatar_id})" if avatar else who or "your avatar"
        speech = f'"{said}" (about {seconds:.0f} s)' if said else "recorded speech"
        shown.append(f"Scene {index + 1}: {name}, {speech}")
    print_ = fingerprint({"scenes": [p.fingerprint for p in plans], "transition": transition, "title": title})
    claim = None
    if state.backend == "akool" and state.ledger is not None:
        claim = state.ledger.check("script", print_, request_id=request_id, allow_duplicate=allow_duplicate)
    total = sum(p.seconds for p in plans)

    def question(credit: str) -> str:
        head = (
            f"Make this {len(plans)}-scene video on Akool? Each scene is a render billed to your Akool credit: "
            f"{len(plans)} renders, about {total:.0f} s in all."
        )
        return "\n".join([head, *shown, f"Credit balance: {credit}"])

    return Plan(request=plans, spec=scenes, print_=print_, claim=claim, question=question)


async def known_voices(client: AkoolClient) -> set[str]:
    """Every voice_id the backend offers (a script is checked whole before any scene is sent)."""
    found: set[str] = set()
    for page in range(1, VOICE_PAGES + 1):
        listing = await client.list_voices(page=page, size=100)
        found |= {voice.voice_id for voice in listing.result}
        if len(listing.result) < 100 or len(found) >= listing.count:
            break
    return found


async def confirm_script(
    ctx: AppContext, plan: Annotated[Plan, Resolve(plan_script)]
) -> SpendConfirmation | Elicit[SpendConfirmation]:
    return await ask_before_spending(ctx, plan)


def _scripts(state: StateDep) -> Scripts:
    if state.scripts is None:
        raise RuntimeError("scripts are not open")
    return state.scripts


def register(server: MCPServer[AppState], backend: str) -> None:
    cost = (
        "Each scene is a render billed by Akool (one confirmation for all)."
        if backend == "akool"
        else "Renders free on this computer."
    )

    @server.tool(
        title="Create one video from a script of scenes",
        annotations=PAID_CREATE,
        description="One 3840x2160 video from scenes in order, joined with one soundtrack. A scene takes "
        "create_talking_video's avatar, speech, background and placement parameters (same meaning and defaults). "
        f"{cost} All scenes are checked before anything is sent. Follow with get_video_status; made again after a "
        "scene failed, only that scene renders again.",
    )
    @model_errors
    async def create_video_from_script(
        state: StateDep,
        client: ClientDep,
        scripts: Annotated[Scripts, Resolve(_scripts)],
        plan: Annotated[Plan, Resolve(plan_script)],
        consent: Annotated[ElicitationResult[SpendConfirmation], Resolve(confirm_script)],
        scenes: Scenes,
        title: Title = None,
        transition: TransitionParam = "cut",
        request_id: params.RequestId = None,
        allow_duplicate: params.AllowDuplicate = False,
    ) -> ScriptCreated:
        plans: list[ScenePlan] = plan.request if plan.error is None else []

        async def send_scene(scene: ScenePlan) -> Video:
            try:
                return await client.create_talking_video(scene.request)
            except AkoolAPIError as exc:
                index = next(n for n, p in enumerate(plans) if p is scene)
                raise _in_scene(index, in_tool_words(exc, scenes[index].spec())) from exc

        async def send() -> Started:
            return await scripts.start(
                plans, backend=state.backend, title=title, transition=transition, send=send_scene
            )

        sent = await send_once(
            state,
            plan,
            "script",
            request_id=request_id,
            allow_duplicate=allow_duplicate,
            consent=consent,
            what="this script",
            send=send,
            made_id=lambda made: made.script.script_id,
        )
        if sent.made is None:
            assert sent.earlier is not None
            assert sent.earlier.result_id is not None
            script_id = sent.earlier.result_id
            return ScriptCreated(
                video_id=script_id,
                scenes=len(scenes),
                backend=state.backend,
                next_step=f"{sent.note} {FOLLOW_NEXT.format(id=script_id)} to follow it.",
            )
        script, fresh = sent.made.script, sent.made.sent
        reused = len(plans) - fresh
        kept = (
            f" {reused} scene{'s' if reused != 1 else ''} made before {'are' if reused != 1 else 'is'} reused."
            if reused
            else ""
        )
        billed = f" Akool bills each of the {fresh} new scene renders." if state.backend == "akool" and fresh else ""
        return ScriptCreated(
            video_id=script.script_id,
            scenes=len(plans),
            backend=state.backend,
            next_step=f"Rendering {fresh} of {len(plans)} scenes.{kept}{billed} "
            f"{FOLLOW_NEXT.format(id=script.script_id)} to follow them to the joined file.",
        )

    @server.prompt(title="Make a video from a brief, scene by scene")
    def make_video_from_brief(brief: str, presenters: str = "") -> str:
        """From a brief to a finished multi-scene video: a script of scenes, a framing check of each, the render."""
        who = f" Presenters wanted: {presenters}." if presenters else ""
        billing = " Each scene is billed on Akool: say so, with the number of scenes." if backend == "akool" else ""
        return (
            f"Make a short talking-avatar video from this brief:\n\n{brief}\n\nSteps.{who}\n"
            "1. Write a script of 2 to 5 scenes: an opening, the body (one idea a scene) and a close. Keep each "
            "scene's text to a few sentences that sound natural when spoken. Show the user the script.\n"
            "2. Call list_avatars (source official) and list_voices (the script's language); pick an avatar and "
            "a matching voice per scene (one presenter throughout, or a different one for the close).\n"
            "3. Choose each scene's background (a colour like #1E90FF or an image link) and placement; call "
            "preview_video_layout for each scene (free) and show the frames; adjust until the user is happy.\n"
            "4. Call create_video_from_script once with the scenes in order (transition cut, or crossfade for "
            f"a softer join).{billing}\n"
            "5. Follow it with get_video_status(video_id, wait_seconds=45) until completed; it reports which "
            "scene is rendering. Give the user the file and offer save_video to name it. If a scene failed, fix "
            "that scene and call create_video_from_script again: the other scenes are reused."
        )


async def script_status(
    ctx: AppContext,
    state: AppState,
    client: AkoolClient,
    links: Links,
    script_id: str,
    wait_seconds: float,
) -> CallToolResult:
    """get_video_status for a script video: which scene is rendering, then the joined file."""
    scripts = _scripts(state)

    async def on_poll(progress: Progress) -> None:
        if wait_seconds > 0:
            await ctx.report_progress(progress.percent, 100.0, progress.summary)

    progress = await scripts.follow(client.get_video, script_id, wait_seconds=wait_seconds, on_poll=on_poll)
    record = scripts.library.registry.get(script_id)
    file_path = progress.file_path or (record.file_path if record else None)
    status: StatusName = status_label(progress.status)
    if progress.status == "completed":
        where = f" the video is kept at {file_path}." if file_path and not links.over_http else ""
        next_step = f"Done: {len(progress.script.scenes)} scenes joined into one video;{where or ' see video_url.'}"
        captions = links.video(kept_captions(file_path))
        if captions:
            next_step += f" WebVTT captions: {captions}."
    elif progress.status == "failed":
        next_step = (
            f"{progress.error}. Fix that scene and call create_video_from_script again with the same scenes: the "
            "others are reused, only the failed one is rendered again."
        )
    elif progress.problem:
        next_step = f"All scenes rendered, but {progress.problem}. Call get_video_status again to retry the join."
    else:
        next_step = f"Still working ({progress.summary}). {FOLLOW_NEXT.format(id=script_id)} to keep following."
    created = progress.script.created_at
    result = VideoStatus(
        video_id=script_id,
        status=status,
        done=progress.status in ("completed", "failed"),
        avatar_id=progress.script.scenes[0].avatar if progress.script.scenes[0].avatar else None,
        video_url=links.playable(file_path, None) if progress.status == "completed" else None,
        file_path=None if links.over_http else file_path if progress.status == "completed" else None,
        elapsed_seconds=round(state.clock.now_ms() / 1000 - created, 1),
        waited_seconds=round(progress.waited, 1),
        progress_percent=progress.percent,
        error_reason=progress.error,
        next_step=next_step,
    )
    structured = result.model_dump(mode="json")
    blocks: list[ContentBlock] = [TextContent(type="text", text=json.dumps(structured, indent=2))]
    if progress.status == "completed" and record is not None:
        blocks += finished_blocks(scripts.library.registry.get(script_id) or record, links)
    return CallToolResult(content=blocks, structured_content=structured)
