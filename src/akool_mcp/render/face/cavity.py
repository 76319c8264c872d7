"""The inside of an open mouth: painted between the parted lips, and only there.

What a viewer sees in a talking mouth (and what a flat band of teeth over a dark rim is not):
the upper incisors' edge under the upper lip, lit in the middle and shaded into the corners,
showing more on a spread "ee" than on a rounded "oo"; a dark cavity below, darker deep in and
towards the corners; the tongue low in a wide "ah" and its tip up at the teeth on l, th, n, t,
d; the lower teeth only when the jaw drops far. How much of each shows is worked out once per
pose by :func:`showing`, for photos, videos and the built-ins alike; the colours are the face's
own (:mod:`.palette`). Where the lips nearly meet (towards the corners, or in a closed pose)
the paint fades out with the gap itself: a sliver a pixel or two high drawn dark reads as a
speck, not as an opening. Where they do meet, the line between them is drawn as a real mouth's
is: soft and a little darker, not the warp's hard, stair-stepped join of two lips moved together.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from akool_mcp.render.face.axes import smooth
from akool_mcp.render.face.palette import MouthPalette
from akool_mcp.render.face.warp import Points, polygon_mask
from akool_mcp.render.pixels import Image

Floats = npt.NDArray[np.float32]

_SHIFT = 4  # cv2's drawing takes fixed-point points: 1/16 px

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

# How much of the upper teeth shows under the upper lip (eye widths): _TEETH_SHARE of the gap
# between the lips, at most _TALLEST_TEETH, each for a rounded (o u w), neutral and spread
# (i e) mouth (between them by the pose's width). Measured on video of people talking: 1-2 mm
# of incisor on "oo", 3-4 mm on "ah", 4-5 mm on "ee"; an eye width is about 90 mm.
_TEETH_SHARE = (0.12, 0.35, 0.5)
_TALLEST_TEETH = (0.012, 0.035, 0.045)
_BITE_TEETH = 0.02  # f v: the teeth rest this far down on the tucked lower lip
# The lower teeth show only when the jaw drops past _LOWER_TEETH_FROM of its widest, up to
# _LOWER_TEETH eye widths, behind the lower lip and only across the middle _LOWER_TEETH_SPAN
# of the opening (at 0.6 and 0.78 of it they read as a grey rim along the lower lip). They
# stand in the shadow of the upper lip and the face, and in the tongue's reddish light: the
# teeth's colour mixed half and half with the tongue's, _LOWER_TEETH_LIGHT as bright, their
# tops soft over _LOWER_TEETH_SOFT eye widths (lit like the upper row and edged as sharply,
# they drew a grey denture's rim on the lower lip; between the cavity's colour and the teeth's,
# a blue-grey one).
_LOWER_TEETH_FROM = 0.75
_LOWER_TEETH = 0.01
_LOWER_TEETH_SPAN = 0.45
_LOWER_TEETH_LIGHT = 0.5
_LOWER_TEETH_SOFT = 0.005

# The cavity: the throat's colour deep in the middle (across ** _THROAT_POWER, -1..1 corner to
# corner), _CORNER_SHADE darker at the corners (where the cheeks shade the inside), the tongue's
# body rising from _TONGUE_FROM of the way down once the lips are _TONGUE_GAP eye widths apart
# (less: less of it), shaded to _TONGUE_BODY_SHADE: it lies under the upper jaw, in the mouth's
# shade (at 0.9 it showed as a lit brown shelf as bright as the lips on Grace Hopper's "ah"),
# and darker it joins the cavity's dark for the video settling, which looks for the lower lip's
# edge under the gap.
_THROAT_POWER = 2
_THROAT_GAP = 0.08  # the throat shows fully once the lips are this far apart (eye widths)
_CORNER_SHADE = 0.45
_TONGUE_FROM = 0.55
_TONGUE_RISE = 0.35
_TONGUE_GAP = 0.2
_TONGUE_BODY_SHADE = 0.6
# The tongue's tip (l th n t d): a rounded lobe rising from behind the lower lip in the middle
# of the opening, _TIP_WIDTH of the opening's half-width wide, its centre _TIP_BELOW of the
# opening's height under the lower lip, reaching the upper teeth's edge. Shaded as a rounded
# body: _TIP_SHADE of the tongue's colour where it faces the viewer, _TIP_RIM of that at its
# outline, which fades into the cavity over _TIP_SOFT of its radius, and lit _TIP_LIGHT more on
# its top. (A band of one shade the opening's height, its sides fading out, read as a pasted
# lozenge: seen on Grace Hopper and on the built-ins.)
_TIP_WIDTH = 0.42
_TIP_BELOW = 0.35
_TIP_SHADE = 0.9
_TIP_RIM = 0.35
_TIP_SOFT = 0.25
_TIP_LIGHT = 0.15

# Drawn teeth. The upper teeth's gaps, from the middle of the row towards a corner (-1..1
# across the row): two front teeth, then the lateral incisors, the canines and the premolars.
TEETH_GAPS = (0.0, 0.22, 0.4, 0.56)
_TEETH_SPAN = 0.78  # the row ends this far towards the corners (and darkens up to there)
_TOOTH_GAP = 0.012  # how wide a gap between two teeth is (eye widths, at least a pixel)
_TOOTH_EDGE_DIP = 0.07  # each tooth's lower edge rises this part of the row's height at a gap
# Shades, 1 for a lit front tooth: the upper lip's shadow (_UNDER_LIP_SHADE right under it,
# _LIP_SHADOW_LIFT lighter _LIP_SHADOW_REACH of the teeth's height down), the worn edge
# (_WORN_SHADE darker, from _WORN_FROM of the height over _WORN_OVER more), the row turning
# away towards the corners (_ROW_END_SHADE darker at its ends, growing as across **
# _ROW_END_POWER) and the gaps between the teeth (_GAP_SHADE darker, over _GAP_SHADE_WIDTH of a
# gap's width).
_UNDER_LIP_SHADE = 0.7
_LIP_SHADOW_LIFT = 0.3
_LIP_SHADOW_REACH = 0.45
_WORN_SHADE = 0.08
_WORN_FROM = 0.75
_WORN_OVER = 0.25
_ROW_END_SHADE = 0.75
_ROW_END_POWER = 1.6
_GAP_SHADE = 0.12
_GAP_SHADE_WIDTH = 0.4


@dataclass(frozen=True)
class Showing:
    """What the inside of one mouth pose shows, in pixels of the picture painted."""

    upper_teeth: float  # how far the drawn upper teeth reach under their edge (0: none drawn)
    lower_teeth: float  # how far the drawn lower teeth rise over the lower lip (0: none)
    tongue: float  # 0..1 the tongue's tip raised to the teeth
    jaw: float  # 0..1 how far the jaw has dropped (the tongue's body shows in a wide mouth)


def showing(
    open_: float, width: float, bite: float, tongue: float, gap: float, unit: float, draw_teeth: bool
) -> Showing:
    """What a mouth posed (``open_`` 0..1, ``width`` -1 rounded..1 spread, ``bite`` 0..1,
    ``tongue`` 0..1) shows between lips ``gap`` px apart on a face ``unit`` px wide between the
    eyes; ``draw_teeth``: the picture shows no teeth of its own there, so they are drawn."""
    upper = lower = 0.0
    if draw_teeth:
        side = float(np.clip(width, -1.0, 1.0))
        share = float(np.interp(side, (-1.0, 0.0, 1.0), _TEETH_SHARE))
        tallest = float(np.interp(side, (-1.0, 0.0, 1.0), _TALLEST_TEETH)) * unit
        upper = min(tallest, share * gap)
        if bite > 0:
            upper += bite * (gap + _BITE_TEETH * unit - upper)
        jaw = (open_ - _LOWER_TEETH_FROM) / (1 - _LOWER_TEETH_FROM)
        lower = _LOWER_TEETH * unit * float(smooth(np.asarray(jaw)))
    return Showing(upper, lower, float(np.clip(tongue, 0, 1)), float(np.clip(open_, 0, 1)))


def paint_inside(out: Image, edge: Points, lower: Points, unit: float, palette: MouthPalette, shows: Showing) -> None:
    """Paint the mouth's inside into ``out`` (BGR) between ``edge`` and ``lower``, in place.

    ``edge``: the upper teeth's edge (the upper lip's, when no teeth of the picture's own show),
    corner to corner; ``lower``: the lower lip's inner contour, corner to corner (both in
    ``out``'s pixels).
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
    ys = np.arange(size[0], dtype=np.float32)[:, None]
    left, right = float(edge[:, 0].min()), float(edge[:, 0].max())
    middle, half = (left + right) / 2, max((right - left) / 2, 1.0)
    across = ((np.arange(size[1], dtype=np.float32) - middle) / half).astype(np.float32)
    inside = _cavity(ys, y_top, y_bottom, across, gap / unit, palette, shows)
    if shows.tongue > 0:
        inside = _tongue_tip(inside, ys, y_top, y_bottom, across, half, palette, shows)
    if shows.lower_teeth > 0:
        row = across / _LOWER_TEETH_SPAN * _TEETH_SPAN
        soft = max(1.0, _LOWER_TEETH_SOFT * unit)
        cover, shade = _teeth(ys, y_bottom, row, -shows.lower_teeth, unit, half, soft)
        shaded = ((palette.teeth + palette.tongue) / 2 * _LOWER_TEETH_LIGHT).astype(np.float32)
        inside = _over(inside, cover, shaded, shade, palette.cavity)
    if shows.upper_teeth > 0:
        # Towards the corners, where the lips close in, the lips hide the teeth as they hide the
        # middle's: no more of them shows than that share of the opening there.
        share = shows.upper_teeth / max(gap, 1.0)
        local = np.minimum(1.0, share * (y_bottom - y_top) / max(shows.upper_teeth, 1e-3))
        cover, shade = _teeth(ys, y_top, across, shows.upper_teeth, unit, half, reach_share=local)
        # Teeth in shade take the mouth's own dark light (multiplied towards black they turn a
        # grey no face has: 29 levels from any of Grace Hopper's colours).
        inside = _over(inside, cover, palette.teeth, shade, palette.cavity)
    a = alpha[..., None]
    region = out[by0:by1, bx0:bx1, :3]
    blended = region.astype(np.float32) * (1 - a) + inside * a
    region[...] = np.clip(blended + 0.5, 0, 255).astype(np.uint8)


