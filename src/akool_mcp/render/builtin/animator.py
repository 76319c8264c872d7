"""A built-in avatar in motion: its pre-drawn mouth and eye states pasted into the head region, which sways."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from akool_mcp.render.builtin import catalog as avatars
from akool_mcp.render.builtin.spec import EYE_WIDTH, HEAD_CENTRE, HEAD_RADII, NECK
from akool_mcp.render.composition import Box
from akool_mcp.render.encode import YuvFrame
from akool_mcp.render.layers import Drawable, Placed, Rect, box_rect, even_rect, intersect
from akool_mcp.render.motion import BITE, PRESSED, blink_schedule, head_motion, mouth_states
from akool_mcp.render.pixels import Image, over
from akool_mcp.render.region import put_region
from akool_mcp.render.sway import HeadSway, ellipse_weight
from akool_mcp.speech import MouthTracks

# The head's sway fades out over this many of its ellipse's radii outside it (the region redrawn
# every frame reaches that far).
_HEAD_FADE = 0.45


class BuiltinAnimator:
    """A built-in bust: pre-drawn mouth shapes and eye/brow states pasted into the head region,
    which then sways and breathes (one remap of that region per frame)."""

    def __init__(self, avatar_id: str, box: Box, canvas: tuple[int, int], fps: int, tracks: MouthTracks) -> None:
        dx, dy, side = avatars.placement(box.width, box.height)
        self.sprite = avatars.sprite(avatar_id, side)
        self.left, self.top, self.side = box.left + dx, box.top + dy, side
        self.still = Placed(self.sprite.image, Box(self.left, self.top, side, side))
        # A bust placed higher than the frame's bottom would end on a hard edge floating in the picture: its last
        # row carries on down to the bottom instead, as a body would.
        reach = canvas[1] - (self.top + side)
        self.body = (
            Placed(np.ascontiguousarray(self.sprite.image[-1:]), Box(self.left, self.top + side, side, reach))
            if reach > 0
            else None
        )
        self.canvas = canvas
        frames = len(tracks.open)
        self.blinks = blink_schedule(avatar_id, frames, fps)
        self.motion = head_motion(avatar_id, frames, fps, tracks.stress)
        states = mouth_states(tracks, fps)
        level = np.round(np.clip(tracks.open, 0, 1) * (avatars.MOUTH_LEVELS - 1)).astype(np.int64)
        widths = np.asarray(avatars.MOUTH_WIDTHS, np.float32)
        width = np.abs(tracks.width[:, None] - widths[None, :]).argmin(axis=1)
        self.mouth_index = np.where(states.level == BITE, avatars.BITE_PATCH, level * len(widths) + width)
        self.mouth_index[states.level == PRESSED] = 0
        brow = np.round(np.clip(tracks.stress, 0, 1) * (len(avatars.BROWS) - 1)).astype(np.int64)
        self.eye_index = self.blinks + len(avatars.EYE_LIDS) * brow
        k = side / 1000
        centre = (self.left + HEAD_CENTRE[0] * k, self.top + HEAD_CENTRE[1] * k)
        radii = (HEAD_RADII[0] * k, HEAD_RADII[1] * k)
        self.head = (centre, radii, _HEAD_FADE)
        reach = (radii[0] * (1 + _HEAD_FADE), radii[1] * (1 + _HEAD_FADE))
        wanted = (
            math.floor(centre[0] - reach[0]),
            math.floor(centre[1] - reach[1]),
            math.ceil(centre[0] + reach[0]),
            math.ceil(centre[1] + reach[1]),
        )
        visible = intersect(box_rect(self.still.box), (0, 0, *canvas))
        area = None if visible is None else intersect(wanted, visible)
        self.rect = None if area is None or visible is None else intersect(even_rect(area, *canvas), visible)
        self.unit = EYE_WIDTH * k
        self.base: Image | None = None
        self.below: Image | None = None
        self.above: Sequence[Drawable] = ()
        self.cache: dict[tuple[int, int], Image] = {}

    def rects(self) -> list[Rect]:
        return [] if self.rect is None else [self.rect]

    def composite_still(self, canvas: Image) -> None:
        for layer in (self.still, self.body):
            if layer is not None:
                layer.composite(canvas, (0, 0, *self.canvas))

    def prepare(self, below: dict[Rect, Image], above: Sequence[Drawable]) -> None:
        if self.rect is None:
            return
        r = self.rect
        self.below = below[r]
        base = self.below.copy()
        self.still.composite(base, r)
        if self.body is not None:
            self.body.composite(base, r)
        self.base = base
        self.above = above
        (cx, cy), radii, fade = self.head
        w, h = r[2] - r[0], r[3] - r[1]
        pivot = (self.left + NECK[0] * self.side / 1000 - r[0], self.top + NECK[1] * self.side / 1000 - r[1])
        self.sway = HeadSway(ellipse_weight(w, h, (cx - r[0], cy - r[1]), radii, fade), pivot)

    def _patch(self, part: int, index: int) -> tuple[Rect, Image] | None:
        """The region-local rect and BGR pixels of mouth (part 0) or eyes (part 1) state ``index``."""
        assert self.rect is not None
        assert self.below is not None
        states = self.sprite.mouth if part == 0 else self.sprite.eyes
        r = self.rect
        x0, y0 = self.left + states.left, self.top + states.top
        hit = intersect((x0, y0, x0 + states.width, y0 + states.height), r)
        if hit is None:
            return None
        local = (hit[0] - r[0], hit[1] - r[1], hit[2] - r[0], hit[3] - r[1])
        found = self.cache.get((part, index))
        if found is None:
            found = self.below[local[1] : local[3], local[0] : local[2]].copy()
            patch = states.patches[index][hit[1] - y0 : hit[3] - y0, hit[0] - x0 : hit[2] - x0]
            over(found, patch)
            self.cache[(part, index)] = found
        return local, found

    def write(self, index: int, openness: float, frame: YuvFrame) -> None:
        if self.rect is None or self.base is None:
            return
        out = self.base.copy()
        for part, state in ((0, int(self.mouth_index[index])), (1, int(self.eye_index[index]))):
            if state == 0:
                continue
            found = self._patch(part, state)
            if found is not None:
                (x0, y0, x1, y1), pixels = found
                out[y0:y1, x0:x1] = pixels
        m = self.motion
        out = self.sway.apply(out, float(m.dx[index]) * self.unit, float(m.dy[index]) * self.unit, float(m.roll[index]))
        put_region(frame, self.rect, out, self.above)
