"""A real face's eyes made to live: blinks drawn with the face's own eyelid skin, and glances.

The eyes are measured once from the picture's landmarks (:func:`build_eyes_rig`) and never move:
a photo's eyes stay where they are, the head's sway is applied to the whole head afterwards.

A blink is drawn as a real one is seen: the upper lid slides down over the eye, which stays
where it is and is hidden, not squeezed. The lid does not start at the landmarks' upper lid. On
a face behind glasses, or an older face with heavy lids, the mesh puts its upper lid points
part way down the iris (seen on Grace Hopper's portrait: the points sat 0.03 eye widths under
the lid's real edge, and a blink that closed them onto the lower lid left the top of the iris
showing). So the lid's edge is taken a little above those points (:data:`_LID_EDGE_ABOVE`).
Coming down, the lid carries its own edge (the lashes, moved whole, never stretched) and grows
above it from the skin over the eye: the skin's own colours, from just under the brow to just
above the lashes, with the skin's own fine grain laid over them (mirrored, at its own scale).
Stretching that skin instead turned its pores, lashes and crease into streaks, and blurring
them into a grey smear (seen at 100% on the astronaut's shut eye). The lower lid rises a
little. Above the lid's skin nothing moves, so glasses frames stay still, whatever the contrast
of the eye or the glass in front of it.

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
from akool_mcp.render.face.axes import FaceFrame, along, smooth
from akool_mcp.render.layers import Rect, inside_picture
from akool_mcp.render.pixels import Image

Floats = npt.NDArray[np.float32]

# The patch: the landmarks from this far above the eyes (the brows) to this far below them
# (eye widths: the outer eye corners' distance), with this much room around them.
_ABOVE_EYES = 0.28
_BELOW_EYES = 0.16
_PATCH_PAD = 0.12
# The lid's edge lies this far above the mesh's upper lid (eye widths, in the middle of the
# eye, nothing at its corners): on the real lid's edge for Grace Hopper behind her glasses,
# just above the lashes on the astronaut. Coming down, the lid's skin shows from _LID_SKIN above
# that edge (where it was the picture's own skin and stays so) and takes the lid's colour over
# _LID_BLEND more: column by column, the lighter part (see _LID_COLOUR_PERCENTILE) of the skin
# from _LID_COLOUR_REACH above the edge down to the lashes (a crease, a lash or a glasses rim
# there is no lid colour), smoothed across the eye over _LID_COLOUR_ACROSS (a column's own
# colour drew vertical stripes).
_LID_EDGE_ABOVE = 0.03
_LID_SKIN = 0.045
_LID_BLEND = 0.03
_LID_COLOUR_REACH = 0.09
_LID_COLOUR_ACROSS = 0.03
_LID_COLOUR_SAMPLES = 16
# Of those samples, per colour channel, this percentile: a shut lid bulges out of the shadow
# under the brow and catches more light than the open eye's crease (the median drew a dark slab
# on Grace Hopper, whose lids lie in the shade of her brows and glasses).
_LID_COLOUR_PERCENTILE = 70
# The lid's edge carries the band from _LASHES_ABOVE over it to _LASHES_BELOW under it (the
# lashes' roots and the lashes, never further down than the mesh's upper lid: the eye's white
# lies under it towards the corners), moved whole.
_LASHES_ABOVE = 0.01
_LASHES_BELOW = 0.02
_SHUT_OVER_LOWER = 0.012  # shut, the lashes' band's middle lies this far under the lower lid
_OPEN_ENOUGH = 0.04  # the lid's skin takes its colour fully where the eye opens this far
_CAP_SOFT = 12.0  # grey levels over which what the lid's edge carries turns into the lid's colour
_SPOTS_UP_TO = 0.06  # light spots on the lid's edge up to this wide are taken out (eye widths)
# The lid darkens by _LID_SHADE over the last _LID_SHADE_OVER eye widths above its edge.
_LID_SHADE = 0.1
_LID_SHADE_OVER = 0.03
# The skin's grain: what a blur of _GRAIN eye widths (at least a pixel) takes out of it. The
# lid's colours are the skin's blurred by _LID_COLOUR_BLUR (a pore or a lash is no colour).
_GRAIN = 0.006
_LID_COLOUR_BLUR = 0.012
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
        picture = patch.astype(np.float32)
        fine = _blurred(picture, _GRAIN * self.unit)
        layers = _Layers.of(patch.shape[0], patch.shape[1])
        soft = _blurred(picture, _LID_COLOUR_BLUR * self.unit)
        for eye in self.eyes:
            self._move(eye, lid, gaze, soft, fine, layers)
        return layers.draw(patch, picture - fine, self.unit)

    def _move(self, eye: Eye, lid: float, gaze: float, soft: Floats, fine: Floats, layers: _Layers) -> None:
        """Draw ``eye`` into ``layers``: the eye and the lower lid (moved), the lid's edge over
        them and the lid's skin over that. ``soft`` and ``fine``: the picture blurred for the
        lid's colour and without its grain."""
        u = self.unit
        left, right = float(eye.xs[0]), float(eye.xs[-1])
        x0, x1 = max(0, math.ceil(left)), min(layers.width, math.floor(right) + 1)
        if x1 - x0 < 2:
            return
        columns = np.arange(x0, x1, dtype=np.float32)
        upper = np.interp(columns, eye.xs, eye.upper).astype(np.float32)
        lower = np.interp(columns, eye.xs, eye.lower).astype(np.float32)
        across = np.clip((columns - left) / max(right - left, 1.0), 0, 1)
        bump = np.sin(np.pi * across).astype(np.float32)  # 0 at the corners, 1 in the middle
        edge = upper - _LID_EDGE_ABOVE * u * bump  # the lid's edge, open
        above = _LASHES_ABOVE * u
        below = np.minimum(_LASHES_BELOW * u, upper - edge)
        new_lower = lower - lid * _LOWER_LID_TRAVEL * np.maximum(lower - upper, 0.0)
        # Shut, the lashes lie over the lower lid's edge (the mesh's lower lid runs along the
        # white's lower edge, which would show as a pale line under them).
        travel = lid * np.maximum(new_lower + _SHUT_OVER_LOWER * u - below / 2 - edge, 0.0)
        margin = edge + travel  # the lid's edge now
        top = edge - _LID_SKIN * u  # the lid's skin begins here, and stays
        y = np.arange(layers.height, dtype=np.float32)[:, None]
        # The eye stays; the lower lid rises, its skin down to _LOWER_SKIN under it pressed up.
        reach = _LOWER_SKIN * u
        pressed = (y >= new_lower) & (y < lower + reach)
        squeeze = reach / np.maximum(lower + reach - new_lower, 1e-3)
        read = np.where(pressed, lower + (y - new_lower) * squeeze, y)
        # A glance moves what lies between the lids.
        fade = _GAZE_FADE * u
        inside = smooth((read - (upper - fade)) / fade) * smooth(((lower + fade) - read) / fade)
        layers.map_y[:, x0:x1] = read
        layers.map_x[:, x0:x1] = columns - gaze * _GAZE_SHIFT * u * bump * inside
        if lid <= 0:
            return
        # Over it the lid's edge (lashes), moved whole; soft at both ends.
        layers.lashes_y[:, x0:x1] = y - travel
        layers.lashes[:, x0:x1] = np.clip(y - (margin - above) + 0.5, 0, 1) * np.clip(margin + below - y + 0.5, 0, 1)
        # Over that the lid's skin: the skin as it is at first, then the lid's colour (see
        # _LID_COLOUR_REACH), its grain mirrored back and forth over the skin it grew from.
        bottom = margin - above
        span = np.maximum(edge - above - top, 1.0)
        offset = np.mod(np.maximum(y - top, 0.0), 2 * span)
        mirrored = np.where(y < top, y, top + np.where(offset < span, offset, 2 * span - offset))
        cols = columns.astype(np.int64)
        as_it_is = _gather(fine, np.clip(mirrored, 0, layers.height - 1), cols)
        # Only where the eye opens: at its corners the lid's skin stays as it is.
        where = smooth((lower - edge) / (_OPEN_ENOUGH * u))
        takes = (lid * smooth((y - top) / (_LID_BLEND * u)) * where)[..., None]
        colour = _lid_colour(soft, (edge - above).astype(np.float32), cols, u)[None]
        # Curving away under the brow's light, the lid darkens towards its edge.
        shade = 1 - _LID_SHADE * smooth((y - (bottom - _LID_SHADE_OVER * u)) / (_LID_SHADE_OVER * u))
        layers.skin[:, x0:x1] = as_it_is + (colour * shade[..., None] - as_it_is) * takes
        layers.cap[:, x0:x1] = colour * (1 - _LID_SHADE)
        layers.capped[:, x0:x1] = lid * where
        layers.skin_y[:, x0:x1] = mirrored
        layers.lid[:, x0:x1] = np.clip(bottom - y + 0.5, 0, 1) * (y >= top - 2)


