"""Tools about avatars: list them, upload one (followed to ready on the local engine), check one, delete one."""

from __future__ import annotations

from typing import Annotated, Literal

from mcp.server.elicitation import ElicitationResult
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.resolve import Resolve
from pydantic import Field

from akool_mcp.domain.links import Links
from akool_mcp.domain.lookup import resolve_avatar, wait_for_avatar
from akool_mcp.errors import ConflictError, InputError
from akool_mcp.models import Avatar, AvatarCreateRequest, AvatarSource, Status
from akool_mcp.tools import params
from akool_mcp.tools.plans import confirm_avatar, plan_avatar
from akool_mcp.tools.results import AvatarDeleted, AvatarInfo, AvatarList, AvatarResult
from akool_mcp.tools.spending import Plan, SpendConfirmation, send_once
from akool_mcp.tools.state import (
    LOCAL_DELETE,
    PAID_CREATE,
    READ_ONLY,
    AppContext,
    AppState,
    ClientDep,
    LinksDep,
    StateDep,
    model_errors,
)

_SOURCES = {"all": None, "official": 2, "mine": 3}
_KINDS = {"all": None, "talking": 1, "streaming": 2}
UPLOAD_WAIT = 45.0  # seconds create_avatar follows a local upload (a photo takes about a second, a video a few)

AvatarIdParam = Annotated[
    str,
    Field(min_length=1, max_length=200, description="The avatar's avatar_id (its record_id works too)."),
]


def _next_step_for(info: AvatarInfo, backend: str) -> str:
    if info.status == "completed":
        return f"Ready: pass avatar_id={info.avatar_id!r} to create_talking_video."
    if info.status == "failed":
        reason = f" ({info.error_reason})" if info.error_reason else ""
        again = " Its avatar_id can be used again." if backend == "local" else ""
        return (
            f"Preparing this avatar failed{reason}.{again} Call create_avatar with a clear photo or video of one "
            "face looking at the camera."
        )
    when = "in a few seconds" if backend == "local" else "in a few minutes"
    return f"Not ready yet ({info.status}): call get_avatar with avatar_id={info.avatar_id!r} {when}."


def linked(info: AvatarInfo, links: Links) -> AvatarInfo:
    """The local engine's pictures as links: signed URLs on this server over HTTP, `file://` URLs over stdio."""
    info.preview_url = links.picture(info.preview_url)
    info.thumbnail_url = links.picture(info.thumbnail_url)
    return info


