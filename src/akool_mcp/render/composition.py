"""The public data types of the renderer."""

from __future__ import annotations

import pathlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from akool_mcp.speech import Speech


class RenderError(Exception):
    """Rendering failed; the message tells the user what is wrong and what to do."""


# Asked often while rendering, inside a frame's work too: true means stop now (RenderError("cancelled")).
Cancelled = Callable[[], bool]


@dataclass(frozen=True)
class Box:
    """A pixel box on the canvas; it may reach past the canvas edges (the outside is clipped)."""

    left: int
    top: int
    width: int
    height: int

    @property
    def right(self) -> int:
        return self.left + self.width

    @property
    def bottom(self) -> int:
        return self.top + self.height


@dataclass(frozen=True)
class ColorLayer:
    rgba: tuple[int, int, int, int]
    box: Box


@dataclass(frozen=True)
class ImageLayer:
    path: pathlib.Path
    box: Box


@dataclass(frozen=True)
class BuiltinAvatar:
    avatar_id: str
    name: str
    gender: str


@dataclass(frozen=True)
class AvatarLayer:
    """The talking avatar: a built-in one, or the user's image or video (looped to the speech)."""

    box: Box
    builtin_id: str | None = None
    image_path: pathlib.Path | None = None
    video_path: pathlib.Path | None = None


Layer = ColorLayer | ImageLayer | AvatarLayer


@dataclass(frozen=True)
class Composition:
    layers: Sequence[Layer]
    speech: Speech
    width: int = 3840
    height: int = 2160
    fps: int = 25
    burn_captions: bool = False  # the speech's caption cues drawn into the picture


@dataclass(frozen=True)
class RenderResult:
    path: pathlib.Path
    duration: float
    frames: int
    width: int
    height: int


@dataclass(frozen=True)
class AvatarAnalysis:
    kind: Literal["image", "video"]
    width: int
    height: int
    duration: float | None
    face_box: tuple[int, int, int, int]  # left, top, width, height in source pixels
    thumbnail_png: bytes
