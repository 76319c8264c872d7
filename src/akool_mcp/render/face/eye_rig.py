"""A real face's blink: each upper lid closes onto its lower lid, the skin under the brow following.

The eye mesh is built once from the photo's landmarks (:func:`build_eyes_rig`) and never moves:
a photo's eyes stay where they are, the head's sway is applied to the whole head afterwards.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from akool_mcp.render.face import landmarks as lm
from akool_mcp.render.face.axes import FaceFrame
from akool_mcp.render.face.warp import Mesh, Points, border_anchors, remap, triangulate
from akool_mcp.render.layers import Rect, inside_picture
from akool_mcp.render.pixels import Image

Rows = npt.NDArray[np.int64]

# The mesh takes the landmarks from this far above the eyes (the brows) to this far below them
# (eye widths), with this much room around them and this many anchors a side on the patch's edge.
_ABOVE_EYES = 0.28
_BELOW_EYES = 0.16
_PATCH_PAD = 0.12
_ANCHORS = 6
# In a blink the upper lid does most of the travel and the lower lid rises to meet it (the two
# shares add up to the whole gap). The skin between lid and brow stretches down with the lid,
# by this part of the lid's drop, fading out this far above it (eye widths).
_UPPER_LID_TRAVEL = 0.88
_LOWER_LID_TRAVEL = 0.12
_BROW_SKIN_FOLLOW = 0.6
_BROW_SKIN_REACH = 0.2


@dataclass(frozen=True, eq=False)
class EyesRig:
    """Both eyes of one photo, ready to blink; positions are in the patch's pixels."""

    rect: Rect  # the patch of the picture the eyes are warped in
    rest: Points  # the eyes' landmarks, then the anchors on the patch's edge
    mesh: Mesh
    lids: tuple[tuple[Rows, Rows], ...]  # per eye, the rows of its upper and lower lid
    landmark_rows: int  # how many of ``rest``'s rows are landmarks (the rest are anchors)
    unit: float  # the face's eye width (pixels)

    def render(self, patch: Image, lid: float) -> Image:
        """The patch (``self.rect`` of the picture) with both eyes ``lid`` closed (0 open, 1 shut)."""
        if lid <= 0:
            return patch
        moved = self.rest.copy()
        for upper, lower in self.lids:
            up, down = self.rest[upper], self.rest[lower]
            drop = (down[:, 1] - up[:, 1]) * lid * _UPPER_LID_TRAVEL
            moved[lower, 1] -= (down[:, 1] - up[:, 1]) * lid * _LOWER_LID_TRAVEL
            left, right = float(up[:, 0].min()), float(up[:, 0].max())
            xs = self.rest[:, 0]
            lid_y = np.interp(xs, up[np.argsort(up[:, 0]), 0], up[np.argsort(up[:, 0]), 1])
            lid_drop = np.interp(xs, up[np.argsort(up[:, 0]), 0], drop[np.argsort(up[:, 0])])
            above = lid_y - self.rest[:, 1]
            within = (xs > left) & (xs < right) & (above > 0.5)
            fall = np.clip(1 - above / (_BROW_SKIN_REACH * self.unit), 0, 1) * within
            moved[:, 1] += lid_drop * fall * _BROW_SKIN_FOLLOW
            moved[upper, 1] = up[:, 1] + drop
        # The anchors on the patch's edge never move.
        moved[self.landmark_rows :] = self.rest[self.landmark_rows :]
        return remap(patch, self.mesh.maps(self.rest, moved))


def build_eyes_rig(face: lm.Face, width: int, height: int, bottom: int | None = None) -> EyesRig:
    """The eyes of ``face`` in a ``width`` x ``height`` picture; ``bottom``: a row the eye patch
    must stay above (where the mouth's patch begins)."""
    frame = FaceFrame(face)
    p = face.points
    eye_points = list(lm.EYE_RIGHT_UPPER + lm.EYE_RIGHT_LOWER + lm.EYE_LEFT_UPPER + lm.EYE_LEFT_LOWER)
    eye_v = frame.to_face(p[eye_points])[:, 1]
    uv_all = frame.to_face(p)
    band_top, band_bottom = float(eye_v.min()) - _ABOVE_EYES, float(eye_v.max()) + _BELOW_EYES
    chosen = np.flatnonzero((uv_all[:, 1] > band_top) & (uv_all[:, 1] < band_bottom))
    index = {int(k): i for i, k in enumerate(chosen)}
    pts = p[chosen]
    pad = _PATCH_PAD * frame.unit
    x0, y0 = pts.min(axis=0) - pad
    x1, y1 = pts.max(axis=0) + pad
    limit = height if bottom is None else bottom
    rect = inside_picture((math.floor(x0), math.floor(y0), math.ceil(x1), min(math.ceil(y1), limit)), width, height)
    rx0, ry0, rx1, ry1 = rect
    pw, ph = rx1 - rx0, ry1 - ry0
    local = pts - np.array([rx0, ry0], np.float32)
    anchors = border_anchors(pw, ph, _ANCHORS)
    # Points on the patch's edge (an eye running off the picture) are left to the anchors there.
    inside = (local[:, 0] > 1) & (local[:, 0] < pw - 2) & (local[:, 1] > 1) & (local[:, 1] < ph - 2)
    rest = np.vstack([local, anchors]).astype(np.float32)
    subset = np.flatnonzero(np.concatenate([inside, np.ones(len(anchors), bool)]))
    tri = subset[triangulate(rest[subset], pw, ph)]
    lids = tuple(
        (np.array([index[k] for k in up]), np.array([index[k] for k in down]))
        for up, down in ((lm.EYE_RIGHT_UPPER, lm.EYE_RIGHT_LOWER), (lm.EYE_LEFT_UPPER, lm.EYE_LEFT_LOWER))
    )
    mesh = Mesh(pw, ph, tri.astype(np.int32), np.zeros(len(tri), bool))
    return EyesRig(rect, rest, mesh, lids, len(index), frame.unit)
