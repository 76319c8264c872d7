"""Text to speech for a voice_id: sentence by sentence, with natural pauses, mouth shapes and captions.

A script goes through one sentence at a time (and a long sentence one clause at a time), so the
model's working memory stays that of one sentence however long the script; only the finished
samples grow with it (about 5.8 MB a minute at 24 kHz).
"""

from __future__ import annotations

import numpy as np

from akool_mcp.speech.captions import Cue, sentence_cues
from akool_mcp.speech.clip import MAX_SECONDS, MAX_TEXT_CHARS, Speech, SpeechError
from akool_mcp.speech.mouth import FloatArray
from akool_mcp.speech.phonemes import Timed, mouth_shapes, timeline
from akool_mcp.speech.reading import read_aloud
from akool_mcp.speech.sentences import PAUSE_CLAUSE_S, Sentence, speakable, split_sentences, unspeakable_reason
from akool_mcp.speech.voices import VOICES, VoiceEngine, voice_engine

# The models pad every utterance with silence (often 0.3-0.45 s before it); we keep this much of
# it and put in pauses of our own between sentences instead.
LEAD_KEEP_S = 0.06
TRAIL_KEEP_S = 0.1
# Both models' sounds come out earlier than their duration tracks put them: cross-correlating where
# the tracks put vowels with the audio's loudness (5 ms steps, 4 sentences, 3 voices) peaked at
# 35-70 ms, median 50 ms, for hibari and Kokoro alike (correlation 0.15-0.3 unshifted, 0.4-0.6 shifted).
TIMING_LEAD_S = 0.05


def check_text(text: str, voice_id: str) -> str:
    """The text a voice will speak, or SpeechError saying what is wrong with ``text`` or ``voice_id``."""
    if voice_engine(voice_id) is None:
        raise SpeechError(f"unknown voice_id {voice_id!r}; use one of: {', '.join(VOICES)}")
    text = text.strip()
    if not text:
        raise SpeechError("the text to speak is empty; give at least one word")
    if len(text) > MAX_TEXT_CHARS:
        raise SpeechError(f"the text has {len(text)} characters; the limit is {MAX_TEXT_CHARS}, split it")
    reason = unspeakable_reason(text)
    if reason is not None:
        languages = sorted({v.language for v in VOICES.values()})
        raise SpeechError(
            f"text {reason}; the voices read {', '.join(languages)} (Latin alphabet): write the text in one "
            f"of those, or give recorded speech (audio_url) instead"
        )
    return speakable(text)


def synthesize(text: str, voice_id: str) -> Speech:
    """Speak ``text`` with a local voice (offline, thread-safe): samples at the voice's own rate,
    mouth shapes from its phoneme timings, and caption cues per sentence."""
    clean = check_text(text, voice_id)
    engine = voice_engine(voice_id)
    assert engine is not None
    sentences = split_sentences(clean)
    if engine.engine == "espeak":
        return _basic(sentences, engine)
    return _neural(sentences, engine)


def _spoken_length(piece: str) -> float:
    return float(len(read_aloud(piece)))


class _Track:
    """Speech being assembled: samples, sounds and cues, with the time reached so far."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.pieces: list[FloatArray] = []
        self.samples = 0
        self.sounds: list[Timed] = []
        self.cues: list[Cue] = []

    @property
    def at(self) -> float:
        return self.samples / self.rate

    def add(self, samples: FloatArray) -> None:
        self.pieces.append(samples)
        self.samples += len(samples)
        if self.samples > MAX_SECONDS * self.rate:
            raise SpeechError(
                f"the text would take more than {MAX_SECONDS / 60:.0f} minutes to speak; split it into shorter videos"
            )

    def pause(self, seconds: float) -> None:
        if seconds > 0:
            self.add(np.zeros(round(seconds * self.rate), np.float32))

    def joined(self) -> FloatArray:
        samples = np.concatenate(self.pieces) if self.pieces else np.zeros(0, np.float32)
        np.clip(samples, -1.0, 1.0, out=samples)
        return samples


def _neural(sentences: list[Sentence], engine: VoiceEngine) -> Speech:
    from akool_mcp.speech import neural

    track = _Track(neural.SAMPLE_RATE)
    for sentence in sentences:
        phonemes = neural.phonemize(read_aloud(sentence.text), engine.british)
        chunks = neural.split_phonemes(phonemes)
        if not chunks:
            continue
        began: float | None = None
        ended = track.at
        for index, chunk in enumerate(chunks):
            if index:
                track.pause(PAUSE_CLAUSE_S)
            spoken, ended, start = _utterance(track, engine, chunk, len(track.pieces))
            began = start if began is None else began
            track.add(spoken)
        if began is not None:
            track.cues += sentence_cues(sentence.text, began, ended, _spoken_length)
        track.pause(sentence.pause_after)
    if track.samples == 0:
        raise SpeechError("the text produced no speech; give words in the voice's language")
    return _speech(track)


def _utterance(track: _Track, engine: VoiceEngine, phonemes: str, seed: int) -> tuple[FloatArray, float, float]:
    """One model call trimmed of most of its padding: (samples, end of the words, start of the words),
    its sounds added to the track's."""
    from akool_mcp.speech.neural import speak

    said = speak(engine, phonemes, seed)
    rate = track.rate
    durations = said.durations
    # The graphs' durations add up to the audio's length; scale them if a model ever differs.
    total = float(durations.sum())
    if total > 0:
        durations = durations * (len(said.samples) / rate / total)
    lead, trail = float(durations[0]), float(durations[-1])
    length = len(said.samples) / rate
    begin = max(0.0, lead - LEAD_KEEP_S)
    stop = max(begin, length - max(0.0, trail - TRAIL_KEEP_S))
    kept = said.samples[round(begin * rate) : round(stop * rate)]
    offset = track.at - begin - TIMING_LEAD_S
    window_end = track.at + len(kept) / rate
    for sound in timeline(said.symbols, durations.tolist(), offset):
        start, end = max(sound.start, track.at), min(sound.end, window_end)
        if end > start:
            track.sounds.append(Timed(sound.symbol, start, end, sound.stressed))
    words_start = track.at + max(0.0, lead - begin - TIMING_LEAD_S)
    words_end = min(window_end, offset + length - trail)
    return kept, words_end, words_start


def _basic(sentences: list[Sentence], engine: VoiceEngine) -> Speech:
    from akool_mcp.speech.espeak import espeak_speak
    from akool_mcp.speech.visemes import phoneme_mouth

    track: _Track | None = None
    events: list[tuple[int, str]] = []
    for sentence in sentences:
        samples, rate, phonemes = espeak_speak(sentence.text, engine.model_voice)
        track = track or _Track(rate)
        if len(samples) == 0:
            continue
        offset_ms = round(track.at * 1000)
        events += [(ms + offset_ms, name) for ms, name in phonemes]
        start = track.at
        track.add(samples)
        track.cues += sentence_cues(sentence.text, start, track.at, None)
        track.pause(sentence.pause_after)
    if track is None or track.samples == 0:
        raise SpeechError("the text produced no speech; give words in the voice's language")
    samples = track.joined()
    mouth, shapes = phoneme_mouth(events, len(samples) / track.rate)
    return Speech(samples=samples, sample_rate=track.rate, mouth=mouth, shapes=shapes, cues=tuple(track.cues))


def _speech(track: _Track) -> Speech:
    samples = track.joined()
    mouth, shapes = mouth_shapes(track.sounds, len(samples) / track.rate)
    return Speech(samples=samples, sample_rate=track.rate, mouth=mouth, shapes=shapes, cues=tuple(track.cues))
