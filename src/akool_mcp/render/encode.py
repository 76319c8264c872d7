# PyAV's stubs leave Packet and **kwargs untyped: relax the unknown-type checks here only.
# pyright: reportUnknownMemberType=false, reportUnknownVariableType=false
"""H.264 + AAC MP4 writing with PyAV, fed YUV 4:2:0 so libx264 converts nothing."""

from __future__ import annotations

import contextlib
import copy
import fractions
import pathlib

import av
import av.error
import cv2
import numpy as np
import numpy.typing as npt

from akool_mcp.render.composition import RenderError
from akool_mcp.render.pixels import Image
from akool_mcp.render.yuv import I420, Planes, put_i420, to_i420

AUDIO_RATE = 48_000
# FFmpeg's AAC encoder with its "fast" coder at 96 kb/s mono. Measured on 10 s of eSpeak speech:
# the default coder (twoloop, 72 kb/s when no rate is given) took 0.10-0.16 s and came back at
# 24 dB signal-to-noise; "fast" at 96 kb/s took 0.04 s and came back at 36 dB (FFmpeg's own
# advice: fast is the better coder from 64 kb/s up). It costs 37 KB more per 10 s of speech.
AUDIO_BIT_RATE = 96_000
AUDIO_CODER = "fast"
_AUDIO_CHUNK_SECONDS = 0.5

PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")


def _frame_planes(frame: av.VideoFrame) -> Planes:
    """Writable views of a yuv420p frame's Y, U and V planes (rows padded to line_size)."""
    y, u, v = (
        np.frombuffer(memoryview(p), np.uint8).reshape(p.height, p.line_size)[:, : p.width] for p in frame.planes
    )
    return y, u, v


class YuvFrame:
    """One reusable yuv420p frame holding the static canvas; moving regions are written in.

    libx264 copies each picture it is given, so the same frame is refilled and re-sent instead
    of allocating and copying 12 MB per 4K frame.
    """

    def __init__(self, canvas_bgr: Image) -> None:
        self._start(canvas_bgr.shape[1], canvas_bgr.shape[0])
        self.put(0, 0, to_i420(canvas_bgr))

    def _start(self, width: int, height: int) -> None:
        self.frame = av.VideoFrame(width, height, "yuv420p")
        self.planes = _frame_planes(self.frame)
        self.width, self.height = width, height

    @classmethod
    def from_i420(cls, block: Image) -> YuvFrame:
        """A frame holding an even-sized I420 block (OpenCV's layout) as its picture."""
        frame = cls.__new__(cls)
        frame._start(block.shape[1], block.shape[0] * 2 // 3)
        frame.put(0, 0, block)
        return frame

    def clone(self) -> YuvFrame:
        """Another frame holding the same picture."""
        other = copy.copy(self)
        other.frame = av.VideoFrame(self.width, self.height, "yuv420p")
        other.planes = _frame_planes(other.frame)
        for mine, theirs in zip(self.planes, other.planes, strict=True):
            theirs[...] = mine
        return other

    def put(self, x: int, y: int, i420: Image) -> None:
        """Write an I420 block (as cv2 lays it out) whose top-left is the even point (x, y)."""
        put_i420(self.planes, x, y, i420)

    def scale_in(self, x: int, y: int, width: int, height: int, picture: I420) -> None:
        """Scale ``picture`` (bilinear) onto the even rectangle at (x, y), plane by plane.

        OpenCV writes straight into the frame's planes: no 4K BGR picture, no 4K colour
        conversion, no copy.
        """
        for k, (source, scale) in enumerate(zip(picture.planes, (1, 2, 2), strict=True)):
            x0, y0, w, h = x // scale, y // scale, width // scale, height // scale
            target = self.planes[k][y0 : y0 + h, x0 : x0 + w]
            scaled = cv2.resize(source, (w, h), dst=target, interpolation=cv2.INTER_LINEAR)
            if scaled is not target:  # OpenCV made its own array after all: copy it in
                target[...] = scaled


class Mp4Writer:
    """An MP4 file being written: video frames in order, audio interleaved alongside."""

    def __init__(
        self,
        path: pathlib.Path,
        width: int,
        height: int,
        fps: int,
        preset: str,
        crf: int,
        audio: npt.NDArray[np.float32],
        audio_rate: int,
    ) -> None:
        if preset not in PRESETS:
            raise RenderError(f"unknown x264 preset {preset!r}; use one of: {', '.join(PRESETS)}")
        if not 0 <= crf <= 51:
            raise RenderError(f"crf must be 0-51 (lower is better quality); got {crf}")
        self.fps = fps
        try:
            # faststart puts the index first, so players can start before the whole file arrives.
            self.container = av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"})
            video = self.container.add_stream("libx264", rate=fps)
            video.width, video.height = width, height
            video.pix_fmt = "yuv420p"
            video.options = {"preset": preset, "crf": str(crf)}
            video.codec_context.thread_type = "AUTO"
            video.codec_context.thread_count = 0  # x264 picks its own (frame threads on every core)
            sound = self.container.add_stream("aac", rate=AUDIO_RATE)
            sound.layout = "mono"
            sound.bit_rate = AUDIO_BIT_RATE
            sound.options = {"aac_coder": AUDIO_CODER}
        except (av.error.FFmpegError, ValueError) as exc:
            raise RenderError(f"could not start writing the video ({exc})") from exc
        self.video = video
        self.sound = sound
        self.audio = np.ascontiguousarray(audio, np.float32)
        self.audio_rate = audio_rate
        self.audio_done = 0  # samples of ``audio`` already encoded
        self.frames = 0

    def add_frame(self, frame: YuvFrame) -> None:
        frame.frame.pts = self.frames
        frame.frame.time_base = fractions.Fraction(1, self.fps)
        for packet in self.video.encode(frame.frame):
            self.container.mux(packet)
        self.frames += 1
        # Keep the audio a little ahead of the video so the muxer interleaves them closely.
        self._audio_until((self.frames / self.fps + _AUDIO_CHUNK_SECONDS) * self.audio_rate)

    def _audio_until(self, sample: float) -> None:
        end = min(len(self.audio), int(sample))
        while self.audio_done < end:
            stop = min(end, self.audio_done + int(_AUDIO_CHUNK_SECONDS * self.audio_rate))
            chunk = self.audio[self.audio_done : stop].reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(chunk, format="flt", layout="mono")
            frame.sample_rate = self.audio_rate
            frame.pts = self.audio_done
            frame.time_base = fractions.Fraction(1, self.audio_rate)
            for packet in self.sound.encode(frame):
                self.container.mux(packet)
            self.audio_done = stop

    def finish(self) -> None:
        self._audio_until(len(self.audio))
        for packet in self.video.encode(None):
            self.container.mux(packet)
        for packet in self.sound.encode(None):
            self.container.mux(packet)
        self.container.close()

    def abort(self) -> None:
        # The file is being thrown away: a half-written trailer does not matter.
        with contextlib.suppress(av.error.FFmpegError, ValueError, OSError):
            self.container.close()
