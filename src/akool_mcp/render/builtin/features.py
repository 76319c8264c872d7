"""Face features of the built-in avatars: eyes (with blinks), brows, nose, mouth shapes."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from akool_mcp.render.builtin.paint import Color, Painter, bounds, mix, shade, spline
from akool_mcp.render.builtin.spec import BROW_LIFT, CX, EYE_DX, EYE_HW, EYE_Y, MOUTH_MAX_GAP, MOUTH_Y, AvatarSpec

Curve = npt.NDArray[np.float64]

_SCLERA: Color = (236, 241, 244)
_LASH: Color = (34, 28, 30)
_MOUTH_INSIDE: Color = (38, 30, 78)
_TEETH: Color = (226, 232, 236)
_TONGUE: Color = (110, 104, 196)


def clipped(painter: Painter, mask: npt.NDArray[np.float32], draw: Callable[[Painter], None]) -> None:
    """Run ``draw`` so that its paint only lands inside ``mask`` (soft-edged clipping)."""
    box = bounds(mask)
    if box is None:
        return
    x0, y0, x1, y1 = box
    region = painter.image[y0:y1, x0:x1]
    tile = region.copy()
    draw(Painter(tile, painter.scale, (painter.origin[0] + x0, painter.origin[1] + y0)))
    k = mask[y0:y1, x0:x1, None]
    region[...] = (region * (1.0 - k) + tile * k + 0.5).astype(np.uint8)


def _on_grid(points: list[tuple[float, float]], xs: Curve) -> Curve:
    """A smooth curve through ``points`` resampled at the x positions ``xs``."""
    curve = spline(points, samples=16)
    order = np.argsort(curve[:, 0])
    return np.interp(xs, curve[order, 0], curve[order, 1])


# --- eyes ----------------------------------------------------------------------------------


def _eye_curves(ex: float, side: float, lid: float) -> tuple[Curve, Curve, Curve]:
    """x grid, upper lid y and lower lid y of one eye; ``lid`` 0 open .. 1 shut."""
    hw = EYE_HW
    xs = np.linspace(ex - hw, ex + hw, 48)
    inner, outer = (ex - side * hw, EYE_Y + 3), (ex + side * hw, EYE_Y - 2)
    upper = _on_grid(
        [inner, (ex - side * hw * 0.5, EYE_Y - 16), (ex + side * hw * 0.15, EYE_Y - 20),
         (ex + side * hw * 0.7, EYE_Y - 13), outer],
        xs,
    )  # fmt: skip
    lower = _on_grid(
        [outer, (ex + side * hw * 0.5, EYE_Y + 10), (ex - side * hw * 0.05, EYE_Y + 13),
         (ex - side * hw * 0.65, EYE_Y + 9), inner],
        xs,
    )  # fmt: skip
    lid_y = upper + (lower - 1.5 - upper) * lid
    return xs, np.minimum(lid_y, lower), lower


def draw_eye(painter: Painter, spec: AvatarSpec, side: float, lid: float) -> None:
    ex = CX + side * EYE_DX
    xs, upper, lower = _eye_curves(ex, side, lid)
    top = np.column_stack([xs, upper])
    bottom = np.column_stack([xs, lower])
    lash_w = 4.2 if spec.gender == "female" else 3.2
    if lid < 0.5:
        # The crease reads as an upper eyelid and keeps the face from looking flat.
        crease = np.column_stack([xs[6:-4], upper[6:-4] - 9 + 3 * lid])
        painter.line(crease, shade(spec.skin, 0.8), 1.8)
    if lid < 0.95:
        white = painter.mask()
        painter.mask_fill(white, np.vstack([top, bottom[::-1]]))

        def inside(p: Painter) -> None:
            p.fill(np.vstack([top, bottom[::-1]]), _SCLERA)
            iris_c = (ex + side * 1.0, EYE_Y - 1.5)
            p.ellipse(iris_c, (16, 16), shade(spec.iris, 0.7))
            p.ellipse(iris_c, (14, 14), spec.iris)
            p.ellipse((iris_c[0], iris_c[1] + 3.5), (10, 9), shade(spec.iris, 1.25))
            p.ellipse(iris_c, (7, 7), (18, 14, 14))
            p.ellipse((iris_c[0] + 5, iris_c[1] - 5.5), (3.8, 3.8), (250, 250, 250))
            p.ellipse((iris_c[0] - 4.5, iris_c[1] + 4.5), (1.8, 1.8), (235, 235, 235))
            # The upper lid shades the top of the eyeball.
            p.line(top, shade(_SCLERA, 0.72), 5.0)

        clipped(painter, white, inside)
    if lid < 0.95:
        painter.line(bottom, shade(spec.skin, 0.72), 1.2)
    painter.fill(_lash(top if side > 0 else top[::-1], lash_w, spec.gender == "female", side), _LASH)


def _lash(line: Curve, width: float, wing: bool, side: float) -> Curve:
    """The lash line as a filled stroke, thin at the inner corner and full at the outer one.

    ``line`` runs from the inner corner to the outer corner; a wing flicks up past the outer one.
    """
    if wing:
        end = line[-1]
        line = np.vstack([line, [(end[0] + side * 4, end[1] - 2.5), (end[0] + side * 9, end[1] - 6.5)]])
    t = np.linspace(0.0, 1.0, len(line))
    half = width * (0.3 + 0.7 * np.sin(np.clip(t * 1.15, 0, 1) * np.pi / 2)) / 2
    if wing:
        half[-2:] = [width * 0.3, width * 0.08]
    tangent = np.gradient(line, axis=0)
    normal = np.column_stack([-tangent[:, 1], tangent[:, 0]])
    normal /= np.maximum(np.linalg.norm(normal, axis=1, keepdims=True), 1e-9)
    return np.vstack([line + normal * half[:, None], (line - normal * half[:, None])[::-1]])


def draw_eyes(painter: Painter, spec: AvatarSpec, lid: float) -> None:
    draw_eye(painter, spec, -1.0, lid)
    draw_eye(painter, spec, 1.0, lid)


def draw_brows(painter: Painter, spec: AvatarSpec, lift: float = 0.0) -> None:
    """Both brows; ``lift`` 0..1 raises them (most at the inner ends) for emphasis."""
    color = shade(spec.hair, 0.85) if sum(spec.hair) < 360 else shade(spec.hair, 0.62)
    thick = 11.0 if spec.gender == "male" else 8.0
    up = BROW_LIFT * lift
    for side in (-1.0, 1.0):
        ex = CX + side * EYE_DX
        centre = spline(
            [(ex - side * 36, EYE_Y - 36 - up), (ex - side * 8, EYE_Y - 47 - up),
             (ex + side * 20, EYE_Y - 49 - 0.8 * up), (ex + side * 40, EYE_Y - 40 - 0.5 * up)],
            samples=12,
        )  # fmt: skip
        t = np.linspace(0, 1, len(centre))[:, None]
        half = (thick * (1 - 0.55 * t**1.5)) / 2
        tangent = np.gradient(centre, axis=0)
        normal = np.column_stack([-tangent[:, 1], tangent[:, 0]])
        normal /= np.linalg.norm(normal, axis=1, keepdims=True)
        painter.fill(np.vstack([centre + normal * half, (centre - normal * half)[::-1]]), color)


def draw_nose(painter: Painter, spec: AvatarSpec) -> None:
    """A soft nose: shading and shadows only, no outline, as light would show it."""
    side = painter.mask()
    painter.mask_line(side, [(CX - 13, EYE_Y + 12), (CX - 16, EYE_Y + 45), (CX - 19, EYE_Y + 64)], 7)
    painter.darken(painter.blur(side, 5), 0.16)
    tip = painter.mask()
    painter.mask_ellipse(tip, (CX + 3, EYE_Y + 60), (12, 9))
    painter.atop(painter.blur(tip, 6), shade(spec.skin, 1.15), 0.5)
    under = painter.mask()
    painter.mask_line(under, spline([(CX - 15, EYE_Y + 70), (CX, EYE_Y + 75), (CX + 15, EYE_Y + 70)]), 3.2)
    for s in (-1.0, 1.0):
        painter.mask_ellipse(under, (CX + s * 10, EYE_Y + 70), (4.5, 2.6))
    painter.darken(painter.blur(under, 1.4), 0.42)
    philtrum = painter.mask()
    painter.mask_ellipse(philtrum, (CX, EYE_Y + 82), (15, 5))
    painter.darken(painter.blur(philtrum, 4), 0.12)


def draw_blush(painter: Painter, spec: AvatarSpec) -> None:
    blush = painter.mask()
    for side in (-1.0, 1.0):
        painter.mask_ellipse(blush, (CX + side * 100, EYE_Y + 72), (42, 24))
    strength = 0.28 if spec.gender == "female" else 0.12
    painter.atop(painter.blur(blush, 14), mix(spec.skin, (90, 80, 220), 0.5), strength)


# --- mouth ---------------------------------------------------------------------------------

# How a drawn mouth answers its pose (widths and heights as parts of the rest mouth's; lengths
# in design units). Opening narrows it by _OPEN_NARROWS; rounding (o u w) narrows it by
# _ROUNDED_NARROWS, parts the lips _ROUNDED_TALLER more, makes the opening rounder across and
# the lower lip _ROUNDED_FULLER fuller; spreading (i e) widens it by _SPREAD_WIDENS, parts the
# lips _SPREAD_FLATTER less and raises the corners _SMILE_RISE more than at rest. The opening
# across the mouth is (1 - u * u) ** (_BULGE + _BULGE_ROUNDED * rounded - _BULGE_SPREAD * spread).
_OPEN_NARROWS = 0.12
_ROUNDED_NARROWS = 0.3
_ROUNDED_TALLER = 0.15
_ROUNDED_FULLER = 0.35
_SPREAD_WIDENS = 0.12
_SPREAD_FLATTER = 0.2
_SMILE_RISE = 3.0
_CORNER_RISE = 4.5  # the corners at rest sit this much above the middle: relaxed, friendly
_BULGE = 0.6
_BULGE_ROUNDED = 0.9
_BULGE_SPREAD = 0.3
# The gap opens _UPPER_SHARE above the rest seam (the upper lip lifts) and _LOWER_SHARE below
# it (the jaw drops); the lips' outer edges ride along by these parts, so the lower lip
# stretches thinner as it goes.
_UPPER_SHARE = 0.22
_LOWER_SHARE = 0.78
_UPPER_LIP_RIDES = 0.6
_LOWER_LIP_RIDES = 0.8
_BITE_GAP = 4.5  # f v: the lips this far apart, the lower one under the upper teeth
_SHUT_GAP = 1.0  # lips closer than this are drawn shut, meeting on a line
# Inside an open mouth the upper teeth show _TEETH_SHARE of the gap (at most _TALLEST_TEETH)
# and the tongue once the lips are _TONGUE_GAP apart.
_TEETH_SHARE = 0.42
_TALLEST_TEETH = 8.5
_TONGUE_GAP = 9


def draw_mouth(painter: Painter, spec: AvatarSpec, openness: float, width: float = 0.0, bite: bool = False) -> None:
    """Lips at rest for 0; for more, the lips part around a dark mouth with teeth and tongue.

    ``width`` -1 rounds the lips (o u w: narrower, fuller, a rounder opening), +1 spreads them
    (i e: wider, corners up); ``bite`` puts the lower lip under the upper teeth (f v).
    """
    rounded, spread = max(-width, 0.0), max(width, 0.0)
    # An open mouth narrows a little; rounding draws the corners in, spreading pulls them out.
    hw = (
        spec.mouth_half_width
        * (1 - _OPEN_NARROWS * openness)
        * (1 - _ROUNDED_NARROWS * rounded + _SPREAD_WIDENS * spread)
    )
    gap = MOUTH_MAX_GAP * openness * (1 + _ROUNDED_TALLER * rounded - _SPREAD_FLATTER * spread)
    if bite:
        gap = _BITE_GAP
    xs = np.linspace(CX - hw, CX + hw, 72)
    u = (xs - CX) / hw
    bulge = np.clip(1 - u * u, 0, 1) ** (_BULGE + _BULGE_ROUNDED * rounded - _BULGE_SPREAD * spread)
    seam = MOUTH_Y - (_CORNER_RISE + _SMILE_RISE * spread) * u * u
    lip_top = _on_grid([(CX - hw, MOUTH_Y - 5), (CX - 0.6 * hw, MOUTH_Y - 8), (CX - 0.2 * hw, MOUTH_Y - 11.5),
                        (CX, MOUTH_Y - 8.5), (CX + 0.2 * hw, MOUTH_Y - 11.5), (CX + 0.6 * hw, MOUTH_Y - 8),
                        (CX + hw, MOUTH_Y - 5)], xs)  # fmt: skip
    full = (13.0 if spec.gender == "female" else 10.5) * (1 + _ROUNDED_FULLER * rounded)
    lip_bottom = seam + full * np.clip(1 - u * u, 0, 1) ** 0.5
    up, down = (_UPPER_SHARE * gap * bulge, _LOWER_SHARE * gap * bulge) if not bite else (gap * bulge, 0.0 * bulge)
    inner_top, inner_bottom = seam - up, seam + down
    upper_lip = np.vstack(
        [np.column_stack([xs, lip_top - _UPPER_LIP_RIDES * up]), np.column_stack([xs, inner_top])[::-1]]
    )
    lower_lip = np.vstack(
        [np.column_stack([xs, inner_bottom]), np.column_stack([xs, lip_bottom + _LOWER_LIP_RIDES * down])[::-1]]
    )
    painter.fill(lower_lip, spec.lips)
    painter.fill(upper_lip, shade(spec.lips, 0.86))
    shine = painter.mask()
    painter.mask_ellipse(shine, (CX + 4, MOUTH_Y + 7 + 0.75 * gap), (hw * 0.32, 2.8))
    lip = painter.mask()
    painter.mask_fill(lip, lower_lip)
    painter.atop(painter.blur(shine, 2.5) * lip, shade(spec.lips, 1.3), 0.5)
    if gap < _SHUT_GAP:
        painter.line(np.column_stack([xs, seam]), shade(spec.lips, 0.42), 2.2)
        return
    inside_poly = np.vstack([np.column_stack([xs, inner_top]), np.column_stack([xs, inner_bottom])[::-1]])
    hole = painter.mask()
    painter.mask_fill(hole, inside_poly)

    def inside(p: Painter) -> None:
        p.fill(inside_poly, _MOUTH_INSIDE)
        # Upper teeth: a soft band under the upper lip, shorter towards the corners.
        throat = p.mask()
        p.mask_ellipse(throat, (CX, MOUTH_Y + 0.3 * gap), (hw * 0.55, 0.35 * gap))
        p.darken(p.blur(throat, 0.15 * gap), 0.45)
        if gap > _TONGUE_GAP and not bite:
            p.ellipse((CX, float(inner_bottom[36]) + 3), (hw * 0.55, 0.32 * gap), _TONGUE)
        # Upper teeth: a band under the upper lip that tapers away towards the corners.
        teeth_h = min(_TEETH_SHARE * gap, _TALLEST_TEETH) if not bite else gap + 1.0
        keep = np.abs(u) < 0.86
        tx, tu = xs[keep], u[keep]
        teeth_top = inner_top[keep] - 3
        teeth_bottom = inner_top[keep] + teeth_h * np.clip(1 - (tu / 0.86) ** 4, 0, 1) ** 0.5
        p.fill(np.vstack([np.column_stack([tx, teeth_top]), np.column_stack([tx, teeth_bottom])[::-1]]), _TEETH)
        edge = p.mask()
        p.mask_line(edge, np.column_stack([tx, teeth_bottom - 1.2]), 2.0)
        p.darken(p.blur(edge, 1.0), 0.18)

    clipped(painter, hole, inside)
