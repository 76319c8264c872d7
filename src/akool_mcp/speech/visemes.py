"""eSpeak NG phoneme mnemonics to mouth shapes: openness, lip width and bite every MOUTH_STEP seconds."""

from __future__ import annotations

import math

import numpy as np

from akool_mcp.speech.mouth import MOUTH_STEP, STRESS_DECAY_S, FloatArray

# How far each sound opens the jaw (0 lips together, 1 wide open). eSpeak mnemonics share
# their vowel letters across languages, so one table serves every voice.
_VOWEL_OPENNESS = {
    "a": 1.0,
    "A": 0.95,
    "V": 0.85,
    "&": 0.9,
    "O": 0.8,
    "o": 0.7,
    "0": 0.8,
    "Q": 0.8,
    "E": 0.7,
    "e": 0.6,
    "3": 0.55,
    "@": 0.45,
    "I": 0.4,
    "i": 0.35,
    "y": 0.35,
    "Y": 0.4,
    "U": 0.35,
    "u": 0.3,
}
# Lip shape per vowel: -1 rounded and pushed forward (u, o), +1 spread (i, e).
_VOWEL_WIDTH = {"i": 1.0, "I": 0.7, "e": 0.7, "E": 0.45, "&": 0.3, "a": 0.1, "y": -0.9, "Y": -0.7, "u": -1.0,
                "U": -0.8, "o": -0.85, "O": -0.6, "0": -0.55, "Q": -0.5}  # fmt: skip
_CLOSED_CONSONANTS = frozenset("pbm")  # lips pressed together
_BITE_CONSONANTS = frozenset("fv")  # lower lip under the upper teeth
_ROUND_CONSONANTS = {"w": -1.0, "S": -0.5, "Z": -0.5, "r": -0.35}
# How much of the tongue's tip shows at the teeth: between them on th (T D), up behind them on l,
# touching the ridge behind them on n t d (seen only through a mouth open a little).
_TONGUE_CONSONANTS = {"T": 1.0, "D": 1.0, "l": 0.8, "n": 0.5, "t": 0.5, "d": 0.5}


def phoneme_tongue(phoneme: str) -> float:
    """0..1: how much of the tongue's tip one eSpeak phoneme mnemonic shows (l, th, n, t, d)."""
    core = phoneme.lstrip("',%=")
    return _TONGUE_CONSONANTS.get(core[:1], 0.0) if core else 0.0


def phoneme_viseme(phoneme: str) -> tuple[float, float, float]:
    """(openness, width, bite) for one eSpeak phoneme mnemonic: its mouth shape.

    Five families: closed (p b m), rounded (o u w), spread (i e), open (a) and lip-on-teeth
    (f v); other consonants keep the jaw a little open in a neutral shape.
    """
    core = phoneme.lstrip("',%=")
    if not core or core[0] == "_":
        return 0.0, 0.0, 0.0
    for ch in core:
        if ch in _VOWEL_OPENNESS:
            return _VOWEL_OPENNESS[ch], _VOWEL_WIDTH.get(ch, 0.0), 0.0
    if core[0] in _CLOSED_CONSONANTS:
        return 0.0, 0.0, 0.0
    if core[0] in _BITE_CONSONANTS:
        return 0.1, 0.1, 1.0
    if core[0] in _ROUND_CONSONANTS:
        return 0.15, _ROUND_CONSONANTS[core[0]], 0.0
    if core.startswith(("tS", "dZ")):
        return 0.2, -0.5, 0.0
    return 0.22, 0.0, 0.0


def phoneme_mouth(phonemes: list[tuple[int, str]], duration: float) -> tuple[FloatArray, FloatArray]:
    """Openness and (width, bite, stress, tongue) every MOUTH_STEP from eSpeak's phoneme events (ms)."""
    steps = max(1, math.ceil(duration / MOUTH_STEP))
    mouth = np.zeros(steps, np.float32)
    shapes = np.zeros((steps, 4), np.float32)
    # Sorted by time only: eSpeak reports a pause marker and the vowel after it at the same
    # moment, pause first; sorting on the names too put the pause last and silenced the vowel.
    ordered = sorted(phonemes, key=lambda event: event[0])
    for index, (start_ms, name) in enumerate(ordered):
        end_ms = ordered[index + 1][0] if index + 1 < len(ordered) else start_ms + 120
        if end_ms <= start_ms:
            continue  # an instant marker: the next sound starts here
        first, last = int(start_ms / 10), min(steps, max(int(end_ms / 10), int(start_ms / 10) + 1))
        openness, width, bite = phoneme_viseme(name)
        mouth[first:last] = openness
        shapes[first:last, 0] = width
        shapes[first:last, 1] = bite
        shapes[first:last, 3] = phoneme_tongue(name)
        if name.startswith("'") and openness > 0.3:  # a vowel with primary stress
            span = np.arange(steps - first, dtype=np.float32) * MOUTH_STEP
            shapes[first:, 2] = np.maximum(shapes[first:, 2], np.exp(-span / STRESS_DECAY_S))
    # Neighbouring sounds blend into each other (coarticulation): a 30 ms box smooths the steps.
    kernel = np.ones(3, np.float32) / 3
    smooth = np.convolve(mouth, kernel, mode="same").astype(np.float32)
    for k in (0, 1, 3):
        shapes[:, k] = np.convolve(shapes[:, k], kernel, mode="same")
    return smooth, shapes
