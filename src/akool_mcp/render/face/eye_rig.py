"""A real face's eyes made to live: blinks drawn with the face's own eyelid skin, and glances.

The eyes are measured once from the picture's landmarks (:func:`build_eyes_rig`) and never move:
a photo's eyes stay where they are, the head's sway is applied to the whole head afterwards.

A blink does not move the landmarks' upper lid alone. On a face behind glasses, or an older
face with heavy lids, the mesh puts its upper lid points part way down the iris (seen on Grace
Hopper's portrait: the points sat 0.03 eye widths under the lid's real edge, and a blink that
closed them onto the lower lid left the top of the iris showing, stretched). So the lid comes
down from a line a little above those points (:data:`_LID_EDGE_ABOVE`), always on skin: the
skin just above it is stretched down over the eye, and everything between that line and the
lower lid (lashes, iris, the lower lid's edge) is pressed into the thin dark line where the
lids meet. Above the stretched skin nothing moves, so glasses frames stay still. Each column
is moved only up and down, by a function of height that only ever grows downwards: nothing
folds, whatever the contrast of the eye or the glass in front of it.

A glance moves what lies between the lids sideways, most in the middle of the eye.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import cast

import cv2
import numpy as np
import numpy.typing as npt

from akool_mcp.render.face import landmarks as lm
from akool_mcp.render.face.axes import FaceFrame
from akool_mcp.render.layers import Rect, inside_picture
from akool_mcp.render.pixels import Image

Floats = npt.NDArray[np.float32]

# The patch: the landmarks from this far above the eyes (the brows) to this far below them
# (eye widths: the outer eye corners' distance), with this much room around them.
_ABOVE_EYES = 0.28
_BELOW_EYES = 0.16
_PATCH_PAD = 0.12
# The lid comes down from this far above the mesh's upper lid (eye widths, in the middle of the
# eye, nothing at its corners): on the real lid's edge for Grace Hopper behind her glasses,
# just above the lashes on the astronaut. The skin this far above that line is stretched down
# over the eye (the glasses frames above it stay still).
_LID_EDGE_ABOVE = 0.03
_LID_SKIN = 0.045
# Stretched that far, the skin's pores, lashes and creases turn into streaks down the lid (seen
# on both test faces' shut eyes): the lid is drawn from that skin blurred by _LID_SMOOTH eye
# widths, a smooth lid of the skin's own colours.
_LID_SMOOTH = 0.015
# In a blink the lower lid rises by this part of the eye's opening; the skin under it follows,
# less and less over _LOWER_SKIN eye widths.
_LOWER_LID_TRAVEL = 0.12
_LOWER_SKIN = 0.05
# A glance as far as GAZE_LEVELS go moves the iris this far (eye widths; a real glance aside
# moves it about half its own width, 0.06). Its pull fades out over _GAZE_FADE eye widths above
# and below the lids.
_GAZE_SHIFT = 0.035
_GAZE_FADE = 0.015


@dataclass(frozen=True, eq=False)
class Eye:
    """One eye in the patch's pixels: its lids as functions of x, corner to corner."""

    xs: Floats  # columns from one corner to the other
    upper: Floats  # the mesh's upper lid at each column
    lower: Floats  # the lower lid at each column


