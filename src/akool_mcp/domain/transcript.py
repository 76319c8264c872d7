"""Captions for a video whose speech timings are unknown (an Akool video made from text): the script's
sentences share the finished audio's length in proportion to what is spoken in each.

The script is kept when the video is created (a small text file beside the posters), since the
video list keeps only its first words.
"""

from __future__ import annotations

import re
from pathlib import Path

_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def script_path(folder: Path, video_id: str) -> Path:
    return folder / f"{_SAFE.sub('_', video_id)[:80]}.txt"


def keep_script(folder: Path, video_id: str, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    script_path(folder, video_id).write_text(text, encoding="utf-8")


def audio_seconds(video: Path) -> float:
    """How long the video's audio track lasts (0 when it has none)."""
    import av

    with av.open(str(video)) as container:
        if not container.streams.audio:
            return 0.0
        stream = container.streams.audio[0]
        if stream.duration is not None and stream.time_base is not None:
            return float(stream.duration * stream.time_base)
        return (container.duration or 0) / 1_000_000


def captions_from_text(video: Path, text: str) -> str | None:
    """WebVTT captions of ``text`` spread over the video's audio; None when there is nothing to time."""
    from akool_mcp.speech import cues_from_text, to_webvtt
    from akool_mcp.speech.reading import read_aloud
    from akool_mcp.speech.sentences import split_sentences

    seconds = audio_seconds(video)
    sentences = [s.text for s in split_sentences(text)]
    cues = cues_from_text(sentences, seconds, weigh=lambda piece: float(len(read_aloud(piece))))
    return to_webvtt(cues) if cues else None
