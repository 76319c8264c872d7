"""Where a mouth's mesh points go for a pose: the jaw drops, the lips part, press or tuck.

The jaw (lower lip, chin and the cheeks below the lips) drops, the upper lip lifts a little, the
corners spread or draw in. Every point moves by one smooth function of where it sits on the
face, fading to nothing below the jaw line and at the patch's edge, so the piecewise-affine warp
between so many points shows no corners: a collar under the chin stays a smooth curve.
Distances are in eye widths (the outer eye corners' distance) unless a name says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from akool_mcp.render.face.axes import along, smooth
from akool_mcp.render.face.mouth_shape import LIFT, MouthPlacement, MouthShape
from akool_mcp.render.face.warp import Points

# The jaw's drop and the lips' opening. The lips move across the mouth's width and a little
# beyond (_LIPS_SPAN half-widths), most in the middle; the opening's profile across them is
# lips ** (_OPEN_PROFILE + _ROUNDED_PROFILE * rounded): a rounded mouth opens in the middle, a
# spread one flatter across. Within _LIPS_ZONE of the seam between the lips they follow the
# lips' profile, further away the jaw's, which swings less towards the ears (the jaw is taken
# as at least _LEAST_JAW half-widths of the mouth wide); below the jaw line the drop fades out
# over _JAW_FADE of the neck before it reaches the collar (raised from 0.3 with the look test
# that measures the warp's kinks under the chin).
_LIPS_SPAN = 1.05
_OPEN_PROFILE = 0.6
_ROUNDED_PROFILE = 1.6
_LIPS_ZONE = 0.3
_LEAST_JAW = 1.2
_JAW_FADE = 0.45
_BITE_LIFT = 0.03  # the upper lip rises this much over a lower lip tucked under the teeth

# Corners spread (i, e) or draw in and the lips push out (o, u, w). The pull reaches
# _CHEEK_REACH mouth half-widths past the corners, but is gone by _CHEEK_TO_JAW of the way to
# the jaw's outline (which would otherwise narrow) and reaches at least _CHEEK_LEAST: a steep
# fade pinches the skin into creases (seen at 100% on the astronaut). Up and down it reaches
# _CORNER_ZONE from the seam, eased by _CORNER_EASE.
_CHEEK_REACH = 0.9
_CHEEK_TO_JAW = 0.75
_CHEEK_LEAST = 0.2
_CORNER_ZONE = 0.4
_CORNER_EASE = 1.5
_SPREAD_PULL = 0.14  # corners pulled out by this part of their distance from the middle
_ROUNDED_PULL = 0.24  # and drawn in by this part (0.4 before the slow cheek fade above)
_SMILE_RISE = 0.04  # the corners rise this much in a spread mouth
# Pushed-out lips look fuller top to bottom; spread ones are stretched thinner. Both reach
# _POUT_ZONE from the seam and leave the points within _POUT_SEAM of it (the inner lips) alone.
_POUT_ROUNDED = 0.05
_POUT_SPREAD = 0.02
_POUT_ZONE = 0.25
_POUT_SEAM = 0.03

_BORDER_FADE = 0.12  # the motion eases out over this much inside the patch's edge
# Closing: upper teeth left showing above a lower lip tucked under them; how far from the inner
# lips pressing or tucking them still moves the skin; how much closed lips overlap (pixels).
_BITE_TEETH = 0.035
_LIP_FADE = 0.25
_OVERLAP_PX = 0.75


@dataclass(frozen=True)
class MouthPose:
    open: float  # 0 lips at rest .. 1 wide open; below 0 pressed shut (p b m)
    width: float  # -1 rounded .. +1 spread
    bite: float  # 0..1 lower lip under the upper teeth


WIDE_OPEN = MouthPose(1.0, 0.0, 0.0)


def posed_points(shape: MouthShape, placement: MouthPlacement, pose: MouthPose) -> Points:
    """Where every mesh point goes for ``pose``, in the placement's patch pixels."""
    uv = placement.uv.copy()
    u, v = uv[:, 0], uv[:, 1]
    hw = shape.half_width
    below, lower = shape.below, shape.lower
    drop = shape.max_drop * max(pose.open, 0.0)
    rounded, spread = max(-pose.width, 0.0), max(pose.width, 0.0)
    lips = np.clip(1 - (u / (_LIPS_SPAN * hw)) ** 2, 0, 1)
    across = lips ** (_OPEN_PROFILE + _ROUNDED_PROFILE * rounded)
    lateral = np.clip(1 - (u / max(shape.jaw_half, hw * _LEAST_JAW)) ** 2, 0, 1) ** 2
    near_lips = 1 - smooth(np.abs(below) / _LIPS_ZONE)
    under_jaw = v - along(u, shape.jaw_u, shape.jaw_v)
    profile = (near_lips * across + (1 - near_lips) * lateral) * (1 - smooth(under_jaw / _JAW_FADE))
    dv = np.where(lower, drop * profile, 0.0)
    upper_fade = 1 - smooth(-below / _LIPS_ZONE)
    lift = (LIFT * drop + _BITE_LIFT * pose.bite) * lips * upper_fade
    dv = dv - np.where(lower, 0.0, lift)
    reach = max(min(_CHEEK_REACH * hw, _CHEEK_TO_JAW * shape.jaw_half - hw), _CHEEK_LEAST * hw)
    beside = np.clip((np.abs(u) - hw) / reach, 0, 1)
    across_cheek = 1 - beside * beside * (3 - 2 * beside)
    mouth_zone = np.clip(1 - np.abs(below) / _CORNER_ZONE, 0, 1) ** _CORNER_EASE * across_cheek
    du = u * mouth_zone * (_SPREAD_PULL * spread - _ROUNDED_PULL * rounded)
    dv = dv - _SMILE_RISE * spread * mouth_zone * (np.abs(u) / hw).clip(0, 1)
    pout = (_POUT_ROUNDED * rounded - _POUT_SPREAD * spread) * lips * np.clip(1 - np.abs(below) / _POUT_ZONE, 0, 1)
    dv = dv + np.where(lower, pout, -pout) * (np.abs(below) > _POUT_SEAM)
    uv[:, 0] = u + du
    uv[:, 1] = v + dv
    if pose.open < 0 or pose.bite > 0:
        uv = _closed(shape, placement, uv, pose)
    # Nothing moves at the patch's edge, and the motion eases out towards it.
    n = len(placement.uv)
    local = placement.rest[:n]
    width, height = placement.size
    size = np.array([width - 1, height - 1], np.float32)
    edge = np.minimum(local, size - local).min(axis=1) / (_BORDER_FADE * placement.frame.unit)
    uv = (placement.uv + (uv - placement.uv) * smooth(edge)[:, None]).astype(np.float32)
    moved = placement.frame.to_picture(uv) - np.array(placement.rect[:2], np.float32)
    return np.vstack([moved, placement.rest[n:]]).astype(np.float32)


