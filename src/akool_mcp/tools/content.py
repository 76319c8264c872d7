"""Content blocks that show a finished video in the conversation: its poster and links to the MP4 and captions."""

from __future__ import annotations

import base64
from pathlib import Path

from mcp.types import ContentBlock, ImageContent, ResourceLink

from akool_mcp.domain.keeping import kept_captions
from akool_mcp.domain.links import Links
from akool_mcp.domain.registry import VideoRecord


def video_uri(video_id: str) -> str:
    return f"akool://videos/{video_id}"


def finished_blocks(record: VideoRecord, links: Links) -> list[ContentBlock]:
    """The poster (inline JPEG) and a link to the MP4, when the video has been kept.

    Over HTTP the link is the file's URL on this server; over stdio, the video's resource.
    """
    blocks: list[ContentBlock] = []
    if record.poster_path and Path(record.poster_path).is_file():
        data = base64.b64encode(Path(record.poster_path).read_bytes()).decode()
        blocks.append(ImageContent(type="image", data=data, mime_type="image/jpeg"))
    served = links.video(record.file_path) if links.over_http else None
    if record.file_path and Path(record.file_path).is_file():
        blocks.append(
            ResourceLink(
                type="resource_link",
                uri=served or f"{video_uri(record.video_id)}/video.mp4",
                name=Path(record.file_path).name,
                title="The finished video",
                mime_type="video/mp4",
                size=Path(record.file_path).stat().st_size,
            )
        )
    captions = kept_captions(record.file_path)
    if captions is not None:
        blocks.append(
            ResourceLink(
                type="resource_link",
                uri=(links.video(captions) if links.over_http else None)
                or f"{video_uri(record.video_id)}/captions.vtt",
                name=Path(captions).name,
                title="Its captions (WebVTT)",
                mime_type="text/vtt",
            )
        )
    return blocks
