"""Parameters shared by create_talking_video and preview_video_layout: the avatar, background, placement."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from akool_mcp.domain.compose import DEFAULT_BACKGROUND, Placement
from akool_mcp.models import CANVAS_HEIGHT, CANVAS_WIDTH

MAX_TEXT = 5000

AvatarId = Annotated[str | None, Field(max_length=200, description="An avatar_id from list_avatars (or avatar_url).")]
Background = Annotated[
    str | None,
    Field(description="Colour (#RRGGBB[AA] or a name like blue) or image link; empty for none."),
]
AvatarX = Annotated[float, Field(ge=-3840, le=7680, description="Avatar centre x; canvas is 3840 wide.")]
AvatarY = Annotated[float, Field(ge=-2160, le=4320, description="Avatar centre y; canvas is 2160 high.")]
AvatarScale = Annotated[float, Field(gt=0, le=4)]
AvatarWidth = Annotated[float, Field(gt=0, le=15360, description="Avatar box size, px.")]
AvatarHeight = Annotated[float, Field(gt=0, le=8640)]

BACKGROUND: str = DEFAULT_BACKGROUND
X: float = CANVAS_WIDTH // 2
Y: float = CANVAS_HEIGHT // 2
SCALE: float = 1
WIDTH: float = CANVAS_WIDTH
HEIGHT: float = CANVAS_HEIGHT
# Paid calls on Akool: never sent twice (see tools.spending); offered on the akool backend only.
RequestId = Annotated[
    str | None,
    Field(min_length=1, max_length=100, description="Your id for this request: reusing it returns the same result."),
]
AllowDuplicate = Annotated[
    bool, Field(description="Send even if an identical request went out in the last 10 minutes.")
]
PAID_ONLY = ("request_id", "allow_duplicate")
# Links are checked (length, scheme, extension) where they are parsed, with messages naming them.
AvatarUrl = Annotated[str | None, Field(description="Your own picture or video.")]
AudioUrl = Annotated[str | None, Field(description="Recorded speech.")]


def url_descriptions(allow_local_paths: bool) -> dict[str, str]:
    """avatar_url and audio_url accept local files only where the server runs on the user's own machine."""
    where = "http(s) link or local file path" if allow_local_paths else "http(s) link"
    return {
        "avatar_url": f"Your own picture (.png .jpg .webp) or video (.mp4 .mov): {where}.",
        "audio_url": f"Recorded speech (.mp3 .wav .m4a): {where}.",
        "video_url": f"A clear ~1 minute video (.mp4 .mov .avi) or photo (.png .jpg .webp) of the person: {where}.",
    }


def placement(x: float, y: float, width: float, height: float, scale: float) -> Placement:
    return Placement(center_x=x, center_y=y, width=width, height=height, scale=scale)
