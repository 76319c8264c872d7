"""A video frame's lips settled where its pixels show them (see :mod:`.mouth_opening`).

The lower lip goes down to the bottom of the frame's dark gap and its outline to where the
frame's colours show its lower edge, so that posing shuts the gap itself, not a lip stretched
over it; and a rest shape whose mouth is open is shut, the lower lip raised to the gap's top.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from akool_mcp.render.face import landmarks as lm
from akool_mcp.render.face.axes import FaceFrame, along, smooth
from akool_mcp.render.face.mouth_opening import Opening
from akool_mcp.render.face.warp import Points

Floats = npt.NDArray[np.float32]

# The skin under a lower lip moved by settling follows it less and less over this many lip
# thicknesses (or shifts, if greater).
_CHIN_FOLLOW = 2


def opened_lips(uv: Points, opening: Opening, unit: float) -> tuple[Points, Floats]:
    """Face points ``uv`` (all of a mesh, in eye widths) with the lower lip moved down to the
    bottom of the frame's dark gap, and the gap's top per inner-lip column (NaN: none there).

    The lip keeps its own pixels and the gap above it is left to the gap strip, which a closed
    pose shuts.
    """
    inner = uv[list(lm.INNER_LIP_LOWER[1:-1])]
    shift = _across_lips(uv, (np.maximum(opening.bottom, 0.0) / unit).astype(np.float32))
    top = (inner[:, 1] + opening.top / unit).astype(np.float32)
    moved = _lower_lip_moved(uv, shift, within_lip=True)
    # The lip's outline goes where the frame's colours show its lower edge (it lies below the
    # gap, so the lip keeps its inner edge above its outline).
    foot = inner[:, 1] + opening.foot / unit
    keys, outer_v = _outer_lower_line(moved)
    lower_by = np.where(np.isnan(foot), np.nan, foot - along(inner[:, 0], keys, outer_v))
    return _lip_foot_moved(moved, _across_lips(uv, lower_by.astype(np.float32))), top


def _outer_lower_line(uv: Points) -> tuple[Floats, Floats]:
    """(u, v) of the lower lip's outline, corner to corner."""
    outer = uv[list(lm.OUTER_LIP_LOWER)]
    return outer[:, 0].astype(np.float32), outer[:, 1].astype(np.float32)


def _lip_foot_moved(uv: Points, shift: Floats) -> Points:
    """Face points ``uv`` with the lower lip's outline moved down by ``shift`` (eye widths, per
    inner-lip column; negative: up, never past the inner edge): the lip between its inner edge
    and its outline stretched or squeezed to reach it, the skin under it following less and
    less over two lip thicknesses (never faster than keeps the points in order)."""
    if not np.any(shift):
        return uv
    inner = uv[list(lm.INNER_LIP_LOWER)]
    keys = inner[1:-1, 0].astype(np.float32)
    corners = inner[[0, -1], 0].astype(np.float32)
    u, v = uv[:, 0], uv[:, 1]
    inner_line = along(u, inner[:, 0].astype(np.float32), inner[:, 1].astype(np.float32))
    outer_u, outer_v = _outer_lower_line(uv)
    outer_line = along(u, outer_u, outer_v)
    zero = np.zeros(2, np.float32)
    drop = along(u, np.concatenate([corners, keys]), np.concatenate([zero, shift]).astype(np.float32))
    thick = np.maximum(outer_line - inner_line, 1e-3)
    fade = np.maximum(_CHIN_FOLLOW * thick, _CHIN_FOLLOW * np.abs(drop))
    within = np.clip((v - inner_line) / thick, 0.0, 1.0)
    under = 1 - smooth(np.maximum(v - outer_line, 0.0) / np.maximum(fade, 1e-6))
    weight = np.where(v < inner_line, 0.0, np.where(v <= outer_line, within, under))
    moved = uv.copy()
    moved[:, 1] = v + drop * weight
    return moved.astype(np.float32)