def register(server: MCPServer[AppState], backend: str) -> None:
    billed = " Akool bills avatar creation to the user's credit." if backend == "akool" else ""

    @server.tool(
        title="List avatars",
        annotations=READ_ONLY,
    )
    @model_errors
    async def list_avatars(
        state: StateDep,
        client: ClientDep,
        links: LinksDep,
        source: Annotated[
            Literal["all", "official", "mine"],
            Field(description="official: ready-made; mine: uploaded."),
        ] = "all",
        kind: Annotated[
            Literal["all", "talking", "streaming"],
            Field(description="create_talking_video uses talking ones."),
        ] = "all",
        page: Annotated[int, Field(ge=1, le=10_000)] = 1,
        size: Annotated[int, Field(ge=1, le=100)] = 20,
    ) -> AvatarList:
        """List the avatars for talking videos: avatar_id, name, status ("completed" = ready) and pictures."""
        listing = await client.list_avatars(from_=_SOURCES[source], type_=_KINDS[kind], page=page, size=size)
        avatars = [linked(AvatarInfo.from_wire(a), links) for a in listing.result]
        total = max(listing.count, (page - 1) * size + len(avatars))
        return AvatarList(
            backend=state.backend,
            avatars=avatars,
            total=total,
            page=page,
            size=size,
            has_more=page * size < total,
        )

    follows = (
        " It is followed until ready (a few seconds); then use its avatar_id in create_talking_video."
        if backend == "local"
        else " Follow it with get_avatar until completed, then use its avatar_id in create_talking_video."
    )

    @server.tool(
        title="Upload an avatar",
        annotations=PAID_CREATE,
        description="Upload your own avatar from a video or photo of a person, facing the camera." + billed + follows,
    )
    @model_errors
    async def create_avatar(
        ctx: AppContext,
        state: StateDep,
        client: ClientDep,
        links: LinksDep,
        plan: Annotated[Plan, Resolve(plan_avatar)],
        consent: Annotated[ElicitationResult[SpendConfirmation], Resolve(confirm_avatar)],
        video_url: Annotated[str, Field(min_length=1, max_length=2048, description="The person's video or photo.")],
        avatar_id: Annotated[
            str, Field(min_length=1, max_length=100, description="A new unique id, letters and digits, e.g. 'Mary1'.")
        ],
        name: Annotated[str | None, Field(max_length=200, description="A display name.")] = None,
        kind: Annotated[Literal["talking", "streaming"], Field(description="talking for videos.")] = "talking",
        request_id: params.RequestId = None,
        allow_duplicate: params.AllowDuplicate = False,
    ) -> AvatarResult:
        request: AvatarCreateRequest = plan.request

        async def send() -> Avatar:
            created = await client.create_avatar(request)
            if not created.avatar_id:
                created.avatar_id = request.avatar_id
            return created

        try:
            sent = await send_once(
                state,
                plan,
                "avatar",
                request_id=request_id,
                allow_duplicate=allow_duplicate,
                consent=consent,
                what="this avatar upload",
                send=send,
                made_id=lambda made: made.id,
            )
        except ConflictError as exc:  # refused, so nothing was made or billed
            mine = " (delete_avatar removes it if it is no longer wanted)" if state.backend == "local" else ""
            taken = f"{request.avatar_id!r} is already one of your avatars{mine}"
            raise InputError("avatar_id", f"{taken}; choose another avatar_id.") from exc
        note = ""
        if sent.made is None:
            assert sent.earlier is not None
            assert sent.earlier.result_id is not None
            created = await client.get_avatar(sent.earlier.result_id)
            note = sent.note + " "
        else:
            created = sent.made
        if created.status is None:
            created.status = Status.QUEUEING
        if state.backend == "local" and created.id and created.status in (Status.QUEUEING, Status.PROCESSING):

            async def on_poll(avatar: Avatar, waited: float) -> None:
                label = AvatarInfo.from_wire(avatar).status
                await ctx.report_progress(min(waited, UPLOAD_WAIT), UPLOAD_WAIT, f"avatar {label}, {waited:.0f} s")

            created = await wait_for_avatar(
                client, created.id, wait_seconds=UPLOAD_WAIT, clock=state.clock, on_poll=on_poll, max_interval=1.0
            )
        info = linked(AvatarInfo.from_wire(created), links)  # over HTTP: links, never engine paths
        billed_now = " Akool bills the upload to your credit." if sent.made is not None and backend == "akool" else ""
        return AvatarResult(
            avatar=info,
            ready=info.status == "completed",
            next_step=note + _next_step_for(info, state.backend) + billed_now,
        )

    @server.tool(
        title="Get an avatar",
        annotations=READ_ONLY,
    )
    @model_errors
    async def get_avatar(state: StateDep, client: ClientDep, links: LinksDep, avatar_id: AvatarIdParam) -> AvatarResult:
        """Check one avatar's status (queueing, processing, completed = usable, failed)."""
        avatar = await resolve_avatar(client, avatar_id)
        info = linked(AvatarInfo.from_wire(avatar), links)
        return AvatarResult(
            avatar=info,
            ready=avatar.status in (None, Status.COMPLETED),
            next_step=_next_step_for(info, state.backend),
        )

    if backend != "local":
        return  # Akool's API has no way to delete an avatar: its dashboard does

    @server.tool(title="Delete one of my avatars", annotations=LOCAL_DELETE)
    @model_errors
    async def delete_avatar(client: ClientDep, avatar_id: AvatarIdParam) -> AvatarDeleted:
        """Delete one of your own avatars (a failed upload, or one you no longer want) and its pictures."""
        avatar = await resolve_avatar(client, avatar_id)
        if avatar.from_ == AvatarSource.OFFICIAL:
            raise InputError("avatar_id", f"{avatar.avatar_id!r} is a built-in avatar; only your own can be deleted.")
        if avatar.status in (Status.QUEUEING, Status.PROCESSING):
            raise InputError(
                "avatar_id", f"{avatar.avatar_id!r} is still being prepared; delete it once get_avatar says it is done."
            )
        await client.delete_avatar(avatar.id)
        return AvatarDeleted(
            avatar_id=avatar.avatar_id,
            record_id=avatar.id,
            next_step=f"Deleted. The avatar_id {avatar.avatar_id!r} is free for create_avatar again.",
        )
