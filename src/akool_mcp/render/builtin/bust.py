"""The still parts of a built-in avatar: hair, head, neck, clothing, accessories."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from akool_mcp.render.builtin.features import draw_blush, draw_nose
from akool_mcp.render.builtin.hair import back_hair, front_hair, hair_texture, hairline_shadow
from akool_mcp.render.builtin.paint import Color, Painter, mirror, shade, spline, symmetric
from akool_mcp.render.builtin.spec import CX, EYE_DX, EYE_Y, MOUTH_Y, AvatarSpec

Outline = npt.NDArray[np.float64]


def face_outline(spec: AvatarSpec) -> Outline:
    if spec.gender == "female":
        right = [(CX, 168), (592, 180), (652, 238), (672, 330), (668, 430), (646, 510), (604, 578), (552, 618),
                 (CX, 630)]  # fmt: skip
    else:
        right = [(CX, 166), (596, 178), (658, 236), (678, 330), (676, 430), (660, 515), (624, 585), (566, 628),
                 (CX, 640)]  # fmt: skip
    return spline(symmetric(right), closed=True, samples=12)


def _shoulder(spec: AvatarSpec, side: float) -> Outline:
    """One shoulder's outline from the base of the neck down to the bottom edge."""
    narrow = 0.93 if spec.gender == "female" else 1.0
    right = np.asarray(
        [(556, 712), (620, 730), (720, 756), (800, 790), (856, 840), (888, 910), (900, 1010)], np.float64
    )
    right[:, 0] = CX + (right[:, 0] - CX) * narrow
    curve = spline(right, samples=8)
    return curve if side > 0 else mirror(curve)


def _torso(spec: AvatarSpec, neckline: list[tuple[float, float]]) -> Outline:
    """Both shoulders joined by ``neckline`` (given left to right)."""
    return np.vstack(
        [np.asarray(neckline, np.float64), _shoulder(spec, 1.0), [(CX, 1010)], _shoulder(spec, -1.0)[::-1]]
    )


def _soft_shadow(painter: Painter, outline: Outline, dy: float, strength: float, blur: float) -> None:
    mask = painter.mask()
    moved = outline.copy()
    moved[:, 1] += dy
    painter.mask_fill(mask, moved)
    painter.darken(painter.blur(mask, blur), strength)


def _side_shading(painter: Painter, outline: Outline, color: Color, strength: float, width: float) -> None:
    """Darken a filled shape towards its rim so it reads as round, not flat."""
    inside = painter.mask()
    painter.mask_fill(inside, outline)
    rim = inside * (1.0 - painter.blur(inside, width))
    painter.atop(rim, color, strength)


def _clothing(painter: Painter, spec: AvatarSpec) -> None:
    cloth, accent = spec.clothing, spec.accent
    style = spec.clothing_style
    if style == "crew":
        neckline = spline([(448, 714), (474, 742), (CX, 750), (526, 742), (552, 714)], samples=8)
        torso = _torso(spec, [(float(x), float(y)) for x, y in neckline])
        painter.fill(torso, cloth)
        painter.line(neckline, accent, 11)
        _side_shading(painter, torso, shade(cloth, 0.7), 0.5, 60)
        return
    if style == "vneck":
        torso = _torso(spec, [(452, 710), (476, 780), (CX, 832), (524, 780), (548, 710)])
        painter.fill(torso, cloth)
        painter.line([(452, 710), (476, 780), (CX, 832), (524, 780), (548, 710)], accent, 7)
        _side_shading(painter, torso, shade(cloth, 0.7), 0.5, 60)
        return
    # Layered styles: a shirt or blouse, then an open jacket over it.
    shirt = _torso(spec, [(452, 712), (CX, 738), (548, 712)])
    painter.fill(shirt, accent)
    _side_shading(painter, shirt, shade(accent, 0.82), 0.5, 40)
    if style in ("blazer", "suit"):
        for side in (-1.0, 1.0):
            painter.fill([(CX + side * 50, 698), (CX + side * 86, 766), (CX + side * 40, 794), (CX + side * 4, 750)],
                         shade(accent, 0.94))  # fmt: skip
            painter.line([(CX + side * 50, 698), (CX + side * 86, 766), (CX + side * 40, 794)], shade(accent, 0.75), 2)
        if spec.tie is not None:
            painter.fill([(488, 752), (512, 752), (508, 778), (492, 778)], shade(spec.tie, 0.9))
            painter.fill([(492, 776), (508, 776), (526, 920), (CX, 1012), (474, 920)], spec.tie)
    open_x = 30.0 if style == "cardigan" else 40.0
    for side in (-1.0, 1.0):
        edge = [(CX + side * (open_x + 14), 890), (CX + side * 92, 776), (CX + side * 56, 712)]
        part = np.vstack([_shoulder(spec, side), [(CX + side * open_x, 1012)], edge])
        painter.fill(part, cloth)
        _side_shading(painter, part, shade(cloth, 0.7), 0.45, 50)
        if style != "cardigan":
            lapel = [(CX + side * 58, 712), (CX + side * 96, 772), (CX + side * 84, 796), (CX + side * 112, 810),
                     (CX + side * (open_x + 16), 920), (CX + side * (open_x + 6), 890),
                     (CX + side * 80, 766)]  # fmt: skip
            painter.fill(lapel, shade(cloth, 0.84))
            painter.line(lapel, shade(cloth, 0.6), 2)
        else:
            for k in range(3):
                painter.ellipse((CX + side * (open_x + 14), 840 + k * 44), (5, 5), shade(cloth, 0.65))
    if style == "cardigan":
        painter.line(spline([(452, 714), (CX, 740), (548, 714)], samples=8), shade(spec.accent, 0.85), 6)