def _across_lips(uv: Points, values: Floats) -> Floats:
    """Per inner-lip column values with the columns not measured (NaN) filled in between the
    measured ones and nothing at the mouth's corners: no column is left behind its neighbours."""
    found = ~np.isnan(values)
    if not found.any():
        return np.zeros(len(values), np.float32)
    u = uv[list(lm.INNER_LIP_LOWER), 0]
    keys = np.concatenate([[u[0]], u[1:-1][found], [u[-1]]]).astype(np.float32)
    known = np.concatenate([[0.0], values[found], [0.0]]).astype(np.float32)
    return along(u[1:-1].astype(np.float32), keys, known)


def _lower_lip_moved(uv: Points, shift: Floats, *, within_lip: bool = False) -> Points:
    """Face points ``uv`` with the lower lip moved down by ``shift`` (eye widths, per inner-lip
    column; negative: up), the chin below it following less and less.

    The whole lip moves (a jaw closing does not make the lip taller), and below it the shift
    fades out over two lip thicknesses, never faster than the points' spacing allows, so
    nothing folds. ``within_lip``: only the lip's inner edge moves, the shift fading out by its
    outer edge (as fast as it may without folding): for landmarks that put the inner edge of an
    open mouth's lower lip up in the dark gap while the outer edge is right. Either way, a lip
    moved otherwise would be shown stretched over the skin under it: a pale, tall lower lip.
    """
    if not np.any(shift):
        return uv
    inner = uv[list(lm.INNER_LIP_LOWER[1:-1])]
    outer = uv[list(lm.OUTER_LIP_LOWER[1:-1])]
    corners = uv[[lm.INNER_LIP_LOWER[0], lm.INNER_LIP_LOWER[-1]]]
    keys = np.concatenate([corners[:, 0], inner[:, 0]]).astype(np.float32)
    zero = np.zeros(2, np.float32)
    u, v = uv[:, 0], uv[:, 1]
    line = along(u, keys, np.concatenate([corners[:, 1], inner[:, 1]]).astype(np.float32))
    drop = along(u, keys, np.concatenate([zero, shift]).astype(np.float32))
    thick = np.maximum(outer[:, 1] - inner[:, 1], 1e-3)
    # smooth() is at most 1.5 steep: fading over 1.5 shifts or more keeps the points in order.
    reach = np.maximum(thick, 1.5 * np.abs(shift)) if within_lip else _CHIN_FOLLOW * np.maximum(thick, np.abs(shift))
    fade = along(u, keys, np.concatenate([zero, reach]).astype(np.float32))
    hold = np.zeros_like(u) if within_lip else along(u, keys, np.concatenate([zero, thick]).astype(np.float32))
    under = v - line
    below = np.maximum(under - hold, 0.0)
    weight = np.where(under >= -1e-4, 1 - smooth(below / np.maximum(fade, 1e-6)), 0.0)
    moved = uv.copy()
    moved[:, 1] = v + drop * weight
    return moved.astype(np.float32)


def closed_face(face: lm.Face, opening: Opening) -> lm.Face:
    """``face`` with its mouth shut where ``opening`` saw it open: the lower lip raised to the
    top of the dark gap (the teeth's or the upper lip's edge), the chin rising with it.

    A rest shape for a video whose person never closes their mouth while it is scanned.
    """
    frame = FaceFrame(face)
    uv, top = opened_lips(frame.to_face(face.points), opening, frame.unit)
    inner = uv[list(lm.INNER_LIP_LOWER[1:-1]), 1]
    # Up to the gap's top, never above the upper lip: the lips meet, they do not cross.
    shut = np.maximum(np.nan_to_num(top), uv[list(lm.INNER_LIP_UPPER[1:-1]), 1])
    rise = _across_lips(uv, np.where(np.isnan(top), np.nan, np.minimum(shut - inner, 0.0)).astype(np.float32))
    return lm.Face(frame.to_picture(_lower_lip_moved(uv, rise)), face.score)
