"""Hair of the built-in avatars: the mass behind the head, the part in front, and its texture."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from akool_mcp.render.builtin.paint import Painter, shade, spline, symmetric
from akool_mcp.render.builtin.spec import CX, AvatarSpec

Outline = npt.NDArray[np.float64]

_SHORT = [(345, 400), (323, 330), (328, 252), (360, 192), (420, 146), (CX, 126), (588, 132), (650, 172), (684, 244),
          (686, 330), (672, 400), (660, 400), (656, 322), (638, 276), (604, 256), (556, 248), (CX, 246), (446, 252),
          (400, 266), (366, 292), (350, 330), (356, 400)]  # fmt: skip
_FRINGE = [(342, 420), (322, 330), (330, 250), (366, 186), (430, 142), (CX, 128), (580, 134), (646, 174), (682, 248),
           (686, 330), (664, 420), (652, 420), (650, 330), (640, 290), (620, 268), (598, 286), (572, 270), (540, 292),
           (506, 274), (470, 296), (436, 280), (404, 294), (376, 300), (358, 330), (354, 420)]  # fmt: skip
_CROP = [(344, 380), (326, 320), (334, 250), (370, 196), (430, 162), (CX, 152), (572, 158), (634, 192), (672, 250),
         (680, 320), (664, 380), (654, 380), (652, 318), (632, 276), (590, 252), (CX, 244), (410, 252), (368, 276),
         (348, 318), (352, 380)]  # fmt: skip
_LONG_RIGHT = [(452, 156), (540, 146), (628, 168), (694, 238), (716, 360), (718, 520), (730, 680), (748, 800),
               (722, 864), (672, 846), (652, 762), (642, 640), (652, 520), (656, 420), (642, 330), (600, 268),
               (530, 232), (470, 206)]  # fmt: skip
_LONG_LEFT = [(452, 156), (470, 206), (418, 238), (372, 290), (350, 380), (344, 500), (354, 640), (344, 762),
              (312, 852), (270, 826), (268, 680), (282, 520), (286, 360), (306, 240), (376, 174)]  # fmt: skip
_BUN_CAP = [(342, 400), (324, 320), (336, 240), (380, 182), (440, 150), (CX, 142), (560, 150), (620, 182),
            (664, 240), (676, 320), (658, 400), (648, 400), (646, 330), (622, 282), (580, 250), (CX, 236), (420, 250),
            (378, 282), (354, 330), (352, 400)]  # fmt: skip
_BOB = [(450, 146), (560, 140), (644, 168), (706, 236), (730, 360), (732, 500), (726, 604), (716, 660), (684, 664),
        (666, 630), (668, 530), (664, 430), (650, 340), (618, 292), (566, 266), (CX, 262), (440, 272), (394, 298),
        (360, 344), (344, 430), (340, 530), (336, 630), (316, 664), (286, 660), (272, 604), (268, 500), (270, 360),
        (294, 236), (360, 168)]  # fmt: skip


def _is_light(spec: AvatarSpec) -> bool:
    return sum(spec.hair) > 420


def _afro_cloud() -> Outline:
    angles = np.linspace(0, 2 * math.pi, 240, endpoint=False)
    bumps = 1 + 0.03 * np.sin(angles * 19) + 0.015 * np.sin(angles * 7 + 1)
    # Squash the lower half so the hair ends around the jaw, rounded, behind the neck.
    squash = np.where(np.sin(angles) > 0, 0.92, 1.0)
    return np.column_stack([CX + 288 * bumps * np.cos(angles), 318 + 250 * bumps * squash * np.sin(angles)])


def back_hair(spec: AvatarSpec) -> Outline | None:
    style = spec.hair_style
    if style == "afro":
        return _afro_cloud()
    if style == "long":
        right = [(CX, 138), (628, 150), (708, 232), (736, 380), (736, 560), (748, 720), (736, 842), (CX, 826)]
        return spline(symmetric(right), closed=True, samples=10)
    if style == "bun":
        angles = np.linspace(0, 2 * math.pi, 90, endpoint=False)
        return np.column_stack([CX + 82 * np.cos(angles), 132 + 70 * np.sin(angles)])
    if style == "bob":
        right = [(CX, 136), (628, 148), (708, 230), (734, 380), (734, 520), (724, 616), (700, 662), (CX, 640)]
        return spline(symmetric(right), closed=True, samples=10)
    return None


def front_hair(spec: AvatarSpec) -> list[Outline]:
    style = spec.hair_style
    if style == "short":
        return [spline(_SHORT, closed=True, samples=8)]
    if style == "fringe":
        return [spline(_FRINGE, closed=True, samples=8)]
    if style == "crop":
        return [spline(_CROP, closed=True, samples=8)]
    if style == "long":
        return [spline(_LONG_RIGHT, closed=True, samples=8), spline(_LONG_LEFT, closed=True, samples=8)]
    if style == "bob":
        return [spline(_BOB, closed=True, samples=8)]
    if style == "bun":
        return [spline(_BUN_CAP, closed=True, samples=8)]
    # afro: the hairline over the forehead; its top is hidden in the cloud behind the head
    # The ends stop above the ears so no edge of it shows beside the face.
    angles = np.linspace(math.pi + 0.3, 2 * math.pi - 0.3, 90)
    line = np.column_stack([CX + 176 * np.cos(angles), 436 + 196 * np.sin(angles)])
    line[:, 1] += 2.5 * np.sin(np.linspace(0, 36 * math.pi, 90))
    top = np.asarray([(700, 360), (740, 250), (600, 100), (400, 100), (260, 250), (300, 360)], np.float64)
    return [np.vstack([line, top])]


def _strand_lines(spec: AvatarSpec) -> list[Outline]:
    style = spec.hair_style
    if style == "bun":
        # Swept back from the hairline towards the bun.
        return [spline([(CX + k * 34, 244 - abs(k) * 2), (CX + k * 30, 190), (CX + k * 16, 150)], samples=8)
                for k in range(-5, 6)]  # fmt: skip
    if style in ("short", "fringe", "crop"):
        # Combed lines following the skull, fanning from the parting.
        lines: list[Outline] = []
        for k in range(6):
            d = 16 + k * 17
            lines.append(spline([(352 + d * 0.3, 330 - d * 0.2), (392, 200 + d * 0.7), (CX, 150 + d), (600, 160 + d),
                                 (660, 240 + d * 0.5), (672, 330)], samples=10))  # fmt: skip
        return lines
    lines = []
    for k in range(-6, 7):
        x = CX + k * 30
        lines.append(spline([(x - 20, 150), (x + k * 6, 240), (x + k * 14, 420), (x + k * 16, 700)], samples=10))
    return lines


def hair_texture(painter: Painter, spec: AvatarSpec, outline: Outline) -> None:
    """Strands, a sheen and rim shading, so the hair reads as hair rather than a flat shape."""
    mask = painter.mask()
    painter.mask_fill(mask, outline)
    light = shade(spec.hair, 1.12) if _is_light(spec) else shade(spec.hair, 1.4)
    dark = shade(spec.hair, 0.8) if _is_light(spec) else shade(spec.hair, 0.7)
    strands = painter.mask()
    if spec.hair_style == "afro":
        rng = np.random.default_rng(7)
        for _ in range(260):
            a, r = rng.uniform(0, 2 * math.pi), math.sqrt(rng.uniform(0, 1))
            c = (CX + 280 * r * math.cos(a), 318 + 245 * r * math.sin(a))
            painter.mask_ellipse(strands, c, (rng.uniform(7, 13), rng.uniform(5, 10)), 0.7)
        painter.atop(painter.blur(strands, 1.2) * mask, dark, 0.6)
    else:
        for line in _strand_lines(spec):
            painter.mask_line(strands, line, 2.4)
        painter.atop(painter.blur(strands, 1.2) * mask, dark if _is_light(spec) else light, 0.3)
    sheen = painter.mask()
    painter.mask_line(sheen, spline([(CX - 120, 215), (CX - 30, 176), (CX + 70, 180), (CX + 140, 214)]), 24)
    painter.atop(painter.blur(sheen, 14) * mask, light, 0.2 if spec.hair_style == "afro" else 0.5)
    rim = mask * (1.0 - painter.blur(mask, 18))
    painter.atop(rim, dark, 0.25 if _is_light(spec) else 0.4)


def hairline_shadow(painter: Painter, spec: AvatarSpec, face: Outline) -> None:
    """Soft shade the front hair casts on the forehead."""
    inside = painter.mask()
    painter.mask_fill(inside, face)
    shadow = painter.mask()
    for outline in front_hair(spec):
        moved = outline.copy()
        moved[:, 1] += 9
        painter.mask_fill(shadow, moved)
    painter.darken(painter.blur(shadow, 7) * inside, 0.22)
