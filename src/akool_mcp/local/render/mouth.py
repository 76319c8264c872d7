"""Opening the mouth of a face in a user's photo or video frame.

The jaw is moved by warping: the lower lip and chin slide down, the upper lip lifts a little,
and the gap between them is filled with a dark mouth (upper teeth hinted), all with soft edges
so it sits in the photo. Openness 0 returns the picture untouched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import cv2
import numpy as np
import numpy.typing as npt

from akool_mcp.local.render.draw import Image

Floats = npt.NDArray[np.float32]

MAX_GAP = 0.085  # lip gap when fully open, as a fraction of the face height
_HALF_WIDTH = (0.12, 0.19, 0.24)  # of the face box's width: narrowest, usual, widest half mouth
_INSIDE = np.array([34, 24, 52], np.float32)  # BGR, a dark red-brown like a mouth in shade
_THROAT = np.array([22, 14, 30], np.float32)
_TONGUE = np.array([86, 78, 150], np.float32)
_TEETH = np.array([222, 228, 232], np.float32)


@dataclass(frozen=True)
class Mouth:
    """Where a face's mouth is, in pixels of the picture it will be drawn on."""

    cx: float
    line_y: float  # where the lips meet
    half_width: float  # from the middle of the lips to a corner
    face_width: float
    face_height: float
    face_bottom: float

    def region(self) -> tuple[int, int, int, int]:
        """(x0, y0, x1, y1): everything :func:`open_mouth` may change, with a margin."""
        x0 = int(self.cx - 0.55 * self.face_width)
        x1 = int(np.ceil(self.cx + 0.55 * self.face_width))
        y0 = int(self.line_y - 0.2 * self.face_height)
        y1 = int(np.ceil(self.face_bottom + 0.3 * self.face_height))
        return x0, y0, x1, y1

    def moved(self, dx: float, dy: float) -> Mouth:
        return Mouth(
            self.cx + dx, self.line_y + dy, self.half_width, self.face_width, self.face_height, self.face_bottom + dy
        )

    def placed(self, left: float, top: float, sx: float, sy: float) -> Mouth:
        """The same mouth after its picture is scaled by (sx, sy) and put at (left, top)."""
        return Mouth(
            left + self.cx * sx,
            top + self.line_y * sy,
            self.half_width * sx,
            self.face_width * sx,
            self.face_height * sy,
            top + self.face_bottom * sy,
        )


def locate_mouth(picture: Image, face: tuple[float, float, float, float]) -> Mouth:
    """Estimate the mouth from a face box (Haar boxes put it in the lower third).

    The lip line is the darkest row of a band around the expected height (the seam between the
    lips is a shadow in almost every photo); the corners are where that shadow fades out.
    """
    x, y, w, h = face
    cx = x + w / 2
    guess = y + 0.76 * h
    line_y, half = guess, _HALF_WIDTH[1] * w
    gray = cv2.cvtColor(np.ascontiguousarray(picture[..., :3]), cv2.COLOR_BGR2GRAY).astype(np.float32)
    ph, pw = gray.shape
    band_top, band_bottom = int(y + 0.62 * h), int(y + 0.9 * h)
    bx0, bx1 = int(cx - 0.16 * w), int(cx + 0.16 * w)
    if band_top >= 0 and band_bottom <= ph and bx0 >= 0 and bx1 <= pw and band_bottom - band_top > 4:
        band = cv2.GaussianBlur(gray[band_top:band_bottom, bx0:bx1], (0, 0), max(0.7, h / 300))
        rows = band.mean(axis=1)
        # Prefer rows near the guess when the band has several dark lines (a beard, a chin):
        # being 5% of the face away costs as much as being 4 grey levels lighter.
        distance = np.abs(np.arange(len(rows)) + band_top - guess) / h
        line_y = band_top + float(np.argmin(rows + 80 * distance))
        half = _corners(gray, cx, line_y, w, h) or half
    return Mouth(cx, line_y, half, w, h, y + 1.08 * h)


