"""Pictures as YUV 4:2:0 planes, the form decoders give and libx264 takes.

A video avatar's frames stay in the decoder's YUV from decoding to encoding: only the small
rectangles worked on in colour (the face crop the landmark model sees, the mouth patch that is
warped) go to BGR and back. Measured on a 1080p frame: PyAV's conversion to BGR took about 4 ms
and OpenCV's way back 0.6 ms, every frame, and each way softened the chroma a little.
"""

from __future__ import annotations

from typing import cast

import cv2
import numpy as np

from akool_mcp.render.pixels import Image

Rect = tuple[int, int, int, int]  # x0, y0, x1, y1, half-open
Planes = tuple[Image, Image, Image]  # Y, U, V


def to_i420(bgr: Image) -> Image:
    """An even-sized BGR picture as one I420 block (OpenCV's layout: Y rows, then U, then V)."""
    return cast(Image, cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV_I420))


def split_i420(block: Image) -> Planes:
    """Views of the Y, U and V planes of an I420 block."""
    rows, width = block.shape
    height = rows * 2 // 3
    # The chroma planes follow the luma back to back, each (h/2 x w/2) but in w-wide rows.
    chroma = block[height:].reshape(2, height // 2, width // 2)
    return block[:height], chroma[0], chroma[1]


def put_i420(planes: Planes, x: int, y: int, block: Image) -> None:
    """Write an I420 block whose top-left is the even point (x, y) into the planes."""
    src = split_i420(block)
    h, w = src[0].shape
    planes[0][y : y + h, x : x + w] = src[0]
    cx, cy, cw, ch = x // 2, y // 2, w // 2, h // 2
    planes[1][cy : cy + ch, cx : cx + cw] = src[1]
    planes[2][cy : cy + ch, cx : cx + cw] = src[2]


class I420:
    """An even-sized picture held as one I420 block."""

    def __init__(self, block: Image) -> None:
        self.block = block
        self.planes = split_i420(block)
        self.height, self.width = self.planes[0].shape

    @classmethod
    def from_bgr(cls, bgr: Image) -> I420:
        h, w = bgr.shape[:2]
        return cls(to_i420(np.ascontiguousarray(bgr[: h - h % 2, : w - w % 2])))

    def copy(self) -> I420:
        return I420(self.block.copy())

    def bgr(self, rect: Rect | None = None) -> Image:
        """The picture, or the rectangle ``rect`` (even edges) of it, as BGR."""
        if rect is None:
            return cast(Image, cv2.cvtColor(self.block, cv2.COLOR_YUV2BGR_I420))
        x0, y0, x1, y1 = rect
        w, h = x1 - x0, y1 - y0
        block = np.empty((h * 3 // 2, w), np.uint8)
        y, u, v = split_i420(block)
        y[...] = self.planes[0][y0:y1, x0:x1]
        u[...] = self.planes[1][y0 // 2 : y1 // 2, x0 // 2 : x1 // 2]
        v[...] = self.planes[2][y0 // 2 : y1 // 2, x0 // 2 : x1 // 2]
        return cast(Image, cv2.cvtColor(block, cv2.COLOR_YUV2BGR_I420))

    def put_bgr(self, x: int, y: int, bgr: Image) -> None:
        """Write an even-sized BGR block whose top-left is the even point (x, y)."""
        put_i420(self.planes, x, y, to_i420(bgr))
