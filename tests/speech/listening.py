# PocketSphinx ships no type information: relax the unknown-type checks here only.
# pyright: reportUnknownMemberType=false, reportUnknownVariableType=false, reportUnknownArgumentType=false
"""Listening to speech in tests: a recogniser with its own model (PocketSphinx 5, en-US, inside its wheel),
word error rate, and median pitch."""

from __future__ import annotations

import re

import numpy as np
import numpy.typing as npt

from akool_mcp.speech.audio import resample

RECOGNISER_RATE = 16_000


def recognise(samples: npt.NDArray[np.float32], rate: int) -> str:
    """What PocketSphinx hears in the samples (lower case words)."""
    from pocketsphinx import Decoder

    pcm = np.clip(resample(samples, rate, RECOGNISER_RATE), -1.0, 1.0)
    decoder = Decoder(samprate=RECOGNISER_RATE, logfn="/dev/null")
    decoder.start_utt()
    decoder.process_raw((pcm * 32767).astype("<i2").tobytes(), full_utt=True)
    decoder.end_utt()
    hypothesis = decoder.hyp()
    return str(hypothesis.hypstr) if hypothesis is not None else ""


def words(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9' ]+", " ", text.lower()).split()


def word_errors(reference: str, heard: str) -> tuple[int, int]:
    """(substitutions + insertions + deletions, words in the reference): Levenshtein over words."""
    ref, hyp = words(reference), words(heard)
    row = list(range(len(hyp) + 1))
    for i in range(1, len(ref) + 1):
        diagonal, row[0] = row[0], i
        for j in range(1, len(hyp) + 1):
            diagonal, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, diagonal + (ref[i - 1] != hyp[j - 1]))
    return row[len(hyp)], len(ref)


def median_pitch(samples: npt.NDArray[np.float32], rate: int) -> float:
    """Median fundamental frequency (Hz) of the clearly voiced 40 ms frames, by autocorrelation (70-400 Hz)."""
    size = int(0.04 * rate)
    low, high = int(rate / 400), int(rate / 70)
    found: list[float] = []
    for start in range(0, len(samples) - size, size // 2):
        frame = samples[start : start + size].astype(np.float64)
        frame -= frame.mean()
        if np.sqrt(np.mean(frame**2)) < 0.02:
            continue
        correlation = np.correlate(frame, frame, "full")[size - 1 :]
        lag = low + int(np.argmax(correlation[low:high]))
        if correlation[lag] > 0.5 * correlation[0]:
            found.append(rate / lag)
    return float(np.median(found)) if found else 0.0
