"""A face's own axes, and the smooth fades and interpolations the rigs measure along them."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from akool_mcp.render.face import landmarks as lm
from akool_mcp.render.face.warp import Points

Floats = npt.NDArray[np.float32]


class FaceFrame:
    """A face's own axes: origin between the inner lips, x along the eyes, y down the face."""

    def __init__(self, face: lm.Face) -> None:
        p = face.points
        self.origin = (p[lm.LIP_UPPER_INNER] + p[lm.LIP_LOWER_INNER]) / 2
        across = p[lm.EYE_LEFT_OUTER] - p[lm.EYE_RIGHT_OUTER]
        self.unit = float(np.linalg.norm(across))
        self.ex = across / max(self.unit, 1e-6)
        self.ey = np.array([-self.ex[1], self.ex[0]], np.float32)

    def to_face(self, points: Points) -> Points:
        rel = points - self.origin
        return (np.column_stack([rel @ self.ex, rel @ self.ey]) / self.unit).astype(np.float32)

    def to_picture(self, uv: Points) -> Points:
        scaled = uv * self.unit
        return (self.origin + scaled[:, :1] * self.ex + scaled[:, 1:] * self.ey).astype(np.float32)


def smooth(x: npt.NDArray[np.floating[Any]]) -> Floats:
    """0 below 0, 1 above 1 and a smoothstep between: fades with no kink at either end."""
    t = np.clip(x, 0.0, 1.0)
    return (t * t * (3 - 2 * t)).astype(np.float32)


def along(u: Floats, keys: Floats, values: Floats) -> Floats:
    """``values`` given at positions ``keys`` across the face, interpolated at ``u``."""
    order = np.argsort(keys)
    return np.interp(u, keys[order], values[order]).astype(np.float32)
