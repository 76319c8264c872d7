"""A user's video as a talking avatar: the face tracked on every frame, the mouth posed on it.

Each source frame's landmarks come from the face mesh run on a crop around the previous frame's
face (BlazeFace only when the face is lost), as MediaPipe's own tracking graph does, and are
smoothed with a One Euro filter: still faces stay still, moving faces are followed without lag.
The mouth is warped in the source frame's pixels (fewer than the 4K box's) and the frame is then
scaled into its box, which keeps the video's aspect ratio. Frames stay in the decoder's YUV
throughout: only the face crop and the mouth patch are turned into BGR (see :mod:`.yuv`).
"""

from __future__ import annotations

import math
import pathlib
from collections.abc import Iterator, Sequence
from typing import cast

import av
import numpy as np
import numpy.typing as npt
from av.error import FFmpegError

from akool_mcp.render.composition import Box, Cancelled, RenderError
from akool_mcp.render.encode import YuvFrame
from akool_mcp.render.face import landmarks as lm
from akool_mcp.render.face.cavity import skin_light
from akool_mcp.render.face.mouth_opening import Opening, fill_opening, find_opening
from akool_mcp.render.face.mouth_rig import build_mouth_rig
from akool_mcp.render.face.photo import fit_box, mouth_pose
from akool_mcp.render.face.settle import closed_face
from akool_mcp.render.layers import Drawable, Placed, Rect, box_rect, even_rect, intersect
from akool_mcp.render.motion import MouthStates, mouth_states
from akool_mcp.render.pixels import Image
from akool_mcp.render.region import put_region
from akool_mcp.render.yuv import I420
from akool_mcp.speech import MouthTracks

Floats = npt.NDArray[np.float32]

# One Euro filter settings, with positions measured in eye widths: below a slow drift the
# cut-off stays at 1.5 Hz (landmark jitter vanishes); fast moves raise it and are followed.
_MIN_CUTOFF_HZ = 1.5
_BETA = 0.8
_DERIVATIVE_CUTOFF_HZ = 1.0
# A source frame stays on screen at least this long (the highest frame rate an avatar video may have,
# see media.probe): looping a video whose clock races still advances the output.
MIN_FRAME_STEP = 1 / 120
# Frames are decoded at the size they are drawn at, but never below this on the long side: the face
# mesh wants some pixels to find the lips in.
MIN_DECODE_SIDE = 640
_JUMP = 0.5  # a face moving this many eye widths in one frame: a cut or the loop restarting
_SMALLEST_PATCH_PX = 8  # a mouth patch narrower or shorter than this is left as the frame has it
_FALLBACK_FPS = 25  # the source's frame rate when its stream gives none
_REST_SCAN_S = 1.0  # the rest shape is looked for in the video's first this many seconds


class OneEuro:
    """The One Euro filter (Casiez, Roussel and Vogel, CHI 2012) over an array of values."""

    def __init__(self, min_cutoff: float, beta: float, d_cutoff: float) -> None:
        self.min_cutoff, self.beta, self.d_cutoff = min_cutoff, beta, d_cutoff
        self.value: Floats | None = None
        self.speed: Floats | None = None

    @staticmethod
    def _alpha(cutoff: Floats | float, step: float) -> Floats:
        tau = 1.0 / (2 * math.pi * np.asarray(cutoff, np.float32))
        return (1.0 / (1.0 + tau / step)).astype(np.float32)

    def reset(self) -> None:
        self.value, self.speed = None, None

    def __call__(self, value: Floats, step: float) -> Floats:
        if self.value is None or self.speed is None:
            self.value, self.speed = value.copy(), np.zeros_like(value)
            return value
        raw_speed = (value - self.value) / step
        speed = (self.speed + self._alpha(self.d_cutoff, step) * (raw_speed - self.speed)).astype(np.float32)
        cutoff = (self.min_cutoff + self.beta * np.abs(speed)).astype(np.float32)
        smooth = (self.value + self._alpha(cutoff, step) * (value - self.value)).astype(np.float32)
        self.value, self.speed = smooth, speed
        return smooth


class FaceTracker:
    """Landmarks frame after frame: mesh on the last face's crop, BlazeFace when it is lost."""

    def __init__(self, fps: float) -> None:
        self.step = 1.0 / fps
        self.roi: lm.Roi | None = None
        self.filter = OneEuro(_MIN_CUTOFF_HZ, _BETA, _DERIVATIVE_CUTOFF_HZ)
        self.last: lm.Face | None = None

    def track(self, picture: Image | I420) -> lm.Face | None:
        """This frame's smoothed landmarks (BGR or YUV picture); the last ones if the face is lost."""
        face = _mesh(picture, self.roi) if self.roi is not None else None
        if face is None:
            bgr = picture.bgr() if isinstance(picture, I420) else picture
            detections = lm.detect_faces(bgr)
            face = lm.mesh(bgr, lm.roi_from_detection(detections[0])) if detections else None
        if face is None:
            self.roi = None
            return self.last
        self.roi = lm.roi_from_face(face)
        unit = max(face.eye_distance, 1.0)
        if self.last is not None:
            shift = float(np.linalg.norm(face.points[lm.NOSE_TIP] - self.last.points[lm.NOSE_TIP]))
            if shift > _JUMP * unit:
                self.filter.reset()
        smooth = self.filter(face.points / unit, self.step) * unit
        self.last = lm.Face(smooth.astype(np.float32), face.score)
        return self.last


