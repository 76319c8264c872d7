"""An avatar's moving rectangle: what each animator promises, and how a changed region reaches the frame."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from akool_mcp.render.encode import YuvFrame
from akool_mcp.render.layers import Drawable, Rect
from akool_mcp.render.pixels import Image
from akool_mcp.render.yuv import to_i420


class Animator(Protocol):
    def rects(self) -> list[Rect]:
        """Canvas rectangles this avatar may change after the first frame."""
        ...

    def composite_still(self, canvas: Image) -> None:
        """Draw the avatar at rest onto the full canvas."""
        ...

    def prepare(self, below: dict[Rect, Image], above: Sequence[Drawable]) -> None:
        """Pre-render moving parts given what lies under (per rect) and the layers above."""
        ...

    def write(self, index: int, openness: float, frame: YuvFrame) -> None:
        """Put frame ``index`` (mouth ``openness``) into the YUV frame.

        Called in order on one worker thread. A few YUV frames are reused in turn, each starting
        as the still canvas, so every call must rewrite all of the avatar's rects.
        """
        ...


def put_region(frame: YuvFrame, rect: Rect, region: Image, above: Sequence[Drawable]) -> None:
    """The layers above the avatar composited over its changed ``region``, written into ``frame`` as YUV."""
    for layer in above:
        layer.composite(region, rect)
    frame.put(rect[0], rect[1], to_i420(region))
