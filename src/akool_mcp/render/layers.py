"""Loading pictures and placing layers on the canvas.

Layer pixels are premultiplied BGRA uint8 (``draw.over`` composites them); the canvas is BGR.
A placed layer answers "what are your pixels over this canvas rectangle?", so the static
canvas and the few small moving regions are composited by the same code.
"""

from __future__ import annotations

import pathlib
from dataclasses import dataclass
from typing import cast

import cv2
import numpy as np

from akool_mcp.render.composition import Box, RenderError
from akool_mcp.render.pixels import Image, over

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
MAX_SOURCE_PIXELS = 50_000_000  # a 50 MP photo is plenty; bigger files are likely mistakes
_EAGER_SCALE_PIXELS = 12_000_000  # scale a whole layer up front only up to about 1.5 4K frames

Rect = tuple[int, int, int, int]  # x0, y0, x1, y1 on the canvas, half-open


def intersect(a: Rect, b: Rect) -> Rect | None:
    x0, y0, x1, y1 = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    return (x0, y0, x1, y1) if x0 < x1 and y0 < y1 else None


def box_rect(box: Box) -> Rect:
    return box.left, box.top, box.left + box.width, box.top + box.height


def even_rect(rect: Rect, width: int, height: int) -> Rect:
    """Grow a rectangle to even edges (4:2:0 chroma covers 2x2 pixels), clipped to the canvas."""
    x0, y0, x1, y1 = rect
    return max(0, x0 - x0 % 2), max(0, y0 - y0 % 2), min(width, x1 + x1 % 2), min(height, y1 + y1 % 2)


def inside_picture(rect: Rect, width: int, height: int) -> Rect:
    """``rect`` inside a width x height picture; at least 1x1 (a face off the picture gets a token patch)."""
    x0, y0, x1, y1 = rect
    x0, y0 = min(max(0, x0), width - 1), min(max(0, y0), height - 1)
    return x0, y0, max(x0 + 1, min(width, x1)), max(y0 + 1, min(height, y1))


def premultiply(bgra: Image) -> Image:
    alpha = bgra[..., 3:4].astype(np.uint16)
    rgb = ((bgra[..., :3].astype(np.uint16) * alpha + 127) // 255).astype(np.uint8)
    return np.concatenate([rgb, bgra[..., 3:4]], axis=2)


def load_image(path: pathlib.Path) -> Image:
    """Read a picture as premultiplied BGRA; RenderError if it is not a usable image."""
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise RenderError(f"{path.name!r} is not a supported image; use .png, .jpg, .jpeg or .webp")
    if not path.is_file():
        raise RenderError(f"image {path.name!r} does not exist")
    data = np.fromfile(path, np.uint8)
    # JPEGs carry no alpha but may carry an EXIF rotation, which only IMREAD_COLOR applies.
    flags = cv2.IMREAD_COLOR if path.suffix.lower() in (".jpg", ".jpeg") else cv2.IMREAD_UNCHANGED
    image = cv2.imdecode(data, flags) if len(data) else None
    if image is None:
        raise RenderError(f"could not read {path.name!r} as an image; re-export it as PNG or JPEG")
    if image.shape[0] * image.shape[1] > MAX_SOURCE_PIXELS:
        raise RenderError(f"{path.name!r} is {image.shape[1]}x{image.shape[0]}; use an image under 50 megapixels")
    if image.dtype == np.uint16:
        image = (image // 257).astype(np.uint8)
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGRA)
    elif image.shape[2] == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2BGRA)
    elif image.shape[2] == 2:  # grey + alpha
        image = cv2.cvtColor(np.ascontiguousarray(image[..., 0]), cv2.COLOR_GRAY2BGRA)
    return premultiply(np.ascontiguousarray(image.astype(np.uint8)))


