"""What each paid tool would send, worked out before anything is asked or sent (see tools.spending).

These are resolvers: the SDK runs them before the tool body, once per round, and the question resolver and
the tool share the plan. A plan never raises: a refused input is carried in `Plan.error` and raised by the
tool inside its error boundary, so the model reads it in the tool's words.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from mcp.server.mcpserver.resolve import Elicit, Resolve

from akool_mcp.domain.compose import VideoSpec, background_colour, build_request
from akool_mcp.domain.ledger import Kind, fingerprint
from akool_mcp.domain.lookup import avatar_source, ready_avatar
from akool_mcp.domain.sources import check_source, given_source, given_sources, probe_sources
from akool_mcp.errors import AkoolError, InputError
from akool_mcp.models import (
    Avatar,
    AvatarCreateRequest,
    ContractViolation,
    TalkingVideoRequest,
    validate_avatar_create,
)
from akool_mcp.models.contract import shown
from akool_mcp.tools import params
from akool_mcp.tools.spending import Plan, SpendConfirmation, ask_before_spending, estimated_seconds
from akool_mcp.tools.state import AppContext, AppState, state_of

FIRST_WORDS = 12


def _policy(state: AppState) -> Any:
    from akool_mcp.media.fetch import FetchPolicy  # lazy: start-up should not pay for the fetcher

    return FetchPolicy(allow_local_paths=state.allow_local_paths)  # private targets: the guarded transport's say


def _ledger_check(state: AppState, kind: Kind, body: dict[str, Any], request_id: str | None, again: bool) -> Any:
    print_ = fingerprint(body)
    if state.backend != "akool" or state.ledger is None:
        return print_, None
    return print_, state.ledger.check(kind, print_, request_id=request_id, allow_duplicate=again)


async def plan_video(
    ctx: AppContext,
    avatar_id: str | None,
    avatar_url: str | None,
    text: str | None,
    voice_id: str | None,
    audio_url: str | None,
    background: str | None,
    avatar_x: float,
    avatar_y: float,
    avatar_scale: float,
    avatar_width: float,
    avatar_height: float,
    webhook_url: str | None,
    elements: list[dict[str, Any]] | None,
    request_id: str | None,
    allow_duplicate: bool,
    burn_captions: bool = False,
) -> Plan:
    state = state_of(ctx)
    spec = VideoSpec(
        avatar_id=avatar_id.strip() if avatar_id else None,
        avatar_url=avatar_url.strip() if avatar_url else None,
        text=text,
        voice_id=voice_id.strip() if voice_id else None,
        audio_url=audio_url.strip() if audio_url else None,
        background=background,
        placement=params.placement(avatar_x, avatar_y, avatar_width, avatar_height, avatar_scale),
        webhook_url=webhook_url,
        elements=elements,
        burn_captions=burn_captions,
    )
    try:
        if burn_captions and not text:
            raise InputError("burn_captions", "needs text: the words of recorded speech (audio_url) are not known.")
        spec, request, avatar = await checked_video(state, spec)
    except (AkoolError, ContractViolation) as exc:
        return Plan(error=exc)
    body = request.model_dump(mode="json", exclude_none=True)
    print_, claim = _ledger_check(state, "video", body, request_id, allow_duplicate)
    return Plan(
        request=request,
        spec=spec,
        print_=print_,
        claim=claim,
        question=lambda credit: video_question(spec, avatar, credit),
    )


async def checked_video(state: AppState, spec: VideoSpec) -> tuple[VideoSpec, TalkingVideoRequest, Avatar | None]:
    """The spec as the backend will take it, its request, and its avatar: every check that can be made before
    anything is sent (the cheap ones first, so a bad input costs no probe of a link). Raises what is wrong."""
    avatar: Avatar | None = None
    client = await state.client()
    spec = given_sources(spec, allow_local_paths=state.allow_local_paths, backend=state.backend)
    build_request(spec, allow_local_paths=state.allow_local_paths)  # cheap checks first: no probe for a bad input
    if state.preview_http is not None:
        await probe_sources(spec, policy=_policy(state), http=state.preview_http)
    if spec.avatar_id and spec.elements is None:
        avatar = await ready_avatar(client, spec.avatar_id)
        spec = replace(spec, avatar_from=avatar_source(avatar))
    return spec, build_request(spec, allow_local_paths=state.allow_local_paths), avatar


def video_question(spec: VideoSpec, avatar: Avatar | None, credit: str) -> str:
    if spec.elements is not None:
        lines = ["Avatar, speech and background: as given in elements"]
    else:
        who = (
            f"{avatar.name} ({avatar.avatar_id})" if avatar else f"your picture or video {shown(spec.avatar_url or '')}"
        )
        if spec.text:
            words = spec.text.split()
            said = " ".join(words[:FIRST_WORDS]) + (" ..." if len(words) > FIRST_WORDS else "")
            speech = [f'First words: "{said}"', f"Estimated length: about {estimated_seconds(spec.text)} s"]
        else:
            speech = [f"Speech: the recording {shown(spec.audio_url or '')}"]
        colour = background_colour(spec.background) if spec.background else None
        backdrop = "none" if not spec.background else colour or f"the picture {shown(spec.background)}"
        lines = [f"Avatar: {who}", *speech, f"Background: {backdrop}"]
    return "\n".join(
        ["Make this talking video on Akool? It is billed to your Akool credit.", *lines, f"Credit balance: {credit}"]
    )


async def confirm_video(
    ctx: AppContext, plan: Annotated[Plan, Resolve(plan_video)]
) -> SpendConfirmation | Elicit[SpendConfirmation]:
    return await ask_before_spending(ctx, plan)


_KINDS = {"talking": 1, "streaming": 2}


async def plan_avatar(
    ctx: AppContext,
    video_url: str,
    avatar_id: str,
    name: str | None,
    kind: str,
    request_id: str | None,
    allow_duplicate: bool,
) -> Plan:
    state = state_of(ctx)
    request = AvatarCreateRequest(
        url=video_url.strip(), avatar_id=avatar_id.strip(), name=name, type=_KINDS.get(kind, 1)
    )
    try:
        try:
            validate_avatar_create(request, allow_local_paths=True)  # the link or file is checked just below
        except ContractViolation as exc:
            if exc.field != "url":
                raise InputError("kind" if exc.field == "type" else exc.field, exc.message) from exc
        url = given_source("video_url", request.url, allow_local_paths=state.allow_local_paths, backend=state.backend)
        request = request.model_copy(update={"url": url})
        try:
            validate_avatar_create(request, allow_local_paths=state.allow_local_paths)
        except ContractViolation as exc:
            raise InputError("video_url" if exc.field == "url" else exc.field, exc.message) from exc
        if state.preview_http is not None:
            await check_source("video_url", url, "avatar", policy=_policy(state), http=state.preview_http)
    except AkoolError as exc:
        return Plan(error=exc)
    body = request.model_dump(mode="json", exclude_none=True)
    print_, claim = _ledger_check(state, "avatar", body, request_id, allow_duplicate)
    return Plan(
        request=request, spec=request, print_=print_, claim=claim, question=lambda c: avatar_question(request, c)
    )


def avatar_question(request: AvatarCreateRequest, credit: str) -> str:
    return "\n".join(
        [
            "Upload this avatar to Akool? It is billed to your Akool credit.",
            f"avatar_id: {request.avatar_id}" + (f" ({request.name})" if request.name else ""),
            f"From: {shown(request.url)}",
            f"Credit balance: {credit}",
        ]
    )


async def confirm_avatar(
    ctx: AppContext, plan: Annotated[Plan, Resolve(plan_avatar)]
) -> SpendConfirmation | Elicit[SpendConfirmation]:
    return await ask_before_spending(ctx, plan)
