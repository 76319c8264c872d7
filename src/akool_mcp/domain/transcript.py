"""Captions for a video whose speech timings are unknown (an Akool video made from text): the script's
sentences share the finished audio's length in proportion to what is spoken in each. And captions for
scenes joined into one video: each scene's own, moved to where it begins.

The script is kept when the video is created (a small text file beside the posters), since the
video list keeps only its first words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from akool_mcp.domain.keeping import captions_of
from akool_mcp.privacy import private_dir, write_private

if TYPE_CHECKING:
    from akool_mcp.speech import Cue

_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def script_path(folder: Path, video_id: str) -> Path:
    return folder / f"{_SAFE.sub('_', video_id)[:80]}.txt"


def keep_script(folder: Path, video_id: str, text: str) -> None:
    private_dir(folder)  # what the user's videos say
    write_private(script_path(folder, video_id), text.encode("utf-8"))


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


def text_cues(video: Path, text: str) -> list[Cue]:
    """Cues of ``text`` spread over the video's audio, in proportion to what is spoken in each sentence."""
    from akool_mcp.speech import cues_from_text
    from akool_mcp.speech.reading import read_aloud
    from akool_mcp.speech.sentences import split_sentences

    seconds = audio_seconds(video)
    sentences = [s.text for s in split_sentences(text)]
    return cues_from_text(sentences, seconds, weigh=lambda piece: float(len(read_aloud(piece))))


def captions_from_text(video: Path, text: str) -> str | None:
    """WebVTT captions of ``text`` spread over the video's audio; None when there is nothing to time."""
    from akool_mcp.speech import to_webvtt

    cues = text_cues(video, text)
    return to_webvtt(cues) if cues else None


def clip_cues(clip: Path, text: str | None) -> list[Cue]:
    """A finished clip's cues: its own captions kept beside it (timed from the speech, the local engine's),
    else its text spread over its audio (Akool's), else none (recorded speech)."""
    from akool_mcp.speech import parse_webvtt

    captions = captions_of(clip)
    if captions.is_file():
        return parse_webvtt(captions.read_text(encoding="utf-8"))
    return text_cues(clip, text) if text else []


@dataclass(frozen=True)
class JoinedPart:
    clip: Path
    text: str | None  # what it says, when it was made from text
    start: float  # where it begins in the joined video (seconds)
    length: float  # how long it lasts there


def joined_captions(parts: Sequence[JoinedPart], duration: float) -> str | None:
    """WebVTT captions of clips joined into one video (``duration`` long): each clip's cues moved by where it
    begins; None when none of them has captions."""
    from akool_mcp.speech import to_webvtt
    from akool_mcp.speech.captions import joined_cues

    cues = joined_cues([(clip_cues(p.clip, p.text), p.start, p.length) for p in parts], duration)
    return to_webvtt(cues) if cues else None