def _closed(shape: MouthShape, placement: MouthPlacement, posed: Points, pose: MouthPose) -> Points:
    """``posed`` (face points) with the lips pressed together (p b m) or the lower lip tucked
    under the upper teeth (f v).

    The inner lips (and the teeth's edge) are put exactly where they meet, so no sliver of the
    mouth's inside or of the photo's own teeth shows between closed lips; the skin around them
    follows, less further away. Nothing folds over: a fold shows jagged edges.
    """
    uv = posed.copy()
    start = placement.uv  # the shape the pose started from
    up, low, teeth = shape.upper_inner[1:-1], shape.lower_inner[1:-1], shape.teeth_rows
    u_pair = (start[up, 0] + start[low, 0]) / 2
    gap = np.maximum(start[low, 1] - start[up, 1], 0.0)
    new_up, new_teeth, new_low = uv[up].copy(), uv[teeth].copy(), uv[low].copy()
    # The lips overlap by a pixel where they meet: drawn after the teeth and the gap, they
    # cover every pixel of the seam, which would otherwise show the photo's teeth in places.
    overlap = np.array([0.0, _OVERLAP_PX / placement.frame.unit], np.float32)
    if pose.open < 0:
        press = min(-pose.open, 1.0)
        middle = (uv[up] + uv[low]) / 2
        new_up += press * (middle + overlap - uv[up])
        new_teeth += press * (middle - uv[teeth])
        new_low += press * (middle - overlap - uv[low])
    if pose.bite > 0:
        bite = min(pose.bite, 1.0)
        showing = _BITE_TEETH * np.clip(1 - (u_pair / (_LIPS_SPAN * shape.half_width)) ** 2, 0, 1)
        own = placement.own_teeth
        visible = np.minimum(gap, showing) if own else showing
        edge = uv[up, 1] + (visible if own else 0.0)
        new_teeth[:, 1] += bite * (edge - new_teeth[:, 1])
        new_low[:, 1] += bite * (uv[up, 1] + visible - overlap[1] - new_low[:, 1])
    moved_up, moved_low = new_up[:, 1] - uv[up, 1], new_low[:, 1] - uv[low, 1]
    u, v = start[:, 0], start[:, 1]
    above_inner = along(u, shape.upper_inner_uv[:, 0], shape.upper_inner_uv[:, 1]) - v
    under_inner = v - along(u, shape.lower_inner_uv[:, 0], shape.lower_inner_uv[:, 1])
    corners = np.array([start[shape.upper_inner[0], 0], start[shape.upper_inner[-1], 0]], np.float32)
    keys = np.concatenate([corners, u_pair]).astype(np.float32)
    follow_up = along(u, keys, np.concatenate([[0.0, 0.0], moved_up]).astype(np.float32))
    follow_low = along(u, keys, np.concatenate([[0.0, 0.0], moved_low]).astype(np.float32))
    w_up = 1 - smooth(np.maximum(above_inner, 0) / _LIP_FADE)
    w_low = 1 - smooth(np.maximum(under_inner, 0) / _LIP_FADE)
    uv[:, 1] += np.where(shape.lower, follow_low * w_low, follow_up * w_up)
    uv[up], uv[teeth], uv[low] = new_up, new_teeth, new_low
    return uv
