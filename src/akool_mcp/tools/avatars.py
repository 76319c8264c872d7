"""Tools about avatars: list them, upload one, check one."""

from __future__ import annotations

from typing import Annotated, Literal

from mcp.server.mcpserver import MCPServer
from pydantic import Field

from akool_mcp.domain.lookup import resolve_avatar
from akool_mcp.errors import InputError
from akool_mcp.models import AvatarCreateRequest, ContractViolation, Status, validate_avatar_create
from akool_mcp.tools.results import AvatarInfo, AvatarList, AvatarResult
from akool_mcp.tools.state import PAID_CREATE, READ_ONLY, AppContext, AppState, model_errors, state_of

_SOURCES = {"all": None, "official": 2, "mine": 3}
_KINDS = {"all": None, "talking": 1, "streaming": 2}


def _next_step_for(info: AvatarInfo) -> str:
    if info.status == "completed":
        return f"Ready: pass avatar_id={info.avatar_id!r} to create_talking_video."
    if info.status == "failed":
        reason = f" ({info.error_reason})" if info.error_reason else ""
        return f"Processing this avatar failed{reason}. Upload a clearer video or image with create_avatar."
    return f"Not ready yet ({info.status}): call get_avatar with id={info.record_id!r} again in a minute."


def register(server: MCPServer[AppState]) -> None:
    @server.tool(
        title="List avatars",
        annotations=READ_ONLY,
    )
    @model_errors
    async def list_avatars(
        ctx: AppContext,
        source: Annotated[
            Literal["all", "official", "mine"],
            Field(description="official: ready-made avatars; mine: avatars you uploaded; all: both."),
        ] = "all",
        kind: Annotated[
            Literal["all", "talking", "streaming"],
            Field(description="talking avatars are the ones create_talking_video uses."),
        ] = "all",
        page: Annotated[int, Field(ge=1, description="Page number, from 1.")] = 1,
        size: Annotated[int, Field(ge=1, le=100, description="Avatars per page, 1 to 100.")] = 20,
    ) -> AvatarList:
        """List the avatars you can put in a talking video, with their avatar_id, name, status and preview.

        Use an avatar's avatar_id with create_talking_video. Avatars whose status is not "completed" are
        still being prepared.
        """
        state = state_of(ctx)
        client = await state.client()
        listing = await client.list_avatars(from_=_SOURCES[source], type_=_KINDS[kind], page=page, size=size)
        avatars = [AvatarInfo.from_wire(a) for a in listing.result]
        total = max(listing.count, (page - 1) * size + len(avatars))
        return AvatarList(
            backend=state.backend,
            avatars=avatars,
            total=total,
            page=page,
            size=size,
            has_more=page * size < total,
        )

    @server.tool(
        title="Upload an avatar",
        annotations=PAID_CREATE,
    )
    @model_errors
    async def create_avatar(
        ctx: AppContext,
        video_url: Annotated[
            str,
            Field(
                description="http(s) link to a clear video (.mp4 .mov .avi, about one minute, small head "
                "turns) or a photo (.png .jpg .jpeg .webp) of the person, facing the camera."
            ),
        ],
        avatar_id: Annotated[
            str, Field(description="A new unique id you choose, letters and digits only, e.g. 'MaryDesk1'.")
        ],
        name: Annotated[str | None, Field(description="A display name for the avatar.")] = None,
        kind: Annotated[Literal["talking", "streaming"], Field(description="talking for videos.")] = "talking",
    ) -> AvatarResult:
        """Upload your own avatar from a video or photo of a person. Akool bills avatar creation to your account.

        The avatar is prepared in the background: follow it with get_avatar until its status is
        "completed", then use its avatar_id in create_talking_video.
        """
        state = state_of(ctx)
        request = AvatarCreateRequest(
            url=video_url.strip(), avatar_id=avatar_id.strip(), name=name, type=_KINDS[kind] or 1
        )
        try:
            validate_avatar_create(request, allow_local_paths=state.allow_local_paths)
        except ContractViolation as exc:
            field = "video_url" if exc.field == "url" else "kind" if exc.field == "type" else exc.field
            raise InputError(field, exc.message) from exc
        client = await state.client()
        created = await client.create_avatar(request)
        if not created.avatar_id:
            created.avatar_id = request.avatar_id
        info = AvatarInfo.from_wire(created)
        if created.status is None:
            info.status = "queueing"
        return AvatarResult(avatar=info, ready=info.status == "completed", next_step=_next_step_for(info))

    @server.tool(
        title="Get an avatar",
        annotations=READ_ONLY,
    )
    @model_errors
    async def get_avatar(
        ctx: AppContext,
        id: Annotated[
            str, Field(description="The avatar's record_id, or its avatar_id (both come from list_avatars).")
        ],
    ) -> AvatarResult:
        """Check one avatar and its status (queueing, processing, completed, failed).

        An uploaded avatar can be used once its status is "completed".
        """
        avatar = await resolve_avatar(await state_of(ctx).client(), id)
        info = AvatarInfo.from_wire(avatar)
        return AvatarResult(
            avatar=info, ready=avatar.status in (None, Status.COMPLETED), next_step=_next_step_for(info)
        )
