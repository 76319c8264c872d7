"""Frames drawn on a worker thread while the encoder takes the ones already drawn."""

from __future__ import annotations

import queue
import threading
from types import TracebackType

import numpy as np

from akool_mcp.render.encode import YuvFrame
from akool_mcp.render.region import Animator

# Frames in flight: one being encoded, one being drawn, one drawn and waiting, so that a slow
# frame on either side does not stall the other at once (a video's frame is drawn in 10-20 ms,
# x264 takes a 4K frame in 20-80 ms). Chosen, not measured against two: the machine's load
# varied more than the difference could be. Each costs a 4K YUV frame of memory (12 MB).
FRAMES_AHEAD = 3


class FramesAhead:
    """Draws the frames on a worker thread, in order, while the caller encodes the ones drawn.

    OpenCV, LiteRT and FFmpeg's decoder let go of the GIL while they work, so drawing frame
    ``i + 1`` overlaps x264 taking frame ``i`` (libx264 copies a picture as it takes it, so a
    frame may be redrawn as soon as it has been handed over). The frames come back in order, so
    the output is the same as drawing them in turn.
    """

    def __init__(self, animator: Animator, openness: np.ndarray, first: YuvFrame) -> None:
        self.animator = animator
        self.openness = openness
        self.free: queue.Queue[YuvFrame | None] = queue.Queue()
        self.drawn: queue.Queue[YuvFrame | BaseException] = queue.Queue()
        self.free.put(first)
        for _ in range(FRAMES_AHEAD - 1):
            self.free.put(first.clone())
        self.thread = threading.Thread(target=self._draw, name="render-frames", daemon=True)

    def __enter__(self) -> FramesAhead:
        self.thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.free.put(None)  # wakes the worker if it waits for a frame to draw on; it then stops
        self.thread.join()

    def _draw(self) -> None:
        try:
            for index in range(len(self.openness)):
                frame = self.free.get()
                if frame is None:
                    return
                self.animator.write(index, float(self.openness[index]), frame)
                self.drawn.put(frame)
        except BaseException as exc:  # handed to the encoding thread, which raises it
            self.drawn.put(exc)

    def next(self) -> YuvFrame:
        """The next frame, drawn; give it back with :meth:`done` once it is encoded."""
        found = self.drawn.get()
        if isinstance(found, BaseException):
            raise found
        return found

    def done(self, frame: YuvFrame) -> None:
        self.free.put(frame)
