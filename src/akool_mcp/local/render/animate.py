"""The avatar layer in motion: what changes on the canvas from one frame to the next.

The static canvas is composited once; each animator owns a few even-aligned canvas rectangles,
prepares their YUV content (for built-ins and photos: one block per mouth level or blink state,
so a frame costs a memcpy) and writes the right one into the frame.
"""

from __future__ import annotations

import pathlib
from collections.abc import Iterator, Sequence
from typing import Protocol, cast

import av
import av.error
import numpy as np

from akool_mcp.local.render import avatars
from akool_mcp.local.render.draw import Image, over
from akool_mcp.local.render.encode import YuvFrame, to_i420
from akool_mcp.local.render.face import analyze_avatar_source
from akool_mcp.local.render.layers import Drawable, Placed, Rect, box_rect, even_rect, intersect, load_image
from akool_mcp.local.render.model import AvatarLayer, Box, RenderError
from akool_mcp.local.render.mouth import (
    Mouth,
    MouthShape,
    apply_shape,
    locate_mouth,
    mouth_shape,
    open_mouth,
    skin_light,
)

FULL_OPEN_LEVELS = avatars.MOUTH_LEVELS


class Animator(Protocol):
    def rects(self) -> list[Rect]:
        """Canvas rectangles this avatar may change after the first frame."""
        ...

    def composite_still(self, canvas: Image) -> None:
        """Draw the avatar at rest onto the full canvas."""
        ...

    def prepare(self, below: dict[Rect, Image], above: Sequence[Drawable]) -> None:
        """Pre-render moving parts given what lies under (per rect) and the layers above."""
        ...

    def write(self, index: int, openness: float, frame: YuvFrame) -> None:
        """Put frame ``index`` (mouth ``openness``) into the YUV frame."""
        ...


def _finish_region(region: Image, rect: Rect, above: Sequence[Drawable]) -> Image:
    for layer in above:
        layer.composite(region, rect)
    return to_i420(region)


class BuiltinAnimator:
    def __init__(self, avatar_id: str, box: Box, canvas: tuple[int, int], fps: int, frames: int) -> None:
        dx, dy, side = avatars.placement(box.width, box.height)
        self.sprite = avatars.sprite(avatar_id, side)
        left, top = box.left + dx, box.top + dy
        self.still = Placed(self.sprite.image, Box(left, top, side, side))
        self.canvas = canvas
        self.blinks = avatars.blink_schedule(avatar_id, frames, fps)
        self.parts: list[tuple[Rect, Rect, avatars.StatePatches]] = []  # (canvas rect, patch rect, patches)
        for part in (self.sprite.mouth, self.sprite.eyes):
            x0, y0 = left + part.left, top + part.top
            patch_rect = (x0, y0, x0 + part.width, y0 + part.height)
            rect = intersect(even_rect(patch_rect, *canvas), (0, 0, *canvas))
            if rect is not None:
                self.parts.append((rect, patch_rect, part))
        self.blocks: list[list[Image]] = []
        self.shown: list[int] = []

    def rects(self) -> list[Rect]:
        return [rect for rect, _, _ in self.parts]

    def composite_still(self, canvas: Image) -> None:
        self.still.composite(canvas, (0, 0, *self.canvas))

    def prepare(self, below: dict[Rect, Image], above: Sequence[Drawable]) -> None:
        for rect, patch_rect, part in self.parts:
            found = self.still.pixels(rect)
            assert found is not None  # the patches lie inside the sprite
            hit, still = found
            inner = intersect(patch_rect, hit)
            assert inner is not None
            blocks: list[Image] = []
            for patch in part.patches:
                pixels = still.copy()
                pixels[inner[1] - hit[1] : inner[3] - hit[1], inner[0] - hit[0] : inner[2] - hit[0]] = patch[
                    inner[1] - patch_rect[1] : inner[3] - patch_rect[1],
                    inner[0] - patch_rect[0] : inner[2] - patch_rect[0],
                ]
                region = below[rect].copy()
                over(region[hit[1] - rect[1] : hit[3] - rect[1], hit[0] - rect[0] : hit[2] - rect[0]], pixels)
                blocks.append(_finish_region(region, rect, above))
            self.blocks.append(blocks)
            self.shown.append(-1)

    def write(self, index: int, openness: float, frame: YuvFrame) -> None:
        for k, (rect, _, part) in enumerate(self.parts):
            mouth = part is self.sprite.mouth
            state = round(openness * (FULL_OPEN_LEVELS - 1)) if mouth else int(self.blinks[index])
            if state != self.shown[k]:
                frame.put(rect[0], rect[1], self.blocks[k][state])
                self.shown[k] = state


