"""A piece of speech: mono samples, and the mouth shapes its phonemes call for when it was synthesized."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from akool_mcp.speech.captions import Cue
from akool_mcp.speech.mouth import MOUTH_STEP, FloatArray, MouthTracks, frame_means, loudness_stress, mouth_track

MAX_SECONDS = 600.0
MAX_TEXT_CHARS = 50_000


class SpeechError(Exception):
    """Speech could not be produced; the message tells the user what to change."""


@dataclass(frozen=True, eq=False)
class Speech:
    """Mono speech; ``eq=False`` because arrays have no single truth value to compare.

    ``mouth`` (openness) and ``shapes`` (columns width, bite, stress and, when there is a
    fourth, tongue) come every MOUTH_STEP
    seconds from synthesized speech's phonemes; decoded audio has neither and moves the mouth
    by loudness alone. ``cues`` are the captions of synthesized speech (none for recordings,
    whose words are not known).
    """

    samples: FloatArray
    sample_rate: int
    mouth: FloatArray | None = None
    shapes: FloatArray | None = None
    cues: tuple[Cue, ...] = ()

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate

    def samples_at(self, rate: int) -> FloatArray:
        """The samples at another rate (band-limited exactly; see :func:`audio.resample`)."""
        from akool_mcp.speech.audio import resample

        return resample(self.samples, self.sample_rate, rate)

    def mouth_track(self, fps: int) -> FloatArray:
        """Per-video-frame mouth openness in 0..1, exactly 0 on silent frames."""
        if fps <= 0:
            raise ValueError("fps must be positive")
        return mouth_track(self.samples, self.sample_rate, self.mouth, fps)

    def mouth_tracks(self, fps: int) -> MouthTracks:
        """Openness (as :meth:`mouth_track`) with the lip shape and stress, per video frame."""
        opening = self.mouth_track(fps)
        frames = len(opening)
        if self.shapes is None or len(self.shapes) == 0:
            flat = np.zeros(frames, np.float32)
            return MouthTracks(opening, flat, flat.copy(), loudness_stress(opening, fps))
        columns = [
            frame_means(self.shapes[:, k].astype(np.float64), 1 / (MOUTH_STEP * fps), frames).astype(np.float32)
            for k in range(min(4, self.shapes.shape[1]))
        ]
        speaking = opening > 0
        width = np.where(speaking, columns[0], 0.0).astype(np.float32)
        bite = np.where(speaking, columns[1], 0.0).astype(np.float32)
        tongue = np.where(speaking, columns[3], 0.0).astype(np.float32) if len(columns) > 3 else None
        if tongue is None:
            return MouthTracks(opening, width, bite, columns[2])
        return MouthTracks(opening, width, bite, columns[2], tongue)