def _mesh(picture: Image | I420, roi: lm.Roi) -> lm.Face | None:
    """The face mesh in ``roi``; of a YUV picture only the pixels the crop reads become BGR."""
    if not isinstance(picture, I420):
        return lm.mesh(picture, roi)
    area = intersect(even_rect(roi.bounds(), picture.width, picture.height), (0, 0, picture.width, picture.height))
    if area is None:
        return None  # the crop lies wholly off the picture: nothing there to see
    found = lm.mesh(picture.bgr(area), roi.moved(-area[0], -area[1]))
    if found is None:
        return None
    return lm.Face((found.points + np.array(area[:2], np.float32)).astype(np.float32), found.score)


class LoopedFrames:
    """Frames of a video as YUV pictures by output time; it starts again from the top at the end.

    Bounded work whatever the file says: each frame advances the source's clock by at least
    `MIN_FRAME_STEP` (a stream whose timestamps race or stand still cannot make a pass through
    the video last no time), frames are decoded no larger than `fit` (the size they are drawn at,
    kept at least `MIN_DECODE_SIDE` on the long side for the face mesh), and `cancelled` is asked
    at every decoded frame, so a stop or an exhausted budget ends the work inside a frame.
    """

    def __init__(
        self, path: pathlib.Path, *, fit: tuple[int, int] | None = None, cancelled: Cancelled | None = None
    ) -> None:
        self.path = path
        self.fit = fit
        self.cancelled = cancelled
        self.offset = 0.0  # output time at which the current pass through the video began
        self.step = 1 / _FALLBACK_FPS  # one source frame's duration, read from the stream
        self.current: tuple[float, I420] | None = None
        self.pending: tuple[float, I420] | None = None
        self.frames = self._decode()

    def _size(self, width: int, height: int) -> tuple[int, int]:
        """The decoded size: the source's, or smaller to fit the drawn size; even sides for 4:2:0."""
        scale = 1.0
        if self.fit is not None:
            wanted = max(min(self.fit[0] / width, self.fit[1] / height), MIN_DECODE_SIDE / max(width, height))
            scale = min(1.0, wanted)
        w, h = max(2, round(width * scale)), max(2, round(height * scale))
        return w - w % 2, h - h % 2

    def _decode(self) -> Iterator[tuple[float, I420]]:
        try:
            with av.open(str(self.path), "r") as container:
                stream = container.streams.video[0]
                stream.thread_type = "AUTO"
                if stream.average_rate:
                    self.step = max(MIN_FRAME_STEP, 1 / float(stream.average_rate))
                start: float | None = None
                last = -MIN_FRAME_STEP
                for frame in container.decode(stream):
                    if self.cancelled is not None and self.cancelled():
                        raise RenderError("cancelled")
                    t = float(frame.time or 0.0)
                    start = t if start is None else start
                    when = max(t - start, last + MIN_FRAME_STEP)
                    last = when
                    width, height = self._size(frame.width, frame.height)
                    block = frame.to_ndarray(format="yuv420p", width=width, height=height)
                    yield when, I420(cast(Image, block))
        # FFmpegError is bound at import: a generator left open is closed as the interpreter
        # stops, when av's own attributes may already be gone.
        except (FFmpegError, ValueError) as exc:
            raise RenderError(f"could not decode the avatar video {self.path.name!r} ({exc})") from exc

    def at(self, t: float) -> I420:
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


def _restful_face(frames: LoopedFrames, fps: int) -> lm.Face | None:
    """The face with the most nearly shut mouth in the video's first seconds, shut outright.

    Every frame's mouth is posed from this rest shape, so a person talking in the source video
    is settled to it; the first frame alone might catch them mid-word. "Shut" is judged by the
    dark inside the pixels show, not by the mesh's lip points (which sit part way down a mouth
    open wide), and if the person never closes their mouth while scanned, the rest shape is
    that frame's face with the lower lip raised to close the gap.
    """
    tracker = FaceTracker(fps)
    best: tuple[float, float, lm.Face, Opening] | None = None
    for index in range(round(_REST_SCAN_S * fps)):
        picture = frames.at(index / fps)
        face = tracker.track(picture)
        if face is None:
            continue
        opening = find_opening(picture, face)
        gap = float(np.nanmax(opening.bottom - opening.top)) if opening.found else 0.0
        if best is None or (gap, face.lip_gap()) < best[:2]:
            best = (gap, face.lip_gap(), face, opening)
    if best is None:
        return None
    return closed_face(best[2], best[3]) if best[3].found else best[2]