def _mouth_on_canvas(source: Image, face: tuple[int, int, int, int], placed: Placed) -> Mouth:
    sx, sy = placed.scale
    return locate_mouth(source, face).placed(placed.box.left, placed.box.top, sx, sy)


def _mouth_rect(mouth: Mouth, placed: Placed, canvas: tuple[int, int]) -> Rect | None:
    visible = intersect(box_rect(placed.box), (0, 0, *canvas))
    if visible is None:
        return None
    wanted = intersect(mouth.region(), visible)
    return None if wanted is None else intersect(even_rect(wanted, *canvas), visible)


class ImageAnimator:
    """A user's photo: the face found once, the mouth pre-rendered at every level."""

    def __init__(self, path: pathlib.Path, box: Box, canvas: tuple[int, int]) -> None:
        analysis = analyze_avatar_source(path)
        self.placed = Placed(load_image(path), box)
        self.canvas = canvas
        self.mouth = _mouth_on_canvas(self.placed.source, analysis.face_box, self.placed)
        self.rect = _mouth_rect(self.mouth, self.placed, canvas)
        self.blocks: list[Image] = []
        self.shown = -1

    def rects(self) -> list[Rect]:
        return [] if self.rect is None else [self.rect]

    def composite_still(self, canvas: Image) -> None:
        self.placed.composite(canvas, (0, 0, *self.canvas))

    def prepare(self, below: dict[Rect, Image], above: Sequence[Drawable]) -> None:
        if self.rect is None:
            return
        found = self.placed.pixels(self.rect)
        assert found is not None  # the rect lies inside the avatar box
        hit, pixels = found
        local = self.mouth.moved(-hit[0], -hit[1])
        r = self.rect
        for level in range(FULL_OPEN_LEVELS):
            region = below[r].copy()
            opened = open_mouth(pixels, local, level / (FULL_OPEN_LEVELS - 1))
            over(region[hit[1] - r[1] : hit[3] - r[1], hit[0] - r[0] : hit[2] - r[0]], opened)
            self.blocks.append(_finish_region(region, r, above))

    def write(self, index: int, openness: float, frame: YuvFrame) -> None:
        if self.rect is None or not self.blocks:
            return
        level = round(openness * (FULL_OPEN_LEVELS - 1))
        if level != self.shown:
            frame.put(self.rect[0], self.rect[1], self.blocks[level])
            self.shown = level


class _LoopedFrames:
    """Frames of a video as BGR arrays by output time; it starts again from the top at the end."""

    def __init__(self, path: pathlib.Path) -> None:
        self.path = path
        self.offset = 0.0  # output time at which the current pass through the video began
        self.step = 1 / 25  # one source frame's duration, read from the stream
        self.current: tuple[float, Image] | None = None
        self.pending: tuple[float, Image] | None = None
        self.frames = self._decode()

    def _decode(self) -> Iterator[tuple[float, Image]]:
        try:
            with av.open(str(self.path), "r") as container:
                stream = container.streams.video[0]
                stream.thread_type = "AUTO"
                if stream.average_rate:
                    self.step = 1 / float(stream.average_rate)
                start: float | None = None
                for frame in container.decode(stream):
                    t = float(frame.time or 0.0)
                    start = t if start is None else start
                    yield t - start, cast(Image, frame.to_ndarray(format="bgr24"))
        except (av.error.FFmpegError, ValueError) as exc:
            raise RenderError(f"could not decode the avatar video {self.path.name!r} ({exc})") from exc

    def at(self, t: float) -> Image:
        """The source frame on screen at output time ``t`` (asked for in increasing order)."""
        while True:
            if self.pending is None:
                self.pending = next(self.frames, None)
                if self.pending is None:
                    if self.current is None:
                        raise RenderError(f"the avatar video {self.path.name!r} has no frames")
                    self.offset += self.current[0] + self.step
                    self.current = (-self.step, self.current[1])
                    self.frames = self._decode()
                    continue
            when, image = self.pending
            if self.current is not None and self.offset + when > t + 1e-6:
                return self.current[1]
            self.current, self.pending = (when, image), None


