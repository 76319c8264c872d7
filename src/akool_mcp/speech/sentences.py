"""A script cut into sentences (each spoken, and captioned, on its own), the pause after each, and
whether a voice can read the text at all."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Pauses after a sentence, on top of the little silence the voice leaves itself. A presenter's
# reading, measured by ear on broadcast reading: a comma is the voice's own business, a full stop
# about a third of a second, a question or exclamation a little more, a new paragraph most.
PAUSE_SENTENCE_S = 0.3
PAUSE_QUESTION_S = 0.4
PAUSE_PARAGRAPH_S = 0.7
PAUSE_CLAUSE_S = 0.12  # between the pieces of a sentence too long to say in one breath

_NOT_AN_END = {"Dr", "Mr", "Mrs", "Ms", "Prof", "Jr", "Sr", "St", "Mt", "vs", "etc", "e.g", "i.e", "approx", "Inc",
               "Ltd", "Corp", "No", "Ave", "Dept", "Jan", "Feb", "Aug", "Sept", "Oct", "Nov", "Dec", "U.S", "a.m",
               "p.m"}  # fmt: skip
_END = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+(?=\S)")


@dataclass(frozen=True)
class Sentence:
    text: str  # as written (captions show this)
    pause_after: float  # seconds of silence after it


def split_sentences(text: str) -> list[Sentence]:
    """Sentences in order, each with the pause that follows it (none after the last)."""
    out: list[Sentence] = []
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    for p_index, paragraph in enumerate(paragraphs):
        paragraph = re.sub(r"\s*\n\s*", " ", paragraph)
        pieces: list[str] = []
        cut = 0
        for match in _END.finditer(paragraph):
            before = paragraph[cut : match.start()]
            last_word = before.rsplit(" ", 1)[-1].strip("\"'“‘(")
            if before.endswith(".") and (last_word[:-1] in _NOT_AN_END or re.fullmatch(r"[A-Z]\.", last_word)):
                continue  # "Dr. Smith", "J. K. Rowling"
            if paragraph[match.end()].islower():
                continue
            pieces.append(paragraph[cut : match.end()].strip())
            cut = match.end()
        pieces.append(paragraph[cut:].strip())
        pieces = [p for p in pieces if p]
        for index, piece in enumerate(pieces):
            last_in_paragraph = index == len(pieces) - 1
            if last_in_paragraph and p_index == len(paragraphs) - 1:
                pause = 0.0
            elif last_in_paragraph:
                pause = PAUSE_PARAGRAPH_S
            elif piece.rstrip("\"'”’)] ").endswith(("?", "!")):
                pause = PAUSE_QUESTION_S
            else:
                pause = PAUSE_SENTENCE_S
            out.append(Sentence(piece, pause))
    return out


def _script(ch: str) -> str:
    """The writing system of a letter, by its Unicode name: LATIN, CYRILLIC, CJK, ARABIC..."""
    name = unicodedata.name(ch, "")
    first = name.split(" ", 1)[0]
    return "CJK" if first in ("CJK", "HIRAGANA", "KATAKANA", "HANGUL") else first or "UNKNOWN"


def unspeakable_reason(text: str) -> str | None:
    """Why no voice here can read ``text`` (they all read the Latin alphabet), or None if one can.

    Emoji and other symbols are skipped in speech; text of nothing else has nothing to say.
    """
    scripts: dict[str, int] = {}
    words = 0
    for ch in text:
        if ch.isalpha():
            script = _script(ch)
            scripts[script] = scripts.get(script, 0) + 1
            words += 1
        elif ch.isdigit():
            words += 1
    other = {s: n for s, n in scripts.items() if s != "LATIN"}
    if other:
        names = ", ".join(s.title() for s in sorted(other, key=lambda s: -other[s]))
        return f"is written in {names} script, which none of the voices can read"
    if words == 0:
        return "has no words to speak (only symbols, emoji or punctuation)"
    return None


def speakable(text: str) -> str:
    """The text without what a voice would not say: emoji, pictographs and other symbols."""
    kept = [ch for ch in text if not unicodedata.category(ch).startswith(("So", "Cs", "Co", "Cn"))]
    return re.sub(r"[ \t]+", " ", "".join(kept).replace("\u200d", "").replace("\ufe0f", "")).strip()
