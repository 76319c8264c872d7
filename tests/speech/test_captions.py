"""Captions: sentence-sized WebVTT cues of at most two lines, timed from the speech."""

from __future__ import annotations

import itertools

import pytest

from akool_mcp.speech import Cue, cues_from_text, parse_webvtt, synthesize, to_webvtt
from akool_mcp.speech.captions import LINE_CHARS, MAX_LINES, pieces
from tests.speech.listening import words

SCRIPT = (
    "Good morning! This is a short update about the project, the people who work on it every day, the plans "
    "we have made for the rest of the year, and what all of it will cost. Questions? Write to us."
)


def _lines_fit(cues: list[Cue]) -> bool:
    return all(len(c.text.split("\n")) <= MAX_LINES and all(len(x) <= LINE_CHARS for x in c.text.split("\n"))
               for c in cues)  # fmt: skip


@pytest.mark.parametrize("voice_id", ["en-US-female-1", "de-DE-male-1"])
def test_synthesized_speech_comes_with_cues_in_order_covering_the_words_inside_the_audio(voice_id: str) -> None:
    speech = synthesize(SCRIPT, voice_id)
    cues = parse_webvtt(to_webvtt(speech.cues))
    assert len(cues) >= 4 and _lines_fit(cues)
    assert words(" ".join(c.text for c in cues)) == words(SCRIPT)
    assert cues[0].start >= 0 and cues[-1].end <= speech.duration + 0.001
    assert all(a.end <= b.start + 0.001 and a.start < a.end for a, b in itertools.pairwise(cues))
    # Each cue is shown while its words sound: the audio inside the cues is far louder than between them.
    rate = speech.sample_rate
    inside = sum(float((speech.samples[int(c.start * rate) : int(c.end * rate)] ** 2).sum()) for c in cues)
    assert inside >= 0.97 * float((speech.samples**2).sum())


def test_webvtt_round_trips_and_escapes_what_it_must() -> None:
    cues = [Cue(0.0, 1.5, "Tom & Jerry <3"), Cue(1.5, 3661.25, "line one\nline two --> three")]
    document = to_webvtt(cues)
    assert document.startswith("WEBVTT\n\n1\n00:00:00.000 --> 00:00:01.500\nTom &amp; Jerry &lt;3\n")
    assert "01:01:01.250" in document
    back = parse_webvtt(document)
    assert back[0] == cues[0] and back[1].text == "line one\nline two -> three"
    with pytest.raises(ValueError, match="WEBVTT"):
        parse_webvtt("1\n00:00:00.000 --> 00:00:01.000\nhello\n")


def test_a_long_sentence_is_cut_between_words_into_cues_of_two_lines() -> None:
    sentence = " ".join(["word"] * 60)
    cut = pieces(sentence)
    assert len(cut) >= 3
    assert all(len(p.split("\n")) <= 2 and max(len(x) for x in p.split("\n")) <= LINE_CHARS for p in cut)
    assert " ".join(p.replace("\n", " ") for p in cut) == sentence
    assert pieces("Short and sweet.") == ["Short and sweet."]


def test_captions_from_text_and_the_audio_length_share_it_by_what_is_spoken() -> None:
    from akool_mcp.speech.reading import read_aloud

    cues = cues_from_text(["It costs $1,250.", "Yes."], 6.0, weigh=lambda s: float(len(read_aloud(s))))
    assert cues[0].start == 0 and cues[-1].end == pytest.approx(6.0)
    # "It costs one thousand two hundred fifty dollars." against "Yes.": 48 to 4 characters spoken.
    assert cues[0].end > 8 * (cues[1].end - cues[1].start)
    assert cues_from_text([], 5.0) == []


def test_joined_clips_get_one_track_each_clip_moved_by_its_start_and_cut_at_its_end() -> None:
    from akool_mcp.speech.captions import joined_cues

    first = [Cue(0.01, 1.2, "One."), Cue(1.5, 2.9, "Two.")]
    second = [Cue(0.01, 0.8, "Three."), Cue(1.0, 2.5, "Four, which runs past its clip.")]
    cut = joined_cues([(first, 0.0, 3.0), (second, 3.0, 2.0)], 5.0)
    assert [(c.start, c.end, c.text) for c in cut] == [
        (0.01, 1.2, "One."),
        (1.5, 2.9, "Two."),
        (3.01, 3.8, "Three."),
        (4.0, 5.0, "Four, which runs past its clip."),
    ]
    # A 0.4 s crossfade: the second clip begins at 2.6, inside the first one's last cue, which ends there.
    faded = joined_cues([(first, 0.0, 3.0), (second, 2.6, 2.0)], 4.6)
    assert [(round(c.start, 3), round(c.end, 3)) for c in faded] == [(0.01, 1.2), (1.5, 2.61), (2.61, 3.4), (3.6, 4.6)]
    assert all(a.end <= b.start for a, b in itertools.pairwise(faded))
    assert joined_cues([([], 0.0, 3.0), ([], 3.0, 2.0)], 5.0) == []
