"""Tools about avatars: list them, upload one, check one."""

from __future__ import annotations

from typing import Annotated, Literal

from mcp.server.mcpserver import MCPServer
from pydantic import Field

from akool_mcp.domain.links import Links
from akool_mcp.domain.lookup import resolve_avatar
from akool_mcp.domain.requests import upload_avatar
from akool_mcp.models import Status
from akool_mcp.tools.results import AvatarInfo, AvatarList, AvatarResult
from akool_mcp.tools.state import PAID_CREATE, READ_ONLY, AppState, ClientDep, LinksDep, StateDep, model_errors

_SOURCES = {"all": None, "official": 2, "mine": 3}
_KINDS = {"all": None, "talking": 1, "streaming": 2}


def _next_step_for(info: AvatarInfo) -> str:
    if info.status == "completed":
        return f"Ready: pass avatar_id={info.avatar_id!r} to create_talking_video."
    if info.status == "failed":
        reason = f" ({info.error_reason})" if info.error_reason else ""
        return f"Processing this avatar failed{reason}. Upload a clearer video or image with create_avatar."
    return f"Not ready yet ({info.status}): call get_avatar with id={info.record_id!r} again in a minute."


def linked(info: AvatarInfo, links: Links) -> AvatarInfo:
    """Over HTTP, the local engine's pictures as URLs on this server instead of paths on its disk."""
    if links.over_http:
        info.preview_url = links.engine(info.preview_url)
        info.thumbnail_url = links.engine(info.thumbnail_url)
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

    @server.tool(
        title="Upload an avatar",
        annotations=PAID_CREATE,
        description="Upload your own avatar from a video or photo of a person, facing the camera."
        + billed
        + (" Follow it with get_avatar until completed, then use its avatar_id in create_talking_video."),
    )
    @model_errors
    async def create_avatar(
        state: StateDep,
        client: ClientDep,
        links: LinksDep,
        video_url: Annotated[str, Field(min_length=1, max_length=2048, description="The person's video or photo.")],
        avatar_id: Annotated[
            str, Field(min_length=1, max_length=100, description="A new unique id, letters and digits, e.g. 'Mary1'.")
        ],
        name: Annotated[str | None, Field(max_length=200, description="A display name.")] = None,
        kind: Annotated[Literal["talking", "streaming"], Field(description="talking for videos.")] = "talking",
    ) -> AvatarResult:
        created = await upload_avatar(
            client,
            url=video_url,
            avatar_id=avatar_id,
            name=name,
            type_=_KINDS[kind] or 1,
            allow_local_paths=state.allow_local_paths,
        )
        info = linked(AvatarInfo.from_wire(created), links)  # over HTTP: links, never engine paths
        if created.status is None:
            info.status = "queueing"
        return AvatarResult(avatar=info, ready=info.status == "completed", next_step=_next_step_for(info))

    @server.tool(
        title="Get an avatar",
        annotations=READ_ONLY,
    )
    @model_errors
    async def get_avatar(
        client: ClientDep,
        links: LinksDep,
        id: Annotated[
            str, Field(description="The avatar's record_id, or its avatar_id (both come from list_avatars).")
        ],
    ) -> AvatarResult:
        """Check one avatar's status (queueing, processing, completed = usable, failed)."""
        avatar = await resolve_avatar(client, id)
        info = linked(AvatarInfo.from_wire(avatar), links)
        return AvatarResult(
            avatar=info, ready=avatar.status in (None, Status.COMPLETED), next_step=_next_step_for(info)
        )
