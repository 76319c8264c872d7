"""Captions burned into the picture: white text on a translucent dark box, low in the frame.

An animator wrapper: each frame first gets the caption band back as the still canvas had it (the
frames are reused, so last frame's caption is still there), then the avatar draws its rectangles
as always, then the cue spoken at that moment is blended over the band. Each cue is drawn once and
kept as YUV with its alpha, so a frame costs one blend of the text's box.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt

from akool_mcp.render.encode import YuvFrame
from akool_mcp.render.layers import Drawable, Rect
from akool_mcp.render.pixels import Image
from akool_mcp.render.region import Animator
from akool_mcp.render.yuv import split_i420, to_i420
from akool_mcp.speech import Cue

BAND_TOP = 0.80  # of the height: the band's top edge, above the bottom tenth TV-safe margin
BAND_BOTTOM = 0.95
FONT = cv2.FONT_HERSHEY_DUPLEX
FONT_SCALE_4K = 2.6  # at 2160 lines: ~60 px capitals, readable on a phone at a tenth of the size
BOX_ALPHA = 0.6

FloatImage = npt.NDArray[np.float32]


def _ascii(text: str) -> str:
    """OpenCV's Hershey fonts draw ASCII only: accents dropped, quotes and dashes made plain."""
    plain = text.translate({0x2018: "'", 0x2019: "'", 0x201C: '"', 0x201D: '"', 0x2013: "-", 0x2014: "-",
                            0x2026: "..."})  # fmt: skip
    return unicodedata.normalize("NFKD", plain).encode("ascii", "ignore").decode()


class _Patch:
    """One cue drawn: I420 planes of its box and their alpha (luma size and chroma size)."""

    def __init__(self, lines: list[str], width: int, band: int, scale: float) -> None:
        thickness = max(2, round(scale * 2))
        sizes = [cv2.getTextSize(line, FONT, scale, thickness) for line in lines]
        line_height = max(h + base for (_, h), base in sizes) + round(12 * scale)
        pad = round(18 * scale)
        box_w = min(width, max(w for (w, _), _ in sizes) + 2 * pad) // 2 * 2
        box_h = min(band, line_height * len(lines) + pad) // 2 * 2
        picture = np.zeros((box_h, box_w, 3), np.uint8)
        alpha = np.full((box_h, box_w), BOX_ALPHA, np.float32)
        ink = np.zeros((box_h, box_w), np.uint8)
        for k, (line, ((w, h), _)) in enumerate(zip(lines, sizes, strict=True)):
            origin = ((box_w - w) // 2, pad // 2 + line_height * k + h + round(6 * scale))
            cv2.putText(picture, line, origin, FONT, scale, (255, 255, 255), thickness, cv2.LINE_AA)
            cv2.putText(ink, line, origin, FONT, scale, 255, thickness, cv2.LINE_AA)
        alpha = np.maximum(alpha, ink.astype(np.float32) / 255)
        self.width, self.height = box_w, box_h
        self.planes = split_i420(to_i420(picture))
        small = np.asarray(cv2.resize(alpha, (box_w // 2, box_h // 2), interpolation=cv2.INTER_AREA), np.float32)
        self.alpha: tuple[FloatImage, FloatImage, FloatImage] = (alpha, small, small)


class CaptionedAnimator:
    """Wraps an avatar's animator so that each frame also shows the cue spoken at its moment."""

    def __init__(self, inner: Animator, cues: Sequence[Cue], fps: int, width: int, height: int) -> None:
        self.inner = inner
        self.cues = sorted(cues, key=lambda c: c.start)
        self.fps = fps
        self.width = width
        self.top = round(height * BAND_TOP) // 2 * 2
        self.bottom = round(height * BAND_BOTTOM) // 2 * 2
        self.scale = FONT_SCALE_4K * height / 2160
        self.base: list[Image] | None = None
        self.patches: dict[int, _Patch] = {}

    def rects(self) -> list[Rect]:
        return self.inner.rects()

    def composite_still(self, canvas: Image) -> None:
        self.inner.composite_still(canvas)

    def prepare(self, below: dict[Rect, Image], above: Sequence[Drawable]) -> None:
        self.inner.prepare(below, above)

    def _rows(self, k: int) -> slice:
        return slice(self.top // (1 if k == 0 else 2), self.bottom // (1 if k == 0 else 2))

    def write(self, index: int, openness: float, frame: YuvFrame) -> None:
        if self.base is None:  # the first frame is the still canvas, untouched
            self.base = [frame.planes[k][self._rows(k)].copy() for k in range(3)]
        else:
            for k in range(3):
                frame.planes[k][self._rows(k)] = self.base[k]
        self.inner.write(index, openness, frame)
        moment = index / self.fps
        for number, cue in enumerate(self.cues):
            if cue.start <= moment < cue.end:
                self._blend(frame, number, cue)
                break

    def _blend(self, frame: YuvFrame, number: int, cue: Cue) -> None:
        patch = self.patches.get(number)
        if patch is None:
            lines = [_ascii(line) for line in cue.text.split("\n")]
            patch = self.patches[number] = _Patch(lines, self.width, self.bottom - self.top, self.scale)
        x = (self.width - patch.width) // 2 // 2 * 2
        y = (self.bottom - patch.height) // 2 * 2
        for k in range(3):
            div = 1 if k == 0 else 2
            region = frame.planes[k][y // div : (y + patch.height) // div, x // div : (x + patch.width) // div]
            alpha = patch.alpha[k]
            mixed = region.astype(np.float32) * (1 - alpha) + patch.planes[k].astype(np.float32) * alpha
            region[...] = np.clip(mixed + 0.5, 0, 255).astype(np.uint8)
