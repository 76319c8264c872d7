"""The inside of a photo's open mouth: painted between the parted lips, and only there.

The gap between the upper teeth's edge and the lower lip is filled with a warm dark cavity
(darker deep in, the tongue low down when wide open) and, where the photo showed no teeth of
its own, a row of upper teeth: shaded under the lip and towards the corners, the teeth told
apart by faint gaps. Where the lips nearly meet (towards the corners, or in a closed pose) the
paint fades out with the gap itself: a sliver a pixel or two high drawn dark reads as a speck,
not as an opening. Where they do meet, the line between them is drawn as a real mouth's is: soft
and a little darker, not the warp's hard, stair-stepped join of two lips moved together.
"""

from __future__ import annotations

import math
from typing import cast

import cv2
import numpy as np
import numpy.typing as npt

from akool_mcp.render.face import landmarks as lm
from akool_mcp.render.face.axes import smooth
from akool_mcp.render.face.warp import Points, polygon_mask
from akool_mcp.render.pixels import Image

Floats = npt.NDArray[np.float32]

_SHIFT = 4  # cv2's drawing takes fixed-point points: 1/16 px

# BGR. A mouth's inside is a deep, warm red-brown (blue about equal to green), never violet.
INSIDE = np.array([30, 30, 74], np.float32)
THROAT = np.array([14, 14, 32], np.float32)
TONGUE = np.array([88, 92, 168], np.float32)
TEETH = np.array([214, 222, 228], np.float32)
# Lips this far apart (in eye widths) show no inside at all; this far and more show all of it.
SHUT_GAP = 0.006
SHOWN_GAP = 0.02
# Where closed lips meet: a line this wide (eye widths; at least _LEAST_SEAM_PX), this much
# darker at its middle, reaching this far past the corners (mouth widths).
SEAM_WIDTH = 0.012
SEAM_SHADE = 0.18
SEAM_PAST_CORNERS = 0.04
_LEAST_SEAM_PX = 1.5
# The inside's edges are soft over an eye width / _FEATHERS_PER_EYE_WIDTH (at least
# _LEAST_FEATHER_PX), so the paint grows softer with the face's size in the picture.
_FEATHERS_PER_EYE_WIDTH = 140
_LEAST_FEATHER_PX = 0.8
# The throat darkens the inside's middle, less towards the corners (1 - across ** _THROAT_POWER,
# across -1..1 corner to corner). The tongue rises from _TONGUE_FROM of the way down to the
# lower lip, wholly shown _TONGUE_RISE further down, once the lips are _TONGUE_GAP eye widths
# apart (less: less of it).
_THROAT_POWER = 4
_TONGUE_FROM = 0.6
_TONGUE_RISE = 0.3
_TONGUE_GAP = 0.2

# Drawn upper teeth. The upper teeth's gaps, from the middle of the row towards a corner (-1..1
# across the row): two front teeth, then the lateral incisors, the canines and the premolars.
TEETH_GAPS = (0.0, 0.22, 0.4, 0.56)
_TEETH_SPAN = 0.8  # the row ends this far towards the corners (and darkens up to there)
_TOOTH_GAP = 0.012  # how wide a gap between two teeth is (eye widths, at least a pixel)
_TOOTH_EDGE_DIP = 0.07  # each tooth's lower edge rises this part of the row's height at a gap
# Shades, 1 for a lit front tooth: the upper lip's shadow (_UNDER_LIP_SHADE right under it,
# _LIP_SHADOW_LIFT lighter _LIP_SHADOW_REACH of the teeth's height down), the worn edge
# (_WORN_SHADE darker, from _WORN_FROM of the height over _WORN_OVER more), the row turning
# away towards the corners (_ROW_END_SHADE darker at its ends) and the gaps between the teeth
# (_GAP_SHADE darker, over _GAP_SHADE_WIDTH of a gap's width).
_UNDER_LIP_SHADE = 0.74
_LIP_SHADOW_LIFT = 0.26
_LIP_SHADOW_REACH = 0.45
_WORN_SHADE = 0.08
_WORN_FROM = 0.75
_WORN_OVER = 0.25
_ROW_END_SHADE = 0.7
_GAP_SHADE = 0.12
_GAP_SHADE_WIDTH = 0.4
# How lit the face is: skin this bright (the mean of its B, G and R) or brighter takes the
# colours above as they are; a dimmer face darkens the teeth and the tongue, down to this much.
_LIT_SKIN = 170.0
_DIMMEST_LIGHT = 0.6


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
    feather = max(_LEAST_FEATHER_PX, unit / _FEATHERS_PER_EYE_WIDTH)
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
        teeth, shade = _teeth_band(y_top, edge, size, teeth_height, unit)
        inside = inside * (1 - teeth[..., None]) + TEETH * light * (shade * teeth)[..., None]
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
    middle, half = (left + right) / 2, max((right - left) / 2, 1)
    across = np.clip(1 - (np.abs(np.arange(shape[1]) - middle) / half) ** _THROAT_POWER, 0, 1)
    colour = INSIDE + (THROAT - INSIDE) * (np.sin(depth * np.pi) * across)[..., None]
    tongue = np.clip((depth - _TONGUE_FROM) / _TONGUE_RISE, 0, 1) * across * min(1.0, gap / _TONGUE_GAP)
    return cast(Floats, colour + (TONGUE * light - colour) * tongue[..., None])


