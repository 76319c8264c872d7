# OpenCV stubs are partly untyped: relax the unknown-type checks here only.
# pyright: reportUnknownMemberType=false, reportUnknownVariableType=false, reportUnknownArgumentType=false
"""What a viewer sees at a 100% crop of the astronaut's talking mouth, at the size of a 4K render.

The photo (scikit-image, public domain) is scaled to 2160 px, as when it fills a 4K frame's
height, and the mouth patch is posed directly: the checks read the warp's own tables and the
pixels it paints.
"""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest
from skimage import data as skimage_data

from akool_mcp.render.face import landmarks as lm
from akool_mcp.render.face.axes import FaceFrame
from akool_mcp.render.face.cavity import skin_light, soften_seam
from akool_mcp.render.face.mouth_opening import Opening, fill_opening, find_opening
from akool_mcp.render.face.mouth_posing import MouthPose
from akool_mcp.render.face.mouth_rig import MouthRig, build_mouth_rig
from akool_mcp.render.face.mouth_shape import LIP_KEPT, LIP_STRETCH
from akool_mcp.render.face.photo import mouth_pose
from akool_mcp.render.face.settle import closed_face, opened_lips
from akool_mcp.render.face.warp import remap

pytestmark = pytest.mark.slow

SIDE = 2160
PRESSED, BITE, WIDE = mouth_pose(-1, 2), mouth_pose(-2, 2), MouthPose(1.0, 0.0, 0.0)


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    picture = cv2.cvtColor(skimage_data.astronaut(), cv2.COLOR_RGB2BGR)
    return np.asarray(cv2.resize(picture, (SIDE, SIDE), interpolation=cv2.INTER_CUBIC), np.uint8)


@pytest.fixture(scope="module")
def rig(photo: np.ndarray) -> MouthRig:
    return build_mouth_rig(lm.find_faces(photo)[0], SIDE, SIDE)


def _patch(photo: np.ndarray, rig: MouthRig) -> np.ndarray:
    x0, y0, x1, y1 = rig.rect
    return np.ascontiguousarray(photo[y0:y1, x0:x1])


def _warped(patch: np.ndarray, rig: MouthRig, pose: MouthPose) -> np.ndarray:
    """The patch warped to ``pose`` with the line where the lips meet drawn: all but the inside."""
    moved = rig.posed(pose)
    out = remap(patch, rig.mesh.maps(rig.placement.rest, moved))
    soften_seam(out, moved[rig.shape.teeth_edge], moved[rig.shape.lower_inner], rig.placement.frame.unit)
    return out


def _displacement(rig: MouthRig, pose: MouthPose) -> tuple[np.ndarray, np.ndarray]:
    """Per output pixel of the patch: how far (x, y) the warp reaches back into the photo."""
    map1, map2 = rig.mesh.maps(rig.placement.rest, rig.posed(pose))
    map_x, map_y = cv2.convertMaps(map1, map2, cv2.CV_32FC1)
    h, w = map_x.shape
    return map_x - np.arange(w, dtype=np.float32)[None, :], map_y - np.arange(h, dtype=np.float32)[:, None]


def test_a_wide_open_jaw_bends_the_neck_and_collar_smoothly_with_no_seam(photo: np.ndarray, rig: MouthRig) -> None:
    dx, dy = _displacement(rig, WIDE)
    unit = rig.placement.frame.unit
    # Under the chin: the neck and the collar, which the dropping jaw pulls on.
    chin = rig.placement.frame.to_picture(rig.shape.uv[[rig.shape.index[lm.CHIN]]])[0] - np.array(
        rig.rect[:2], np.float32
    )
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
    out[py0:py1, px0:px1] = remap(_patch(photo, rig), rig.mesh.maps(rig.placement.rest, rig.posed(WIDE)))
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
    # No inside painted at all (no cavity, no dark specks at the corners): only the lips' line.
    assert int(np.count_nonzero(np.abs(posed.astype(int) - _warped(patch, rig, pose).astype(int)).max(axis=2))) == 0
    # And from the upper teeth's edge (the upper lip, when pressed) to the lower lip, across the
    # mouth, no dark pixel of the photo's own mouth is left either: the lips meet.
    moved = rig.posed(pose)
    upper = moved[rig.shape.teeth_edge]
    lower = moved[rig.shape.lower_inner]
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


