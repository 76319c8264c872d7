"""render(): a composition to an MP4 file."""

from __future__ import annotations

import pathlib
import time
from collections.abc import Callable

import av.error
import cv2
import numpy as np

from akool_mcp.log import get_logger
from akool_mcp.render.ahead import FramesAhead
from akool_mcp.render.animate import make_animator
from akool_mcp.render.composition import (
    AvatarLayer,
    ColorLayer,
    Composition,
    ImageLayer,
    Layer,
    RenderError,
    RenderResult,
)
from akool_mcp.render.encode import AUDIO_RATE, Mp4Writer, YuvFrame
from akool_mcp.render.layers import Drawable, Placed, Rect, load_image, solid
from akool_mcp.render.pixels import Image
from akool_mcp.render.region import Animator
from akool_mcp.render.subtitles import CaptionedAnimator
from akool_mcp.speech import MAX_SECONDS, MouthTracks

log = get_logger(__name__)

MAX_CANVAS_SIDE = 7680
# OpenCV's own threads while x264 keeps every core busy: handing each small remap or blur to a
# second thread cost more than it saved. Measured on 2 cores, a 10 s 4K photo avatar against
# a still: 1.31x with OpenCV's default threads, 1.24x with one (4 interleaved rounds); a video
# avatar, where the drawing is a bigger share, came out the same either way.
_OPENCV_THREADS = 1
_PROGRESS_EVERY_SECONDS = 0.5


def _drawable(layer: Layer) -> Drawable:
    if isinstance(layer, ColorLayer):
        return solid(layer.rgba, layer.box)
    if isinstance(layer, ImageLayer):
        return Placed(load_image(layer.path), layer.box)
    raise RenderError("a composition holds exactly one avatar layer")


def _check(composition: Composition) -> int:
    """Validate the composition; return the index of its avatar layer."""
    width, height, fps = composition.width, composition.height, composition.fps
    if not (16 <= width <= MAX_CANVAS_SIDE and 16 <= height <= MAX_CANVAS_SIDE) or width % 2 or height % 2:
        raise RenderError(f"the video size must be even and 16-{MAX_CANVAS_SIDE} pixels a side; got {width}x{height}")
    if not 1 <= fps <= 60:
        raise RenderError(f"the frame rate must be 1-60 fps; got {fps}")
    speech = composition.speech
    if speech.sample_rate <= 0 or len(speech.samples) == 0:
        raise RenderError("the speech track is empty; give text to speak or an audio file with sound")
    if speech.duration > MAX_SECONDS + 1:
        raise RenderError(f"the speech lasts {speech.duration / 60:.1f} minutes; the limit is {MAX_SECONDS / 60:.0f}")
    avatars = [i for i, layer in enumerate(composition.layers) if isinstance(layer, AvatarLayer)]
    if len(avatars) != 1:
        raise RenderError(f"a video needs exactly one avatar layer; this one has {len(avatars)}")
    return avatars[0]


def _fit_tracks(tracks: MouthTracks, frames: int) -> MouthTracks:
    """The tracks cut or padded (with stillness) to exactly ``frames``."""

    def fit(values: np.ndarray) -> np.ndarray:
        out = np.zeros(frames, np.float32)
        out[: min(frames, len(values))] = values[:frames]
        return out

    return MouthTracks(fit(tracks.open), fit(tracks.width), fit(tracks.bite), fit(tracks.stress), fit(tracks.tongue))


def render(
    composition: Composition,
    out_path: pathlib.Path,
    *,
    preset: str = "veryfast",
    crf: int = 23,
    progress: Callable[[float], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> RenderResult:
    """Render the composition to an H.264/AAC MP4 at ``out_path``, as long as the speech.

    Runs synchronously; ``progress`` gets fractions 0..1 now and then and ``cancelled`` is
    polled every frame and inside a frame's work (every decoded source frame); when it turns true
    the render stops with RenderError("cancelled"). A failed or cancelled render removes what it
    wrote.
    """
    started = time.perf_counter()
    cv2.setNumThreads(_OPENCV_THREADS)
    avatar_index = _check(composition)
    width, height, fps = composition.width, composition.height, composition.fps
    speech = composition.speech
    frames = max(1, round(speech.duration * fps))
    tracks = _fit_tracks(speech.mouth_tracks(fps), frames)
    openness = tracks.open

    avatar_layer = composition.layers[avatar_index]
    assert isinstance(avatar_layer, AvatarLayer)
    below = [_drawable(layer) for layer in composition.layers[:avatar_index]]
    above = [_drawable(layer) for layer in composition.layers[avatar_index + 1 :]]
    animator: Animator = make_animator(avatar_layer, (width, height), fps, tracks, cancelled)
    if composition.burn_captions and speech.cues:
        animator = CaptionedAnimator(animator, speech.cues, fps, width, height)

    full: Rect = (0, 0, width, height)
    canvas: Image = np.zeros((height, width, 3), np.uint8)
    for layer in below:
        layer.composite(canvas, full)
    under = {r: canvas[r[1] : r[3], r[0] : r[2]].copy() for r in animator.rects()}
    animator.composite_still(canvas)
    for layer in above:
        layer.composite(canvas, full)
    animator.prepare(under, above)
    frame = YuvFrame(canvas)
    del canvas, under
    prepared = time.perf_counter()

    if cancelled is not None and cancelled():
        raise RenderError("cancelled")
    # The voices speak at 22.05 or 24 kHz; AAC in the MP4 runs at 48 kHz, reached here by an exact
    # band-limited resampling rather than FFmpeg's, whose filter dulls the top of a neural voice.
    writer = Mp4Writer(out_path, width, height, fps, preset, crf, speech.samples_at(AUDIO_RATE), AUDIO_RATE)
    try:
        every = max(1, round(fps * _PROGRESS_EVERY_SECONDS))
        with FramesAhead(animator, openness, frame) as drawing:
            for index in range(frames):
                if cancelled is not None and cancelled():
                    raise RenderError("cancelled")
                drawn = drawing.next()
                writer.add_frame(drawn)
                drawing.done(drawn)
                if progress is not None and index % every == 0:
                    progress(index / frames)
        writer.finish()
    except (av.error.FFmpegError, OSError) as exc:
        writer.abort()
        out_path.unlink(missing_ok=True)
        raise RenderError(f"writing the video failed ({exc}); check there is free disk space") from exc
    except BaseException:
        writer.abort()
        out_path.unlink(missing_ok=True)
        raise
    if progress is not None:
        progress(1.0)
    log.info(
        "rendered",
        frames=frames,
        size=f"{width}x{height}",
        preset=preset,
        prepare_s=round(prepared - started, 3),
        total_s=round(time.perf_counter() - started, 3),
    )
    return RenderResult(path=out_path, duration=speech.duration, frames=frames, width=width, height=height)