def _teeth_band(
    y_top: Floats, edge: Points, shape: tuple[int, ...], height: float, unit: float
) -> tuple[Floats, Floats]:
    """(coverage, shade) of a row of upper teeth ``height`` px tall under ``y_top``.

    The shade is 1 for a lit front tooth: darker in the upper lip's shadow, towards the
    corners (the row curves back into the mouth), in the faint gaps between the teeth and at
    their worn, slightly see-through edges. A flat band of one colour reads as a white slab.
    """
    ys = np.arange(shape[0], dtype=np.float32)[:, None]
    left, right = float(edge[:, 0].min()), float(edge[:, 0].max())
    u = ((np.arange(shape[1]) - (left + right) / 2) / max((right - left) / 2, 1)).astype(np.float32)
    taper = np.clip(1 - (np.abs(u) / _TEETH_SPAN) ** 2, 0, 1) ** 0.5
    bottom = y_top + height * taper
    # The teeth's lower edges: each tooth a little shorter at its sides, so the edge undulates.
    px = max((right - left) / 2, 1)
    gap_px = np.min(np.abs(np.abs(u)[:, None] - np.asarray(TEETH_GAPS, np.float32)[None, :]), axis=1) * px
    tooth_px = max(1.0, _TOOTH_GAP * unit)
    bottom = bottom - _TOOTH_EDGE_DIP * height * np.exp(-((gap_px / tooth_px) ** 2))
    band = np.clip((bottom - ys) + 0.5, 0, 1) * (taper > 0)
    depth = np.clip((ys - y_top) / max(height, 1.0), 0, 1)  # 0 under the lip .. 1 at the edge
    shade = (
        (_UNDER_LIP_SHADE + _LIP_SHADOW_LIFT * smooth(depth / _LIP_SHADOW_REACH))  # the upper lip's shadow
        * (1 - _WORN_SHADE * smooth((depth - _WORN_FROM) / _WORN_OVER))  # the worn edge
        * (1 - _ROW_END_SHADE * np.clip(np.abs(u) / _TEETH_SPAN, 0, 1) ** 2)[None, :]  # the row turns away
        * (1 - _GAP_SHADE * np.exp(-((gap_px / (_GAP_SHADE_WIDTH * tooth_px)) ** 2)))[None, :]  # between teeth
    )
    return band.astype(np.float32), shade.astype(np.float32)


def soften_seam(out: Image, upper: Points, lower: Points, unit: float) -> None:
    """Draw the line where the lips meet into ``out`` (BGR), in place.

    ``upper`` and ``lower``: the inner lips, corner to corner, point for point. Where they are
    (nearly) together the pixels along their meeting line are smoothed across it and shaded a
    little: a closed mouth's soft, darker line, with none of the stair steps of two lips moved
    together by a warp. Where they part, the inside is painted instead and nothing is drawn.
    """
    middle = (upper + lower) / 2
    gap = lower[:, 1] - upper[:, 1]
    meets = gap < SHOWN_GAP * unit
    if not meets.any():
        return
    # Reach a little past each corner: the warp's join is stair-stepped there too.
    reach = SEAM_PAST_CORNERS * float(np.linalg.norm(middle[-1] - middle[0]))

    def past(corner: Points, inward: Points) -> Points:
        away = corner - inward
        return (corner + away / max(float(np.linalg.norm(away)), 1e-3) * reach).astype(np.float32)

    line = np.vstack([past(middle[0], middle[1]), middle, past(middle[-1], middle[-2])]).astype(np.float32)
    together = np.concatenate([[meets[0]], meets, [meets[-1]]])
    width = max(_LEAST_SEAM_PX, SEAM_WIDTH * unit)
    margin = math.ceil(3 * width) + 2
    height_px, width_px = out.shape[:2]
    x0, y0 = np.floor(line.min(axis=0)).astype(int) - margin
    x1, y1 = np.ceil(line.max(axis=0)).astype(int) + margin
    x0, y0, x1, y1 = max(0, int(x0)), max(0, int(y0)), min(width_px, int(x1)), min(height_px, int(y1))
    if x1 - x0 < 2 or y1 - y0 < 2:
        return
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    scale = 1 << _SHIFT
    local = np.round((line - np.array([x0, y0], np.float32)) * scale).astype(np.int32)
    thickness = max(1, round(width))
    for k in range(len(line) - 1):
        if together[k] and together[k + 1]:
            a, b = local[k], local[k + 1]
            cv2.line(mask, (int(a[0]), int(a[1])), (int(b[0]), int(b[1])), 255, thickness, cv2.LINE_AA, _SHIFT)
    soft = cv2.GaussianBlur(mask.astype(np.float32) / 255.0, (0, 0), width / 2)[..., None]
    region = out[y0:y1, x0:x1]
    smoothed = cv2.GaussianBlur(region, (0, 0), width / 2).astype(np.float32)
    shaded = smoothed * (1 - SEAM_SHADE * soft)
    blended = region.astype(np.float32) * (1 - soft) + shaded * soft
    region[...] = np.clip(blended + 0.5, 0, 255).astype(np.uint8)


def skin_light(picture: Image, face: lm.Face) -> float:
    """How bright the face is, _DIMMEST_LIGHT..1: teeth in a dim photo are not white.

    Read from the middle half of the face's box, a quarter to halfway down (cheeks and nose).
    """
    x, y, w, h = face.box
    patch = np.ascontiguousarray(
        picture[max(0, y + h // 4) : max(1, y + h // 2), max(0, x + w // 4) : x + 3 * w // 4, :3]
    )
    if patch.size == 0:
        return 1.0
    return float(np.clip(np.mean(cv2.mean(patch)[:3]) / _LIT_SKIN, _DIMMEST_LIGHT, 1.0))
