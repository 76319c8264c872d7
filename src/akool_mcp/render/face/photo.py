"""A user's photo as a talking avatar: mouth shapes, blinks and head motion at the real face.

The face's landmarks are found once in the photo. Only a region around the head changes after
the first frame: the mouth and eye patches for each pose are warped once and kept, and each
frame pastes the right ones into the head region and sways it (one remap of that region).
"""

from __future__ import annotations

import math
import pathlib
from collections.abc import Sequence

import numpy as np

from akool_mcp.log import get_logger
from akool_mcp.render.composition import Box, RenderError
from akool_mcp.render.encode import YuvFrame
from akool_mcp.render.face import landmarks as lm
from akool_mcp.render.face.cavity import skin_light
from akool_mcp.render.face.eye_rig import build_eyes_rig
from akool_mcp.render.face.mouth_posing import MouthPose
from akool_mcp.render.face.mouth_rig import build_mouth_rig
from akool_mcp.render.layers import Drawable, Placed, Rect, box_rect, even_rect, intersect, load_image
from akool_mcp.render.motion import (
    BITE,
    OPEN_LEVELS,
    PRESSED,
    WIDTH_LEVELS,
    MouthStates,
    blink_schedule,
    head_motion,
    mouth_states,
)
from akool_mcp.render.pixels import Image, over
from akool_mcp.render.region import put_region
from akool_mcp.render.sway import HeadSway, ellipse_weight
from akool_mcp.speech import MouthTracks

log = get_logger(__name__)

EYE_LIDS = (0.0, 0.55, 1.0)  # open, half, shut: as the built-ins blink
_PRESSED_POSE = MouthPose(-1.0, 0.0, 0.0)  # p b m: the lips pressed together over the teeth
_BITE_POSE = MouthPose(0.1, 0.1, 1.0)  # f v: a touch open and spread, the lower lip under the teeth
# The ellipse that moves with the head: its centre this far down the face mesh's box, its radii
# these parts of the box's width and height (hair included), fading out over _HEAD_FADE radii
# outside it (see head_region). The head turns about a point _PIVOT_BELOW_CHIN of the
# ellipse's height below the chin: the neck.
_HEAD_CENTRE_DOWN = 0.4
_HEAD_RADII = (0.66, 0.72)
_HEAD_FADE = 0.4
_PIVOT_BELOW_CHIN = 0.15


