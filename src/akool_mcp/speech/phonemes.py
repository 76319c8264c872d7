"""Mouth shapes from a neural voice's own phoneme timings (misaki symbols), with coarticulation.

Each phoneme has a target shape (jaw opening, lip width, lower lip on the teeth) and a dominance:
how strongly it holds its shape against its neighbours. The shape at any moment is the
dominance-weighted mean of the targets near it (Cohen and Massaro's model, as in openfacefx):
p, b and m must close the lips and dominate; k, g and h take their shape from the vowels around
them. Dominance reaches further ahead of a sound than after it, because real mouths anticipate
the next sound (a rounded "oo" rounds the "s" before it). Silences close the mouth.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from akool_mcp.speech.mouth import MOUTH_STEP, STRESS_DECAY_S, FloatArray

# (opening, width, bite) per symbol: opening 0 shut .. 1 wide; width -1 rounded .. +1 spread.
_VOWELS: dict[str, tuple[float, float, float]] = {
    "ɑ": (1.0, 0.0, 0), "æ": (0.85, 0.35, 0), "a": (0.9, 0.1, 0), "ʌ": (0.75, 0.0, 0), "ɐ": (0.6, 0.0, 0),
    "ɔ": (0.75, -0.6, 0), "ɒ": (0.8, -0.5, 0), "ɛ": (0.65, 0.45, 0), "e": (0.55, 0.6, 0), "ɜ": (0.5, 0.0, 0),
    "ɚ": (0.4, -0.25, 0), "ə": (0.4, 0.0, 0), "ᵊ": (0.3, 0.0, 0), "ɪ": (0.4, 0.7, 0), "i": (0.3, 1.0, 0),
    "ᵻ": (0.35, 0.5, 0), "ʊ": (0.35, -0.8, 0), "u": (0.3, -1.0, 0), "o": (0.6, -0.7, 0),
}  # fmt: skip
# Diphthongs glide from a first shape to a second over their span.
_GLIDES: dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]] = {
    "A": ((0.6, 0.6, 0), (0.35, 0.9, 0)),  # eɪ  day
    "I": ((0.95, 0.1, 0), (0.4, 0.8, 0)),  # aɪ  my
    "O": ((0.6, -0.6, 0), (0.35, -0.95, 0)),  # oʊ  go
    "W": ((0.95, 0.0, 0), (0.35, -0.9, 0)),  # aʊ  now
    "Y": ((0.7, -0.6, 0), (0.4, 0.8, 0)),  # ɔɪ  boy
    "Q": ((0.45, 0.0, 0), (0.35, -0.9, 0)),  # əʊ  British go
}
# Consonants: (shape, dominance).
_CONSONANTS: dict[str, tuple[tuple[float, float, float], float]] = {
    **dict.fromkeys("pbm", ((0.0, 0.0, 0.0), 8.0)),  # lips pressed together: they must meet
    **dict.fromkeys("fv", ((0.12, 0.1, 1.0), 3.0)),  # lower lip under the upper teeth
    **dict.fromkeys("θð", ((0.22, 0.15, 0.0), 1.2)),  # tongue between the teeth
    "w": ((0.15, -1.0, 0.0), 2.0),
    **dict.fromkeys("ʃʒʧʤ", ((0.18, -0.55, 0.0), 1.5)),
    **dict.fromkeys("ɹr", ((0.25, -0.35, 0.0), 0.8)),
    **dict.fromkeys("sz", ((0.12, 0.4, 0.0), 1.2)),  # teeth nearly together
    **dict.fromkeys("tdnlTɾʔ", ((0.25, 0.1, 0.0), 0.6)),
    **dict.fromkeys("kɡŋhjçx", ((0.3, 0.0, 0.0), 0.25)),  # shaped by the vowels around them
}
# How much of the tongue's tip shows at the teeth over a sound's own span (as for eSpeak's phonemes in
# visemes.py): between them on th, up behind them on l, at the ridge on n t d (and the flap).
_TONGUE: dict[str, float] = {"θ": 1.0, "ð": 1.0, "l": 0.8, **dict.fromkeys("ntdTɾ", 0.5)}
_VOWEL_DOMINANCE = 1.5
_PAUSE_DOMINANCE = 1.5
_UNKNOWN = ((0.25, 0.0, 0.0), 0.5)
_STRESS_MARKS = frozenset("ˈˌ")
_PRIMARY = "ˈ"
_LENGTH = "ː"
_PAUSES = frozenset(',.!?;:—…"()“”') | {""}
# How far a sound's dominance reaches (exponential decay, seconds): further ahead than behind.
_AHEAD_S = 0.04
_BEHIND_S = 0.03
_PAUSE_REACH_S = 0.02
_SPAN_S = 0.35  # beyond this no dominance counts


@dataclass(frozen=True)
class Timed:
    """One sound: its symbol, when it starts and ends (seconds), and whether it carries primary stress."""

    symbol: str
    start: float
    end: float
    stressed: bool = False


def timeline(symbols: Sequence[str], durations: Sequence[float], offset: float = 0.0) -> list[Timed]:
    """The model's symbols and durations as sounds in time: a stress mark's slot goes to the sound
    it marks, a length mark's to the sound before it, spaces to the sounds around them."""
    out: list[Timed] = []
    at = offset
    carried = 0.0
    stressed = False
    for symbol, duration in zip(symbols, durations, strict=True):
        if symbol in _STRESS_MARKS:
            carried += duration
            stressed = stressed or symbol == _PRIMARY
        elif (symbol == _LENGTH and out) or (symbol == " " and out and out[-1].symbol not in _PAUSES):
            last = out[-1]
            out[-1] = Timed(last.symbol, last.start, last.end + duration, last.stressed)
        else:
            start = at - carried
            out.append(Timed(symbol if symbol != " " else "", start, at + duration, stressed))
            carried = 0.0
            stressed = False
        at += duration
    return out


