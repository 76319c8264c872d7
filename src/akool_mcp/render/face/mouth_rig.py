"""A real face's mouth made to talk: its mesh built once, placed in a picture, posed and warped.

:func:`build_mouth_rig` measures the face at rest (:mod:`.mouth_shape`) and lays the mesh's
triangles out once. A video frame's landmarks give the same rig a new placement
(:meth:`MouthRig.placed_on`, a new value: the shape and the triangles are shared). Posing moves
the mesh's points (:mod:`.mouth_posing`); rendering warps the patch with them, draws the line
where closed lips meet and paints the inside between parted ones (:mod:`.cavity`). The upper
teeth stay with the upper lip (a smiling photo's own teeth are reused).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from akool_mcp.render.face import landmarks as lm
from akool_mcp.render.face.cavity import SHUT_GAP, paint_inside, soften_seam
from akool_mcp.render.face.mouth_opening import Opening
from akool_mcp.render.face.mouth_posing import WIDE_OPEN, MouthPose, posed_points
from akool_mcp.render.face.mouth_shape import MouthPlacement, MouthShape, measure_mouth, place_mouth
from akool_mcp.render.face.warp import Mesh, Points, Triangles, inside_polygon, remap, triangulate
from akool_mcp.render.layers import Rect
from akool_mcp.render.pixels import Image

# Synthetic upper teeth, drawn where the picture shows none of its own (or over a bitten lower
# lip past _BITE_SHOWS_TEETH): _TEETH_SHARE of the gap between the lips plus the bite's share,
# at most _TALLEST_TEETH eye widths.
_TEETH_SHARE = 0.45
_TALLEST_TEETH = 0.09
_BITE_SHOWS_TEETH = 0.3


@dataclass(frozen=True, eq=False)
class MouthRig:
    """A face's mouth measured once (``shape``, ``triangles``), placed in one picture."""

    shape: MouthShape
    triangles: Triangles  # over the mesh's rows, laid out once with the mouth open
    placement: MouthPlacement

    @property
    def rect(self) -> Rect:
        """The patch of the picture the mouth is warped in."""
        return self.placement.rect

    @property
    def mesh(self) -> Mesh:
        width, height = self.placement.size
        return Mesh(width, height, self.triangles, np.zeros(len(self.triangles), bool))

    def placed_on(self, face: lm.Face, width: int, height: int, opening: Opening | None = None) -> MouthRig:
        """This rig on the same face seen in another video frame (see :func:`.place_mouth`)."""
        return replace(self, placement=place_mouth(self.shape, face, width, height, opening))

    def posed(self, pose: MouthPose) -> Points:
        """Where every mesh point goes for ``pose``, in patch pixels."""
        return posed_points(self.shape, self.placement, pose)

    def render(self, patch: Image, pose: MouthPose, light: float, coarse: bool = False) -> Image:
        """The patch (BGR, ``self.rect`` of the picture) with the mouth in ``pose``.

        ``light``: the face's brightness (see :func:`.skin_light`); ``coarse``: faster warp
        tables, for a video frame seen once (see :meth:`Mesh.maps`).
        """
        moved = self.posed(pose)
        out = remap(patch, self.mesh.maps(self.placement.rest, moved, coarse))
        edge, lower = moved[self.shape.teeth_edge], moved[self.shape.lower_inner]
        unit = self.placement.frame.unit
        soften_seam(out, edge, lower, unit)
        gap = float(np.max(lower[:, 1] - edge[:, 1]))
        if gap < SHUT_GAP * unit:
            return out  # closed lips: nothing of the inside shows
        teeth = None
        if not self.placement.own_teeth or pose.bite > _BITE_SHOWS_TEETH:
            teeth = min(_TALLEST_TEETH * unit, _TEETH_SHARE * gap + pose.bite * gap)
        paint_inside(out, edge, lower, unit, light, teeth)
        return out


def build_mouth_rig(face: lm.Face, width: int, height: int) -> MouthRig:
    """The mouth of ``face``, found in a ``width`` x ``height`` picture, ready to be posed there."""
    shape, placement = measure_mouth(face, width, height)
    return MouthRig(shape, _triangles(shape, placement), placement)


def _triangles(shape: MouthShape, placement: MouthPlacement) -> Triangles:
    """The mesh's triangles, laid out with the mouth open.

    Outside the inner lips they are Delaunay's; inside, two strips from corner to corner: the
    teeth (upper inner lip to the teeth's edge) and the gap (teeth's edge to lower inner lip), so
    that closing the lips folds nothing over. The strips go first: later triangles are drawn over
    earlier ones, so lips pressed or tucked over them cover them. No triangle is a hole: where
    the lips part, the warp stretches the lip's own edge and the painted inside covers it.
    """
    width, height = placement.size
    opened = posed_points(shape, placement, WIDE_OPEN)
    # Points on the patch's edge (a face running off the picture) are left to the anchors there.
    local = placement.rest[: shape.grid_start]
    inside = (local[:, 0] > 1) & (local[:, 0] < width - 2) & (local[:, 1] > 1) & (local[:, 1] < height - 2)
    usable = np.concatenate([inside, np.ones(len(placement.rest) - shape.grid_start, bool)])
    usable[shape.teeth_rows] = False
    subset = np.flatnonzero(usable)
    tri = subset[triangulate(opened[subset], width, height)]
    ring = opened[np.concatenate([shape.upper_inner, shape.lower_inner[1:-1][::-1]])]
    tri = tri[~inside_polygon(opened[tri].mean(axis=1).astype(np.float32), ring.astype(np.float32))]
    edge = shape.teeth_edge
    strips = [_strip(shape.upper_inner, edge), _strip(edge, shape.lower_inner), tri]
    return np.vstack(strips).astype(np.int32)


def _strip(top: npt.NDArray[np.int64], bottom: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Triangles between two rows of points that run side by side (shared ends allowed)."""
    found: list[tuple[int, int, int]] = []
    for i in range(len(top) - 1):
        for corners in ((top[i], top[i + 1], bottom[i + 1]), (top[i], bottom[i + 1], bottom[i])):
            if len({int(c) for c in corners}) == 3:
                found.append((int(corners[0]), int(corners[1]), int(corners[2])))
    return np.asarray(found, np.int64).reshape(-1, 3)