@dataclass(frozen=True)
class Solid:
    """A colour layer: one premultiplied colour over a box."""

    bgr: tuple[int, int, int]
    alpha: int
    rect: Rect

    def composite(self, canvas: Image, area: Rect) -> None:
        """Draw onto ``canvas``, whose top-left is the canvas point (area[0], area[1])."""
        hit = intersect(self.rect, area)
        if hit is None or self.alpha == 0:
            return
        region = canvas[hit[1] - area[1] : hit[3] - area[1], hit[0] - area[0] : hit[2] - area[0]]
        corner = (region.shape[1] - 1, region.shape[0] - 1)
        if self.alpha == 255:
            cv2.rectangle(region, (0, 0), corner, self.bgr, -1)  # in place, ~40x numpy's fill
            return
        a = self.alpha / 255.0
        paint = np.empty_like(region)
        cv2.rectangle(paint, (0, 0), corner, self.bgr, -1)
        region[...] = cv2.addWeighted(region, 1.0 - a, paint, a, 0.0)


class Placed:
    """A picture scaled to a box (premultiplied BGRA source), read out one rectangle at a time."""

    def __init__(self, source: Image, box: Box, *, fast: bool = False) -> None:
        """``fast``: scale with bilinear filtering (for video frames, scaled once each)."""
        if box.width < 1 or box.height < 1:
            raise RenderError(f"a layer box must be at least 1x1 pixels; got {box.width}x{box.height}")
        self.source = source
        self.box = box
        self.rect = box_rect(box)
        self._scaled: Image | None = None
        self.fast = fast

    @property
    def scale(self) -> tuple[float, float]:
        return self.box.width / self.source.shape[1], self.box.height / self.source.shape[0]

    def pixels(self, area: Rect) -> tuple[Rect, Image] | None:
        """The layer's pixels over ``area`` (clipped to the layer) as (rect, BGRA)."""
        hit = intersect(self.rect, area)
        if hit is None:
            return None
        sh, sw = self.source.shape[:2]
        bw, bh = self.box.width, self.box.height
        lx0, ly0, lx1, ly1 = (
            hit[0] - self.box.left,
            hit[1] - self.box.top,
            hit[2] - self.box.left,
            hit[3] - self.box.top,
        )
        if (bw, bh) == (sw, sh):
            return hit, self.source[ly0:ly1, lx0:lx1]
        if bw * bh <= max(_EAGER_SCALE_PIXELS, sw * sh):
            if self._scaled is None:
                shrink = bw * bh < sw * sh
                interp = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR if self.fast else cv2.INTER_CUBIC
                self._scaled = cast(Image, cv2.resize(self.source, (bw, bh), interpolation=interp))
            return hit, self._scaled[ly0:ly1, lx0:lx1]
        # A huge box (mostly off the canvas): sample only the visible part.
        sx, sy = sw / bw, sh / bh
        matrix = np.array([[sx, 0, (lx0 + 0.5) * sx - 0.5], [0, sy, (ly0 + 0.5) * sy - 0.5]], np.float64)
        size = (lx1 - lx0, ly1 - ly0)
        flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
        warped = cv2.warpAffine(self.source, matrix, size, flags=flags, borderMode=cv2.BORDER_REPLICATE)
        return hit, cast(Image, warped)

    def composite(self, canvas: Image, area: Rect) -> None:
        found = self.pixels(area)
        if found is None:
            return
        hit, pixels = found
        over(canvas[hit[1] - area[1] : hit[3] - area[1], hit[0] - area[0] : hit[2] - area[0]], pixels)


Drawable = Solid | Placed


def solid(rgba: tuple[int, int, int, int], box: Box) -> Solid:
    if box.width < 1 or box.height < 1:
        raise RenderError(f"a layer box must be at least 1x1 pixels; got {box.width}x{box.height}")
    if any(not 0 <= c <= 255 for c in rgba):
        raise RenderError(f"colour components must be 0-255; got {rgba}")
    r, g, b, a = rgba
    return Solid(bgr=(b, g, r), alpha=a, rect=box_rect(box))