def _over(under: Floats, cover: Floats, colour: Floats, shade: Floats, dark: Floats | None = None) -> Floats:
    """``colour`` shaded (1 lit .. 0 ``dark``, black if none) over ``under`` where ``cover`` is."""
    base = np.zeros(3, np.float32) if dark is None else dark
    shaded = base + (colour - base) * shade[..., None]
    return (under * (1 - cover[..., None]) + shaded * cover[..., None]).astype(np.float32)


def _rows_between(top: Points, bottom: Points, shape: tuple[int, ...]) -> tuple[Floats, Floats]:
    """Per pixel column: the y of two contours, interpolated across the patch."""
    xs = np.arange(shape[1], dtype=np.float32)
    order_t, order_b = np.argsort(top[:, 0]), np.argsort(bottom[:, 0])
    y_top = np.interp(xs, top[order_t, 0], top[order_t, 1]).astype(np.float32)
    y_bottom = np.interp(xs, bottom[order_b, 0], bottom[order_b, 1]).astype(np.float32)
    return y_top, y_bottom


def _cavity(
    ys: Floats, y_top: Floats, y_bottom: Floats, across: Floats, gap: float, palette: MouthPalette, shows: Showing
) -> Floats:
    """The inside of the mouth: the throat deep in the middle, the corners in the cheeks'
    shade, the tongue's body low down when it is wide open. ``gap``: the lips' distance in eye
    widths. Every change is a smooth ramp: no rim, no band."""
    depth = np.clip((ys - y_top) / np.maximum(y_bottom - y_top, 1e-3), 0, 1)
    middle = np.clip(1 - np.abs(across), 0, 1) ** (1 / _THROAT_POWER)
    bulge = np.clip(np.sin(depth * np.pi), 0, 1) ** 0.5
    deep = (bulge * middle[None, :] * min(1.0, gap / _THROAT_GAP)).astype(np.float32)
    colour = palette.cavity + (palette.throat - palette.cavity) * deep[..., None]
    corners = 1 - _CORNER_SHADE * smooth(np.abs(across))[None, :]
    colour = colour * corners[..., None]
    body = smooth((depth - _TONGUE_FROM) / _TONGUE_RISE) * middle[None, :] * min(1.0, gap / _TONGUE_GAP)
    tongue = palette.tongue * _TONGUE_BODY_SHADE
    return (colour + (tongue - colour) * (body * shows.jaw)[..., None]).astype(np.float32)