@pytest.mark.parametrize("pose", [PRESSED, BITE], ids=["pressed", "bite"])
def test_closed_lips_meet_on_a_soft_darker_line_with_no_stair_steps(
    photo: np.ndarray, rig: MouthRig, pose: MouthPose
) -> None:
    """Two lips moved together by a warp join in stair steps (pixels from far apart in the photo
    side by side: jumps of 50-90 grey levels from one column to the next). A real closed mouth
    shows a soft line a little darker than the lips."""
    patch = _patch(photo, rig)
    moved = rig.posed(pose)
    luma = cv2.cvtColor(rig.render(patch.copy(), pose, 1.0), cv2.COLOR_BGR2GRAY).astype(int)
    middle = (moved[rig.shape.teeth_edge] + moved[rig.shape.lower_inner]) / 2
    order = np.argsort(middle[:, 0])
    left, right = float(middle[:, 0].min()), float(middle[:, 0].max())
    xs = np.arange(int(left + 0.1 * (right - left)), int(right - 0.1 * (right - left)))
    ys = np.round(np.interp(xs, middle[order, 0], middle[order, 1])).astype(int)
    steps = [
        abs(luma[y + d, x + 1] - luma[y + d, x]) for x, y in zip(xs[:-1], ys[:-1], strict=True) for d in (-1, 0, 1)
    ]
    assert max(steps) <= 25
    line = luma[ys, xs]
    lips = (luma[ys - 5, xs] + luma[ys + 5, xs]) / 2
    assert float(np.mean(lips - line)) >= 10


def test_the_inside_is_painted_only_where_the_lips_part(photo: np.ndarray, rig: MouthRig) -> None:
    patch = _patch(photo, rig)
    for level in (1, 2, 5, 9):
        pose = mouth_pose(level, 2)
        moved = rig.posed(pose)
        painted = np.abs(rig.render(patch.copy(), pose, 1.0).astype(int) - _warped(patch, rig, pose))
        _, xs = np.nonzero(painted.max(axis=2))
        edge = moved[rig.shape.teeth_edge]
        lower = moved[rig.shape.lower_inner]
        top = np.interp(xs, edge[np.argsort(edge[:, 0]), 0], edge[np.argsort(edge[:, 0]), 1])
        bottom = np.interp(xs, lower[np.argsort(lower[:, 0]), 0], lower[np.argsort(lower[:, 0]), 1])
        # Every painted pixel lies in a column where the lips are at least 1.5 px apart.
        assert len(xs) > 0
        assert float((bottom - top).min()) >= 1.5, f"level {level}"


def test_a_wide_ah_opens_within_a_natural_range(rig: MouthRig) -> None:
    moved = rig.posed(WIDE)
    index = rig.shape.index
    face = rig.placement.frame.to_face(moved[: len(rig.shape.landmarks)] + np.array(rig.rect[:2], np.float32))
    gap = float(face[index[lm.LIP_LOWER_INNER], 1] - face[index[lm.LIP_UPPER_INNER], 1])
    width = float(face[index[lm.LIP_CORNER_LEFT], 0] - face[index[lm.LIP_CORNER_RIGHT], 0])
    assert 0.25 <= gap / width <= 0.45
    chin_drop = float(face[index[lm.CHIN], 1] - rig.shape.uv[index[lm.CHIN], 1])
    assert 0.04 <= chin_drop <= 0.16  # eye widths: a face is about 1.6 of them from brow to chin


@pytest.fixture(scope="module")
def closed_photo(photo: np.ndarray, rig: MouthRig) -> np.ndarray:
    """The astronaut with her lips pressed together: a photo that shows no teeth of its own."""
    x0, y0, x1, y1 = rig.rect
    closed = photo.copy()
    closed[y0:y1, x0:x1] = rig.render(_patch(photo, rig), PRESSED, 1.0)
    return closed


