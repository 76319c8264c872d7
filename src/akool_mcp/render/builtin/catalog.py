"""Built-in drawn avatars: the registry, their pictures, and their pre-drawn moving parts."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from akool_mcp.render.builtin.bust import draw_over, draw_under
from akool_mcp.render.builtin.features import draw_brows, draw_eyes, draw_mouth
from akool_mcp.render.builtin.paint import Painter
from akool_mcp.render.builtin.spec import EYES_REGION, MOUTH_REGION, SPECS, AvatarSpec
from akool_mcp.render.composition import BuiltinAvatar, RenderError
from akool_mcp.render.pixels import Image, downsample, over, unpremultiply

MOUTH_LEVELS = 12  # openness steps of each mouth shape
MOUTH_WIDTHS = (-1.0, 0.0, 1.0)  # rounded, neutral, spread
BITE_PATCH = MOUTH_LEVELS * len(MOUTH_WIDTHS)  # the mouth patch of f and v, after the others
EYE_LIDS = (0.0, 0.55, 1.0)  # open, half, shut
BROWS = (0.0, 1 / 3, 2 / 3, 1.0)  # at rest .. lifted: eye patch index = lid + len(EYE_LIDS) * brow
MAX_SIDE = 4320
_SUPERSAMPLE_UP_TO = 800  # bigger avatars are sharp enough drawn once with anti-aliasing...
# ...but for the mouth's and eyes' small, curved shapes, which show stair steps at a 200% crop
# of a 4K avatar: their states are drawn at twice the size whatever the avatar's, over the
# bust drawn again around them with room for the widest soft shadow's reach (design units).
_DETAIL_SUPERSAMPLE = 2
_DETAIL_MARGIN = 60

Drawing = Callable[[Painter], None]

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
    mouth: StatePatches  # index = mouth_patch(level, width); 0 shut
    eyes: StatePatches  # index = lid + len(EYE_LIDS) * brow


def mouth_patch(level: int, width_index: int) -> int:
    """Index of the mouth patch for an openness level and an index into MOUTH_WIDTHS."""
    return level * len(MOUTH_WIDTHS) + width_index


def _pixel_rect(region: tuple[float, float, float, float], side: int) -> tuple[int, int, int, int]:
    left, top, right, bottom = (v * side / 1000 for v in region)
    return math.floor(left), math.floor(top), math.ceil(right), math.ceil(bottom)


@functools.lru_cache(maxsize=6)
def sprite(avatar_id: str, side: int, detail_supersample: int = _DETAIL_SUPERSAMPLE) -> Sprite:
    """Draw a built-in avatar at ``side`` x ``side`` pixels (cached: renders reuse it).

    ``detail_supersample``: the mouth and eye states are drawn this many times the size and
    averaged down (1: at size, as the bust of an avatar over ``_SUPERSAMPLE_UP_TO`` pixels).
    """
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

    def variants(region: tuple[float, float, float, float], drawings: Sequence[Drawing]) -> StatePatches:
        x0, y0, x1, y1 = _pixel_rect(region, side)
        x0, y0, x1, y1 = max(0, x0), max(0, y0), min(side, x1), min(side, y1)
        k = detail_supersample
        if ss == k:
            below, above = under[y0 * k : y1 * k, x0 * k : x1 * k], top[y0 * k : y1 * k, x0 * k : x1 * k]
        else:
            below, above = _bust_window(spec, side * k, (x0 * k, y0 * k, x1 * k, y1 * k))
        patches: list[Image] = []
        for drawing in drawings:
            tile = below.copy()
            drawing(Painter(tile, side * k / 1000, (x0 * k, y0 * k)))
            over(tile, above)
            patches.append(downsample(tile, k))
        return StatePatches(left=x0, top=y0, patches=tuple(patches))

    mouths = [
        functools.partial(draw_mouth, spec=spec, openness=k / (MOUTH_LEVELS - 1), width=w)
        for k in range(MOUTH_LEVELS)
        for w in MOUTH_WIDTHS
    ]
    mouths.append(functools.partial(draw_mouth, spec=spec, openness=0.0, bite=True))
    mouth = variants(MOUTH_REGION, mouths)

    def eyes_and_brows(lid: float, brow: float) -> Callable[[Painter], None]:
        def draw(painter: Painter) -> None:
            draw_brows(painter, spec, brow)
            draw_eyes(painter, spec, lid)

        return draw

    eyes = variants(EYES_REGION, [eyes_and_brows(lid, brow) for brow in BROWS for lid in EYE_LIDS])
    over(under, top)
    image = downsample(under, ss)
    for part in (mouth, eyes):
        image[part.top : part.top + part.height, part.left : part.left + part.width] = part.patches[0]
    return Sprite(image=image, mouth=mouth, eyes=eyes)


def _bust_window(spec: AvatarSpec, big: int, rect: tuple[int, int, int, int]) -> tuple[Image, Image]:
    """The bust's layers under and over the features, drawn ``big`` pixels tall, over ``rect``."""
    scale = big / 1000
    margin = math.ceil(_DETAIL_MARGIN * scale)
    x0, y0 = max(0, rect[0] - margin), max(0, rect[1] - margin)
    x1, y1 = min(big, rect[2] + margin), min(big, rect[3] + margin)
    layers: list[Image] = []
    for draw in (draw_under, draw_over):
        window = np.zeros((y1 - y0, x1 - x0, 4), np.uint8)
        draw(Painter(window, scale, (x0, y0)), spec)
        inner = window[rect[1] - y0 : rect[3] - y0, rect[0] - x0 : rect[2] - x0]
        layers.append(np.ascontiguousarray(inner))
    return layers[0], layers[1]


def placement(box_width: int, box_height: int) -> tuple[int, int, int]:
    """Where a built-in bust sits in its box: (x, y, side); bottom-centred, aspect kept."""
    side = min(box_width, box_height)
    return (box_width - side) // 2, box_height - side, side


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