def _tongue_tip(
    inside: Floats,
    ys: Floats,
    y_top: Floats,
    y_bottom: Floats,
    across: Floats,
    half: float,
    palette: MouthPalette,
    shows: Showing,
) -> Floats:
    """The tongue's tip raised to the upper teeth (l th n t d): a rounded lobe up the middle of
    the opening, lit on its top, shaded into the mouth towards its outline."""
    middle = int(np.argmin(np.abs(across)))
    gap = max(float(y_bottom[middle] - y_top[middle]), 1.0)
    centre = float(y_bottom[middle]) + _TIP_BELOW * gap
    # Fully raised it reaches the teeth's edge; less, part of the way.
    height = (centre - float(y_top[middle])) * (0.5 + 0.5 * shows.tongue)
    x = (across * half / (_TIP_WIDTH * half))[None, :]
    y = (ys - centre) / height
    radius = np.sqrt(x * x + y * y)
    cover = smooth((1 - radius) / _TIP_SOFT) * shows.tongue
    facing = np.sqrt(np.clip(1 - radius * radius, 0, 1))  # 1 where its surface faces the viewer
    lit = 1 + _TIP_LIGHT * np.clip(-y, 0, 1)
    shade = (_TIP_SHADE * (_TIP_RIM + (1 - _TIP_RIM) * facing) * lit).astype(np.float32)
    return _over(inside, cover.astype(np.float32), palette.tongue, shade)