class VideoAnimator:
    """A user's video, looped to the speech: the whole avatar box is redrawn every frame."""

    def __init__(
        self,
        path: pathlib.Path,
        box: Box,
        canvas: tuple[int, int],
        fps: int,
        tracks: MouthTracks,
        cancelled: Cancelled | None = None,
    ) -> None:
        self.source = LoopedFrames(path, fit=(box.width, box.height), cancelled=cancelled)
        first = self.source.at(0.0)
        self.box = fit_box(box, first.width, first.height)
        self.fps = fps
        self.canvas = canvas
        self.states: MouthStates = mouth_states(tracks, fps)
        self.tracker = FaceTracker(fps)
        face = self.tracker.track(first)
        if face is None:
            raise RenderError(
                f"no face found in the video {path.name!r}; use a video of one face looking at the camera"
            )
        rest = LoopedFrames(path, fit=(box.width, box.height), cancelled=cancelled)
        self.rig = build_mouth_rig(_restful_face(rest, fps) or face, first.width, first.height)
        self.light = skin_light(first.bgr(), face)
        self.first: I420 | None = first
        visible = intersect(box_rect(self.box), (0, 0, *canvas))
        self.rect = None if visible is None else even_rect(visible, *canvas)
        self.below: Image | None = None
        self.above: Sequence[Drawable] = ()

    def rects(self) -> list[Rect]:
        return [] if self.rect is None else [self.rect]

    def composite_still(self, canvas: Image) -> None:
        if self.rect is not None:
            region = canvas[self.rect[1] : self.rect[3], self.rect[0] : self.rect[2]]
            region[...] = self._region(0, region)

    def prepare(self, below: dict[Rect, Image], above: Sequence[Drawable]) -> None:
        if self.rect is not None:
            self.below = below[self.rect]
            self.above = above

    def _posed(self, index: int) -> I420:
        """Source frame ``index`` with its face tracked and its mouth posed for the speech."""
        if index == 0 and self.first is not None:
            frame, self.first = self.first, None
            face = self.tracker.last
        else:
            frame = self.source.at(index / self.fps)
            face = self.tracker.track(frame)
        if face is None:
            return frame
        # The video's own open mouth, read from its pixels: the lips are settled from where they
        # really are, and the inside between them is covered with the lips' own colours.
        opening = find_opening(frame, face)
        rig = self.rig.placed_on(face, frame.width, frame.height, opening)
        at = min(index, len(self.states.level) - 1)
        level, width = int(self.states.level[at]), int(self.states.width[at])
        x0, y0, x1, y1 = rig.rect
        if x1 - x0 < _SMALLEST_PATCH_PX or y1 - y0 < _SMALLEST_PATCH_PX:
            return frame
        # Only the mouth's rectangle (grown to even edges for the chroma) goes to BGR and back;
        # the source frame may be shown again (a slower video, the loop), so it is not changed.
        ex0, ey0, ex1, ey1 = even_rect(rig.rect, frame.width, frame.height)
        patch = frame.bgr((ex0, ey0, ex1, ey1))
        inner = np.ascontiguousarray(patch[y0 - ey0 : y1 - ey0, x0 - ex0 : x1 - ex0])
        fill_opening(inner, opening, (x0, y0))
        patch[y0 - ey0 : y1 - ey0, x0 - ex0 : x1 - ex0] = rig.render(
            inner, mouth_pose(level, width), self.light, coarse=True
        )
        out = frame.copy()
        out.put_bgr(ex0, ey0, patch)
        return out

    def _region(self, index: int, under: Image) -> Image:
        """The avatar box's canvas pixels at frame ``index`` over ``under`` (what lies beneath)."""
        assert self.rect is not None
        r = self.rect
        # Bilinear upscaling: a third of bicubic's time on every 4K frame, and a moving video
        # shows no difference.
        found = Placed(self._posed(index).bgr(), self.box, fast=True).pixels(r)
        if found is None:
            return under
        hit, pixels = found
        if hit == r:
            return np.ascontiguousarray(pixels)  # the opaque video covers everything beneath
        region = under.copy()
        region[hit[1] - r[1] : hit[3] - r[1], hit[0] - r[0] : hit[2] - r[0]] = pixels
        return region

    def _yuv_fits(self) -> bool:
        """Whether a frame can be scaled in YUV straight into the canvas: the box lies wholly on
        the canvas at even edges and nothing is drawn over it."""
        b = self.box
        whole = self.rect == (b.left, b.top, b.right, b.bottom)
        even = all(v % 2 == 0 for v in (b.left, b.top, b.width, b.height))
        covered = any(intersect(layer.rect, box_rect(b)) is not None for layer in self.above)
        return whole and even and not covered

    def write(self, index: int, openness: float, frame: YuvFrame) -> None:
        if self.rect is None or self.below is None:
            return
        if index == 0:
            return  # the still canvas already holds frame 0
        if self._yuv_fits():
            # Scale the small frame's Y, U and V planes instead of a 4K BGR picture: half the
            # pixels to interpolate, and no 4K colour conversion.
            b = self.box
            frame.scale_in(b.left, b.top, b.width, b.height, self._posed(index))
            return
        region = self._region(index, self.below)
        put_region(frame, self.rect, region, self.above)
