"""preview_video_layout: the first frame of a video, composed locally, before anything is paid for."""

from __future__ import annotations

import base64
from typing import Annotated

from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult, ImageContent, TextContent

from akool_mcp.domain.compose import VideoSpec, build_visuals
from akool_mcp.domain.requests import avatar_picture
from akool_mcp.domain.sources import given_sources
from akool_mcp.errors import AkoolError
from akool_mcp.tools import params
from akool_mcp.tools.results import Result
from akool_mcp.tools.state import LOCAL_READ, AppState, ClientDep, StateDep, model_errors


class LayoutPreview(Result):
    width: int
    height: int
    seconds: float
    note: str


class PreviewFailed(AkoolError):
    """The preview could not be composed; the message says which parameter to change."""


def register(server: MCPServer[AppState], backend: str) -> None:
    when = " Free: use it before a billed render." if backend == "akool" else ""
    description = (
        "Show a video's first frame as an image, from create_talking_video's avatar, background and "
        f"placement parameters (no speech). Creates nothing.{when}"
    )

    @server.tool(title="Preview a video's framing", annotations=LOCAL_READ, description=description)
    @model_errors
    async def preview_video_layout(
        state: StateDep,
        client: ClientDep,
        avatar_id: params.AvatarId = None,
        avatar_url: params.AvatarUrl = None,
        background: params.Background = params.BACKGROUND,
        avatar_x: params.AvatarX = params.X,
        avatar_y: params.AvatarY = params.Y,
        avatar_scale: params.AvatarScale = params.SCALE,
        avatar_width: params.AvatarWidth = params.WIDTH,
        avatar_height: params.AvatarHeight = params.HEIGHT,
    ) -> Annotated[CallToolResult, LayoutPreview]:
        from akool_mcp.media.fetch import FetchPolicy
        from akool_mcp.media.first_frame import AvatarSource, PreviewError, compose_preview

        spec = VideoSpec(
            avatar_id=avatar_id.strip() if avatar_id else None,
            avatar_url=avatar_url.strip() if avatar_url else None,
            background=background,
            placement=params.placement(avatar_x, avatar_y, avatar_width, avatar_height, avatar_scale),
        )
        spec = given_sources(spec, allow_local_paths=state.allow_local_paths, backend=state.backend)
        elements = build_visuals(spec, allow_local_paths=state.allow_local_paths)
        builtin_id, link, field = await avatar_picture(client, spec, backend=state.backend)
        if state.preview_http is None or state.links is None:
            raise RuntimeError("the preview client is not open")
        try:
            preview = await compose_preview(
                elements,
                AvatarSource(builtin_id=builtin_id, link=link, field=field),
                policy=FetchPolicy(allow_local_paths=state.allow_local_paths),
                http=state.preview_http,
                trusted_root=state.links.files_root,
            )
        except PreviewError as exc:
            raise PreviewFailed(str(exc)) from exc
        result = LayoutPreview(
            width=preview.width,
            height=preview.height,
            seconds=round(preview.seconds, 2),
            note="The first frame at reduced size, mouth closed; no video was created. Pass the same "
            "parameters to create_talking_video.",
        )
        return CallToolResult(
            content=[
                ImageContent(type="image", data=base64.b64encode(preview.jpeg).decode(), mime_type="image/jpeg"),
                TextContent(type="text", text=result.note),
            ],
            structured_content=result.model_dump(mode="json"),
        )
