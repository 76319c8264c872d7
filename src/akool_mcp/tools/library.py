"""Tools about the videos already made: list them, save one under a name, and the credit balance."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from mcp.server.mcpserver import MCPServer
from pydantic import Field

from akool_mcp.domain.links import Links
from akool_mcp.domain.registry import VideoRecord
from akool_mcp.models import status_label
from akool_mcp.tools.results import CreditInfo, SavedVideo, VideoEntry, VideoListing
from akool_mcp.tools.state import (
    LOCAL_READ,
    LOCAL_WRITE,
    READ_ONLY,
    AppState,
    ClientDep,
    LibraryDep,
    LinksDep,
    StateDep,
    model_errors,
)


def entry(record: VideoRecord, links: Links) -> VideoEntry:
    return VideoEntry(
        video_id=record.video_id,
        status=status_label(record.status),
        backend="local" if record.backend == "local" else "akool",
        created_at=datetime.fromtimestamp(record.created_at, UTC).isoformat(timespec="seconds"),
        avatar=record.avatar,
        summary=record.summary,
        file_path=None if links.over_http else record.file_path,
        video_url=links.playable(record.file_path, record.remote_url),
    )


def register(server: MCPServer[AppState], backend: str) -> None:
    @server.tool(title="List my videos", annotations=LOCAL_READ)
    @model_errors
    async def list_videos(
        library: LibraryDep,
        links: LinksDep,
        limit: Annotated[int, Field(ge=1, le=100, description="How many, 1 to 100.")] = 20,
        offset: Annotated[int, Field(ge=0, description="Skip this many of the newest.")] = 0,
    ) -> VideoListing:
        """List the videos made through this server, newest first, with status, saved file and a summary."""
        records = library.registry.newest(limit=limit, offset=offset)
        return VideoListing(
            videos=[entry(r, links) for r in records],
            total=library.registry.count(),
            output_dir=None if links.over_http else str(library.output_dir),
        )

    @server.tool(title="Save a video under a name", annotations=LOCAL_WRITE)
    @model_errors
    async def save_video(
        library: LibraryDep,
        links: LinksDep,
        video_id: Annotated[str, Field(min_length=1, max_length=200, description="A completed video's video_id.")],
        name: Annotated[
            str,
            Field(min_length=1, max_length=120, description="A file name such as 'welcome.mp4' (no folders)."),
        ],
    ) -> SavedVideo:
        """Save a finished video under a file name of the user's choosing, in the output folder."""
        record = await library.save_as(video_id.strip(), name)
        return SavedVideo(
            video_id=record.video_id,
            file_path=None if links.over_http else record.file_path,
            video_url=links.playable(record.file_path, None),
        )

    credit_doc = (
        "Show the Akool credit balance, before paying for a video or an avatar upload."
        if backend == "akool"
        else "Show the credit balance (the local engine renders for free)."
    )

    @server.tool(title="Get the credit balance", annotations=READ_ONLY, description=credit_doc)
    @model_errors
    async def get_credit(state: StateDep, client: ClientDep) -> CreditInfo:
        if state.backend == "local":
            return CreditInfo(backend="local", note="Rendering on the local engine is free: no credit is used.")
        credit = await client.get_credit()
        return CreditInfo(
            backend="akool", credit=credit.credit, note="Each video and avatar upload is billed to this credit."
        )