def _corners(gray: Floats, cx: float, line_y: float, w: float, h: float) -> float | None:
    """Half the mouth's width from the seam's shadow along the lip line, if it is clear enough."""
    x0, x1 = int(cx - 0.3 * w), int(cx + 0.3 * w)
    y0, y1 = int(line_y - max(1, h / 100)), int(line_y + max(1, h / 100)) + 1
    if x0 < 0 or x1 > gray.shape[1] or y0 < 0 or y1 > gray.shape[0]:
        return None
    profile = cv2.GaussianBlur(gray[y0:y1, x0:x1], (0, 0), max(0.7, w / 150)).mean(axis=0)
    darkness = max(float(profile[0]), float(profile[-1])) - profile
    middle = int(cx) - x0
    if darkness[middle] < 15:  # no clear seam: keep the usual proportions
        return None
    faint = darkness < 0.35 * darkness[middle]
    left = middle - (int(np.argmax(faint[:middle][::-1])) if faint[:middle].any() else middle)
    right = middle + (int(np.argmax(faint[middle:])) if faint[middle:].any() else len(profile) - middle)
    return float(np.clip((right - left) / 2, _HALF_WIDTH[0] * w, _HALF_WIDTH[2] * w))


def _smoothstep(t: npt.NDArray[np.floating[Any]]) -> npt.NDArray[np.floating[Any]]:
    t = np.clip(t, 0.0, 1.0)
    return t * t * (3 - 2 * t)


@dataclass(frozen=True, eq=False)
class MouthShape:
    """Everything about one mouth opening that does not depend on the picture's pixels.

    A video frame then costs one remap and one blend: the maps and the inside's colours are
    worked out once per openness level.
    """

    width: int
    height: int
    map1: npt.NDArray[np.int16]  # fixed-point remap tables (cv2.convertMaps), faster than float
    map2: npt.NDArray[np.uint16]
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 of the open mouth's inside
    alpha: Floats  # coverage of the inside over ``box``
    colour: Image  # BGR of the inside over ``box``


def skin_light(picture: Image, mouth: Mouth) -> float:
    """How bright the face is above the lips, 0.6..1: teeth in a dim photo are not white."""
    top = max(0, int(mouth.line_y - 0.1 * mouth.face_height))
    x0, x1 = max(0, int(mouth.cx - mouth.half_width)), max(1, int(mouth.cx + mouth.half_width))
    patch = np.ascontiguousarray(picture[top : max(top + 1, int(mouth.line_y)), x0:x1, :3])
    if patch.size == 0:
        return 1.0
    return float(np.clip(np.mean(cv2.mean(patch)[:3]) / 190.0, 0.6, 1.0))


