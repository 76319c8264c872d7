"""The renderer's fast paths give what the plain ways of doing the same work give.

Each check builds the straightforward version in the test (one remap of the whole rectangle,
one affine map per triangle, a whole-picture colour conversion) and compares pixel for pixel.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from akool_mcp.render.ahead import FramesAhead
from akool_mcp.render.encode import YuvFrame
from akool_mcp.render.face.warp import Mesh, border_anchors, triangulate
from akool_mcp.render.sway import HeadSway, ellipse_weight
from akool_mcp.render.yuv import I420


def _picture(height: int, width: int, seed: int = 3) -> np.ndarray:
    """A smooth colourful BGR picture with some detail."""
    noise = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    return np.asarray(cv2.GaussianBlur(noise, (0, 0), 2.0), np.uint8)


def test_a_yuv_rectangle_turns_into_the_same_bgr_as_the_whole_picture() -> None:
    picture = I420.from_bgr(_picture(120, 160))
    whole = picture.bgr()
    assert whole.shape == (120, 160, 3)
    assert np.array_equal(picture.bgr((20, 10, 90, 64)), whole[10:64, 20:90])


def test_bgr_written_back_changes_that_rectangle_only() -> None:
    picture = I420.from_bgr(_picture(120, 160))
    before = picture.copy()
    patch = np.full((40, 50, 3), (20, 200, 90), np.uint8)
    picture.put_bgr(30, 20, patch)
    after = picture.bgr()
    assert np.abs(after[20:60, 30:80].astype(int) - (20, 200, 90)).max() <= 3
    outside = np.ones((120, 160), bool)
    outside[20:60, 30:80] = False
    assert np.array_equal(after[outside], before.bgr()[outside])
    assert np.array_equal(before.planes[0], I420.from_bgr(_picture(120, 160)).planes[0])  # a copy is its own


def test_an_odd_sized_picture_loses_its_last_row_and_column() -> None:
    assert (I420.from_bgr(_picture(121, 161)).width, I420.from_bgr(_picture(121, 161)).height) == (160, 120)


def test_a_picture_scaled_into_a_frame_is_each_plane_scaled_there_and_nothing_else() -> None:
    frame = YuvFrame(np.full((96, 128, 3), 40, np.uint8))
    background = [p.copy() for p in frame.planes]
    source = I420.from_bgr(_picture(30, 40))
    frame.scale_in(16, 8, 80, 60, source)
    for k, (plane, scale) in enumerate(zip(frame.planes, (1, 2, 2), strict=True)):
        x, y, w, h = 16 // scale, 8 // scale, 80 // scale, 60 // scale
        expected = cv2.resize(source.planes[k], (w, h), interpolation=cv2.INTER_LINEAR)
        assert np.array_equal(plane[y : y + h, x : x + w], expected)
        rest = np.ones(plane.shape, bool)
        rest[y : y + h, x : x + w] = False
        assert np.array_equal(plane[rest], background[k][rest])


def test_the_banded_head_sway_is_one_remap_of_the_whole_rectangle() -> None:
    height, width, pivot = 300, 240, (120.0, 280.0)
    weight = ellipse_weight(width, height, (120, 130), (70, 90), 0.4)
    picture = _picture(height, width)
    sway = HeadSway(weight, pivot)
    xs, ys = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    for dx, dy, roll in ((3.2, -1.7, 0.012), (-4.5, 2.5, -0.018), (0.3, 0.0, 0.0)):
        c, s = np.cos(roll) - 1.0, np.sin(roll)
        wx, wy = weight * (xs - pivot[0]), weight * (ys - pivot[1])
        map_x = (xs - weight * dx - c * wx + s * wy).astype(np.float32)
        map_y = (ys - weight * dy - s * wx - c * wy).astype(np.float32)
        plain = cv2.remap(picture, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        moved = sway.apply(picture, dx, dy, roll)
        assert np.abs(moved.astype(int) - plain).max() <= 1  # float rounding in the maps at most
        assert np.count_nonzero(moved != picture) > 1000  # the head did move


def test_all_triangle_maps_at_once_are_one_affine_map_per_triangle() -> None:
    width, height = 90, 70
    rng = np.random.default_rng(8)
    inner = rng.uniform([8, 8], [width - 8, height - 8], (25, 2)).astype(np.float32)
    rest = np.vstack([inner, border_anchors(width, height, 4)]).astype(np.float32)
    triangles = triangulate(rest, width, height)
    moved = rest.copy()
    moved[: len(inner)] += rng.uniform(-2.5, 2.5, (len(inner), 2)).astype(np.float32)
    hole = np.zeros(len(triangles), bool)
    hole[::7] = True
    picture = _picture(height, width)
    maps = Mesh(width, height, triangles, hole).maps(rest, moved)
    warped = cv2.remap(picture, maps[0], maps[1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    expected = picture.copy()  # holes stay as they were
    drawn = np.zeros((height, width), bool)
    for k, triangle in enumerate(triangles):
        mask = np.zeros((height, width), np.uint8)
        cv2.fillConvexPoly(mask, np.round(moved[triangle] * 16).astype(np.int32), 1, cv2.LINE_8, 4)
        drawn |= mask > 0
        if hole[k]:
            continue
        inverse = cv2.getAffineTransform(moved[triangle], rest[triangle])
        flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
        full = cv2.warpAffine(picture, inverse, (width, height), flags=flags, borderMode=cv2.BORDER_REPLICATE)
        expected[mask > 0] = full[mask > 0]
    # Pixels on a seam that no triangle's fill reached are left to the sliver test below.
    assert np.abs(warped.astype(int) - expected)[drawn].max() <= 2  # remap and warpAffine round alike
    assert np.count_nonzero(warped != picture) > 100


def test_every_pixel_of_a_mesh_with_gaps_reads_through_a_moved_triangle() -> None:
    """A mesh that does not tile its patch exactly (the mouth's, cut along the lips' ring, leaves
    slivers by the corners) has pixels no triangle's fill reaches. Such a pixel must not read
    from itself, which shows the picture beneath (a fleck of a photo's teeth between lips pressed
    together), but through the map of a triangle beside it."""
    width, height = 90, 70
    rng = np.random.default_rng(11)
    inner = rng.uniform([10, 10], [width - 10, height - 10], (40, 2)).astype(np.float32)
    rest = np.vstack([inner, border_anchors(width, height, 4)]).astype(np.float32)
    triangles = triangulate(rest, width, height)
    centres = rest[triangles].mean(axis=1)
    gaps = np.argsort(np.abs(centres - (width / 2, height / 2)).sum(axis=1))[:3]  # three middle ones
    triangles = np.delete(triangles, gaps, axis=0)
    # Every inner point moves by about (3, 2): so does every pixel of the middle of the patch.
    moved = rest.copy()
    moved[: len(inner)] += np.array([3, 2], np.float32) + rng.uniform(-0.3, 0.3, (len(inner), 2)).astype(np.float32)
    maps = Mesh(width, height, triangles, np.zeros(len(triangles), bool)).maps(rest, moved)
    map_x, map_y = cv2.convertMaps(maps[0], maps[1], cv2.CV_32FC1)
    xs, ys = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    middle = (slice(25, height - 25), slice(30, width - 30))
    assert np.abs(xs - map_x)[middle].min() > 2.0 and np.abs(ys - map_y)[middle].min() > 1.0


class _Numbering:
    """An animator that writes the frame's index into its first luma pixel, and fails at ``fail_at``."""

    def __init__(self, fail_at: int | None = None) -> None:
        self.fail_at = fail_at

    def rects(self) -> list[tuple[int, int, int, int]]:
        return [(0, 0, 2, 2)]

    def composite_still(self, canvas: np.ndarray) -> None: ...

    def prepare(self, below: object, above: object) -> None: ...

    def write(self, index: int, openness: float, frame: YuvFrame) -> None:
        if index == self.fail_at:
            raise RuntimeError(f"frame {index} could not be drawn")
        frame.planes[0][0, 0] = index