@dataclass(frozen=True, eq=False)
class _Layers:
    """What a blink draws over a patch, in three layers: the eye and lower lid as the maps read
    the picture; the lid's edge (``lashes_y``, shown by ``lashes``); the lid's skin (colours
    ``skin`` plus the grain read at ``skin_y``, shown by ``lid``)."""

    map_x: Floats
    map_y: Floats
    lashes_y: Floats
    lashes: Floats
    skin: Floats
    skin_y: Floats
    lid: Floats
    cap: Floats  # the lid's colour at its edge: nothing the edge carries down is lighter
    capped: Floats  # per column, how much the cap holds

    @staticmethod
    def of(height: int, width: int) -> _Layers:
        xs = np.tile(np.arange(width, dtype=np.float32), (height, 1))
        ys = np.tile(np.arange(height, dtype=np.float32)[:, None], (1, width))
        none = np.zeros((height, width), np.float32)
        colours = np.zeros((height, width, 3), np.float32)
        return _Layers(xs, ys, ys.copy(), none, colours, ys.copy(), none.copy(), colours.copy(), none.copy())

    @property
    def height(self) -> int:
        return self.map_x.shape[0]

    @property
    def width(self) -> int:
        return self.map_x.shape[1]

    def draw(self, patch: Image, grain: Floats, unit: float) -> Image:
        out = cv2.remap(patch, self.map_x, self.map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        if not self.lid.any() and not self.lashes.any():
            return cast(Image, out)
        xs = np.tile(np.arange(self.width, dtype=np.float32), (self.height, 1))
        carried = cv2.remap(patch, xs, self.lashes_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        lashes = carried.astype(np.float32)
        # The lid's edge carries its lashes and whatever dark lies under them down, but no light
        # spot (an iris' catchlight, taken out by an opening along the edge: the dark lashes
        # stay) and nothing lighter than the lid (the eye's white): either shows the eye open.
        wide = max(3, round(_SPOTS_UP_TO * unit) | 1)
        spotless = cv2.morphologyEx(lashes, cv2.MORPH_OPEN, np.ones((1, wide), np.uint8))
        lashes = lashes + (spotless - lashes) * self.capped[..., None]
        lighter = np.clip((_luma(lashes) - _luma(self.cap)) / _CAP_SOFT, 0, 1) * self.capped
        lashes = lashes + (self.cap - lashes) * lighter[..., None]
        skin = self.skin + cv2.remap(grain, xs, self.skin_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        a, b = self.lashes[..., None], self.lid[..., None]
        drawn = (out * (1 - a) + lashes * a) * (1 - b) + skin * b
        return cast(Image, np.clip(drawn + 0.5, 0, 255).astype(np.uint8))


def _lid_colour(soft: Floats, bottom: Floats, cols: npt.NDArray[np.int64], unit: float) -> Floats:
    """Per column (``cols``, n): the closed lid's colour (n x 3), from the skin over the eye
    down to the row ``bottom`` of each column (see _LID_COLOUR_REACH)."""
    reach = np.linspace(_LID_COLOUR_REACH * unit, 0.0, _LID_COLOUR_SAMPLES, dtype=np.float32)
    rows = np.clip(bottom[None, :] - reach[:, None], 0, soft.shape[0] - 1)
    colours = np.percentile(_gather(soft, rows, cols), _LID_COLOUR_PERCENTILE, axis=0).astype(np.float32)
    across = max(1.0, _LID_COLOUR_ACROSS * unit)
    return cast(Floats, cv2.GaussianBlur(colours[None], (0, 1), across, borderType=cv2.BORDER_REPLICATE)[0])


def _blurred(picture: Floats, sigma: float) -> Floats:
    return cast(Floats, cv2.GaussianBlur(picture, (0, 0), max(1.0, sigma)))


def _luma(picture: Floats | Image) -> Floats:
    b, g, r = (picture[..., k].astype(np.float32) for k in range(3))
    return (0.114 * b + 0.587 * g + 0.299 * r).astype(np.float32)


def _gather(picture: Floats, rows: Floats, cols: npt.NDArray[np.int64]) -> Floats:
    """``picture`` at fractional ``rows`` (h x n) of the integer columns ``cols`` (n)."""
    low = np.floor(rows).astype(np.int64)
    high = np.minimum(low + 1, picture.shape[0] - 1)
    share = (rows - low)[..., None]
    return (picture[low, cols[None, :]] * (1 - share) + picture[high, cols[None, :]] * share).astype(np.float32)


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
        eyes.append(Eye(xs, along(xs, upper[:, 0], upper[:, 1]), along(xs, lower[:, 0], lower[:, 1])))
    return EyesRig(rect, tuple(eyes), frame.unit)
