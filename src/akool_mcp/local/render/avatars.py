"""Built-in drawn avatars: the registry, their pictures, and their pre-drawn moving parts."""

from __future__ import annotations

import functools
import math
import zlib
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from akool_mcp.local.render.bust import draw_over, draw_under
from akool_mcp.local.render.draw import Image, Painter, downsample, over, unpremultiply
from akool_mcp.local.render.features import draw_eyes, draw_mouth
from akool_mcp.local.render.model import BuiltinAvatar, RenderError
from akool_mcp.local.render.spec import EYES_REGION, MOUTH_REGION, SPECS, AvatarSpec

MOUTH_LEVELS = 12  # enough that a step between levels is under a pixel of lip travel at 4K
EYE_LIDS = (0.0, 0.55, 1.0)  # open, half, shut
MAX_SIDE = 4320
_SUPERSAMPLE_UP_TO = 800  # bigger avatars are sharp enough drawn once with anti-aliasing

_BY_ID = {spec.avatar_id: spec for spec in SPECS}


def list_builtin_avatars() -> list[BuiltinAvatar]:
    return [BuiltinAvatar(avatar_id=s.avatar_id, name=s.name, gender=s.gender) for s in SPECS]


def builtin_spec(avatar_id: str) -> AvatarSpec:
    spec = _BY_ID.get(avatar_id)
    if spec is None:
        raise RenderError(f"unknown built-in avatar {avatar_id!r}; use one of: {', '.join(_BY_ID)}")
    return spec


@dataclass(frozen=True, eq=False)
class StatePatches:
    """Pre-drawn variants of one rectangle of a sprite (premultiplied BGRA)."""

    left: int
    top: int
    patches: tuple[Image, ...]

    @property
    def width(self) -> int:
        return int(self.patches[0].shape[1])

    @property
    def height(self) -> int:
        return int(self.patches[0].shape[0])


@dataclass(frozen=True, eq=False)
class Sprite:
    """A built-in avatar drawn at one size: the still (eyes open, mouth shut) and its variants."""

    image: Image  # premultiplied BGRA, side x side
    mouth: StatePatches  # index = openness level, 0 shut
    eyes: StatePatches  # index into EYE_LIDS


def _pixel_rect(region: tuple[float, float, float, float], side: int) -> tuple[int, int, int, int]:
    left, top, right, bottom = (v * side / 1000 for v in region)
    return math.floor(left), math.floor(top), math.ceil(right), math.ceil(bottom)


@functools.lru_cache(maxsize=6)
def sprite(avatar_id: str, side: int) -> Sprite:
    """Draw a built-in avatar at ``side`` x ``side`` pixels (cached: renders reuse it)."""
    spec = builtin_spec(avatar_id)
    if not 16 <= side <= MAX_SIDE:
        raise RenderError(f"a built-in avatar must be 16 to {MAX_SIDE} pixels tall; got {side}")
    ss = 2 if side <= _SUPERSAMPLE_UP_TO else 1
    big = side * ss
    scale = big / 1000
    under = np.zeros((big, big, 4), np.uint8)
    draw_under(Painter(under, scale), spec)
    top = np.zeros((big, big, 4), np.uint8)
    draw_over(Painter(top, scale), spec)

    def variants(region: tuple[float, float, float, float], values: list[float], mouth: bool) -> StatePatches:
        x0, y0, x1, y1 = _pixel_rect(region, side)
        x0, y0, x1, y1 = max(0, x0), max(0, y0), min(side, x1), min(side, y1)
        patches: list[Image] = []
        for value in values:
            tile = under[y0 * ss : y1 * ss, x0 * ss : x1 * ss].copy()
            painter = Painter(tile, scale, (x0 * ss, y0 * ss))
            if mouth:
                draw_mouth(painter, spec, value)
            else:
                draw_eyes(painter, spec, value)
            over(tile, top[y0 * ss : y1 * ss, x0 * ss : x1 * ss])
            patches.append(downsample(tile, ss))
        return StatePatches(left=x0, top=y0, patches=tuple(patches))

    mouth = variants(MOUTH_REGION, [k / (MOUTH_LEVELS - 1) for k in range(MOUTH_LEVELS)], True)
    eyes = variants(EYES_REGION, list(EYE_LIDS), False)
    over(under, top)
    image = downsample(under, ss)
    for part in (mouth, eyes):
        image[part.top : part.top + part.height, part.left : part.left + part.width] = part.patches[0]
    return Sprite(image=image, mouth=mouth, eyes=eyes)


def placement(box_width: int, box_height: int) -> tuple[int, int, int]:
    """Where a built-in bust sits in its box: (x, y, side); bottom-centred, aspect kept."""
    side = min(box_width, box_height)
    return (box_width - side) // 2, box_height - side, side


def blink_schedule(avatar_id: str, frames: int, fps: int) -> npt.NDArray[np.int64]:
    """Eye state per frame (index into EYE_LIDS): a blink every 2.5-5.5 s, same every render."""
    states = np.zeros(frames, np.int64)
    rng = np.random.default_rng(zlib.crc32(avatar_id.encode()))
    step = max(1, round(fps * 0.04))  # each phase of a blink lasts about 40 ms
    t = rng.uniform(1.0, 3.0)
    while (start := round(t * fps)) < frames:
        for offset, state in enumerate((1, 2, 1)):
            states[start + offset * step : start + (offset + 1) * step] = state
        t += rng.uniform(2.5, 5.5)
    return states


def _png(bgra_premultiplied: Image) -> bytes:
    ok, data = cv2.imencode(".png", unpremultiply(bgra_premultiplied))
    if not ok:
        raise RenderError("could not encode the avatar picture as PNG")
    return data.tobytes()


def builtin_avatar_png(avatar_id: str, width: int, height: int) -> bytes:
    """The still portrait (mouth shut) as an RGBA PNG on a transparent background."""
    builtin_spec(avatar_id)
    if not (16 <= width <= MAX_SIDE and 16 <= height <= MAX_SIDE):
        raise RenderError(f"picture size must be 16 to {MAX_SIDE} pixels a side; got {width}x{height}")
    x, y, side = placement(width, height)
    canvas = np.zeros((height, width, 4), np.uint8)
    canvas[y : y + side, x : x + side] = sprite(avatar_id, side).image
    return _png(canvas)


def builtin_thumbnail_png(avatar_id: str) -> bytes:
    """A 256 x 256 head-and-shoulders thumbnail."""
    builtin_spec(avatar_id)
    full = sprite(avatar_id, 400).image
    # Design square 180..820 x 110..750 frames the head and the top of the shoulders.
    crop = full[44:300, 72:328]
    return _png(np.ascontiguousarray(crop))
