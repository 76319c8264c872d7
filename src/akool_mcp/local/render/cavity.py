"""The inside of a photo's open mouth: painted between the parted lips, and only there.

The gap between the upper teeth's edge and the lower lip is filled with a warm dark cavity
(darker deep in, the tongue low down when wide open) and, where the photo showed no teeth of
its own, a band of upper teeth. Where the lips nearly meet (towards the corners, or in a closed
pose) the paint fades out with the gap itself: a sliver a pixel or two high drawn dark reads as
a speck, not as an opening.
"""

from __future__ import annotations

from typing import cast

import numpy as np
import numpy.typing as npt

from akool_mcp.local.render.draw import Image
from akool_mcp.local.render.warp import Points, polygon_mask

Floats = npt.NDArray[np.float32]

# BGR. A mouth's inside is a deep, warm red-brown (blue about equal to green), never violet.
INSIDE = np.array([30, 30, 74], np.float32)
THROAT = np.array([14, 14, 32], np.float32)
TONGUE = np.array([88, 92, 168], np.float32)
TEETH = np.array([214, 222, 228], np.float32)
# Lips this far apart (in eye widths) show no inside at all; this far and more show all of it.
SHUT_GAP = 0.006
SHOWN_GAP = 0.02


def paint_inside(
    out: Image, edge: Points, lower: Points, unit: float, light: float, teeth_height: float | None
) -> None:
    """Paint the mouth's inside into ``out`` (BGR) between ``edge`` and ``lower``, in place.

    ``edge``: the upper teeth's edge, corner to corner; ``lower``: the lower lip's inner
    contour, corner to corner (both in ``out``'s pixels). ``teeth_height``: draw a band of
    synthetic upper teeth that high (px), or none.
    """
    polygon = np.vstack([edge, lower[1:-1][::-1]]).astype(np.float32)
    height, width = out.shape[:2]
    feather = max(0.8, unit / 140)
    # Paint only over the gap's own box: a small part of the patch.
    margin = 2 * feather + 2
    bx0, by0 = np.floor(polygon.min(axis=0) - margin).astype(int).clip(0)
    bx1 = min(width, int(np.ceil(polygon[:, 0].max() + margin)))
    by1 = min(height, int(np.ceil(polygon[:, 1].max() + margin)))
    if bx1 <= bx0 or by1 <= by0:
        return
    shift = np.array([bx0, by0], np.float32)
    size = (by1 - by0, bx1 - bx0)
    edge, lower = edge - shift, lower - shift
    alpha = polygon_mask(polygon - shift, size[1], size[0], feather)
    y_top, y_bottom = _rows_between(edge, lower, size)
    # How far apart the lips are in each column: no paint where they (nearly) meet.
    t = np.clip(((y_bottom - y_top) / unit - SHUT_GAP) / (SHOWN_GAP - SHUT_GAP), 0, 1)
    alpha = alpha * (t * t * (3 - 2 * t))[None, :]
    gap = float(np.max(y_bottom - y_top))
    inside = _inside_colours(y_top, y_bottom, edge, size, gap / unit, light)
    if teeth_height is not None:
        teeth = _teeth_band(y_top, edge, size, teeth_height)
        inside = inside * (1 - teeth[..., None]) + TEETH * light * teeth[..., None]
    a = alpha[..., None]
    region = out[by0:by1, bx0:bx1, :3]
    blended = region.astype(np.float32) * (1 - a) + inside * a
    region[...] = np.clip(blended + 0.5, 0, 255).astype(np.uint8)


def _rows_between(top: Points, bottom: Points, shape: tuple[int, ...]) -> tuple[Floats, Floats]:
    """Per pixel column: the y of two contours, interpolated across the patch."""
    xs = np.arange(shape[1], dtype=np.float32)
    order_t, order_b = np.argsort(top[:, 0]), np.argsort(bottom[:, 0])
    y_top = np.interp(xs, top[order_t, 0], top[order_t, 1]).astype(np.float32)
    y_bottom = np.interp(xs, bottom[order_b, 0], bottom[order_b, 1]).astype(np.float32)
    return y_top, y_bottom


def _inside_colours(
    y_top: Floats, y_bottom: Floats, top: Points, shape: tuple[int, ...], gap: float, light: float
) -> Floats:
    """The inside of the mouth: darker deep in, the tongue low down when it is wide open.

    ``gap`` is the lips' distance in eye widths.
    """
    ys = np.arange(shape[0], dtype=np.float32)[:, None]
    depth = np.clip((ys - y_top) / np.maximum(y_bottom - y_top, 1e-3), 0, 1)
    left, right = float(top[:, 0].min()), float(top[:, 0].max())
    across = np.clip(1 - (np.abs(np.arange(shape[1]) - (left + right) / 2) / max((right - left) / 2, 1)) ** 4, 0, 1)
    colour = INSIDE + (THROAT - INSIDE) * (np.sin(depth * np.pi) * across)[..., None]
    tongue = np.clip((depth - 0.6) / 0.3, 0, 1) * across * min(1.0, gap / 0.2)
    return cast(Floats, colour + (TONGUE * light - colour) * tongue[..., None])


def _teeth_band(y_top: Floats, edge: Points, shape: tuple[int, ...], height: float) -> Floats:
    ys = np.arange(shape[0], dtype=np.float32)[:, None]
    left, right = float(edge[:, 0].min()), float(edge[:, 0].max())
    u = (np.arange(shape[1]) - (left + right) / 2) / max((right - left) / 2, 1)
    taper = np.clip(1 - (np.abs(u) / 0.8) ** 4, 0, 1) ** 0.5
    band = np.clip((y_top + height * taper - ys) + 0.5, 0, 1) * (taper > 0)
    return band.astype(np.float32)
