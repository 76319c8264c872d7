# OpenCV's stubs return untyped arrays: relax the unknown-type checks here only.
# pyright: reportUnknownArgumentType=false
"""The painter of the built-in avatars: splines, fills, soft masks, in design units.

Everything is drawn on premultiplied BGRA uint8 images: OpenCV's anti-aliased fills blend all
four channels by coverage, which is exactly premultiplied "over" for opaque colours, so edges
on the transparent background come out right and downsampling with INTER_AREA stays correct.
Shapes are given in design units (a 1000 x 1000 bust) and scaled by the painter.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt

from akool_mcp.render.pixels import Image, Mask

Points = Sequence[tuple[float, float]] | npt.NDArray[np.float64]
Color = tuple[int, int, int]  # BGR

_SHIFT = 4  # sub-pixel bits for cv2 coordinates
_ONE = 1 << _SHIFT
# Wide blurs run on a copy reduced int(sigma / _BLUR_SHRINK) times (from a sigma of 8 px): the
# result is smooth, so scaling it back up loses nothing visible.
_BLUR_SHRINK = 4


def spline(points: Points, closed: bool = False, samples: int = 10) -> npt.NDArray[np.float64]:
    """Catmull-Rom curve through ``points`` (a few control points give a smooth outline)."""
    p = np.asarray(points, np.float64)
    if len(p) < 3:
        return p
    padded = np.vstack([p[-1:], p, p[:2]]) if closed else np.vstack([p[:1], p, p[-1:]])
    segments = len(p) if closed else len(p) - 1
    t = np.linspace(0.0, 1.0, samples, endpoint=False)[:, None]
    t2, t3 = t * t, t * t * t
    out: list[npt.NDArray[np.float64]] = []
    for i in range(segments):
        p0, p1, p2, p3 = padded[i], padded[i + 1], padded[i + 2], padded[i + 3]
        out.append(
            0.5 * (2 * p1 + (p2 - p0) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t2 + (3 * p1 - p0 - 3 * p2 + p3) * t3)
        )
    if not closed:
        out.append(p[-1:])
    return np.vstack(out)


def mirror(points: Points, axis: float = 500.0) -> npt.NDArray[np.float64]:
    """Reflect points about the vertical line x = axis (the face's centre line)."""
    p = np.asarray(points, np.float64).copy()
    p[:, 0] = 2 * axis - p[:, 0]
    return p


def symmetric(right_half: Points, axis: float = 500.0) -> npt.NDArray[np.float64]:
    """Closed outline from its right half given top to bottom (centre points included once)."""
    right = np.asarray(right_half, np.float64)
    left = mirror(right[::-1], axis)
    return np.vstack([right, left[1:-1]]) if right[0, 0] == axis else np.vstack([right, left])


def shade(color: Color, factor: float) -> Color:
    """Darker (factor < 1) or lighter (factor > 1, towards white) variant of a colour."""
    if factor <= 1:
        return (int(color[0] * factor), int(color[1] * factor), int(color[2] * factor))
    k = factor - 1
    return (
        int(color[0] + (255 - color[0]) * k),
        int(color[1] + (255 - color[1]) * k),
        int(color[2] + (255 - color[2]) * k),
    )


def mix(a: Color, b: Color, t: float) -> Color:
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


class Painter:
    """Draws design-unit shapes onto a premultiplied BGRA image (or a window of one).

    ``origin`` is the image's top-left in full-avatar pixels, so a crop can be painted with the
    same coordinates as the whole avatar.
    """

    def __init__(self, image: Image, scale: float, origin: tuple[int, int] = (0, 0)) -> None:
        self.image = image
        self.scale = scale
        self.origin = origin

    def px(self, points: Points) -> npt.NDArray[np.int32]:
        p = np.asarray(points, np.float64) * self.scale
        p = p - np.asarray(self.origin, np.float64)
        return np.round(p * _ONE).astype(np.int32)

    def fill(self, points: Points, color: Color) -> None:
        cv2.fillPoly(self.image, [self.px(points)], (*color, 255), cv2.LINE_AA, _SHIFT)

    def ellipse(self, center: tuple[float, float], axes: tuple[float, float], color: Color, angle: float = 0) -> None:
        c = self.px([center])[0]
        ax = (max(1, round(axes[0] * self.scale * _ONE)), max(1, round(axes[1] * self.scale * _ONE)))
        cv2.ellipse(self.image, (int(c[0]), int(c[1])), ax, angle, 0, 360, (*color, 255), -1, cv2.LINE_AA, _SHIFT)

    def line(self, points: Points, color: Color, width: float, *, closed: bool = False, alpha: float = 1.0) -> None:
        """A stroke; ``alpha`` below 1 is only right over transparent pixels (premultiplied paint)."""
        thickness = max(1, round(width * self.scale))
        paint = (color[0] * alpha, color[1] * alpha, color[2] * alpha, 255 * alpha)
        cv2.polylines(self.image, [self.px(points)], closed, paint, thickness, cv2.LINE_AA, _SHIFT)

    def mask(self) -> npt.NDArray[np.float32]:
        """A blank float mask the size of the image, for soft effects."""
        return np.zeros(self.image.shape[:2], np.float32)

    def mask_fill(self, mask: npt.NDArray[np.float32], points: Points, value: float = 1.0) -> None:
        cv2.fillPoly(mask, [self.px(points)], value, cv2.LINE_AA, _SHIFT)

    def mask_ellipse(
        self, mask: npt.NDArray[np.float32], center: tuple[float, float], axes: tuple[float, float], value: float = 1.0
    ) -> None:
        c = self.px([center])[0]
        ax = (max(1, round(axes[0] * self.scale * _ONE)), max(1, round(axes[1] * self.scale * _ONE)))
        cv2.ellipse(mask, (int(c[0]), int(c[1])), ax, 0, 0, 360, value, -1, cv2.LINE_AA, _SHIFT)

    def mask_line(self, mask: npt.NDArray[np.float32], points: Points, width: float, value: float = 1.0) -> None:
        thickness = max(1, round(width * self.scale))
        cv2.polylines(mask, [self.px(points)], False, value, thickness, cv2.LINE_AA, _SHIFT)

    def blur(self, mask: Mask, radius: float) -> npt.NDArray[np.float32]:
        """Gaussian blur of a mask, cheap even for wide radii on big avatars.

        Only the mask's bounding box (plus the blur's reach) is processed, and wide blurs run
        on a reduced copy: a smooth result scaled back up loses nothing visible.
        """
        sigma = max(0.5, radius * self.scale)
        box = bounds(mask)
        if box is None:
            return mask.astype(np.float32)
        h, w = mask.shape
        reach = math.ceil(3 * sigma)
        x0, y0 = max(0, box[0] - reach), max(0, box[1] - reach)
        x1, y1 = min(w, box[2] + reach), min(h, box[3] + reach)
        crop = mask[y0:y1, x0:x1].astype(np.float32)
        factor = max(1, int(sigma / _BLUR_SHRINK))
        if factor > 1 and min(crop.shape) > 4 * factor:
            small = cv2.resize(crop, ((x1 - x0) // factor, (y1 - y0) // factor), interpolation=cv2.INTER_AREA)
            small = cv2.GaussianBlur(small, (0, 0), sigma / factor)
            blurred = cv2.resize(small, (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR)
        else:
            blurred = cv2.GaussianBlur(crop, (0, 0), sigma)
        out = np.zeros(mask.shape, np.float32)
        out[y0:y1, x0:x1] = blurred
        return out

    def atop(self, mask: Mask, color: Color, strength: float = 1.0) -> None:
        """Tint existing paint towards ``color`` where ``mask`` is set, keeping its coverage.

        Works only inside the mask's bounding box, so soft effects stay cheap on big avatars.
        """
        box = bounds(mask)
        if box is None:
            return
        x0, y0, x1, y1 = box
        region = self.image[y0:y1, x0:x1]
        k = np.clip(mask[y0:y1, x0:x1] * strength, 0.0, 1.0)
        alpha = np.ascontiguousarray(region[..., 3])
        # Premultiplied paint: the tint is scaled by the coverage already there.
        tint = cv2.merge([((alpha.astype(np.uint16) * c + 127) // 255).astype(np.uint8) for c in color])
        region[..., :3] = cv2.blendLinear(np.ascontiguousarray(region[..., :3]), tint, 1.0 - k, k)

    def darken(self, mask: Mask, strength: float) -> None:
        """Multiply existing paint by up to ``1 - strength`` where ``mask`` is set (a shadow)."""
        box = bounds(mask)
        if box is None:
            return
        x0, y0, x1, y1 = box
        region = self.image[y0:y1, x0:x1]
        keep = 1.0 - np.clip(mask[y0:y1, x0:x1] * strength, 0.0, 1.0)
        region[..., :3] = cv2.multiply(np.ascontiguousarray(region[..., :3]), cv2.merge([keep] * 3), dtype=cv2.CV_8U)


def bounds(mask: Mask) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1) of the pixels a mask touches, or None for an empty mask."""
    x, y, w, h = cv2.boundingRect((mask > 1e-3).view(np.uint8))
    if w == 0 or h == 0:
        return None
    return x, y, x + w, y + h
