"""Life in an avatar: head sway and nods, breathing, blinks, and mouth poses per frame.

Everything is a smooth function of time (sums of slow sines with phases fixed by a seed), so a
render is the same every time and never jitters from one frame to the next.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from akool_mcp.speech import MouthTracks

Floats = npt.NDArray[np.float32]

# Head motion in eye widths (the outer eye corners' distance) and radians: a few pixels and
# about a degree on a face filling a 4K frame's height.
_SWAY = 0.018
_NOD = 0.012
_ROLL = math.radians(1.1)
_BREATH = 0.006
_BREATH_PERIOD_S = 4.2
_STRESS_NOD = 0.02  # the head dips a little on a stressed syllable
_STRESS_EASE_S = 0.2  # the stress envelope is averaged over this long, so the nod eases in and out
# Each motion is two slow sines, (period in seconds, share of the motion), phases set by the seed.
_SWAY_WAVES = ((7.3, 0.7), (3.1, 0.3))
_NOD_WAVES = ((5.3, 0.6), (2.3, 0.4))
_ROLL_WAVES = ((6.1, 0.7), (2.7, 0.3))

# Blinks: the first 1-3 s in, then every 2.5-5.5 s; each phase (half shut, shut, half shut)
# lasts about _BLINK_PHASE_S.
_FIRST_BLINK_S = (1.0, 3.0)
_BLINK_EVERY_S = (2.5, 5.5)
_BLINK_PHASE_S = 0.04

# Lips nearly shut (openness under _PRESSED_BELOW) between two stretches of speech, within
# _PRESSED_NEAR_S of speech, are pressed together (p b m), not the photo's rest. The lower lip is
# tucked under the teeth (f v) where the phonemes call for a bite over _BITE_FROM and the mouth
# opens less than _BITE_OPEN_BELOW.
_PRESSED_BELOW = 0.06
_PRESSED_NEAR_S = 0.12
_BITE_FROM = 0.5
_BITE_OPEN_BELOW = 0.35

OPEN_LEVELS = 10
WIDTH_LEVELS = (-1.0, -0.5, 0.0, 0.5, 1.0)
PRESSED = -1  # the open level of lips pressed together (p b m) while speaking
BITE = -2  # the open level of lower lip under the teeth (f v)


@dataclass(frozen=True)
class HeadMotion:
    """Per frame: the head's shift (dx, dy, in eye widths) and roll (radians)."""

    dx: Floats
    dy: Floats
    roll: Floats


def head_motion(seed: str, frames: int, fps: int, stress: Floats | None = None) -> HeadMotion:
    rng = np.random.default_rng(zlib.crc32(seed.encode()))
    t = np.arange(frames, dtype=np.float64) / fps
    phase = rng.uniform(0, 2 * np.pi, 6)

    def wave(period: float, k: int) -> npt.NDArray[np.float64]:
        return np.sin(2 * np.pi * t / period + phase[k])

    def waves(pair: tuple[tuple[float, float], tuple[float, float]], k: int) -> npt.NDArray[np.float64]:
        """Two sines (period, share) with the seed's phases ``k`` and ``k + 1``."""
        (first, first_share), (second, second_share) = pair
        return first_share * wave(first, k) + second_share * wave(second, k + 1)

    dx = _SWAY * waves(_SWAY_WAVES, 0)
    dy = _NOD * waves(_NOD_WAVES, 2) + _BREATH * np.sin(2 * np.pi * t / _BREATH_PERIOD_S)
    roll = _ROLL * waves(_ROLL_WAVES, 4)
    if stress is not None and len(stress) >= frames:
        width = max(1, round(_STRESS_EASE_S * fps))
        eased = np.convolve(stress[:frames].astype(np.float64), np.ones(width) / width, mode="same")
        dy = dy + _STRESS_NOD * eased
    return HeadMotion(dx.astype(np.float32), dy.astype(np.float32), roll.astype(np.float32))


def blink_schedule(seed: str, frames: int, fps: int) -> npt.NDArray[np.int64]:
    """Eye state per frame (0 open, 1 half, 2 shut): a blink every 2.5-5.5 s, same every render."""
    states = np.zeros(frames, np.int64)
    rng = np.random.default_rng(zlib.crc32(seed.encode()))
    step = max(1, round(fps * _BLINK_PHASE_S))
    t = rng.uniform(*_FIRST_BLINK_S)
    while (start := round(t * fps)) < frames:
        for offset, state in enumerate((1, 2, 1)):
            states[start + offset * step : start + (offset + 1) * step] = state
        t += rng.uniform(*_BLINK_EVERY_S)
    return states


@dataclass(frozen=True)
class MouthStates:
    """Per frame, a quantized mouth pose: (open level or PRESSED or BITE, width level index)."""

    level: npt.NDArray[np.int64]
    width: npt.NDArray[np.int64]


def mouth_states(tracks: MouthTracks, fps: int) -> MouthStates:
    frames = len(tracks.open)
    level = np.round(np.clip(tracks.open, 0, 1) * (OPEN_LEVELS - 1)).astype(np.int64)
    widths = np.asarray(WIDTH_LEVELS, np.float32)
    width = np.abs(tracks.width[:, None] - widths[None, :]).argmin(axis=1).astype(np.int64)
    # Lips meet inside speech (p b m, or between syllables): pressed, not the photo's rest.
    speaking = tracks.open > 0
    reach = max(1, round(_PRESSED_NEAR_S * fps))
    # "full" then the centred slice: unlike mode="same", it stays `frames` long for clips shorter
    # than the window (a one-frame preview).
    window = np.convolve(speaking.astype(np.float64), np.ones(2 * reach + 1), mode="full")
    near = window[reach : reach + frames] > 0
    before = np.maximum.accumulate(speaking)
    after = np.maximum.accumulate(speaking[::-1])[::-1]
    pressed = (tracks.open < _PRESSED_BELOW) & near & before & after
    level[pressed] = PRESSED
    bite = (tracks.bite > _BITE_FROM) & (tracks.open < _BITE_OPEN_BELOW) & speaking
    level[bite] = BITE
    width[level <= 0] = WIDTH_LEVELS.index(0.0)
    return MouthStates(level[:frames], width[:frames])
