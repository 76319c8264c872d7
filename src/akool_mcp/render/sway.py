"""The head's sway: a small turn and shift of the head inside its rectangle, for every kind of avatar."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import cv2
import numpy as np
import numpy.typing as npt

from akool_mcp.render.pixels import Image

Floats = npt.NDArray[np.float32]


@dataclass(frozen=True, eq=False)
class _Band:
    """Rows ``top:bottom`` of a sway patch, cut to the columns ``left:right`` where anything moves."""

    top: int
    bottom: int
    left: int
    right: int
    xs: Floats
    ys: Floats
    weight: Floats
    wx: Floats
    wy: Floats


# Measured on one thread: 32-row bands cut the sway's time by 25-30% on the photo and built-in
# heads; 16 rows (more calls) or 64 (wider bands) saved less.
_BAND_ROWS = 32
# Nothing moves on a sway patch's own edge: the weight fades in over this part of its shorter
# side, at least _EDGE_MARGIN_PX.
_EDGE_MARGIN = 0.04
_EDGE_MARGIN_PX = 4.0


class HeadSway:
    """Moves a head inside a rectangle: a small turn about the neck and a shift, fading to nothing
    at the rectangle's edges so the shoulders and the background stay where they are.

    The displacement is the weight times a rigid motion; the weights and their products with
    the coordinates are worked out once, so a frame costs a few multiply-adds and one remap.
    Only the part of each band of rows where the weight is above zero is remapped: about a fifth
    of the rectangle (its corners, outside the head's ellipse) never moves.
    """

    def __init__(self, weight: Floats, pivot: tuple[float, float]) -> None:
        h, w = weight.shape
        self.size = (w, h)
        self.bands: list[_Band] = []
        moving = weight > 0
        for top in range(0, h, _BAND_ROWS):
            bottom = min(h, top + _BAND_ROWS)
            columns = np.flatnonzero(moving[top:bottom].any(axis=0))
            if len(columns) == 0:
                continue
            left, right = int(columns[0]), int(columns[-1]) + 1
            xs = np.broadcast_to(np.arange(left, right, dtype=np.float32)[None, :], (bottom - top, right - left))
            ys = np.broadcast_to(np.arange(top, bottom, dtype=np.float32)[:, None], (bottom - top, right - left))
            part = np.ascontiguousarray(weight[top:bottom, left:right], np.float32)
            self.bands.append(
                _Band(
                    top,
                    bottom,
                    left,
                    right,
                    np.ascontiguousarray(xs),
                    np.ascontiguousarray(ys),
                    part,
                    np.ascontiguousarray(part * (xs - np.float32(pivot[0])), np.float32),
                    np.ascontiguousarray(part * (ys - np.float32(pivot[1])), np.float32),
                )
            )

    def apply(self, picture: Image, dx: float, dy: float, roll: float) -> Image:
        """``picture`` with the head shifted by (dx, dy) px and turned by ``roll`` radians."""
        c, s = float(np.cos(roll)) - 1.0, float(np.sin(roll))
        out = picture.copy()
        for band in self.bands:
            # Backward map: a pixel shows what lay at itself minus the weighted displacement.
            map_x = _axpy(band.weight, -dx, band.xs)
            map_x = _axpy(band.wx, -c, map_x)
            map_x = _axpy(band.wy, s, map_x)
            map_y = _axpy(band.weight, -dy, band.ys)
            map_y = _axpy(band.wx, -s, map_y)
            map_y = _axpy(band.wy, -c, map_y)
            target = out[band.top : band.bottom, band.left : band.right]
            found = cv2.remap(picture, map_x, map_y, cv2.INTER_LINEAR, dst=target, borderMode=cv2.BORDER_REPLICATE)
            if found is not target:  # OpenCV made its own array after all: copy it in
                target[...] = found
        return out


def _axpy(a: Floats, k: float, b: Floats) -> Floats:
    out: Any = cv2.scaleAdd(a, k, b)
    return cast(Floats, out)


def ellipse_weight(
    width: int, height: int, centre: tuple[float, float], radii: tuple[float, float], fade: float
) -> Floats:
    """1 inside the ellipse, easing to 0 over ``fade`` radii outside it and at the patch edges."""
    xs = (np.arange(width, dtype=np.float32)[None, :] - centre[0]) / radii[0]
    ys = (np.arange(height, dtype=np.float32)[:, None] - centre[1]) / radii[1]
    distance = np.sqrt(xs * xs + ys * ys)
    t = np.clip(1 - (distance - 1) / fade, 0, 1)
    weight = t * t * (3 - 2 * t)
    # Nothing may move on the patch's own edge, or the patch would show a seam there.
    margin = max(_EDGE_MARGIN_PX, _EDGE_MARGIN * min(width, height))
    ex = np.clip(np.minimum(np.arange(width), width - 1 - np.arange(width)) / margin, 0, 1).astype(np.float32)
    ey = np.clip(np.minimum(np.arange(height), height - 1 - np.arange(height)) / margin, 0, 1).astype(np.float32)
    return np.ascontiguousarray((weight * ey[:, None] * ex[None, :]).astype(np.float32))
