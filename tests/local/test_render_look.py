# OpenCV stubs are partly untyped: relax the unknown-type checks here only.
# pyright: reportUnknownMemberType=false, reportUnknownVariableType=false, reportUnknownArgumentType=false
"""What a viewer sees at a 100% crop of the astronaut's talking mouth, at the size of a 4K render.

The photo (scikit-image, public domain) is scaled to 2160 px, as when it fills a 4K frame's
height, and the mouth patch is posed directly: the checks read the warp's own tables and the
pixels it paints.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage import data as skimage_data

from akool_mcp.local.render import landmarks as lm
from akool_mcp.local.render.photo import mouth_pose
from akool_mcp.local.render.rig import MouthPose, MouthRig, skin_light
from akool_mcp.local.render.warp import remap

pytestmark = pytest.mark.slow

SIDE = 2160
PRESSED, BITE, WIDE = mouth_pose(-1, 2), mouth_pose(-2, 2), MouthPose(1.0, 0.0, 0.0)


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    picture = cv2.cvtColor(skimage_data.astronaut(), cv2.COLOR_RGB2BGR)
    return np.asarray(cv2.resize(picture, (SIDE, SIDE), interpolation=cv2.INTER_CUBIC), np.uint8)


@pytest.fixture(scope="module")
def rig(photo: np.ndarray) -> MouthRig:
    return MouthRig(lm.find_faces(photo)[0], SIDE, SIDE)


def _patch(photo: np.ndarray, rig: MouthRig) -> np.ndarray:
    x0, y0, x1, y1 = rig.rect
    return np.ascontiguousarray(photo[y0:y1, x0:x1])


def _displacement(rig: MouthRig, pose: MouthPose) -> tuple[np.ndarray, np.ndarray]:
    """Per output pixel of the patch: how far (x, y) the warp reaches back into the photo."""
    map1, map2 = rig.mesh.maps(rig.rest, rig.posed(pose))
    map_x, map_y = cv2.convertMaps(map1, map2, cv2.CV_32FC1)
    h, w = map_x.shape
    return map_x - np.arange(w, dtype=np.float32)[None, :], map_y - np.arange(h, dtype=np.float32)[:, None]


def test_a_wide_open_jaw_bends_the_neck_and_collar_smoothly_with_no_seam(photo: np.ndarray, rig: MouthRig) -> None:
    dx, dy = _displacement(rig, WIDE)
    unit = rig.frame.unit
    # Under the chin: the neck and the collar, which the dropping jaw pulls on.
    chin = rig.frame.to_picture(rig.uv[[rig.index[lm.CHIN]]])[0] - np.array(rig.rect[:2], np.float32)
    h, w = dx.shape
    under = np.broadcast_to(np.arange(h)[:, None] > chin[1], (h, w))
    drop = float(np.abs(dy[under]).max())
    assert drop > 0.08 * unit  # the chin does drop (this far at the chin itself)
    # A piecewise-affine warp bends a straight line (the collar's edge) wherever it crosses a
    # triangle's edge: the displacement's second difference spikes there, and big triangles
    # carrying a big drop make the visible corners. A smooth field bends lines gently: over
    # 2 px, its second difference stays under a pixel and a small part of the drop.
    s = 2
    bend = np.zeros_like(dx)
    for field in (dx, dy):
        bend[s:-s, :] = np.maximum(bend[s:-s, :], np.abs(field[2 * s :, :] - 2 * field[s:-s, :] + field[: -2 * s, :]))
        bend[:, s:-s] = np.maximum(bend[:, s:-s], np.abs(field[:, 2 * s :] - 2 * field[:, s:-s] + field[:, : -2 * s]))
    kinks = float(np.percentile(bend[under], 99.9))
    assert kinks < 1.2
    assert kinks < 0.035 * drop
    # At the patch's edge the warp has stopped: the posed patch joins the untouched photo with
    # no step, so the gradient across the edge is the photo's own.
    out = photo.copy()
    px0, py0, px1, py1 = rig.rect
    out[py0:py1, px0:px1] = remap(_patch(photo, rig), rig.mesh.maps(rig.rest, rig.posed(WIDE)))
    ring = np.zeros(photo.shape[:2], bool)
    ring[py0 - 2 : py1 + 2, px0 - 2 : px1 + 2] = True
    ring[py0 + 2 : py1 - 2, px0 + 2 : px1 - 2] = False
    step = np.abs(out.astype(int) - photo.astype(int)).max(axis=2)
    assert int(step[ring].max()) <= 2


@pytest.mark.parametrize("pose", [PRESSED, BITE], ids=["pressed", "bite"])
def test_closed_lips_show_no_inside_of_the_mouth(photo: np.ndarray, rig: MouthRig, pose: MouthPose) -> None:
    patch = _patch(photo, rig)
    light = skin_light(photo, lm.find_faces(photo)[0])
    posed = rig.render(patch.copy(), pose, light)
    warped = remap(patch, rig.mesh.maps(rig.rest, rig.posed(pose)))
    # Nothing painted at all: no cavity, no dark specks at the corners.
    assert int(np.count_nonzero(np.abs(posed.astype(int) - warped.astype(int)).max(axis=2))) == 0
    # And from the upper teeth's edge (the upper lip, when pressed) to the lower lip, across the
    # mouth, no dark pixel of the photo's own mouth is left either: the lips meet.
    moved = rig.posed(pose)
    upper = moved[np.concatenate([[rig.upper_inner[0]], rig.teeth_rows, [rig.upper_inner[-1]]])]
    lower = moved[rig.lower_inner]
    luma = cv2.cvtColor(posed, cv2.COLOR_BGR2GRAY)
    left, right = float(upper[:, 0].min()), float(upper[:, 0].max())
    span = right - left
    dark = 0
    for x in range(int(left + 0.15 * span), int(right - 0.15 * span)):
        top = float(np.interp(x, upper[np.argsort(upper[:, 0]), 0], upper[np.argsort(upper[:, 0]), 1]))
        bottom = float(np.interp(x, lower[np.argsort(lower[:, 0]), 0], lower[np.argsort(lower[:, 0]), 1]))
        column = luma[int(min(top, bottom)) + 1 : int(max(top, bottom)) + 3, x]  # the teeth end at top
        dark += int(np.count_nonzero(column < 90))
    assert dark == 0


def test_the_inside_is_painted_only_where_the_lips_part(photo: np.ndarray, rig: MouthRig) -> None:
    patch = _patch(photo, rig)
    for level in (1, 2, 5, 9):
        pose = mouth_pose(level, 2)
        moved = rig.posed(pose)
        painted = np.abs(rig.render(patch.copy(), pose, 1.0).astype(int) - remap(patch, rig.mesh.maps(rig.rest, moved)))
        _, xs = np.nonzero(painted.max(axis=2))
        edge = moved[np.concatenate([[rig.upper_inner[0]], rig.teeth_rows, [rig.upper_inner[-1]]])]
        lower = moved[rig.lower_inner]
        top = np.interp(xs, edge[np.argsort(edge[:, 0]), 0], edge[np.argsort(edge[:, 0]), 1])
        bottom = np.interp(xs, lower[np.argsort(lower[:, 0]), 0], lower[np.argsort(lower[:, 0]), 1])
        # Every painted pixel lies in a column where the lips are at least 1.5 px apart.
        assert len(xs) > 0
        assert float((bottom - top).min()) >= 1.5, f"level {level}"


def test_a_wide_ah_opens_within_a_natural_range(rig: MouthRig) -> None:
    moved = rig.posed(WIDE)
    unit = rig.frame.unit
    face = rig.frame.to_face(moved[: rig.n_face] + np.array(rig.rect[:2], np.float32))
    gap = float(face[rig.index[lm.LIP_LOWER_INNER], 1] - face[rig.index[lm.LIP_UPPER_INNER], 1])
    width = float(face[rig.index[lm.LIP_CORNER_LEFT], 0] - face[rig.index[lm.LIP_CORNER_RIGHT], 0])
    assert 0.25 <= gap / width <= 0.45
    chin_drop = float(face[rig.index[lm.CHIN], 1] - rig.uv[rig.index[lm.CHIN], 1])
    assert 0.04 <= chin_drop <= 0.16  # eye widths: a face is about 1.6 of them from brow to chin
    del unit