def mouth_shape(mouth: Mouth, width: int, height: int, openness: float, light: float) -> MouthShape:
    """The warp and the inside for opening ``mouth`` (in a width x height picture) by ``openness``."""
    gap = MAX_GAP * mouth.face_height * min(max(openness, 0.0), 1.0)
    up, down = 0.25 * gap, 0.75 * gap
    fh = mouth.face_height
    xs = np.arange(width, dtype=np.float32)
    ys = np.arange(height, dtype=np.float32)[:, None]
    lip_u = (xs - mouth.cx) / mouth.half_width
    lip = np.clip(1 - lip_u * lip_u, 0, 1) ** 0.6
    jaw_u = np.clip(np.abs(xs - mouth.cx) / (0.5 * mouth.face_width), 0, 1)
    jaw = np.cos(jaw_u * np.pi / 2) ** 2
    below = ys - mouth.line_y
    # Just under the lips the movement has the mouth's shape; lower down, the jaw's.
    blend = _smoothstep(below / (0.12 * fh))
    shape = lip * (1 - blend) + jaw * blend
    # The chin moves with the jaw; beneath it the neck stays, so the move fades out there.
    fade = 1 - _smoothstep((ys - mouth.face_bottom) / (0.25 * fh))
    drop = down * shape * fade
    lift = up * lip * _smoothstep(1 + (ys - mouth.line_y) / (0.12 * fh))
    map_y = np.where(below >= 0, ys - drop, ys + lift).astype(np.float32)
    map_x = np.ascontiguousarray(np.broadcast_to(xs, (height, width)))
    map1, map2 = cv2.convertMaps(map_x, map_y, cv2.CV_16SC2)

    # The inside only spans the lips' width and the gap's height: work on that box alone.
    feather = max(1.0, fh / 250)
    x0 = max(0, int(mouth.cx - mouth.half_width) - 1)
    x1 = min(width, int(np.ceil(mouth.cx + mouth.half_width)) + 2)
    y0 = max(0, int(mouth.line_y - up - feather) - 1)
    y1 = min(height, int(np.ceil(mouth.line_y + down + feather)) + 2)
    by = ys[y0:y1]
    b_u, b_lip = lip_u[x0:x1], lip[x0:x1]
    top_edge = mouth.line_y - up * b_lip
    bottom_edge = mouth.line_y + down * b_lip
    depth = np.minimum(by - top_edge, bottom_edge - by)
    inside = _smoothstep(depth / feather + 0.5) * (b_lip > 0.02)
    # Upper teeth under the upper lip over the middle of the mouth; the throat darkens further
    # in, and a wide-open mouth shows the tongue at the bottom.
    teeth_h = min(0.3 * gap, 0.028 * fh)
    across = np.clip(1 - (np.abs(b_u) / 0.72) ** 4, 0, 1)
    teeth = _smoothstep((top_edge + teeth_h * across - by) / feather + 0.5) * (across > 0)
    height_t = np.maximum(bottom_edge - top_edge, 1e-3)
    depth_t = np.clip((by - top_edge) / height_t, 0, 1)
    inside_colour = _INSIDE + (_THROAT - _INSIDE) * (np.sin(depth_t * np.pi) * across)[..., None]
    tongue = _smoothstep((depth_t - 0.62) / 0.2) * across * min(1.0, max(0.0, openness - 0.3) / 0.4)
    inside_colour = inside_colour + (_TONGUE * light - inside_colour) * tongue[..., None]
    colour = inside_colour * (1 - teeth[..., None]) + _TEETH * light * teeth[..., None]
    return MouthShape(
        width=width,
        height=height,
        map1=cast(npt.NDArray[np.int16], map1),
        map2=cast(npt.NDArray[np.uint16], map2),
        box=(x0, y0, x1, y1),
        alpha=inside.astype(np.float32),
        colour=np.clip(colour + 0.5, 0, 255).astype(np.uint8),
    )


def apply_shape(picture: Image, shape: MouthShape) -> Image:
    """``picture`` (BGR or premultiplied BGRA, shape.width x shape.height) with the mouth open."""
    warped = cast(Image, cv2.remap(picture, shape.map1, shape.map2, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE))
    x0, y0, x1, y1 = shape.box
    if x1 <= x0 or y1 <= y0:
        return warped
    region = warped[y0:y1, x0:x1]
    alpha = shape.alpha
    if warped.shape[2] == 3:
        blended = cv2.blendLinear(np.ascontiguousarray(region), shape.colour, 1.0 - alpha, alpha)
        region[...] = cast(Image, blended)
    else:
        # Premultiplied: the inside's paint is scaled by the coverage already there.
        coverage = region[..., 3:4].astype(np.float32) / 255.0
        rgb = region[..., :3].astype(np.float32)
        a = alpha[..., None]
        region[..., :3] = np.clip(rgb * (1 - a) + shape.colour * coverage * a + 0.5, 0, 255).astype(np.uint8)
    return warped


def open_mouth(picture: Image, mouth: Mouth, openness: float) -> Image:
    """The picture (BGR or premultiplied BGRA) with the mouth opened by ``openness`` 0..1."""
    if openness <= 0.005:
        return picture
    h, w = picture.shape[:2]
    return apply_shape(picture, mouth_shape(mouth, w, h, openness, skin_light(picture, mouth)))
