"""Life in an avatar: head sway and nods, breathing, blinks and glances, and mouth poses per frame.

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

# Blinks: the first 0.8-2.5 s in, then every 2-6 s (people at rest and talking blink every
# 2-6 s), and on a stressed syllable at least _EMPHASIS_GAP_S after the last blink, for a share
# _EMPHASIS_SHARE of them. A blink closes in _BLINK_CLOSE_S, stays shut _BLINK_SHUT_S (at least
# a frame) and opens again more slowly, in _BLINK_OPEN_S (published lid timings: 100-150 ms
# down, 150-300 ms up).
_FIRST_BLINK_S = (0.8, 2.5)
_BLINK_EVERY_S = (2.0, 6.0)
_EMPHASIS_GAP_S = 1.5
_EMPHASIS_SHARE = 0.6
_EMPHASIS_ONSET = 0.9  # the stress track rising past this starts a stressed syllable
_BLINK_CLOSE_S = 0.12
_BLINK_SHUT_S = 0.03
_BLINK_OPEN_S = 0.22
LID_LEVELS = 6  # lids are drawn at this many steps from open (0) to shut (LID_LEVELS - 1)

# Gaze, -1..1 (a glance as far to the side as an avatar draws it): small shifts of fixation
# (_FIXATION_SHIFT) every _FIXATION_EVERY_S, and in a pause of at least _PAUSE_S between two
# stretches of speech a glance to the side (_GLANCE, held up to _GLANCE_HOLD_S), at most one
# every _GLANCE_EVERY_S. The eyes jump (a saccade takes 20-40 ms, under a frame).
GAZE_LEVELS = (-1.0, -0.4, 0.0, 0.4, 1.0)
_FIXATION_SHIFT = 0.4
_FIXATION_EVERY_S = (0.8, 2.2)
_PAUSE_S = 0.3
_GLANCE = 1.0
_GLANCE_HOLD_S = 0.7
_GLANCE_EVERY_S = 3.0

# Lips nearly shut (openness under _PRESSED_BELOW) between two stretches of speech, within
# _PRESSED_NEAR_S of speech, are pressed together (p b m), not the photo's rest. The lower lip is
# tucked under the teeth (f v) where the phonemes call for a bite over _BITE_FROM and the mouth
# opens less than _BITE_OPEN_BELOW.
_PRESSED_BELOW = 0.06
_PRESSED_NEAR_S = 0.12
_BITE_FROM = 0.5
_BITE_OPEN_BELOW = 0.35
_TONGUE_FROM = 0.3  # a tongue track this high shows the tongue's tip (l th n t d)

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


def blink_times(seed: str, seconds: float, stress: Floats | None = None, fps: int = 25) -> list[float]:
    """When each blink starts (seconds): every 2-6 s, and on some stressed syllables."""
    rng = np.random.default_rng(zlib.crc32(seed.encode()))
    onsets: list[float] = []
    if stress is not None and len(stress) > 1:
        rising = np.flatnonzero((stress[1:] >= _EMPHASIS_ONSET) & (stress[:-1] < _EMPHASIS_ONSET)) + 1
        onsets = (rising / fps).tolist()
    times: list[float] = []
    last = -math.inf
    t = float(rng.uniform(*_FIRST_BLINK_S))
    k = 0
    while True:
        while k < len(onsets) and onsets[k] < t:
            onset, k = onsets[k], k + 1
            if onset - last >= _EMPHASIS_GAP_S and rng.random() < _EMPHASIS_SHARE:
                times.append(onset)
                last = onset
                t = onset + float(rng.uniform(*_BLINK_EVERY_S))
        if t >= seconds:
            return times
        times.append(t)
        last = t
        t += float(rng.uniform(*_BLINK_EVERY_S))


def eye_lids(seed: str, frames: int, fps: int, stress: Floats | None = None) -> Floats:
    """How shut the eyes are on each frame, 0 open .. 1 shut: the same blinks every render."""
    lids = np.zeros(frames, np.float32)
    t = np.arange(frames, dtype=np.float64) / fps
    shut = max(_BLINK_SHUT_S, 1.0 / fps)
    for start in blink_times(seed, frames / fps, stress, fps):
        since = t - start
        closing = np.clip(since / _BLINK_CLOSE_S, 0, 1) ** 1.5  # the lid falls faster as it goes
        opening = 1 - smooth_step((since - _BLINK_CLOSE_S - shut) / _BLINK_OPEN_S)
        lid = np.where(since < _BLINK_CLOSE_S, closing, opening) * (since >= 0)
        # A frame always catches the lid shut: a blink that only half-closes reads as a twitch.
        first_shut = math.ceil((start + _BLINK_CLOSE_S) * fps - 1e-9)
        if first_shut < frames:
            lid[first_shut] = 1.0
        np.maximum(lids, lid.astype(np.float32), out=lids)
    return lids


def lid_levels(lids: Floats) -> npt.NDArray[np.int64]:
    """Lids quantized to 0 (open) .. LID_LEVELS - 1 (shut)."""
    return np.round(np.clip(lids, 0, 1) * (LID_LEVELS - 1)).astype(np.int64)


def gaze_track(seed: str, frames: int, fps: int, opening: Floats | None = None) -> npt.NDArray[np.int64]:
    """Where the eyes look on each frame, as an index into GAZE_LEVELS: small shifts of fixation,
    and a glance to the side in the pauses between sentences. The same every render."""
    rng = np.random.default_rng(zlib.crc32(("gaze:" + seed).encode()))
    gaze = np.zeros(frames, np.float32)
    t = 0.0
    while (start := round(t * fps)) < frames:
        gaze[start:] = rng.choice((-_FIXATION_SHIFT, 0.0, 0.0, _FIXATION_SHIFT))
        t += float(rng.uniform(*_FIXATION_EVERY_S))
    if opening is not None and len(opening) >= frames:
        speaking = opening[:frames] > 0
        silent = np.concatenate(([False], ~speaking, [False])).astype(np.int8)
        edges = np.flatnonzero(np.diff(silent))
        last = -math.inf
        for a, b in zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True):
            inside = a > 0 and b < frames  # speech before and after it
            if inside and (b - a) / fps >= _PAUSE_S and a / fps - last >= _GLANCE_EVERY_S:
                hold = min(b - a, round(_GLANCE_HOLD_S * fps))
                gaze[a : a + hold] = _GLANCE * rng.choice((-1.0, 1.0))
                last = a / fps
    levels = np.asarray(GAZE_LEVELS, np.float32)
    return np.abs(gaze[:, None] - levels[None, :]).argmin(axis=1).astype(np.int64)


def smooth_step(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    t = np.clip(x, 0.0, 1.0)
    return t * t * (3 - 2 * t)


@dataclass(frozen=True)
class MouthStates:
    """Per frame, a quantized mouth pose: (open level or PRESSED or BITE, width level index,
    tongue 0 or 1)."""

    level: npt.NDArray[np.int64]
    width: npt.NDArray[np.int64]
    tongue: npt.NDArray[np.int64]

    def key(self, index: int) -> tuple[int, int, int]:
        return int(self.level[index]), int(self.width[index]), int(self.tongue[index])


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
    tongue = np.zeros(frames, np.int64)
    shown = min(frames, len(tracks.tongue))
    tongue[:shown] = tracks.tongue[:shown] >= _TONGUE_FROM
    tongue[level <= 0] = 0
    return MouthStates(level[:frames], width[:frames], tongue[:frames])