def test_teeth_drawn_for_a_closed_mouth_are_shaded_teeth_not_a_white_slab(closed_photo: np.ndarray) -> None:
    """Lit in the middle and darker towards the corners, where the row turns into the mouth, and
    told apart by faint gaps: a band of one colour reads as a white slab at a 100% crop."""
    rig = build_mouth_rig(lm.find_faces(closed_photo)[0], SIDE, SIDE)
    patch = _patch(closed_photo, rig)
    posed = rig.render(patch.copy(), WIDE, 1.0)
    luma = cv2.cvtColor(posed, cv2.COLOR_BGR2GRAY).astype(float)
    painted = np.abs(posed.astype(int) - _warped(patch, rig, WIDE)).max(axis=2) > 0
    # The teeth: bright paint, without its soft edges.
    teeth = cv2.erode((painted & (luma > 110)).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    assert np.count_nonzero(teeth) > 500
    _, xs = np.nonzero(teeth)
    centre, span = (xs.min() + xs.max()) / 2, xs.max() - xs.min()
    across = np.abs(np.arange(luma.shape[1]) - centre)[None, :] / span
    assert float(luma[teeth & (across < 0.125)].mean() - luma[teeth & (across > 0.375)].mean()) >= 35
    # Along the row through the teeth's middle: narrow dips below the running median (the gaps).
    columns = np.flatnonzero(teeth.any(axis=0) & (across[0] < 0.3))
    row = int(np.median([np.flatnonzero(teeth[:, c]).mean() for c in columns]))
    profile = luma[row, columns]
    running = np.array([np.median(profile[max(0, i - 4) : i + 5]) for i in range(len(profile))])
    assert int(np.count_nonzero(running - profile > 8)) >= 3


# A video frame seen by the settling: the astronaut saying "ah" (her own teeth, the dark gap
# under them), as the engine renders her, posed by a rig whose rest shape is her closed mouth.

Frame = tuple[np.ndarray, lm.Face, Opening]


@pytest.fixture(scope="module")
def open_frame(photo: np.ndarray, rig: MouthRig) -> Frame:
    x0, y0, x1, y1 = rig.rect
    picture = photo.copy()
    picture[y0:y1, x0:x1] = rig.render(_patch(photo, rig), WIDE, 1.0)
    face = lm.find_faces(picture)[0]
    opening = find_opening(picture, face)
    assert opening.found
    return picture, face, opening


def test_an_open_mouth_is_filled_with_the_lips_own_grain_not_streaks(rig: MouthRig, open_frame: Frame) -> None:
    """Each half of the dark gap takes the lip beside it mirrored: one edge pixel repeated down
    a column would be a streak, which a closed pose stretches over the lower lip."""
    picture, _, opening = open_frame
    before = _patch(picture, rig)
    after = before.copy()
    fill_opening(after, opening, rig.rect[:2])
    changed = np.abs(after.astype(int) - before).max(axis=2) > 0
    columns = np.flatnonzero(changed.sum(axis=0) >= 8)
    assert len(columns) > 20
    longest = []
    for x in columns:
        values = after[changed[:, x], x].astype(int)
        same = np.all(values[1:] == values[:-1], axis=1)
        run, best = 0, 0
        for equal in same.tolist():
            run = run + 1 if equal else 0
            best = max(best, run)
        longest.append(best + 1)
    assert float(np.median(longest)) <= 2


def test_a_frame_open_on_its_own_teeth_gets_no_second_row_drawn(closed_photo: np.ndarray, open_frame: Frame) -> None:
    """Her teeth stay in the teeth strip of a frame whose mouth is open: teeth drawn in the gap
    under them would make two rows, though her rest shape (shut) shows none of its own."""
    picture, face, opening = open_frame
    rest = build_mouth_rig(lm.find_faces(closed_photo)[0], SIDE, SIDE)
    assert not rest.placement.own_teeth  # posed as it is, the closed mouth gets drawn teeth
    moved = rest.placed_on(face, SIDE, SIDE, opening)
    patch = _patch(picture, moved)
    fill_opening(patch, opening, moved.rect[:2])
    posed = moved.render(patch.copy(), WIDE, 1.0)
    drawing = replace(moved, placement=replace(moved.placement, own_teeth=False))
    with_teeth = drawing.render(patch.copy(), WIDE, 1.0)
    assert np.count_nonzero(np.abs(with_teeth.astype(int) - posed).max(axis=2) > 20) > 200  # they would show
    assert moved.placement.own_teeth  # and are not drawn
    shut = rest.placed_on(face, SIDE, SIDE, None)  # no open mouth seen: the rest shape decides
    assert not shut.placement.own_teeth


def test_settling_moves_the_lower_lip_whole_and_keeps_it_as_thin_as_the_frame_shows_it(
    open_frame: Frame, closed_photo: np.ndarray
) -> None:
    picture, face, opening = open_frame
    frame = FaceFrame(face)
    inner, outer = list(lm.INNER_LIP_LOWER[1:-1]), list(lm.OUTER_LIP_LOWER[1:-1])
    seen = frame.to_face(face.points)
    opened, _ = opened_lips(seen, opening, frame.unit)
    # The landmarks put the lower lip's inner edge up in the gap and its outline inside the lip
    # (the lip's red runs on below it); both go where the frame's pixels show them.
    shift = opened[inner, 1] - seen[inner, 1]
    assert float(shift.max()) > 0.02
    middle_in, middle_out = lm.INNER_LIP_LOWER[5], lm.OUTER_LIP_LOWER[5]
    foot = float(seen[middle_in, 1]) + float(opening.foot[4]) / frame.unit
    assert abs(float(opened[middle_out, 1]) - foot) < 0.01
    red = cv2.cvtColor(picture, cv2.COLOR_BGR2YCrCb)[..., 1].astype(float)
    x, y = frame.to_picture(np.array([[opened[middle_out, 0], foot]], np.float32))[0]
    step = 0.02 * frame.unit
    lip, skin = red[round(y - step), round(x)], red[round(y + step), round(x)]
    assert lip - skin >= 3  # lip above the line, skin under it
    # Shut as a rest shape, the lip rises whole: at its middle, no taller than it was.
    shut = FaceFrame(face).to_face(closed_face(face, opening).points)
    middle_in, middle_out = lm.INNER_LIP_LOWER[5], lm.OUTER_LIP_LOWER[5]
    assert float(shut[middle_in, 1] - opened[middle_in, 1]) < -0.02  # it did rise
    thick_shut = shut[middle_out, 1] - shut[middle_in, 1]
    assert abs(float(thick_shut - (opened[middle_out, 1] - opened[middle_in, 1]))) < 1e-3
    # Posed from this frame, the lower lip is kept near the thickness the frame shows it.
    rest = build_mouth_rig(lm.find_faces(closed_photo)[0], SIDE, SIDE)
    moved = rest.placed_on(face, SIDE, SIDE, opening)
    posed = moved.posed(MouthPose(0.0, 0.0, 0.0))
    rows_in = [moved.shape.index[k] for k in inner]
    rows_out = [moved.shape.index[k] for k in outer]
    thick_posed = posed[rows_out, 1] - posed[rows_in, 1]
    thick_frame = moved.placement.rest[rows_out, 1] - moved.placement.rest[rows_in, 1]
    across = thick_frame > 0  # the points pair up across the lip away from the corners
    rest_thick = FaceFrame(lm.find_faces(closed_photo)[0]).unit * (
        rest.shape.uv[rows_out, 1] - rest.shape.uv[rows_in, 1]
    )
    assert float(np.max(rest_thick[across] - LIP_STRETCH * thick_frame[across])) > 2  # it would be taller
    # At most LIP_STRETCH times as thick as the frame shows it, and never under LIP_KEPT of its rest.
    allowed = np.maximum(LIP_STRETCH * thick_frame[across], LIP_KEPT * rest_thick[across])
    assert float(np.max(thick_posed[across] - allowed)) <= 1.0  # the two faces differ in scale a little
    assert float(np.max(thick_posed[across] - rest_thick[across])) < -2  # and thinner than at rest


def test_only_the_gap_as_measured_is_covered_and_a_smiles_dark_corners_stay(rig: MouthRig, open_frame: Frame) -> None:
    """The dark blob of an open smiling mouth runs on up past its corners (the smile's shadow).
    Covered with mirrored lips too, those corners show as pale outlines once the warp moves
    them; only the gap measured column by column between the lips is covered."""
    picture, _, opening = open_frame
    before = _patch(picture, rig)
    after = before.copy()
    fill_opening(after, opening, rig.rect[:2])
    changed = np.abs(after.astype(int) - before).max(axis=2) > 0
    band = np.zeros(changed.shape, np.uint8)
    outline = np.round((opening.band - np.array(rig.rect[:2], np.float32)) * 16).astype(np.int32)
    cv2.fillPoly(band, [outline], 1, cv2.LINE_8, shift=4)
    assert np.count_nonzero(changed) > 500
    assert np.count_nonzero(changed & (band == 0)) == 0