def test_frames_drawn_ahead_come_back_in_order() -> None:
    first = YuvFrame(np.zeros((16, 16, 3), np.uint8))
    with FramesAhead(_Numbering(), np.zeros(40, np.float32), first) as drawing:
        for index in range(40):
            frame = drawing.next()
            assert int(frame.planes[0][0, 0]) == index
            drawing.done(frame)


def _encode_all(drawing: FramesAhead, frames: int, seen: list[int]) -> None:
    for _ in range(frames):
        frame = drawing.next()
        seen.append(int(frame.planes[0][0, 0]))
        drawing.done(frame)


def test_a_frame_that_fails_to_draw_stops_the_encoding_with_its_error() -> None:
    first = YuvFrame(np.zeros((16, 16, 3), np.uint8))
    seen: list[int] = []
    with (
        FramesAhead(_Numbering(fail_at=5), np.zeros(40, np.float32), first) as drawing,
        pytest.raises(RuntimeError, match="frame 5 could not be drawn"),
    ):
        _encode_all(drawing, 40, seen)
    assert seen == [0, 1, 2, 3, 4]


def test_the_triangulation_covers_the_rectangle_with_the_points_own_indices() -> None:
    width, height = 400, 300
    inner = np.random.default_rng(5).uniform([20, 20], [380, 280], (200, 2)).astype(np.float32)
    points = np.vstack([inner, inner[:3], border_anchors(width, height, 8)])  # with three repeats
    triangles = triangulate(points, width, height)
    assert triangles.min() >= 0 and triangles.max() < len(points)
    assert not np.isin(triangles, np.arange(200, 203)).any()  # a repeated point is its first copy
    corners = points[triangles]
    d = corners - corners[:, :1]
    areas = np.abs(d[:, 1, 0] * d[:, 2, 1] - d[:, 2, 0] * d[:, 1, 1]) / 2
    # Delaunay triangles over points that include the border tile the whole rectangle once.
    assert abs(areas.sum() - (width - 1) * (height - 1)) < 1.0
    assert len(np.unique(np.sort(triangles, axis=1), axis=0)) == len(triangles)


def test_a_frame_made_from_an_i420_block_holds_that_picture() -> None:
    block = I420.from_bgr(_picture(64, 96)).block
    frame = YuvFrame.from_i420(block)
    assert np.array_equal(frame.frame.to_ndarray(format="yuv420p"), block)
