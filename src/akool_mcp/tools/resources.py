"""Videos and avatars as resources, and a prompt that walks from a script to a finished video.

`akool://videos/{video_id}` is a video's metadata (JSON); `/poster.jpg` and `/video.mp4` below it are
the files, read inline up to a size limit (a larger MP4 is linked instead). Avatars likewise, with
their thumbnails.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio.to_thread
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError
from mcp.types import Resource

from akool_mcp.domain.keeping import kept_captions
from akool_mcp.domain.lookup import find_by_avatar_id
from akool_mcp.domain.registry import VideoRecord
from akool_mcp.errors import AkoolError
from akool_mcp.media.pictures import PictureError, as_png
from akool_mcp.tools.avatars import linked
from akool_mcp.tools.content import video_uri
from akool_mcp.tools.library import entry
from akool_mcp.tools.results import AvatarInfo
from akool_mcp.tools.state import AppContext, AppState, state_of

MAX_INLINE_BYTES = 16 * 1024 * 1024  # larger videos are linked: base64 would swell a message past what clients take
LISTED_VIDEOS = 50
LISTED_AVATARS = 20


def video_resources(records: list[VideoRecord]) -> list[Resource]:
    listed: list[Resource] = []
    for record in records:
        words = f": {record.summary}" if record.summary else ""
        listed.append(
            Resource(
                uri=video_uri(record.video_id),
                name=f"video {record.video_id}",
                title=f"Video ({record.status}){words}"[:120],
                mime_type="application/json",
            )
        )
        if record.file_path:
            listed.append(
                Resource(
                    uri=f"{video_uri(record.video_id)}/video.mp4",
                    name=Path(record.file_path).name,
                    title=f"Video file{words}"[:120],
                    mime_type="video/mp4",
                )
            )
    return listed


def avatar_resources(avatars: list[AvatarInfo]) -> list[Resource]:
    return [
        Resource(
            uri=f"akool://avatars/{avatar.avatar_id}",
            name=f"avatar {avatar.avatar_id}",
            title=f"Avatar: {avatar.name}"[:120],
            mime_type="application/json",
        )
        for avatar in avatars
    ]


def _read(path: str, what: str) -> bytes:
    file = Path(path)
    if not file.is_file():
        raise ResourceError(f"the {what} is no longer on disk")
    size = file.stat().st_size
    if size > MAX_INLINE_BYTES:
        raise ResourceError(
            f"the {what} is {size // (1024 * 1024)} MB, too large to read inline; open it from the video's "
            "file_path or video_url (see its metadata resource)."
        )
    return file.read_bytes()


def register(server: MCPServer[AppState]) -> None:
    def record_of(ctx: AppContext, video_id: str) -> tuple[VideoRecord, AppState]:
        state = state_of(ctx)
        if state.library is None:
            raise ResourceError("the video library is not open")
        record = state.library.registry.get(video_id)
        if record is None:
            raise ResourceError(f"no video {video_id!r} was made through this server; see list_videos")
        return record, state

    @server.resource("akool://videos/{video_id}", mime_type="application/json", title="A video's metadata")
    async def video_metadata(video_id: str, ctx: AppContext) -> str:
        record, state = record_of(ctx, video_id)
        assert state.links is not None
        body: dict[str, Any] = entry(record, state.links).model_dump(mode="json")
        if record.file_path:
            body["resources"] = {
                "poster": f"{video_uri(video_id)}/poster.jpg",
                "mp4": f"{video_uri(video_id)}/video.mp4",
            }
            if kept_captions(record.file_path):
                body["resources"]["captions"] = f"{video_uri(video_id)}/captions.vtt"
        return json.dumps(body)

    @server.resource("akool://videos/{video_id}/poster.jpg", mime_type="image/jpeg", title="A video's poster")
    async def video_poster(video_id: str, ctx: AppContext) -> bytes:
        record, _ = record_of(ctx, video_id)
        if not record.poster_path:
            raise ResourceError("this video has no poster yet: it is not finished (see get_video_status)")
        return await anyio.to_thread.run_sync(_read, record.poster_path, "poster")

    @server.resource("akool://videos/{video_id}/video.mp4", mime_type="video/mp4", title="A finished video")
    async def video_file(video_id: str, ctx: AppContext) -> bytes:
        record, _ = record_of(ctx, video_id)
        if not record.file_path:
            raise ResourceError("this video is not kept yet: follow it with get_video_status until completed")
        return await anyio.to_thread.run_sync(_read, record.file_path, "video")

    @server.resource("akool://videos/{video_id}/captions.vtt", mime_type="text/vtt", title="A video's captions")
    async def video_captions(video_id: str, ctx: AppContext) -> str:
        record, _ = record_of(ctx, video_id)
        captions = kept_captions(record.file_path)
        if captions is None:
            raise ResourceError(
                "this video has no captions: it is not kept yet (see get_video_status), or its speech was a "
                "recording rather than text"
            )
        return await anyio.to_thread.run_sync(Path(captions).read_text, "utf-8")

    @server.resource("akool://voices/{voice_id}/preview", mime_type="audio/mpeg", title="A voice's spoken preview")
    async def voice_preview(voice_id: str, ctx: AppContext) -> bytes:
        from akool_mcp.speech import SpeechError
        from akool_mcp.speech.samples import preview_file

        state = state_of(ctx)
        root = state.links.files_root if state.links else None
        if root is None:
            raise ResourceError("previews here are of the local engine's voices; play an Akool voice's preview_url")
        try:
            path = await anyio.to_thread.run_sync(preview_file, voice_id, root / "voices")
        except SpeechError as exc:
            raise ResourceError(f"{exc} (see list_voices)") from exc
        return await anyio.to_thread.run_sync(path.read_bytes)

    @server.resource("akool://avatars/{avatar_id}", mime_type="application/json", title="An avatar")
    async def avatar_metadata(avatar_id: str, ctx: AppContext) -> str:
        state = state_of(ctx)
        try:
            found = await find_by_avatar_id(await state.client(), avatar_id)
        except AkoolError as exc:
            raise ResourceError(str(exc)) from exc
        if found is None:
            raise ResourceError(f"no avatar has avatar_id {avatar_id!r}; see list_avatars")
        info = AvatarInfo.from_wire(found)
        return (linked(info, state.links) if state.links else info).model_dump_json()

    @server.resource("akool://avatars/{avatar_id}/thumbnail", mime_type="image/png", title="An avatar's picture")
    async def avatar_thumbnail(avatar_id: str, ctx: AppContext) -> bytes:
        from akool_mcp.media.fetch import FetchPolicy
        from akool_mcp.media.first_frame import PreviewError, read_picture

        state = state_of(ctx)
        try:
            found = await find_by_avatar_id(await state.client(), avatar_id)
        except AkoolError as exc:
            raise ResourceError(str(exc)) from exc
        link = (found.thumbnail_url or found.url or None) if found is not None else None
        if link is None or state.preview_http is None:
            raise ResourceError(f"avatar {avatar_id!r} has no picture; see list_avatars")
        try:
            data, kind = await read_picture(
                link,
                policy=FetchPolicy(allow_local_paths=False),
                http=state.preview_http,
                field="thumbnail",
                trusted_root=state.links.files_root if state.links else None,
            )
        except PreviewError as exc:
            raise ResourceError(str(exc)) from exc
        # The resource says image/png, so a JPEG or WebP thumbnail is re-encoded rather than mislabelled.
        if kind == "image/png":
            return data
        try:
            return await anyio.to_thread.run_sync(as_png, data)
        except PictureError as exc:
            raise ResourceError(f"the avatar's picture {exc}") from None

    @server.prompt(title="Make a talking video from a script")
    def make_talking_video(script: str, look: str = "") -> str:
        """From a script to a finished video: avatar, voice, background, framing check, render, delivery."""
        wanted = f" The user wants it to look like this: {look}." if look else ""
        return (
            "Make a talking-avatar video that says this script:\n\n"
            f"{script}\n\n"
            f"Steps.{wanted}\n"
            "1. Call list_avatars (source official) and pick an avatar that fits; tell the user which.\n"
            "2. Call list_voices with the script's language and pick a voice matching the avatar.\n"
            "3. Choose a background (a colour like #1E90FF or an image link) and the avatar's placement.\n"
            "4. Call preview_video_layout with those parameters and show the user the frame; adjust until "
            "they are happy. Call get_credit if rendering is billed.\n"
            "5. Call create_talking_video once with the same parameters plus text and voice_id.\n"
            "6. Call get_video_status with wait_seconds=45 until it is completed, then tell the user where the "
            "file is (file_path) and offer save_video to give it a name."
        )