def _targets(sound: Timed) -> tuple[list[tuple[float, tuple[float, float, float]]], float, float]:
    """(moment, shape) targets of one sound, its dominance, and how far the dominance reaches back."""
    middle = (sound.start + sound.end) / 2
    if sound.symbol in _PAUSES or sound.symbol == " ":
        return [(middle, (0.0, 0.0, 0.0))], _PAUSE_DOMINANCE, _PAUSE_REACH_S
    if sound.symbol in _GLIDES:
        first, second = _GLIDES[sound.symbol]
        span = sound.end - sound.start
        return [(sound.start + span * 0.3, first), (sound.start + span * 0.8, second)], _VOWEL_DOMINANCE, _BEHIND_S
    if sound.symbol in _VOWELS:
        return [(middle, _VOWELS[sound.symbol])], _VOWEL_DOMINANCE, _BEHIND_S
    shape, dominance = _CONSONANTS.get(sound.symbol, _UNKNOWN)
    return [(middle, shape)], dominance, _BEHIND_S


def mouth_shapes(sounds: Sequence[Timed], duration: float) -> tuple[FloatArray, FloatArray]:
    """Opening and (width, bite, stress, tongue) every MOUTH_STEP seconds, the shapes blended between
    neighbours, the tongue shown over its own sounds only."""
    steps = max(1, math.ceil(duration / MOUTH_STEP))
    times = (np.arange(steps) + 0.5) * MOUTH_STEP
    weight = np.full(steps, 1e-6)
    blended = np.zeros((steps, 3))
    stress = np.zeros(steps, np.float32)
    tongue = np.zeros(steps, np.float32)
    for sound in sounds:
        if sound.symbol in _TONGUE:
            first, last = int(sound.start / MOUTH_STEP), math.ceil(sound.end / MOUTH_STEP)
            tongue[max(0, first) : min(steps, last)] = _TONGUE[sound.symbol]
        targets, dominance, behind = _targets(sound)
        half = max(sound.end - sound.start, MOUTH_STEP) / (2 * len(targets))
        for moment, shape in targets:
            first = max(0, int((moment - _SPAN_S) / MOUTH_STEP))
            last = min(steps, int((moment + _SPAN_S) / MOUTH_STEP) + 1)
            if first >= last:
                continue
            t = times[first:last]
            # Full dominance over the sound's own span, decaying outside it.
            early = np.clip(moment - half - t, 0.0, None)
            late = np.clip(t - moment - half, 0.0, None)
            d = dominance * np.exp(-early / _AHEAD_S - late / behind)
            weight[first:last] += d
            blended[first:last] += d[:, None] * np.asarray(shape)[None, :]
        if sound.stressed and (sound.symbol in _VOWELS or sound.symbol in _GLIDES):
            first = min(steps, int(sound.start / MOUTH_STEP))
            span = np.arange(steps - first, dtype=np.float32) * MOUTH_STEP
            stress[first:] = np.maximum(stress[first:], np.exp(-span / STRESS_DECAY_S))
    blended /= weight[:, None]
    shapes = np.zeros((steps, 4), np.float32)
    shapes[:, 0] = blended[:, 1]
    shapes[:, 1] = blended[:, 2]
    shapes[:, 2] = stress
    shapes[:, 3] = tongue
    return blended[:, 0].astype(np.float32), shapes