@dataclass(frozen=True, eq=False)
class EyesRig:
    """Both eyes of one picture, ready to blink and glance; positions are in the patch's pixels."""

    rect: Rect  # the patch of the picture the eyes are drawn in
    eyes: tuple[Eye, ...]
    unit: float  # the face's eye width (pixels)

    def render(self, patch: Image, lid: float, gaze: float = 0.0) -> Image:
        """The patch (``self.rect`` of the picture) with both eyes ``lid`` closed (0 open, 1 shut)
        and looking ``gaze`` to the side (-1..1, the picture's left to right)."""
        if lid <= 0 and gaze == 0:
            return patch
        height, width = patch.shape[:2]
        ys = np.arange(height, dtype=np.float32)
        map_x = np.tile(np.arange(width, dtype=np.float32), (height, 1))
        map_y = np.tile(ys[:, None], (1, width))
        skin = np.zeros((height, width), np.float32)  # where the output shows stretched lid skin
        for eye in self.eyes:
            self._move(eye, lid, gaze, ys, map_x, map_y, skin)
        out = cv2.remap(patch, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        if lid > 0:
            soft = cv2.GaussianBlur(patch, (0, 0), max(1.0, _LID_SMOOTH * self.unit))
            lids = cv2.remap(soft, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            weight = (skin * lid)[..., None]
            out = np.clip(out * (1 - weight) + lids * weight + 0.5, 0, 255).astype(np.uint8)
        return cast(Image, out)

    def _move(self, eye: Eye, lid: float, gaze: float, ys: Floats, map_x: Floats, map_y: Floats, skin: Floats) -> None:
        """Write into the maps, column by column, where each pixel of ``eye``'s columns reads from."""
        u = self.unit
        left, right = float(eye.xs[0]), float(eye.xs[-1])
        x0, x1 = max(0, math.ceil(left)), min(map_x.shape[1], math.floor(right) + 1)
        if x1 - x0 < 2:
            return
        columns = np.arange(x0, x1, dtype=np.float32)
        upper = np.interp(columns, eye.xs, eye.upper).astype(np.float32)
        lower = np.interp(columns, eye.xs, eye.lower).astype(np.float32)
        across = np.clip((columns - left) / max(right - left, 1.0), 0, 1)
        bump = np.sin(np.pi * across).astype(np.float32)  # 0 at the corners, 1 in the middle
        edge = upper - _LID_EDGE_ABOVE * u * bump  # where the lid comes down from
        opening = np.maximum(lower - edge, 0.0)
        rise = lid * _LOWER_LID_TRAVEL * np.maximum(lower - upper, 0.0)
        new_lower = lower - rise
        new_edge = edge + lid * (new_lower - edge)  # shut: on the lower lid
        skin_top = edge - _LID_SKIN * u
        shift = gaze * _GAZE_SHIFT * u * bump
        for k, x in enumerate(columns.astype(np.int64).tolist()):
            # Where each row of the picture goes (it only ever grows downwards), then inverted.
            a, c, top = float(edge[k]), float(lower[k]), float(skin_top[k])
            c2 = float(new_lower[k])
            a2 = min(float(new_edge[k]), c2 - 0.5 * lid)  # shut: the lids meet on a line half a pixel high
            rows = np.array([top - 1.0, top, a, c, c + _LOWER_SKIN * u, c + _LOWER_SKIN * u + 1.0], np.float32)
            moved = np.array([top - 1.0, top, a2, c2, c + _LOWER_SKIN * u, c + _LOWER_SKIN * u + 1.0], np.float32)
            if opening[k] <= 0:
                continue
            map_y[:, x] = np.interp(ys, moved, rows, left=np.nan, right=np.nan)
            outside = np.isnan(map_y[:, x])
            map_y[outside, x] = ys[outside]
            # The stretched skin: read from between the skin's top and the lid's edge.
            read = map_y[:, x]
            skin[:, x] = np.clip(np.minimum(read - top, a - read) / 2.0, 0, 1) * float(bump[k])
            if shift[k] != 0:
                read = map_y[:, x]
                inside = np.clip((read - (float(upper[k]) - _GAZE_FADE * u)) / (_GAZE_FADE * u), 0, 1) * np.clip(
                    ((c + _GAZE_FADE * u) - read) / (_GAZE_FADE * u), 0, 1
                )
                map_x[:, x] = x - float(shift[k]) * inside


def build_eyes_rig(face: lm.Face, width: int, height: int, bottom: int | None = None) -> EyesRig:
    """The eyes of ``face`` in a ``width`` x ``height`` picture; ``bottom``: a row the eye patch
    must stay above (where the mouth's patch begins)."""
    frame = FaceFrame(face)
    p = face.points
    eye_points = list(lm.EYE_RIGHT_UPPER + lm.EYE_RIGHT_LOWER + lm.EYE_LEFT_UPPER + lm.EYE_LEFT_LOWER)
    eye_v = frame.to_face(p[eye_points])[:, 1]
    uv_all = frame.to_face(p)
    band_top, band_bottom = float(eye_v.min()) - _ABOVE_EYES, float(eye_v.max()) + _BELOW_EYES
    pts = p[np.flatnonzero((uv_all[:, 1] > band_top) & (uv_all[:, 1] < band_bottom))]
    pad = _PATCH_PAD * frame.unit
    x0, y0 = pts.min(axis=0) - pad
    x1, y1 = pts.max(axis=0) + pad
    limit = height if bottom is None else bottom
    rect = inside_picture((math.floor(x0), math.floor(y0), math.ceil(x1), min(math.ceil(y1), limit)), width, height)
    origin = np.array(rect[:2], np.float32)
    eyes: list[Eye] = []
    for up, down in ((lm.EYE_RIGHT_UPPER, lm.EYE_RIGHT_LOWER), (lm.EYE_LEFT_UPPER, lm.EYE_LEFT_LOWER)):
        upper, lower = p[list(up)] - origin, p[list(down)] - origin
        xs = np.linspace(float(upper[:, 0].min()), float(upper[:, 0].max()), 32, dtype=np.float32)
        eyes.append(Eye(xs, _along(upper, xs), _along(lower, xs)))
    return EyesRig(rect, tuple(eyes), frame.unit)


def _along(points: Floats, xs: Floats) -> Floats:
    order = np.argsort(points[:, 0])
    return np.interp(xs, points[order, 0], points[order, 1]).astype(np.float32)