def fit_box(box: Box, width: int, height: int) -> Box:
    """The largest box of the picture's aspect ratio inside ``box``, centred in it."""
    scale = min(box.width / width, box.height / height)
    w, h = max(1, round(width * scale)), max(1, round(height * scale))
    return Box(box.left + (box.width - w) // 2, box.top + (box.height - h) // 2, w, h)


def flatten(bgra_premultiplied: Image) -> Image:
    """Premultiplied BGRA over mid grey: what a face detector should see."""
    alpha = bgra_premultiplied[..., 3:4].astype(np.uint16)
    grey = ((255 - alpha) * 128 + 127) // 255
    return (bgra_premultiplied[..., :3].astype(np.uint16) + grey).clip(0, 255).astype(np.uint8)


def mouth_pose(level: int, width_index: int) -> MouthPose:
    if level == PRESSED:
        return _PRESSED_POSE
    if level == BITE:
        return _BITE_POSE
    return MouthPose(level / (OPEN_LEVELS - 1), WIDTH_LEVELS[width_index], 0.0)


def head_region(face: lm.Face) -> tuple[tuple[float, float], tuple[float, float], float]:
    """(centre, radii, fade) of the ellipse that moves with the head, hair included.

    Everything in the ring ``fade`` radii wide outside it is redrawn every frame (and costs the
    encoder too): 0.4 keeps the stretch there under a tenth while the ring stays small.
    """
    x, y, w, h = face.box
    return (x + w / 2, y + _HEAD_CENTRE_DOWN * h), (_HEAD_RADII[0] * w, _HEAD_RADII[1] * h), _HEAD_FADE


class PhotoAnimator:
    """A user's photo, fitted into its box with its aspect ratio kept."""

    def __init__(self, path: pathlib.Path, box: Box, canvas: tuple[int, int], fps: int, tracks: MouthTracks) -> None:
        source = load_image(path)
        fitted = fit_box(box, source.shape[1], source.shape[0])
        self.placed = Placed(source, fitted)
        self.canvas = canvas
        faces = lm.find_faces(flatten(source))
        if not faces:
            raise RenderError(f"no face found in {path.name!r}; use a sharp photo of one face looking at the camera")
        sx, sy = self.placed.scale
        offset = np.array([fitted.left, fitted.top], np.float32)
        self.face = lm.Face((faces[0].points * np.array([sx, sy], np.float32) + offset).astype(np.float32), 1.0)
        frames = len(tracks.open)
        self.states: MouthStates = mouth_states(tracks, fps)
        self.blinks = blink_schedule(path.name, frames, fps)
        self.motion = head_motion(path.name, frames, fps, tracks.stress)
        (cx, cy), (rx, ry), fade = head_region(self.face)
        reach_x, reach_y = rx * (1 + fade), ry * (1 + fade)
        wanted = (math.floor(cx - reach_x), math.floor(cy - reach_y), math.ceil(cx + reach_x), math.ceil(cy + reach_y))
        visible = intersect(box_rect(fitted), (0, 0, *canvas))
        area = None if visible is None else intersect(wanted, visible)
        self.rect: Rect | None = None if area is None else intersect(even_rect(area, *canvas), visible or area)
        self.base: Image | None = None
        self.above: Sequence[Drawable] = ()
        self.mouth_cache: dict[tuple[int, int], Image] = {}
        self.eye_cache: dict[int, Image] = {}
        self.last: tuple[int, int, int, int] | None = None

    def rects(self) -> list[Rect]:
        return [] if self.rect is None else [self.rect]

    def composite_still(self, canvas: Image) -> None:
        self.placed.composite(canvas, (0, 0, *self.canvas))

    def prepare(self, below: dict[Rect, Image], above: Sequence[Drawable]) -> None:
        if self.rect is None:
            return
        r = self.rect
        region = below[r].copy()
        found = self.placed.pixels(r)
        if found is not None:
            hit, pixels = found
            over(region[hit[1] - r[1] : hit[3] - r[1], hit[0] - r[0] : hit[2] - r[0]], pixels)
        self.base = region
        self.above = above
        w, h = r[2] - r[0], r[3] - r[1]
        local = lm.Face(self.face.points - np.array(r[:2], np.float32), 1.0)
        self.mouth = build_mouth_rig(local, w, h)
        self.eyes = build_eyes_rig(local, w, h, bottom=self.mouth.rect[1])
        self.light = skin_light(region, local)
        (cx, cy), (rx, ry), fade = head_region(local)
        pivot = (cx, float(local.points[lm.CHIN, 1]) + _PIVOT_BELOW_CHIN * (ry * 2))
        self.sway = HeadSway(ellipse_weight(w, h, (cx, cy), (rx, ry), fade), pivot)
        self.unit = local.eye_distance

    def _mouth_patch(self, level: int, width: int) -> Image:
        key = (level, width)
        patch = self.mouth_cache.get(key)
        if patch is None:
            assert self.base is not None
            x0, y0, x1, y1 = self.mouth.rect
            patch = self.mouth.render(self.base[y0:y1, x0:x1].copy(), mouth_pose(level, width), self.light)
            self.mouth_cache[key] = patch
        return patch

    def _eye_patch(self, state: int) -> Image:
        patch = self.eye_cache.get(state)
        if patch is None:
            assert self.base is not None
            x0, y0, x1, y1 = self.eyes.rect
            patch = self.eyes.render(self.base[y0:y1, x0:x1].copy(), EYE_LIDS[state])
            self.eye_cache[state] = patch
        return patch

    def pose_at(self, index: int) -> tuple[float, float, float]:
        m = self.motion
        return float(m.dx[index]) * self.unit, float(m.dy[index]) * self.unit, float(m.roll[index])

    def picture(self, index: int) -> Image:
        """The head region's pixels (BGR, before the layers above) at frame ``index``."""
        assert self.base is not None
        out = self.base.copy()
        level, width = int(self.states.level[index]), int(self.states.width[index])
        if level != 0:
            x0, y0, x1, y1 = self.mouth.rect
            out[y0:y1, x0:x1] = self._mouth_patch(level, width)
        blink = int(self.blinks[index])
        if blink:
            x0, y0, x1, y1 = self.eyes.rect
            out[y0:y1, x0:x1] = self._eye_patch(blink)
        dx, dy, roll = self.pose_at(index)
        return self.sway.apply(out, dx, dy, roll)

    def write(self, index: int, openness: float, frame: YuvFrame) -> None:
        if self.rect is None or self.base is None:
            return
        region = self.picture(index)
        put_region(frame, self.rect, region, self.above)
