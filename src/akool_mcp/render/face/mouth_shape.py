"""A face's lower half measured once for talking, and where it sits in one picture.

:class:`MouthShape` is what is measured once from the face at rest: which landmarks the mouth's
mesh takes, copies of the lower inner lip that stay with the upper teeth, a regular grid of extra
points where the face has none (the neck, the collar, the background beside the jaw), where each
point sits on the face (in eye widths, along the face's own axes) and the measurements posing
reads. :class:`MouthPlacement` is where that mesh lies in one picture: the patch around it and
its points in the patch's pixels. A photo has one placement; a video has one per frame, made by
:func:`place_mouth` from the frame's landmarks while the shape stays the rest face's.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from akool_mcp.render.face import landmarks as lm
from akool_mcp.render.face.axes import FaceFrame, along
from akool_mcp.render.face.mouth_opening import Opening
from akool_mcp.render.face.settle import opened_lips
from akool_mcp.render.face.warp import Points, border_anchors, inside_polygon
from akool_mcp.render.layers import Rect, inside_picture

Rows = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float32]

# How far the mouth may open: the look tests hold the astronaut's wide "ah" to a gap of 0.25-0.45
# mouth widths and a chin drop of 0.04-0.16 eye widths, a natural range.
MAX_OPEN_WIDTH = 0.36  # lip gap of a wide "ah" (the photo's own gap included), in mouth widths
MAX_JAW_DROP = 0.075  # the furthest the chin drops, in face heights (hairline to chin)
LIFT = 0.12  # the upper lip rises this part of the jaw's drop
# However far apart a photo's lips already are, a wide "ah" parts them by at least this part of
# MAX_OPEN_WIDTH more.
_LEAST_ADDED_OPENING = 0.5

# What the mesh covers, in eye widths: the landmarks this far below the nose tip and lower (the
# nose itself stays still), with this much room around them, and down to this far below the
# chin, where the dropping jaw pulls on the neck and the collar.
_BELOW_NOSE = 0.04
_PATCH_PAD = 0.18
_UNDER_CHIN = 0.45
# The extra points: one every _GRID eye widths (never closer than _GRID_LEAST_PX pixels), kept
# only where no landmark lies within _GRID_CLEAR steps and outside the lips; the patch's edge
# holds at least _LEAST_ANCHORS anchors a side, about one per grid step.
_GRID = 0.07
_GRID_LEAST_PX = 2.0
_GRID_CLEAR = 0.6
_LEAST_ANCHORS = 8

_OWN_TEETH = 0.05  # a photo whose lips are this far apart (eye widths) shows its own teeth
# A video frame's lower lip is posed at most this many times as thick as the frame shows it,
# and never under this part of its rest thickness.
LIP_STRETCH = 1.6
LIP_KEPT = 0.4


@dataclass(frozen=True, eq=False)
class MouthShape:
    """The lower face at rest, measured once; positions are in eye widths on the face's axes.

    The mesh's rows are, in order: the chosen landmarks (``landmarks``), the teeth's edge (copies
    of the lower inner lip's middle points, which stay with the upper jaw) and the extra grid
    points; a placement adds the anchors on the patch's edge after them.
    """

    landmarks: Rows  # mesh landmark ids, in row order
    index: Mapping[int, int]  # landmark id -> row
    uv: Points  # every row's point at rest (landmarks, teeth's edge, grid)
    teeth_rows: Rows  # the teeth's edge, between the corners
    upper_inner: Rows  # the upper inner lip, corner to corner
    lower_inner: Rows  # the lower inner lip, corner to corner
    teeth_edge: Rows  # the teeth's edge corner to corner (the corners are the lips' own)
    upper_inner_uv: Points  # the inner lips at rest, corner to corner
    lower_inner_uv: Points
    jaw_u: Floats  # the face's outline below the nose
    jaw_v: Floats
    below: Floats  # how far each row lies below the seam between the lips (negative: above)
    lower: npt.NDArray[np.bool_]  # the rows that move with the jaw: the lower lip, chin and neck
    half_width: float  # half the mouth's width
    jaw_half: float  # half the face's width at the cheeks
    max_drop: float  # how far the jaw drops for a wide "ah"
    own_teeth: bool  # the face at rest shows teeth of its own between its lips
    anchors_per_side: int

    @property
    def chin_v(self) -> float:
        return float(self.uv[self.index[lm.CHIN], 1])

    @property
    def grid_start(self) -> int:
        return len(self.landmarks) + len(self.teeth_rows)


@dataclass(frozen=True, eq=False)
class MouthPlacement:
    """Where a :class:`MouthShape` lies in one picture."""

    frame: FaceFrame  # the face's axes in this picture
    rect: Rect  # the patch the mouth is warped in
    rest: Points  # every row's point in the patch's pixels, the anchors on its edge last
    uv: Points  # the shape posing starts from (the rest shape, or a video frame's settled one)
    own_teeth: bool  # the patch shows teeth of its own between the lips: none are drawn

    @property
    def size(self) -> tuple[int, int]:
        x0, y0, x1, y1 = self.rect
        return x1 - x0, y1 - y0


def measure_mouth(face: lm.Face, width: int, height: int) -> tuple[MouthShape, MouthPlacement]:
    """The mouth of ``face`` at rest, and its placement in the ``width`` x ``height`` picture
    it was found in."""
    frame = FaceFrame(face)
    uv_all = frame.to_face(face.points)
    nose_v = float(uv_all[lm.NOSE_TIP, 1])
    chin_v = float(uv_all[lm.CHIN, 1])
    chosen = np.flatnonzero(uv_all[:, 1] > nose_v + _BELOW_NOSE)
    index = {int(k): i for i, k in enumerate(chosen)}
    uv = uv_all[chosen]
    upper = uv_all[list(lm.INNER_LIP_UPPER)]
    lower = uv_all[list(lm.INNER_LIP_LOWER)]
    half_width = float(abs(uv_all[lm.LIP_CORNER_LEFT, 0] - uv_all[lm.LIP_CORNER_RIGHT, 0])) / 2
    rest_gap = float(np.mean(lower[1:-1, 1] - upper[1:-1, 1]))
    oval = uv_all[[k for k in lm.FACE_OVAL if uv_all[k, 1] > nose_v]]
    # How far the lips may part: a wide "ah" shows a gap (the photo's own included) of
    # MAX_OPEN_WIDTH mouth widths, and the chin drops no more than MAX_JAW_DROP of the face.
    target = MAX_OPEN_WIDTH * 2 * half_width
    face_height = chin_v - float(uv_all[lm.FOREHEAD, 1])
    added = max(target - rest_gap, _LEAST_ADDED_OPENING * target) / (1 + LIFT)

    teeth_uv = uv_all[list(lm.INNER_LIP_LOWER[1:-1])]
    points = frame.to_picture(np.vstack([uv, teeth_uv]))
    rect = _patch_rect(frame, points, chin_v, width, height)
    rx0, ry0, rx1, ry1 = rect
    pw, ph = rx1 - rx0, ry1 - ry0
    origin = np.array([rx0, ry0], np.float32)
    local = points - origin
    lips = face.points[list(lm.OUTER_LIP_UPPER + lm.OUTER_LIP_LOWER[::-1])] - origin
    grid = _grid(local, lips, pw, ph, frame.unit)
    anchors_per_side = max(_LEAST_ANCHORS, math.ceil(max(pw, ph) / (_GRID * frame.unit)))
    all_uv = np.vstack([uv, teeth_uv, frame.to_face(grid + origin)]).astype(np.float32)
    teeth_rows = np.arange(len(uv), len(uv) + len(teeth_uv))
    upper_inner = np.array([index[k] for k in lm.INNER_LIP_UPPER])
    seam_u = ((upper[:, 0] + lower[:, 0]) / 2).astype(np.float32)
    seam_v = ((upper[:, 1] + lower[:, 1]) / 2).astype(np.float32)
    below = all_uv[:, 1] - along(all_uv[:, 0], seam_u, seam_v)
    shape = MouthShape(
        landmarks=chosen,
        index=index,
        uv=all_uv,
        teeth_rows=teeth_rows,
        upper_inner=upper_inner,
        lower_inner=np.array([index[k] for k in lm.INNER_LIP_LOWER]),
        teeth_edge=np.concatenate([[upper_inner[0]], teeth_rows, [upper_inner[-1]]]),
        upper_inner_uv=upper,
        lower_inner_uv=lower,
        jaw_u=oval[:, 0].copy(),
        jaw_v=oval[:, 1].copy(),
        below=below.astype(np.float32),
        lower=_with_the_jaw(below, index, teeth_rows),
        half_width=half_width,
        jaw_half=float(abs(uv_all[lm.CHEEK_LEFT, 0] - uv_all[lm.CHEEK_RIGHT, 0])) / 2,
        max_drop=min(added, MAX_JAW_DROP * face_height),
        own_teeth=rest_gap >= _OWN_TEETH,
        anchors_per_side=anchors_per_side,
    )
    rest = np.vstack([local, grid, border_anchors(pw, ph, anchors_per_side)]).astype(np.float32)
    return shape, MouthPlacement(frame, rect, rest, shape.uv, shape.own_teeth)


def _with_the_jaw(below: Floats, index: Mapping[int, int], teeth_rows: Rows) -> npt.NDArray[np.bool_]:
    """The rows that move with the jaw: below the seam between the lips, the whole lower lip
    (its corners stay with the upper lip), never the upper lip nor the teeth's edge."""
    lower = below > 0
    for k in lm.INNER_LIP_LOWER[1:-1] + lm.OUTER_LIP_LOWER[1:-1]:
        lower[index[k]] = True
    for k in lm.INNER_LIP_UPPER + lm.OUTER_LIP_UPPER:
        lower[index[k]] = False
    lower[teeth_rows] = False
    return lower


def place_mouth(
    shape: MouthShape, face: lm.Face, width: int, height: int, opening: Opening | None = None
) -> MouthPlacement:
    """``shape`` on the same face seen in another video frame (``face``, found in a ``width`` x
    ``height`` frame).

    The points the warp starts from are where ``face`` has them now; the shape posed from is
    ``shape``'s rest shape (its lower lip no thicker than the frame allows, see
    :func:`_lower_lip_within_reach`). Posing therefore also settles whatever the video's own
    mouth was doing into that rest shape. ``opening``: the frame's dark gap between the lips as its pixels
    show it (see :mod:`.mouth_opening`), which places the lower lip and the teeth's edge where the
    mesh's points miss them.
    """
    frame = FaceFrame(face)
    now = frame.to_face(face.points)
    top = None
    if opening is not None:
        now, top = opened_lips(now, opening, frame.unit)
    # The teeth's edge moves with the upper lip (the upper jaw), as far below it as in the rest
    # shape and never below the lower lip: a mouth open in the video then keeps its teeth in the
    # teeth strip and its dark inside in the gap strip, which a closed pose shuts. Only so is the
    # video's own talking settled, not squeezed into the teeth.
    upper_now = now[list(lm.INNER_LIP_UPPER[1:-1])]
    lower_now = now[list(lm.INNER_LIP_LOWER[1:-1])]
    offset = shape.uv[shape.teeth_rows] - shape.uv[shape.upper_inner[1:-1]]
    teeth_now = upper_now + offset
    if top is not None:
        # Where the frame's mouth is open, the teeth end where the dark inside begins.
        teeth_now[:, 1] = np.where(np.isnan(top), teeth_now[:, 1], top)
    teeth_now[:, 1] = np.clip(teeth_now[:, 1], upper_now[:, 1], lower_now[:, 1])
    # A frame whose own mouth is open keeps its own inside, teeth and all, in the teeth strip:
    # teeth drawn under them would make two rows.
    own_teeth = shape.own_teeth or (top is not None and bool(np.any(~np.isnan(top))))
    points = frame.to_picture(np.vstack([now[shape.landmarks], teeth_now]).astype(np.float32))
    rect = _patch_rect(frame, points, shape.chin_v, width, height)
    origin = np.array(rect[:2], np.float32)
    pw, ph = rect[2] - rect[0], rect[3] - rect[1]
    grid = frame.to_picture(shape.uv[shape.grid_start :]) - origin
    # The grid follows the face rigidly; it stays inside the patch, whose edge never moves.
    grid = np.clip(grid, [1.0, 1.0], [max(1.0, pw - 2.0), max(1.0, ph - 2.0)]).astype(np.float32)
    anchors = border_anchors(pw, ph, shape.anchors_per_side)
    rest = np.vstack([points - origin, grid, anchors]).astype(np.float32)
    return MouthPlacement(frame, rect, rest, _lower_lip_within_reach(shape, now), own_teeth)


def _patch_rect(frame: FaceFrame, points: Points, chin_v: float, width: int, height: int) -> Rect:
    """The patch around the mesh's ``points`` (picture pixels), with room below the chin for the
    neck to give, inside the ``width`` x ``height`` picture."""
    pad = _PATCH_PAD * frame.unit
    x0, y0 = points.min(axis=0) - pad
    x1, y1 = points.max(axis=0) + pad
    chin = frame.to_picture(np.array([[0.0, chin_v + _UNDER_CHIN]], np.float32))
    y1 = max(float(y1), float(chin[0, 1]))
    return inside_picture((math.floor(x0), math.floor(y0), math.ceil(x1), math.ceil(y1)), width, height)


def _grid(points: Points, lips: Points, width: int, height: int, unit: float) -> Points:
    """Extra mesh points every ``_GRID`` eye widths where the landmarks leave room."""
    step = max(_GRID * unit, _GRID_LEAST_PX)
    xs = np.arange(0.5 * step, width - 0.5 * step, step, dtype=np.float32)
    ys = np.arange(0.5 * step, height - 0.5 * step, step, dtype=np.float32)
    grid = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2).astype(np.float32)
    if len(grid) == 0:
        return grid
    nearest = np.min(np.linalg.norm(grid[:, None, :] - points[None, :, :], axis=2), axis=1)
    apart = nearest > _GRID_CLEAR * step
    mouth = inside_polygon(grid, lips.astype(np.float32))
    return grid[apart & ~mouth]


