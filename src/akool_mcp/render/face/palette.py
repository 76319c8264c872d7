"""The colours a mouth's inside is drawn with, taken from the face itself.

A mouth painted with fixed colours (a near-black cavity, blue-white teeth) reads as pasted on:
in a warm, dim photo its black is blacker and its white whiter than anything in the face. So
every colour here is measured on the picture: the cavity is the face's own darkest shadows
below the nose (nostrils, the seam between the lips, the mouth's corners), the tongue the lips'
colour in shade, the teeth the face's own teeth where the picture shows them, else its
brightest, least coloured pixels (the whites of the eyes, highlights), warmed a little by the
skin. Mixing and darkening those keeps the drawn inside within the face's own range.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from akool_mcp.render.face import landmarks as lm
from akool_mcp.render.pixels import Image

Colour = npt.NDArray[np.float32]  # BGR, 0..255

# The cavity: the mean colour of the darkest _CAVITY_SHARE of the lower face's pixels (nose tip
# to chin inside the face's outline), the throat of the darkest _THROAT_SHARE. On the astronaut
# these are her open mouth's inside, on Grace Hopper her nostrils and the seam of her lips.
_CAVITY_SHARE = 0.005
_THROAT_SHARE = 0.001
# The tongue: the redder half of the lips' pixels (a tongue is pinker than a lip's median: the
# astronaut's pale lips made a grey tongue), this much darker (it lies in the mouth's shade).
_TONGUE_REDDEST = 0.5
_TONGUE_SHADE = 0.85
# Drawn teeth: the face's brightest _BRIGHT_SHARE of pixels, of those the least coloured
# _PALEST_SHARE (eye whites, not a lit cheek), mixed with _SKIN_WARMTH of the skin's colour.
# Own teeth: the brightest _OWN_TEETH_SHARE of the pixels between the lips.
_BRIGHT_SHARE = 0.04
_PALEST_SHARE = 0.3
_SKIN_WARMTH = 0.15
# On a face whose eye whites hide (behind glasses, small in the picture) the palest bright pixels
# are lit skin, peach rather than ivory (Grace Hopper: BGR 175 195 245): drawn teeth take them
# this much of the way to their own grey (at 0.4 they were a grey 24-29 levels from any colour
# of her face, in a video of her).
_TEETH_GREY = 0.2
_OWN_TEETH_SHARE = 0.2
_LEAST_PIXELS = 16  # a region with fewer pixels than this says nothing (a face off the picture)


@dataclass(frozen=True, eq=False)
class MouthPalette:
    """BGR colours for a mouth's inside, each found in (or mixed from) the face's own pixels."""

    cavity: Colour  # the inside's shadow
    throat: Colour  # deepest in
    tongue: Colour
    teeth: Colour  # a lit tooth
    lips: Colour


def mouth_palette(picture: Image, face: lm.Face, own_teeth: bool = False) -> MouthPalette:
    """The palette of ``face`` as ``picture`` (BGR) shows it; ``own_teeth``: the picture shows
    teeth between the lips, whose colour is taken for drawn ones."""
    height, width = picture.shape[:2]
    p = face.points
    oval = _mask(p[list(lm.FACE_OVAL)], width, height)
    lower = oval.copy()
    lower[: max(0, int(p[lm.NOSE_TIP, 1])), :] = False
    outer = _mask(p[list(lm.OUTER_LIP_UPPER + lm.OUTER_LIP_LOWER[::-1])], width, height)
    inner = _mask(p[list(lm.INNER_LIP_UPPER + lm.INNER_LIP_LOWER[::-1])], width, height)
    bgr = picture[..., :3]
    skin_pixels = bgr[oval & ~outer].astype(np.float32)
    lip_pixels = bgr[outer & ~inner].astype(np.float32)
    skin = _median(skin_pixels, (150.0, 170.0, 200.0))
    lips = _median(lip_pixels, skin * 0.85)
    dark_pixels = bgr[lower].astype(np.float32)
    cavity = _darkest(dark_pixels, _CAVITY_SHARE, lips * 0.3)
    throat = _darkest(dark_pixels, _THROAT_SHARE, cavity * 0.6)
    teeth_pixels = bgr[inner].astype(np.float32)
    if own_teeth and len(teeth_pixels) >= _LEAST_PIXELS:
        teeth = _brightest(teeth_pixels, _OWN_TEETH_SHARE)
    else:
        pale = _palest(skin_pixels)
        warm = pale * (1 - _SKIN_WARMTH) + skin * _SKIN_WARMTH
        teeth = (warm + (_luma(warm[None, :].astype(np.float32))[0] - warm) * _TEETH_GREY).astype(np.float32)
    tongue = _reddest(lip_pixels, _TONGUE_REDDEST, lips) * _TONGUE_SHADE
    return MouthPalette(cavity, np.minimum(throat, cavity), tongue.astype(np.float32), teeth, lips)


def _mask(polygon: npt.NDArray[np.float32], width: int, height: int) -> npt.NDArray[np.bool_]:
    mask = np.zeros((height, width), np.uint8)
    cv2.fillPoly(mask, [np.round(polygon).astype(np.int32)], 1)
    return mask > 0


def _luma(pixels: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    return (0.114 * pixels[:, 0] + 0.587 * pixels[:, 1] + 0.299 * pixels[:, 2]).astype(np.float32)


def _median(pixels: npt.NDArray[np.float32], fallback: Colour | tuple[float, ...]) -> Colour:
    if len(pixels) < _LEAST_PIXELS:
        return np.asarray(fallback, np.float32)
    return np.median(pixels, axis=0).astype(np.float32)


def _darkest(pixels: npt.NDArray[np.float32], share: float, fallback: Colour) -> Colour:
    if len(pixels) < _LEAST_PIXELS:
        return fallback.astype(np.float32)
    luma = _luma(pixels)
    count = max(_LEAST_PIXELS // 4, round(share * len(pixels)))
    return pixels[np.argsort(luma)[:count]].mean(axis=0).astype(np.float32)


def _reddest(pixels: npt.NDArray[np.float32], share: float, fallback: Colour) -> Colour:
    if len(pixels) < _LEAST_PIXELS:
        return fallback.astype(np.float32)
    redness = pixels[:, 2] - (pixels[:, 0] + pixels[:, 1]) / 2
    count = max(1, round(share * len(pixels)))
    return pixels[np.argsort(redness)[-count:]].mean(axis=0).astype(np.float32)


def _brightest(pixels: npt.NDArray[np.float32], share: float) -> Colour:
    luma = _luma(pixels)
    count = max(1, round(share * len(pixels)))
    return pixels[np.argsort(luma)[-count:]].mean(axis=0).astype(np.float32)


def _palest(pixels: npt.NDArray[np.float32]) -> Colour:
    """The brightest, least coloured of ``pixels``: the whites of the eyes, highlights."""
    if len(pixels) < _LEAST_PIXELS:
        return np.array([225.0, 228.0, 232.0], np.float32)
    luma = _luma(pixels)
    bright = pixels[np.argsort(luma)[-max(_LEAST_PIXELS, round(_BRIGHT_SHARE * len(pixels))) :]]
    chroma = bright.max(axis=1) - bright.min(axis=1)
    palest = bright[np.argsort(chroma)[: max(1, round(_PALEST_SHARE * len(bright)))]]
    return palest.mean(axis=0).astype(np.float32)