def _necklace(painter: Painter, spec: AvatarSpec) -> None:
    if spec.necklace is None:
        return
    chain = spline([(450, 712), (470, 760), (CX, 778), (530, 760), (550, 712)], samples=10)
    if spec.clothing_style == "cardigan":
        for x, y in chain[2:-2:3]:
            painter.ellipse((float(x), float(y)), (5, 5), spec.necklace)
            painter.ellipse((float(x) - 1.5, float(y) - 1.5), (1.6, 1.6), (255, 255, 255))
    else:
        painter.line(chain, spec.necklace, 2)
        painter.ellipse((CX, 790), (6, 8), spec.necklace)


def draw_under(painter: Painter, spec: AvatarSpec) -> None:
    """Everything beneath the moving eyes and mouth."""
    back = back_hair(spec)
    if back is not None:
        # Hair behind the head is in shadow, except a bun, which sits on top in the light.
        painter.fill(back, spec.hair if spec.hair_style == "bun" else shade(spec.hair, 0.85))
        hair_texture(painter, spec, back)
    half = 49 if spec.gender == "female" else 57
    neck_right = [(CX, 520), (CX + half, 524), (CX + half + 2, 630), (CX + half + 6, 680), (CX + half + 34, 726),
                  (640, 760), (640, 1010), (CX, 1010)]  # fmt: skip
    neck = spline(symmetric(neck_right), closed=True, samples=6)
    painter.fill(neck, shade(spec.skin, 0.95))
    face = face_outline(spec)
    _soft_shadow(painter, face, 26, 0.35, 12)
    _clothing(painter, spec)
    _necklace(painter, spec)
    for side in (-1.0, 1.0):
        ear_x = CX + side * 170
        painter.ellipse((ear_x, 432), (26, 44), shade(spec.skin, 0.97))
        painter.ellipse((ear_x + side * 4, 432), (13, 28), shade(spec.skin, 0.82))
    painter.fill(face, spec.skin)
    _side_shading(painter, face, shade(spec.skin, 0.78), 0.55, 40)
    hairline_shadow(painter, spec, face)
    draw_blush(painter, spec)
    draw_nose(painter, spec)
    if spec.beard:
        _beard(painter, spec, face)


def _beard(painter: Painter, spec: AvatarSpec, face: Outline) -> None:
    """A full short beard with moustache; the lips are drawn over it later."""
    region = painter.mask()
    painter.mask_fill(region, face)
    shape = painter.mask()
    hw = spec.mouth_half_width
    right = [(CX, MOUTH_Y - 25), (CX + 22, MOUTH_Y - 28), (CX + hw + 6, MOUTH_Y - 18), (CX + hw + 16, MOUTH_Y + 4),
             (612, 500), (652, 452), (676, 420), (678, 500), (644, 598), (582, 648), (CX, 668)]  # fmt: skip
    painter.mask_fill(shape, spline(symmetric(right), closed=True, samples=8))
    shape = painter.blur(shape, 2.5) * region
    painter.atop(shape, shade(spec.hair, 1.1), 0.95)
    stubble = painter.mask()
    rng = np.random.default_rng(11)
    for _ in range(500):
        x, y = rng.uniform(330, 670), rng.uniform(480, 670)
        painter.mask_ellipse(stubble, (x, y), (1.6, 2.6), 1.0)
    painter.atop(stubble * shape, shade(spec.hair, 0.6), 0.3)


def _glasses(painter: Painter) -> None:
    frame: Color = (40, 38, 42)
    for side in (-1.0, 1.0):
        ex = CX + side * EYE_DX
        painter.line(_rounded_rect(ex, EYE_Y - 2, 47, 33, 14), frame, 6, closed=True)
        # A faint streak of reflected light makes the empty frame read as glass.
        painter.line([(ex - side * 14, EYE_Y - 26), (ex - side * 34, EYE_Y + 8)], (255, 255, 255), 5, alpha=0.18)
        painter.line([(ex + side * 50, EYE_Y - 14), (CX + side * 168, EYE_Y - 18)], frame, 6)
    painter.line(spline([(CX - 25, EYE_Y - 10), (CX, EYE_Y - 18), (CX + 25, EYE_Y - 10)]), frame, 6)


def _rounded_rect(cx: float, cy: float, hw: float, hh: float, r: float) -> Outline:
    corners = [(cx + hw - r, cy - hh + r, -90), (cx + hw - r, cy + hh - r, 0), (cx - hw + r, cy + hh - r, 90),
               (cx - hw + r, cy - hh + r, 180)]  # fmt: skip
    pts: list[tuple[float, float]] = []
    for x, y, start in corners:
        for a in np.linspace(start, start + 90, 8):
            pts.append((x + r * math.cos(math.radians(a)), y + r * math.sin(math.radians(a))))
    return np.asarray(pts, np.float64)


def draw_over(painter: Painter, spec: AvatarSpec) -> None:
    """Everything drawn above the moving eyes and mouth (hair in front, glasses, jewellery)."""
    if spec.earrings is not None:
        for side in (-1.0, 1.0):
            ring = [(CX + side * 170 + 12 * math.cos(a), 496 + 16 * math.sin(a)) for a in np.linspace(0, 6.3, 40)]
            painter.line(ring, spec.earrings, 4.5)
    for outline in front_hair(spec):
        painter.fill(outline, spec.hair)
        hair_texture(painter, spec, outline)
    if spec.glasses:
        _glasses(painter)