def _lower_lip_within_reach(shape: MouthShape, now: Points) -> Points:
    """``shape``'s rest shape with the lower lip no more than ``LIP_STRETCH`` times as thick as
    the frame shows it (``now``: the frame's face points, in eye widths).

    A mouth open wide stretches the lower lip thin; posed back to a lip of its full rest
    thickness, those few rows of pixels would be pulled tall, a pale smear with a streaked
    highlight. Kept nearer the frame's own thickness, the lip stays lip and the skin under it,
    which has no grain to show, takes up the rest.
    """
    inner = [shape.index[k] for k in lm.INNER_LIP_LOWER[1:-1]]
    outer = [shape.index[k] for k in lm.OUTER_LIP_LOWER[1:-1]]
    seen = now[list(lm.OUTER_LIP_LOWER[1:-1]), 1] - now[list(lm.INNER_LIP_LOWER[1:-1]), 1]
    rest = shape.uv[outer, 1] - shape.uv[inner, 1]
    allowed = np.maximum(LIP_STRETCH * seen, LIP_KEPT * rest)
    # The lists pair up across the lip only away from the corners, where both are ordered
    # points one above the other (thicknesses above zero).
    thinner = (seen > 0) & (rest > allowed)
    if not thinner.any():
        return shape.uv
    uv = shape.uv.copy()
    uv[outer, 1] = np.where(thinner, shape.uv[inner, 1] + allowed, shape.uv[outer, 1])
    return uv