class VideoAnimator:
    """A user's video, looped to the speech: the whole avatar box is redrawn every frame."""

    def __init__(self, path: pathlib.Path, box: Box, canvas: tuple[int, int], fps: int) -> None:
        analysis = analyze_avatar_source(path)
        self.source = _LoopedFrames(path)
        self.box = box
        self.fps = fps
        self.canvas = canvas
        first = self.source.at(0.0)
        placed = Placed(first, box)
        self.mouth = _mouth_on_canvas(first, analysis.face_box, placed)
        visible = intersect(box_rect(box), (0, 0, *canvas))
        self.rect = None if visible is None else even_rect(visible, *canvas)
        self.mouth_area = None if visible is None else intersect(self.mouth.region(), visible)
        self.light = 1.0
        if self.mouth_area is not None:
            found = placed.pixels(self.mouth_area)
            if found is not None:
                self.light = skin_light(found[1], self.mouth.moved(-found[0][0], -found[0][1]))
        self.shapes: dict[int, MouthShape] = {}
        self.below: Image | None = None
        self.above: Sequence[Drawable] = ()

    def rects(self) -> list[Rect]:
        return [] if self.rect is None else [self.rect]

    def composite_still(self, canvas: Image) -> None:
        if self.rect is not None:
            region = canvas[self.rect[1] : self.rect[3], self.rect[0] : self.rect[2]]
            region[...] = self._region(0.0, 0.0, region)

    def prepare(self, below: dict[Rect, Image], above: Sequence[Drawable]) -> None:
        if self.rect is not None:
            self.below = below[self.rect]
            self.above = above

    def _shape(self, level: int) -> MouthShape:
        """The mouth opening for one level, worked out on first use and kept."""
        shape = self.shapes.get(level)
        if shape is None:
            assert self.mouth_area is not None
            m = self.mouth_area
            local = self.mouth.moved(-m[0], -m[1])
            shape = mouth_shape(local, m[2] - m[0], m[3] - m[1], level / (FULL_OPEN_LEVELS - 1), self.light)
            self.shapes[level] = shape
        return shape

    def _region(self, t: float, openness: float, under: Image) -> Image:
        """The avatar box's canvas pixels at time ``t`` over ``under`` (what lies beneath)."""
        assert self.rect is not None
        r = self.rect
        found = Placed(self.source.at(t), self.box).pixels(r)
        if found is None:
            return under
        hit, pixels = found
        if hit == r:
            region = np.ascontiguousarray(pixels)  # the opaque video covers everything beneath
        else:
            region = under.copy()
            region[hit[1] - r[1] : hit[3] - r[1], hit[0] - r[0] : hit[2] - r[0]] = pixels
        level = round(openness * (FULL_OPEN_LEVELS - 1))
        if level > 0 and self.mouth_area is not None:
            m = self.mouth_area
            window = region[m[1] - r[1] : m[3] - r[1], m[0] - r[0] : m[2] - r[0]]
            window[...] = apply_shape(np.ascontiguousarray(window), self._shape(level))
        return region

    def write(self, index: int, openness: float, frame: YuvFrame) -> None:
        if self.rect is None or self.below is None:
            return
        region = self._region(index / self.fps, openness, self.below)
        frame.put(self.rect[0], self.rect[1], _finish_region(region, self.rect, self.above))


def make_animator(layer: AvatarLayer, canvas: tuple[int, int], fps: int, frames: int) -> Animator:
    sources = [s for s in (layer.builtin_id, layer.image_path, layer.video_path) if s is not None]
    if len(sources) != 1:
        raise RenderError("an avatar layer needs exactly one of builtin_id, image_path or video_path")
    if layer.box.width < 16 or layer.box.height < 16:
        raise RenderError(f"the avatar box must be at least 16x16 pixels; got {layer.box.width}x{layer.box.height}")
    if layer.builtin_id is not None:
        return BuiltinAnimator(layer.builtin_id, layer.box, canvas, fps, frames)
    if layer.image_path is not None:
        return ImageAnimator(layer.image_path, layer.box, canvas)
    assert layer.video_path is not None
    return VideoAnimator(layer.video_path, layer.box, canvas, fps)