def _teeth(
    ys: Floats,
    line: Floats,
    across: Floats,
    height: float,
    unit: float,
    half: float,
    soft: float = 1.0,
    reach_share: Floats | None = None,
) -> tuple[Floats, Floats]:
    """(coverage, shade) of a row of teeth ``height`` px tall from ``line`` (down for the upper
    row; a negative height: up from the lower lip for the lower row), their free edges soft over
    ``soft`` px; ``reach_share``: per column, at most this part of ``height`` shows.

    The shade is 1 for a lit front tooth: darker in the lip's shadow, towards the corners (the
    row curves back into the mouth), in the faint gaps between the teeth and at their worn,
    slightly see-through edges. A flat band of one colour reads as a white slab.
    """
    sign = 1.0 if height > 0 else -1.0
    height = abs(height)
    taper = np.clip(1 - (np.abs(across) / _TEETH_SPAN) ** 2, 0, 1) ** 0.5
    reach = height * taper if reach_share is None else height * np.minimum(taper, reach_share)
    gap_px = np.min(np.abs(np.abs(across)[:, None] - np.asarray(TEETH_GAPS, np.float32)[None, :]), axis=1) * half
    tooth_px = max(1.0, _TOOTH_GAP * unit)
    # The teeth's free edges: each tooth a little shorter at its sides, so the edge undulates.
    reach = reach - _TOOTH_EDGE_DIP * height * np.exp(-((gap_px / tooth_px) ** 2))
    depth_px = (ys - line[None, :]) * sign  # 0 at the lip, growing towards the teeth's edge
    cover = np.clip((reach[None, :] - depth_px) / soft + 0.5, 0, 1) * (taper > 0)[None, :] * (depth_px > -1.0)
    depth = np.clip(depth_px / max(height, 1.0), 0, 1)  # 0 under the lip .. 1 at the edge
    shade = (
        (_UNDER_LIP_SHADE + _LIP_SHADOW_LIFT * smooth(depth / _LIP_SHADOW_REACH))  # the lip's shadow
        * (1 - _WORN_SHADE * smooth((depth - _WORN_FROM) / _WORN_OVER))  # the worn edge
        * (1 - _ROW_END_SHADE * np.clip(np.abs(across) / _TEETH_SPAN, 0, 1) ** _ROW_END_POWER)[None, :]
        * (1 - _GAP_SHADE * np.exp(-((gap_px / (_GAP_SHADE_WIDTH * tooth_px)) ** 2)))[None, :]  # between teeth
    )
    return cover.astype(np.float32), shade.astype(np.float32)


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
