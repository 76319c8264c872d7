"""Piecewise-affine mesh warps: a face moved by moving its landmarks.

A face is moved by moving its landmarks: the picture is cut into triangles between them, and
each triangle is mapped affinely from where its corners were to where they go. Triangles that
share an edge map it the same way, so the warp has no seams; corners on the edge of the warped
rectangle never move, so it joins the untouched picture around it exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import cv2
import numpy as np
import numpy.typing as npt

from akool_mcp.render.pixels import Image

Points = npt.NDArray[np.float32]
Triangles = npt.NDArray[np.int32]
Floats = npt.NDArray[np.float32]

_SUBPIXEL_BITS = 4  # cv2's fill functions take fixed-point corners: 1/16 px
_HOLE = -2  # the triangle id of pixels in a hole, while the table is drawn
_SLIVER_REACH = 4  # px: how far from a sliver its nearest drawn pixel is looked for
_LEAST_FEATHER_PX = 0.6  # a polygon's edges softer than this are left as anti-aliasing draws them


def border_anchors(width: int, height: int, per_side: int) -> Points:
    """Points along the edge of a width x height rectangle, corners included."""
    xs = np.linspace(0, width - 1, per_side + 1, dtype=np.float32)
    ys = np.linspace(0, height - 1, per_side + 1, dtype=np.float32)
    top = np.column_stack([xs, np.zeros_like(xs)])
    bottom = np.column_stack([xs, np.full_like(xs, height - 1)])
    left = np.column_stack([np.zeros_like(ys[1:-1]), ys[1:-1]])
    right = np.column_stack([np.full_like(ys[1:-1], width - 1), ys[1:-1]])
    return np.vstack([top, bottom, left, right]).astype(np.float32)


def triangulate(points: Points, width: int, height: int) -> Triangles:
    """Delaunay triangles over ``points`` (which must all lie in the rectangle), as indices."""
    if width < 2 or height < 2 or len(points) < 3:
        return np.zeros((0, 3), np.int32)  # a face almost entirely off the canvas: nothing to warp
    subdiv = cv2.Subdiv2D((-2, -2, width + 4, height + 4))
    points = np.clip(points, [-1, -1], [width, height]).astype(np.float32)
    subdiv.insert(points.tolist())
    # Subdiv2D hands back the very float32 coordinates it was given: look the corners up.
    index: dict[tuple[float, float], int] = {}
    for k, xy in enumerate(points.tolist()):
        index.setdefault((xy[0], xy[1]), k)
    found: list[tuple[int, int, int]] = []
    for corners in np.asarray(subdiv.getTriangleList(), np.float32).reshape(-1, 6).tolist():
        a, b, c = (
            index.get((corners[0], corners[1])),
            index.get((corners[2], corners[3])),
            index.get((corners[4], corners[5])),
        )
        if a is not None and b is not None and c is not None:  # else one of Subdiv2D's helper vertices
            found.append((a, b, c))
    return np.asarray(found, np.int32).reshape(-1, 3)


def inside_polygon(points: Points, polygon: Points) -> npt.NDArray[np.bool_]:
    contour = polygon.reshape(-1, 1, 2).astype(np.float32)
    tests = [cv2.pointPolygonTest(contour, (float(x), float(y)), False) > 0 for x, y in points.tolist()]
    return np.array(tests, dtype=bool)


@dataclass(frozen=True, eq=False)
class Mesh:
    """Triangles over a width x height patch; ``hole`` marks triangles left for the caller to paint."""

    width: int
    height: int
    triangles: Triangles
    hole: npt.NDArray[np.bool_]

    def maps(
        self, rest: Points, moved: Points, coarse: bool = False
    ) -> tuple[npt.NDArray[np.int16], npt.NDArray[np.uint16]]:
        """Remap tables that carry the picture's points at ``rest`` to ``moved``.

        Every output pixel inside a moved triangle reads from the same spot of the triangle at
        rest; pixels in holes read from themselves, and pixels between triangles (gaps in the
        mesh) read as the nearest triangle's do. ``coarse``
        works the tables out on every second pixel and interpolates them (a quarter of the
        work, for video frames): the warp is continuous, so only pixels by a triangle's corner
        move, by a fraction of a pixel.
        """
        step = 2 if coarse else 1
        h, w = -(-self.height // step), -(-self.width // step)
        ids = np.full((h, w), -1, np.int32)
        scale = 1 << _SUBPIXEL_BITS
        grid = (moved[self.triangles] - (step - 1) / 2) / step
        corners = np.round(grid * scale).astype(np.int32)
        inverse = np.zeros((len(self.triangles) + 1, 2, 3), np.float64)
        inverse[:] = [[1, 0, 0], [0, 1, 0]]  # index -1 (and holes, flat triangles): stay put
        dst = moved[self.triangles].astype(np.float32)
        d = dst - dst[:, :1]
        area = d[:, 1, 0] * d[:, 2, 1] - d[:, 2, 0] * d[:, 1, 1]
        warped = np.flatnonzero(~self.hole & (np.abs(area) >= 1e-4))
        # All triangles' affine maps in one batched solve (what cv2.getAffineTransform does for
        # one): [x y 1] of each moved corner times the map's transpose gives the corner at rest.
        corners_h = np.concatenate([dst[warped], np.ones((len(warped), 3, 1), np.float32)], axis=2)
        at_rest = rest[self.triangles[warped]].astype(np.float32)
        inverse[warped] = np.linalg.solve(corners_h.astype(np.float64), at_rest.astype(np.float64)).transpose(0, 2, 1)
        for k in np.flatnonzero(self.hole).tolist():
            cv2.fillConvexPoly(ids, corners[k], _HOLE, lineType=cv2.LINE_8, shift=_SUBPIXEL_BITS)
        for k in warped.tolist():
            cv2.fillConvexPoly(ids, corners[k], k, lineType=cv2.LINE_8, shift=_SUBPIXEL_BITS)
        _close_slivers(ids)
        ids[ids == _HOLE] = -1
        xs = np.arange(w, dtype=np.float32)[None, :] * step + (step - 1) / 2
        ys = np.arange(h, dtype=np.float32)[:, None] * step + (step - 1) / 2
        coef = inverse.astype(np.float32)[ids]
        map_x = (coef[..., 0, 0] * xs + coef[..., 0, 1] * ys + coef[..., 0, 2]).astype(np.float32)
        map_y = (coef[..., 1, 0] * xs + coef[..., 1, 1] * ys + coef[..., 1, 2]).astype(np.float32)
        if coarse:
            size = (self.width, self.height)
            map_x = cast(Floats, cv2.resize(map_x, size, interpolation=cv2.INTER_LINEAR))
            map_y = cast(Floats, cv2.resize(map_y, size, interpolation=cv2.INTER_LINEAR))
        map1, map2 = cv2.convertMaps(map_x, map_y, cv2.CV_16SC2)
        return cast(npt.NDArray[np.int16], map1), cast(npt.NDArray[np.uint16], map2)


def _close_slivers(ids: npt.NDArray[np.int32]) -> None:
    """Give pixels that no moved triangle reached (-1) the triangle of their nearest drawn pixel.

    A mouth's mesh does not tile its patch exactly: Delaunay's triangles are cut along the
    lips' ring and the strips inside it do not meet them edge to edge by the corners, and thin
    triangles are rounded to whole pixels. Left alone, such a pixel would show the picture's
    own pixel at that spot: a fleck of the photo's teeth or dark mouth corner between lips that
    were moved together.
    """
    missing = ids == -1
    if not missing.any():
        return
    rows, cols = np.flatnonzero(missing.any(axis=1)), np.flatnonzero(missing.any(axis=0))
    y0, y1 = max(0, int(rows[0]) - _SLIVER_REACH), min(ids.shape[0], int(rows[-1]) + _SLIVER_REACH + 1)
    x0, x1 = max(0, int(cols[0]) - _SLIVER_REACH), min(ids.shape[1], int(cols[-1]) + _SLIVER_REACH + 1)
    window, gaps = ids[y0:y1, x0:x1], missing[y0:y1, x0:x1]
    drawn = np.flatnonzero(~gaps.ravel())
    if len(drawn) == 0:
        return
    # Each drawn pixel is a zero of the mask; the transform labels every gap pixel with its
    # nearest zero, numbered from 1 in raster order.
    labels = cast(
        tuple[Any, npt.NDArray[np.int32]],
        cv2.distanceTransformWithLabels(gaps.astype(np.uint8), cv2.DIST_L2, 3, labelType=cv2.DIST_LABEL_PIXEL),
    )[1]
    nearest = drawn[labels[gaps].astype(np.int64) - 1]
    window[gaps] = window.ravel()[nearest]


def remap(picture: Image, maps: tuple[npt.NDArray[np.int16], npt.NDArray[np.uint16]]) -> Image:
    return cast(Image, cv2.remap(picture, maps[0], maps[1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE))


def polygon_mask(polygon: Points, width: int, height: int, feather: float) -> Floats:
    """Coverage 0..1 of a polygon over a width x height patch, with soft edges ``feather`` px wide."""
    mask = np.zeros((height, width), np.uint8)
    scale = 1 << _SUBPIXEL_BITS
    cv2.fillPoly(mask, [np.round(polygon * scale).astype(np.int32)], 255, cv2.LINE_AA, shift=_SUBPIXEL_BITS)
    soft = mask.astype(np.float32) / 255.0
    if feather > _LEAST_FEATHER_PX:
        soft = cast(Floats, cv2.GaussianBlur(soft, (0, 0), feather / 2))
    return soft
