"""Captions: sentence-sized WebVTT cues of at most two lines, timed from the speech.

A sentence that fits two lines is one cue, shown while it is spoken. A longer one is cut between
words into cues of at most two lines, each shown for its share of the sentence's time (by the
length of what is spoken, so "$1,250" counts as the five words it is read as). Clips joined into
one video get one track: each clip's cues moved to where the clip begins.
"""

from __future__ import annotations

import math
import re
import textwrap
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

LINE_CHARS = 42  # the usual broadcast and web limit for a caption line
MAX_LINES = 2
MIN_CUE_S = 0.5


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str  # lines joined by "\n"


def wrap(text: str, width: int = LINE_CHARS) -> list[str]:
    """Words into lines of at most ``width`` characters (a longer word stands alone)."""
    return textwrap.wrap(" ".join(text.split()), width, break_long_words=False, break_on_hyphens=False)


def _balanced(words: list[str]) -> str:
    """One cue's words on one line, or two lines of similar length."""
    text = " ".join(words)
    if len(text) <= LINE_CHARS:
        return text
    best, best_gap = text, math.inf
    for cut in range(1, len(words)):
        first, second = " ".join(words[:cut]), " ".join(words[cut:])
        if len(first) <= LINE_CHARS and len(second) <= LINE_CHARS and abs(len(first) - len(second)) < best_gap:
            best, best_gap = f"{first}\n{second}", abs(len(first) - len(second))
    return best if best_gap < math.inf else "\n".join(wrap(text)[:MAX_LINES])


def pieces(sentence: str) -> list[str]:
    """A sentence as cue texts of at most two lines each, cut between words (after punctuation when it can)."""
    lines = wrap(sentence)
    if len(lines) <= MAX_LINES:
        return [_balanced(sentence.split())]
    words = sentence.split()
    out: list[str] = []
    current: list[str] = []
    for word in words:
        if current and len(wrap(" ".join([*current, word]))) > MAX_LINES:
            # Prefer to end a cue at a clause boundary in its second half.
            cut = len(current)
            for back in range(len(current) - 1, len(current) // 2, -1):
                if current[back - 1].endswith((",", ";", ":", "—")):
                    cut = back
                    break
            out.append(_balanced(current[:cut]))
            current = current[cut:]
        current.append(word)
    if current:
        out.append(_balanced(current))
    return out


def sentence_cues(text: str, start: float, end: float, weigh: Callable[[str], float] | None = None) -> list[Cue]:
    """Cues for one sentence spoken from ``start`` to ``end``; ``weigh`` gives each piece's share."""
    parts = pieces(text)
    weights = [max(weigh(p) if weigh else float(len(p)), 1.0) for p in parts]
    total = sum(weights)
    cues: list[Cue] = []
    at = start
    for part, weight in zip(parts, weights, strict=True):
        until = at + (end - start) * weight / total
        cues.append(Cue(at, until, part))
        at = until
    return cues


def _stamp(seconds: float) -> str:
    millis = max(0, round(seconds * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def to_webvtt(cues: Iterable[Cue]) -> str:
    """The cues as a WebVTT document (a cue's text may not hold "-->" or a blank line)."""
    blocks = ["WEBVTT"]
    for index, cue in enumerate(cues, start=1):
        text = re.sub(r"\n\s*\n", "\n", cue.text.replace("-->", "->")).strip()
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        blocks.append(f"{index}\n{_stamp(cue.start)} --> {_stamp(cue.end)}\n{text}")
    return "\n\n".join(blocks) + "\n"


_TIMING = re.compile(r"^(\d+):(\d{2}):(\d{2})\.(\d{3}) --> (\d+):(\d{2}):(\d{2})\.(\d{3})")


def parse_webvtt(document: str) -> list[Cue]:
    """Cues from a WebVTT document (what :func:`to_webvtt` writes); ValueError if it is not WebVTT."""
    lines = document.replace("\r\n", "\n").split("\n")
    if not lines or not lines[0].startswith("WEBVTT"):
        raise ValueError("not a WebVTT document (it must start with WEBVTT)")
    cues: list[Cue] = []
    for block in "\n".join(lines[1:]).strip().split("\n\n"):
        rows = [r for r in block.split("\n") if r.strip()]
        timing = next((i for i, r in enumerate(rows) if "-->" in r), None)
        if timing is None:
            continue
        match = _TIMING.match(rows[timing])
        if match is None:
            raise ValueError(f"bad cue timing: {rows[timing]!r}")
        v = [int(g) for g in match.groups()]
        start = v[0] * 3600 + v[1] * 60 + v[2] + v[3] / 1000
        end = v[4] * 3600 + v[5] * 60 + v[6] + v[7] / 1000
        text = "\n".join(rows[timing + 1 :]).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        cues.append(Cue(start, end, text))
    return cues


def cues_from_text(sentences: Sequence[str], duration: float, weigh: Callable[[str], float] | None = None) -> list[Cue]:
    """Cues for speech whose timings are unknown (an Akool video made from text): the sentences share
    the audio's length in proportion to what is spoken in each."""
    if not sentences or duration <= 0:
        return []
    weights = [max(weigh(s) if weigh else float(len(s)), 1.0) for s in sentences]
    total = sum(weights)
    cues: list[Cue] = []
    at = 0.0
    for sentence, weight in zip(sentences, weights, strict=True):
        until = min(duration, at + duration * weight / total)
        cues += sentence_cues(sentence, at, max(until, min(duration, at + MIN_CUE_S)), weigh)
        at = until
    return cues


def joined_cues(parts: Sequence[tuple[Sequence[Cue], float, float]], duration: float) -> list[Cue]:
    """One track for clips joined into one video: each part is (its cues, timed from the clip's own start;
    where the clip begins in the joined video; how long it lasts there). Cues move by their clip's start
    and end with their clip (and the video, ``duration`` long); where clips overlap (a crossfade), a cue
    ends where the next clip's first begins."""
    out: list[Cue] = []
    for cues, start, length in parts:
        stop = min(start + length, duration)
        for cue in sorted(cues, key=lambda c: c.start):
            begin, end = start + cue.start, min(start + cue.end, stop)
            if out and begin < out[-1].end:
                last = out[-1]
                if begin - last.start >= MIN_CUE_S:
                    out[-1] = Cue(last.start, begin, last.text)
                else:
                    begin = last.end
            if end > begin:
                out.append(Cue(begin, end, cue.text))
    return out
