"""A real face made to talk and blink: its landmarks moved, the picture warped with them.

The mouth mesh covers the lower face from under the nose to below the chin. The jaw (lower lip,
chin and the cheeks below the lips) drops, the upper lip lifts a little, the corners spread or
draw in; the upper teeth stay with the upper lip (a smiling photo's own teeth are reused) and
the gap that opens between them and the lower lip is painted as the inside of the mouth. The
eye mesh closes each upper lid onto its lower lid. Distances are in eye widths (the outer eye
corners' distance), so the same shapes fit any photo size.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from akool_mcp.render.face import landmarks as lm
from akool_mcp.render.face.axes import FaceFrame
from akool_mcp.render.face.axes import along as _along
from akool_mcp.render.face.axes import smooth as _smooth
from akool_mcp.render.face.cavity import SHUT_GAP, paint_inside, soften_seam
from akool_mcp.render.face.settle import Opening, opened_lips
from akool_mcp.render.face.warp import (
    Mesh,
    Points,
    border_anchors,
    inside_polygon,
    remap,
    triangulate,
)
from akool_mcp.render.pixels import Image

Rect = tuple[int, int, int, int]
Floats = npt.NDArray[np.float32]

MAX_OPEN_WIDTH = 0.36  # lip gap of a wide "ah" (the photo's own gap included), in mouth widths
MAX_JAW_DROP = 0.075  # the furthest the chin drops, in face heights (hairline to chin)
_LIFT = 0.12  # the upper lip rises this part of the jaw's drop
_JAW_FADE = 0.45  # below the jaw line the drop fades out over this much of the neck (eye widths)
_GRID = 0.07  # spacing of the extra mesh points where the face has no landmarks (eye widths)
_BORDER_FADE = 0.12  # the motion eases out over this much inside the patch's edge (eye widths)
_BITE_TEETH = 0.035  # upper teeth left showing above a lower lip tucked under them (eye widths)
_LIP_FADE = 0.25  # how far from the inner lips pressing or tucking them still moves the skin
_OWN_TEETH = 0.05  # a photo whose lips are this far apart (eye widths) shows its own teeth
_OVERLAP_PX = 0.75  # closed lips overlap by this much (pixels)
# A video frame's lower lip is posed at most this many times as thick as the frame shows it,
# and never under this part of its rest thickness.
_LIP_STRETCH = 1.6
_LIP_KEPT = 0.4


@dataclass(frozen=True)
class MouthPose:
    open: float  # 0 lips at rest .. 1 wide open; below 0 pressed shut (p b m)
    width: float  # -1 rounded .. +1 spread
    bite: float  # 0..1 lower lip under the upper teeth


def _clip_rect(rect: Rect, width: int, height: int) -> Rect:
    """``rect`` inside the picture; at least 1x1 (a face off the picture gets a token patch)."""
    x0, y0, x1, y1 = rect
    x0, y0 = min(max(0, x0), width - 1), min(max(0, y0), height - 1)
    return x0, y0, max(x0 + 1, min(width, x1)), max(y0 + 1, min(height, y1))


class MouthRig:
    """The lower face of one photo, ready to be posed; positions are in the picture's pixels.

    The mesh is the face's own landmarks below the nose, copies of the lower inner lip that
    stay with the upper teeth, a regular grid of extra points where the face has none (the
    neck, the collar, the background beside the jaw) and anchors on the patch's edge. Every
    point moves by one smooth function of where it sits on the face, fading to nothing below
    the jaw line and at the patch's edge, so the piecewise-affine warp between so many points
    shows no corners: a collar under the chin stays a smooth curve.
    """

    def __init__(self, face: lm.Face, width: int, height: int) -> None:
        frame = FaceFrame(face)
        self.frame = frame
        uv_all = frame.to_face(face.points)
        nose_v = float(uv_all[lm.NOSE_TIP, 1])
        chin_v = float(uv_all[lm.CHIN, 1])
        chosen = np.flatnonzero(uv_all[:, 1] > nose_v + 0.04)
        self.index = {int(k): i for i, k in enumerate(chosen)}
        uv = uv_all[chosen]
        # The seam between the lips across the mouth, and flat beyond the corners.
        upper = uv_all[list(lm.INNER_LIP_UPPER)]
        lower = uv_all[list(lm.INNER_LIP_LOWER)]
        self.seam_u = ((upper[:, 0] + lower[:, 0]) / 2).astype(np.float32)
        self.seam_v = ((upper[:, 1] + lower[:, 1]) / 2).astype(np.float32)
        self.upper_uv, self.lower_uv = upper, lower
        self.half_width = float(abs(uv_all[lm.LIP_CORNER_LEFT, 0] - uv_all[lm.LIP_CORNER_RIGHT, 0])) / 2
        self.jaw_half = float(abs(uv_all[lm.CHEEK_LEFT, 0] - uv_all[lm.CHEEK_RIGHT, 0])) / 2
        self.rest_gap = float(np.mean(lower[1:-1, 1] - upper[1:-1, 1]))
        # Whether the picture shows teeth of its own between the lips: then none are drawn.
        self.own_teeth = self.rest_gap >= _OWN_TEETH
        oval = uv_all[[k for k in lm.FACE_OVAL if uv_all[k, 1] > nose_v]]
        self.jaw_u, self.jaw_v = oval[:, 0].copy(), oval[:, 1].copy()
        # How far the lips may part: a wide "ah" shows a gap (the photo's own included) of
        # MAX_OPEN_WIDTH mouth widths, and the chin drops no more than MAX_JAW_DROP of the face.
        target = MAX_OPEN_WIDTH * 2 * self.half_width
        face_height = chin_v - float(uv_all[lm.FOREHEAD, 1])
        added = max(target - self.rest_gap, 0.5 * target) / (1 + _LIFT)
        self.max_drop = min(added, MAX_JAW_DROP * face_height)

        # Teeth edge: copies of the lower inner lip that stay with the upper jaw.
        teeth_keys = list(lm.INNER_LIP_LOWER[1:-1])
        teeth_uv = uv_all[teeth_keys]
        # The patch: the chosen points with room below the chin for the neck to give.
        points = frame.to_picture(np.vstack([uv, teeth_uv]))
        pad = 0.18 * frame.unit
        x0, y0 = points.min(axis=0) - pad
        x1, y1 = points.max(axis=0) + pad
        y1 = max(float(y1), float(frame.to_picture(np.array([[0.0, chin_v + 0.45]], np.float32))[0, 1]))
        self.rect = _clip_rect((math.floor(x0), math.floor(y0), math.ceil(x1), math.ceil(y1)), width, height)
        rx0, ry0, rx1, ry1 = self.rect
        pw, ph = rx1 - rx0, ry1 - ry0
        self.size = (pw, ph)
        local = points - np.array([rx0, ry0], np.float32)
        lips = face.points[list(lm.OUTER_LIP_UPPER + lm.OUTER_LIP_LOWER[::-1])] - np.array([rx0, ry0], np.float32)
        grid = _grid(local, lips, pw, ph, frame.unit)
        grid_uv = frame.to_face(grid + np.array([rx0, ry0], np.float32))
        self.per_side = max(8, math.ceil(max(pw, ph) / (_GRID * frame.unit)))
        anchors = border_anchors(pw, ph, self.per_side)
        inside = (local[:, 0] > 1) & (local[:, 0] < pw - 2) & (local[:, 1] > 1) & (local[:, 1] < ph - 2)
        self.n_face = len(uv)
        self.n_teeth = len(teeth_uv)
        self.rest = np.vstack([local, grid, anchors]).astype(np.float32)
        self.uv = np.vstack([uv, teeth_uv, grid_uv]).astype(np.float32)
        self.teeth_rows = np.arange(self.n_face, self.n_face + self.n_teeth)
        self.upper_inner = np.array([self.index[k] for k in lm.INNER_LIP_UPPER])
        self.lower_inner = np.array([self.index[k] for k in lm.INNER_LIP_LOWER])
        below = self.uv[:, 1] - _along(self.uv[:, 0], self.seam_u, self.seam_v)
        lower_set = below > 0
        for k in lm.INNER_LIP_LOWER[1:-1] + lm.OUTER_LIP_LOWER[1:-1]:
            lower_set[self.index[k]] = True
        for k in lm.INNER_LIP_UPPER + lm.OUTER_LIP_UPPER:
            lower_set[self.index[k]] = False
        lower_set[self.teeth_rows] = False  # the teeth stay with the upper jaw
        self.below = below.astype(np.float32)
        self.lower = lower_set

        # Lay the triangles out with the mouth open. Outside the inner lips they are Delaunay's;
        # inside, two strips from corner to corner: the teeth (upper inner lip to the teeth's
        # edge) and the gap (teeth's edge to lower inner lip), so that closing the lips folds
        # nothing over. The strips go first: later triangles are drawn over earlier ones, so lips
        # pressed or tucked over them cover them. No triangle is a hole: where the lips part,
        # the warp stretches the lip's own edge and the painted inside covers it.
        opened = self.posed(MouthPose(1.0, 0.0, 0.0))
        usable = np.concatenate([inside, np.ones(len(grid) + len(anchors), bool)])
        usable[self.teeth_rows] = False
        subset = np.flatnonzero(usable)
        tri = subset[triangulate(opened[subset], pw, ph)]
        ring = opened[np.concatenate([self.upper_inner, self.lower_inner[1:-1][::-1]])]
        tri = tri[~inside_polygon(opened[tri].mean(axis=1).astype(np.float32), ring.astype(np.float32))]
        edge = self._teeth_edge()
        strips = [_strip(self.upper_inner, edge), _strip(edge, self.lower_inner), tri]
        triangles = np.vstack(strips).astype(np.int32)
        self.mesh = Mesh(pw, ph, triangles, np.zeros(len(triangles), bool))

    def moved_to(self, face: lm.Face, width: int, height: int, opening: Opening | None = None) -> MouthRig:
        """This rig on the same face seen in another video frame.

        The triangles and the mouth's shape at rest stay those of this rig; the points the warp
        starts from are where ``face`` has them now. Posing therefore also settles whatever the
        video's own mouth was doing into this rig's rest shape. ``opening``: the frame's dark
        gap between the lips as its pixels show it (see :mod:`settle`), which places the lower
        lip and the teeth's edge where the mesh's points miss them.
        """
        other = copy.copy(self)
        frame = FaceFrame(face)
        other.frame = frame
        face_keys = sorted(self.index, key=self.index.__getitem__)
        now = frame.to_face(face.points)
        top = None
        if opening is not None:
            now, top = opened_lips(now, opening, frame.unit)
        # The teeth's edge moves with the upper lip (the upper jaw), as far below it as in this
        # rig's rest shape and never below the lower lip: a mouth open in the video then keeps
        # its teeth in the teeth strip and its dark inside in the gap strip, which a closed pose
        # shuts. Only so is the video's own talking settled, not squeezed into the teeth.
        upper_now = now[list(lm.INNER_LIP_UPPER[1:-1])]
        lower_now = now[list(lm.INNER_LIP_LOWER[1:-1])]
        offset = self.uv[self.teeth_rows] - self.uv[self.upper_inner[1:-1]]
        teeth_now = upper_now + offset
        if top is not None:
            # Where the frame's mouth is open, the teeth end where the dark inside begins.
            teeth_now[:, 1] = np.where(np.isnan(top), teeth_now[:, 1], top)
        teeth_now[:, 1] = np.clip(teeth_now[:, 1], upper_now[:, 1], lower_now[:, 1])
        other.uv = self._lower_lip_within_reach(now)
        # A frame whose own mouth is open keeps its own inside, teeth and all, in the teeth
        # strip: teeth drawn under them would make two rows.
        other.own_teeth = self.own_teeth or (top is not None and bool(np.any(~np.isnan(top))))
        points = frame.to_picture(np.vstack([now[face_keys], teeth_now]).astype(np.float32))
        pad = 0.18 * frame.unit
        x0, y0 = points.min(axis=0) - pad
        x1, y1 = points.max(axis=0) + pad
        chin = frame.to_picture(np.array([[0.0, float(self.uv[self.index[lm.CHIN], 1]) + 0.45]], np.float32))
        y1 = max(float(y1), float(chin[0, 1]))
        other.rect = _clip_rect((math.floor(x0), math.floor(y0), math.ceil(x1), math.ceil(y1)), width, height)
        rx0, ry0, rx1, ry1 = other.rect
        pw, ph = max(1, rx1 - rx0), max(1, ry1 - ry0)
        other.size = (pw, ph)
        origin = np.array([rx0, ry0], np.float32)
        grid = frame.to_picture(self.uv[self.n_face + self.n_teeth :]) - origin
        # The grid follows the face rigidly; it stays inside the patch, whose edge never moves.
        grid = np.clip(grid, [1.0, 1.0], [max(1.0, pw - 2.0), max(1.0, ph - 2.0)]).astype(np.float32)
        other.rest = np.vstack([points - origin, grid, border_anchors(pw, ph, self.per_side)]).astype(np.float32)
        other.mesh = Mesh(pw, ph, self.mesh.triangles, self.mesh.hole)
        return other

    def _lower_lip_within_reach(self, now: Points) -> Points:
        """This rig's rest shape with the lower lip no more than ``_LIP_STRETCH`` times as thick
        as the frame shows it (``now``: the frame's face points, in eye widths).

        A mouth open wide stretches the lower lip thin; posed back to a lip of its full rest
        thickness, those few rows of pixels would be pulled tall, a pale smear with a streaked
        highlight. Kept nearer the frame's own thickness, the lip stays lip and the skin under it,
        which has no grain to show, takes up the rest.
        """
        inner = [self.index[k] for k in lm.INNER_LIP_LOWER[1:-1]]
        outer = [self.index[k] for k in lm.OUTER_LIP_LOWER[1:-1]]
        seen = now[list(lm.OUTER_LIP_LOWER[1:-1]), 1] - now[list(lm.INNER_LIP_LOWER[1:-1]), 1]
        rest = self.uv[outer, 1] - self.uv[inner, 1]
        allowed = np.maximum(_LIP_STRETCH * seen, _LIP_KEPT * rest)
        # The lists pair up across the lip only away from the corners, where both are ordered
        # points one above the other (thicknesses above zero).
        thinner = (seen > 0) & (rest > allowed)
        if not thinner.any():
            return self.uv
        uv = self.uv.copy()
        uv[outer, 1] = np.where(thinner, self.uv[inner, 1] + allowed, self.uv[outer, 1])
        return uv

    def _teeth_edge(self) -> npt.NDArray[np.int64]:
        """Rows of the teeth-edge copies, corner to corner (the corners are the lips' own)."""
        return np.concatenate([[self.upper_inner[0]], self.teeth_rows, [self.upper_inner[-1]]])

    def posed(self, pose: MouthPose) -> Points:
        """Where every mesh point goes for ``pose``, in patch pixels."""
        uv = self.uv.copy()
        u, v = uv[:, 0], uv[:, 1]
        hw = self.half_width
        below, lower = self.below, self.lower
        drop = self.max_drop * max(pose.open, 0.0)
        rounded, spread = max(-pose.width, 0.0), max(pose.width, 0.0)
        lips = np.clip(1 - (u / (1.05 * hw)) ** 2, 0, 1)
        # A rounded mouth opens in the middle; a spread one opens flatter across.
        across = lips ** (0.6 + 1.6 * rounded)
        lateral = np.clip(1 - (u / max(self.jaw_half, hw * 1.2)) ** 2, 0, 1) ** 2
        near_lips = 1 - _smooth(np.abs(below) / 0.3)
        # The jaw swings down: the lips follow the mouth's shape, the jaw less towards the ears,
        # and below the jaw line the drop fades out over the neck before it reaches the collar.
        under_jaw = v - _along(u, self.jaw_u, self.jaw_v)
        shape = (near_lips * across + (1 - near_lips) * lateral) * (1 - _smooth(under_jaw / _JAW_FADE))
        dv = np.where(lower, drop * shape, 0.0)
        upper_fade = 1 - _smooth(-below / 0.3)
        lift = (_LIFT * drop + 0.03 * pose.bite) * lips * upper_fade
        dv = dv - np.where(lower, 0.0, lift)
        # Corners spread (i, e) or draw in and the lips push out (o, u, w).
        # The pull fades slowly across the cheeks: a steep fade pinches the skin into creases.
        # It must also be gone before the jaw's outline, which would otherwise narrow.
        reach = max(min(0.9 * hw, 0.75 * self.jaw_half - hw), 0.2 * hw)
        beside = np.clip((np.abs(u) - hw) / reach, 0, 1)
        across_cheek = 1 - beside * beside * (3 - 2 * beside)
        mouth_zone = np.clip(1 - np.abs(below) / 0.4, 0, 1) ** 1.5 * across_cheek
        du = u * mouth_zone * (0.14 * spread - 0.24 * rounded)
        dv = dv - 0.04 * spread * mouth_zone * (np.abs(u) / hw).clip(0, 1)  # corners rise in a smile
        # Pushed-out lips look fuller top to bottom; spread ones are stretched thinner.
        pout = (0.05 * rounded - 0.02 * spread) * lips * np.clip(1 - np.abs(below) / 0.25, 0, 1)
        dv = dv + np.where(lower, pout, -pout) * (np.abs(below) > 0.03)
        uv[:, 0] = u + du
        uv[:, 1] = v + dv
        if pose.open < 0 or pose.bite > 0:
            self._close(uv, pose)
        # Nothing moves at the patch's edge, and the motion eases out towards it.
        n = len(self.uv)
        local = self.rest[:n]
        size = np.array([self.size[0] - 1, self.size[1] - 1], np.float32)
        edge = np.minimum(local, size - local).min(axis=1) / (_BORDER_FADE * self.frame.unit)
        uv = (self.uv + (uv - self.uv) * _smooth(edge)[:, None]).astype(np.float32)
        moved = self.frame.to_picture(uv) - np.array(self.rect[:2], np.float32)
        return np.vstack([moved, self.rest[n:]]).astype(np.float32)

    def _close(self, uv: Points, pose: MouthPose) -> None:
        """Lips pressed together (p b m) or the lower lip tucked under the upper teeth (f v).

        The inner lips (and the teeth's edge) are put exactly where they meet, so no sliver of
        the mouth's inside or of the photo's own teeth shows between closed lips; the skin
        around them follows, less further away. Nothing folds over: a fold shows jagged edges.
        """
        up, low, teeth = self.upper_inner[1:-1], self.lower_inner[1:-1], self.teeth_rows
        u_pair = (self.uv[up, 0] + self.uv[low, 0]) / 2
        gap = np.maximum(self.uv[low, 1] - self.uv[up, 1], 0.0)
        new_up, new_teeth, new_low = uv[up].copy(), uv[teeth].copy(), uv[low].copy()
        # The lips overlap by a pixel where they meet: drawn after the teeth and the gap, they
        # cover every pixel of the seam, which would otherwise show the photo's teeth in places.
        overlap = np.array([0.0, _OVERLAP_PX / self.frame.unit], np.float32)
        if pose.open < 0:
            press = min(-pose.open, 1.0)
            middle = (uv[up] + uv[low]) / 2
            new_up += press * (middle + overlap - uv[up])
            new_teeth += press * (middle - uv[teeth])
            new_low += press * (middle - overlap - uv[low])
        if pose.bite > 0:
            bite = min(pose.bite, 1.0)
            showing = _BITE_TEETH * np.clip(1 - (u_pair / (1.05 * self.half_width)) ** 2, 0, 1)
            own = self.own_teeth
            visible = np.minimum(gap, showing) if own else showing
            edge = uv[up, 1] + (visible if own else 0.0)
            new_teeth[:, 1] += bite * (edge - new_teeth[:, 1])
            new_low[:, 1] += bite * (uv[up, 1] + visible - overlap[1] - new_low[:, 1])
        moved_up, moved_low = new_up[:, 1] - uv[up, 1], new_low[:, 1] - uv[low, 1]
        u, v = self.uv[:, 0], self.uv[:, 1]
        above_inner = _along(u, self.upper_uv[:, 0], self.upper_uv[:, 1]) - v
        under_inner = v - _along(u, self.lower_uv[:, 0], self.lower_uv[:, 1])
        corners = np.array([self.uv[self.upper_inner[0], 0], self.uv[self.upper_inner[-1], 0]], np.float32)
        keys = np.concatenate([corners, u_pair]).astype(np.float32)
        follow_up = _along(u, keys, np.concatenate([[0.0, 0.0], moved_up]).astype(np.float32))
        follow_low = _along(u, keys, np.concatenate([[0.0, 0.0], moved_low]).astype(np.float32))
        w_up = 1 - _smooth(np.maximum(above_inner, 0) / _LIP_FADE)
        w_low = 1 - _smooth(np.maximum(under_inner, 0) / _LIP_FADE)
        uv[:, 1] += np.where(self.lower, follow_low * w_low, follow_up * w_up)
        uv[up], uv[teeth], uv[low] = new_up, new_teeth, new_low

    def render(self, patch: Image, pose: MouthPose, light: float, coarse: bool = False) -> Image:
        """The patch (BGR, ``self.rect`` of the picture) with the mouth in ``pose``.

        ``coarse``: faster warp tables, for a video frame seen once (see :meth:`Mesh.maps`).
        """
        moved = self.posed(pose)
        out = remap(patch, self.mesh.maps(self.rest, moved, coarse))
        edge, lower = moved[self._teeth_edge()], moved[self.lower_inner]
        unit = self.frame.unit
        soften_seam(out, edge, lower, unit)
        gap = float(np.max(lower[:, 1] - edge[:, 1]))
        if gap < SHUT_GAP * unit:
            return out  # closed lips: nothing of the inside shows
        teeth = None
        # Synthetic upper teeth only where the photo showed none of its own.
        if not self.own_teeth or pose.bite > 0.3:
            teeth = min(0.09 * unit, 0.45 * gap + pose.bite * gap)
        paint_inside(out, edge, lower, unit, light, teeth)
        return out


def _strip(top: npt.NDArray[np.int64], bottom: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Triangles between two rows of points that run side by side (shared ends allowed)."""
    found: list[tuple[int, int, int]] = []
    for i in range(len(top) - 1):
        for corners in ((top[i], top[i + 1], bottom[i + 1]), (top[i], bottom[i + 1], bottom[i])):
            if len({int(c) for c in corners}) == 3:
                found.append((int(corners[0]), int(corners[1]), int(corners[2])))
    return np.asarray(found, np.int64).reshape(-1, 3)


def _grid(points: Points, lips: Points, width: int, height: int, unit: float) -> Points:
    """Extra mesh points every ``_GRID`` eye widths where the landmarks leave room."""
    step = max(_GRID * unit, 2.0)
    xs = np.arange(0.5 * step, width - 0.5 * step, step, dtype=np.float32)
    ys = np.arange(0.5 * step, height - 0.5 * step, step, dtype=np.float32)
    grid = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2).astype(np.float32)
    if len(grid) == 0:
        return grid
    nearest = np.min(np.linalg.norm(grid[:, None, :] - points[None, :, :], axis=2), axis=1)
    apart = nearest > 0.6 * step
    mouth = inside_polygon(grid, lips.astype(np.float32))
    return grid[apart & ~mouth]


class EyesRig:
    """Both eyes of one photo: each upper lid closes onto its lower lid."""

    def __init__(self, face: lm.Face, width: int, height: int, bottom: int | None = None) -> None:
        """``bottom``: a row the eye patch must stay above (where the mouth's patch begins)."""
        frame = FaceFrame(face)
        p = face.points
        eye_points = list(lm.EYE_RIGHT_UPPER + lm.EYE_RIGHT_LOWER + lm.EYE_LEFT_UPPER + lm.EYE_LEFT_LOWER)
        eye_v = frame.to_face(p[eye_points])[:, 1]
        uv_all = frame.to_face(p)
        band_top, band_bottom = float(eye_v.min()) - 0.28, float(eye_v.max()) + 0.16
        chosen = np.flatnonzero((uv_all[:, 1] > band_top) & (uv_all[:, 1] < band_bottom))
        self.index = {int(k): i for i, k in enumerate(chosen)}
        pts = p[chosen]
        pad = 0.12 * frame.unit
        x0, y0 = pts.min(axis=0) - pad
        x1, y1 = pts.max(axis=0) + pad
        limit = height if bottom is None else bottom
        self.rect = _clip_rect(
            (math.floor(x0), math.floor(y0), math.ceil(x1), min(math.ceil(y1), limit)), width, height
        )
        rx0, ry0, rx1, ry1 = self.rect
        pw, ph = rx1 - rx0, ry1 - ry0
        local = pts - np.array([rx0, ry0], np.float32)
        anchors = border_anchors(pw, ph, 6)
        inside = (local[:, 0] > 1) & (local[:, 0] < pw - 2) & (local[:, 1] > 1) & (local[:, 1] < ph - 2)
        self.rest = np.vstack([local, anchors]).astype(np.float32)
        subset = np.flatnonzero(np.concatenate([inside, np.ones(len(anchors), bool)]))
        tri = subset[triangulate(self.rest[subset], pw, ph)]
        self.mesh = Mesh(pw, ph, tri.astype(np.int32), np.zeros(len(tri), bool))
        self.unit = frame.unit
        self.lids = [
            (np.array([self.index[k] for k in up]), np.array([self.index[k] for k in down]))
            for up, down in ((lm.EYE_RIGHT_UPPER, lm.EYE_RIGHT_LOWER), (lm.EYE_LEFT_UPPER, lm.EYE_LEFT_LOWER))
        ]

    def render(self, patch: Image, lid: float) -> Image:
        """The patch (``self.rect`` of the picture) with both eyes ``lid`` closed (0 open, 1 shut)."""
        if lid <= 0:
            return patch
        moved = self.rest.copy()
        for upper, lower in self.lids:
            up, down = self.rest[upper], self.rest[lower]
            # In a blink the upper lid does most of the travel and the lower lid rises to meet it.
            drop = (down[:, 1] - up[:, 1]) * lid * 0.88
            moved[lower, 1] -= (down[:, 1] - up[:, 1]) * lid * 0.12
            # The skin between lid and brow stretches down with the lid, less further up.
            left, right = float(up[:, 0].min()), float(up[:, 0].max())
            xs = self.rest[:, 0]
            lid_y = np.interp(xs, up[np.argsort(up[:, 0]), 0], up[np.argsort(up[:, 0]), 1])
            lid_drop = np.interp(xs, up[np.argsort(up[:, 0]), 0], drop[np.argsort(up[:, 0])])
            above = lid_y - self.rest[:, 1]
            within = (xs > left) & (xs < right) & (above > 0.5)
            fall = np.clip(1 - above / (0.2 * self.unit), 0, 1) * within
            moved[:, 1] += lid_drop * fall * 0.6
            moved[upper, 1] = up[:, 1] + drop
        n_anchor = len(self.rest) - len(self.index)
        moved[len(self.rest) - n_anchor :] = self.rest[len(self.rest) - n_anchor :]
        return remap(patch, self.mesh.maps(self.rest, moved))


def skin_light(picture: Image, face: lm.Face) -> float:
    """How bright the face is, 0.6..1: teeth in a dim photo are not white."""
    x, y, w, h = face.box
    patch = np.ascontiguousarray(
        picture[max(0, y + h // 4) : max(1, y + h // 2), max(0, x + w // 4) : x + 3 * w // 4, :3]
    )
    if patch.size == 0:
        return 1.0
    return float(np.clip(np.mean(cv2.mean(patch)[:3]) / 170.0, 0.6, 1.0))
