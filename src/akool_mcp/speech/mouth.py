"""How the mouth moves with speech, per video frame: openness from loudness (shaped by phonemes when
there are any), lip shape, and emphasis."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

MOUTH_STEP = 0.01  # seconds per entry of a phoneme-driven mouth shape track
STRESS_DECAY_S = 0.35  # how long a stressed syllable's emphasis takes to fade (to 1/e)

FloatArray = npt.NDArray[np.float32]


@dataclass(frozen=True)
class MouthTracks:
    """Per video frame: how the mouth moves, and when a syllable is stressed."""

    open: FloatArray  # jaw opening 0..1, exactly 0 on silent frames
    width: FloatArray  # lip shape -1 rounded (o u w) .. 0 neutral .. +1 spread (i e)
    bite: FloatArray  # 0..1 lower lip tucked under the upper teeth (f v)
    stress: FloatArray  # 0..1 a stressed syllable's emphasis (brows lift), decaying after it
    # 0..1 the tongue's tip showing at the teeth (l, th, n, t, d). Producers without phonemes
    # leave it empty, which reads as no tongue on any frame.
    tongue: FloatArray = field(default_factory=lambda: np.zeros(0, np.float32))


def loudness_stress(opening: FloatArray, fps: int) -> FloatArray:
    """Without phonemes, emphasis is where the mouth opens wider than it has lately."""
    stress = np.zeros(len(opening), np.float32)
    decay = math.exp(-1 / (fps * STRESS_DECAY_S))
    level, recent = 0.0, 0.0
    for index, value in enumerate(opening.tolist()):
        level *= decay
        if value > 0.75 and value > recent + 0.25:
            level = 1.0
        recent = max(value, recent * decay)
        stress[index] = level
    return stress


_GATE_BELOW_PEAK_DB = 32.0  # frames this far under the loud frames count as silence
_GATE_FLOOR = 10 ** (-55 / 20)  # absolute floor: hiss in a quiet recording is silence
_ATTACK_S = 0.03
_RELEASE_S = 0.07
_CLOSE_S = 0.1  # the fastest a fully open mouth may close when a pause comes
_LONGEST_CLOSURE_S = 0.15
_SHAPED_REFERENCE = 0.75  # phoneme openness (times loudness) that counts as wide open
# The jaw follows loudness: a phoneme's opening is scaled by this floor plus the rest times the
# frame's loudness (square root of its RMS against the loud frames'). A neural voice's vowel
# that fades at a sentence's end keeps its full duration in the model's timings; at 0.45 + 0.55x
# the mouth stayed three quarters open over the fading tail, at 0.2 + 0.8x it closes with it.
_LOUDNESS_FLOOR = 0.2


def _runs(flags: npt.NDArray[np.bool_]) -> list[tuple[int, int]]:
    """(start, end) of each stretch of True values."""
    padded = np.concatenate(([False], flags, [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def frame_means(values: npt.NDArray[np.float64], per_frame: float, frames: int) -> npt.NDArray[np.float64]:
    """Mean of ``values`` over each video frame's span (``per_frame`` values per frame)."""
    cumulative = np.concatenate(([0.0], np.cumsum(values)))
    edges = np.minimum(np.round(np.arange(frames + 1) * per_frame).astype(np.int64), len(values))
    starts, ends = edges[:-1], edges[1:]
    ends = np.maximum(ends, np.minimum(starts + 1, len(values)))
    counts = np.maximum(ends - starts, 1)
    return (cumulative[ends] - cumulative[starts]) / counts


def mouth_track(samples: FloatArray, rate: int, mouth: FloatArray | None, fps: int) -> FloatArray:
    frames = max(1, round(len(samples) / rate * fps))
    rms = np.sqrt(frame_means(samples.astype(np.float64) ** 2, rate / fps, frames))
    audible = rms[rms > _GATE_FLOOR]
    if len(audible) == 0:
        return np.zeros(frames, np.float32)
    reference = float(np.percentile(audible, 95))
    silent = rms < max(reference * 10 ** (-_GATE_BELOW_PEAK_DB / 20), _GATE_FLOOR)
    # Jaw opening grows roughly with the square root of loudness: quiet syllables still move it.
    loud = np.sqrt(np.clip(rms / reference, 0.0, 1.0))
    if mouth is not None and len(mouth) > 0:
        shape = frame_means(mouth.astype(np.float64), 1 / (MOUTH_STEP * fps), frames)
        target = shape * (_LOUDNESS_FLOOR + (1 - _LOUDNESS_FLOOR) * loud)
        # Lips stay shut through p, b and m, which last under a tenth of a second; a longer
        # shut stretch while sound plays means the phoneme timings slipped: follow the sound.
        shut = (shape <= 0.02) & ~silent
        for start, end in _runs(shut):
            if (end - start) / fps > _LONGEST_CLOSURE_S:
                target[start:end] = loud[start:end]
    else:
        target = loud
    target[silent] = 0.0
    voiced = target[target > 0]
    if len(voiced) > 0:
        # Loudness alone is relative: its loud moments open the mouth wide. Phoneme shapes are
        # absolute: "ee, oo" must not open as wide as "ah" just because no "ah" was said.
        floor = _SHAPED_REFERENCE if mouth is not None and len(mouth) > 0 else 1e-6
        target = np.clip(target / max(float(np.percentile(voiced, 95)), floor) * 0.95, 0.0, 1.0)

    attack = 1 - math.exp(-1 / (fps * _ATTACK_S))
    release = 1 - math.exp(-1 / (fps * _RELEASE_S))
    smooth = np.empty(frames, np.float64)
    level = 0.0
    for index, value in enumerate(target.tolist()):
        level += (attack if value > level else release) * (value - level)
        smooth[index] = level
    smooth[silent] = 0.0
    # Offline we can look ahead: start closing before a pause instead of snapping shut on it.
    step = 1 / (fps * _CLOSE_S)
    for index in range(frames - 2, -1, -1):
        smooth[index] = min(smooth[index], smooth[index + 1] + step)
    return smooth.astype(np.float32)
