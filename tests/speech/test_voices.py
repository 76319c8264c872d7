"""The English voices are neural and understood; the rest say they are basic; unknown ids are refused."""

from __future__ import annotations

import hashlib
import importlib.resources

import numpy as np
import pytest

from akool_mcp.speech import Speech, SpeechError, list_voices, synthesize
from akool_mcp.speech.neural import HIBARI_SHA256, KOKORO_VOICES_SHA256, voice_pack
from akool_mcp.speech.voices import VOICE_ENGINES
from tests.speech.listening import median_pitch, recognise, word_errors

ENGLISH = [v for v in list_voices() if v.language == "English"]
SENTENCES = [
    "The weather today is sunny with a light breeze from the west.",
    "Please remember to bring your passport and your ticket to the airport.",
    "Our new product helps small teams plan their work and meet every deadline.",
    "Thank you for watching, and see you again next week.",
]
# PocketSphinx's small en-US model is a weak listener: on these four sentences (47 words) it mishears
# 8-23% of the words of the six neural voices (British ones more: the model is American), and 61-91%
# of eSpeak NG's (the measure). 35% for any one voice, 25% on average, separates the two with
# room for the recogniser's own slips; a voice that mumbles, garbles or stays silent fails it.
MAX_WORD_ERROR = 0.35
MAX_MEAN_WORD_ERROR = 0.25


@pytest.fixture(scope="module")
def spoken() -> dict[str, list[Speech]]:
    return {voice.voice_id: [synthesize(s, voice.voice_id) for s in SENTENCES] for voice in ENGLISH}


def test_every_english_voice_is_neural_and_there_are_two_of_each_gender_and_both_accents() -> None:
    assert all(v.quality == "neural" and VOICE_ENGINES[v.voice_id].engine != "espeak" for v in ENGLISH)
    for gender in ("female", "male"):
        assert len([v for v in ENGLISH if v.gender == gender]) >= 2
        assert {v.locale for v in ENGLISH if v.gender == gender} == {"en-US", "en-GB"}


def test_voices_no_neural_voice_covers_are_listed_as_basic() -> None:
    basic = [v for v in list_voices() if v.quality == "basic"]
    assert {v.language for v in basic} == {"Spanish", "French", "German"}
    assert all("basic" in v.description for v in basic)


def test_the_existing_voice_ids_keep_working() -> None:
    ids = {v.voice_id for v in list_voices()}
    assert {"en-US-male-1", "en-US-male-2", "en-US-female-1", "en-US-female-2", "en-GB-male-1", "en-GB-female-1",
            "es-ES-male-1", "es-ES-female-1", "fr-FR-male-1", "fr-FR-female-1", "de-DE-male-1",
            "de-DE-female-1"} <= ids  # fmt: skip


def test_a_recogniser_understands_every_english_voice(spoken: dict[str, list[Speech]]) -> None:
    rates: dict[str, float] = {}
    for voice_id, speeches in spoken.items():
        errors = total = 0
        for sentence, speech in zip(SENTENCES, speeches, strict=True):
            wrong, count = word_errors(sentence, recognise(speech.samples, speech.sample_rate))
            errors += wrong
            total += count
        rates[voice_id] = errors / total
    assert max(rates.values()) <= MAX_WORD_ERROR, rates
    assert sum(rates.values()) / len(rates) <= MAX_MEAN_WORD_ERROR, rates


def test_female_voices_are_measurably_higher_in_pitch_than_male_ones(spoken: dict[str, list[Speech]]) -> None:
    pitch = {v.voice_id: median_pitch(np.concatenate([s.samples for s in spoken[v.voice_id]]), 24_000) for v in ENGLISH}
    female = [pitch[v.voice_id] for v in ENGLISH if v.gender == "female"]
    male = [pitch[v.voice_id] for v in ENGLISH if v.gender == "male"]
    # Measured: women 180-195 Hz, men 115-142 Hz; a fifth apart at the closest.
    assert min(female) > 1.2 * max(male), pitch
    assert all(90 < p < 260 for p in pitch.values()), pitch


def test_the_recogniser_is_a_real_listener_that_tells_noise_from_speech() -> None:
    noise = np.random.default_rng(0).normal(0, 0.1, 48_000).astype(np.float32)
    wrong, count = word_errors(SENTENCES[0], recognise(noise, 24_000))
    assert wrong / count > 0.8


def test_a_voice_id_that_does_not_exist_is_refused_naming_the_valid_ones() -> None:
    with pytest.raises(SpeechError, match="unknown voice_id 'en-US-robot-9'") as caught:
        synthesize("Hello there.", "en-US-robot-9")
    assert "en-US-female-1" in str(caught.value) and "de-DE-male-1" in str(caught.value)


def test_the_voice_models_and_vectors_are_the_ones_measured() -> None:
    for name in KOKORO_VOICES_SHA256:
        assert voice_pack(name).shape == (510, 256)  # checked against its sha256 as it loads
    hibari = (importlib.resources.files("hibari") / "assets" / "hibari.onnx").read_bytes()
    assert hashlib.sha256(hibari).hexdigest() == HIBARI_SHA256


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Привет, как дела?", "Cyrillic"),
        ("こんにちは世界", "Cjk"),
        ("🎉🎉 👍", "no words to speak"),
        ("... !!! ???", "no words to speak"),
    ],
)
def test_text_no_voice_can_read_is_refused_naming_text_and_the_languages(text: str, reason: str) -> None:
    with pytest.raises(SpeechError, match=reason) as caught:
        synthesize(text, "en-US-female-1")
    message = str(caught.value)
    assert message.startswith("text ") and "English" in message and "audio_url" in message


def test_emoji_among_words_are_skipped_not_spoken_as_noise() -> None:
    plain = synthesize("Great news, everyone.", "en-US-female-1")
    decorated = synthesize("Great news 🎉, everyone 👍.", "en-US-female-1")
    assert abs(decorated.duration - plain.duration) < 0.15
