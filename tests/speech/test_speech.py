"""Offline speech: eSpeak NG voices, decoding audio files, and the mouth track."""

from __future__ import annotations

import pathlib
import threading
from collections.abc import Callable

import numpy as np
import pytest

from akool_mcp.speech import Speech, SpeechError, decode_audio, list_voices, synthesize

WriteAudio = Callable[[str, str, np.ndarray, int], pathlib.Path]


def test_synthesize_speaks_a_sentence_at_24khz_with_phoneme_mouth_shapes() -> None:
    speech = synthesize("Hello, this is a short test sentence.", "en-US-female-1")
    assert speech.sample_rate == 24_000
    assert speech.samples.dtype == np.float32
    assert 1.2 < speech.duration < 5.0
    assert float(np.abs(speech.samples).max()) <= 1.0
    assert float(np.sqrt(np.mean(speech.samples**2))) > 0.01
    assert speech.mouth is not None
    assert abs(len(speech.mouth) - speech.duration * 100) <= 1
    assert float(speech.mouth.min()) >= 0.0 and float(speech.mouth.max()) <= 1.0


def test_there_are_local_voices_for_english_spanish_french_and_german() -> None:
    voices = list_voices()
    ids = [v.voice_id for v in voices]
    assert len(voices) >= 6 and len(set(ids)) == len(ids)
    assert {"en-US", "en-GB", "es-ES", "fr-FR", "de-DE"} <= {v.locale for v in voices}
    us = {v.gender for v in voices if v.locale == "en-US"}
    assert us == {"male", "female"}


@pytest.mark.parametrize("voice_id", [v.voice_id for v in list_voices()])
def test_every_listed_voice_speaks(voice_id: str) -> None:
    assert synthesize("One two three.", voice_id).duration > 0.5


def test_an_unknown_voice_is_refused_with_the_valid_ids() -> None:
    with pytest.raises(SpeechError, match="unknown voice_id 'robot'") as caught:
        synthesize("Hello", "robot")
    assert "en-US-male-1" in str(caught.value)


@pytest.mark.parametrize("text", ["", "   \n "])
def test_empty_text_is_refused(text: str) -> None:
    with pytest.raises(SpeechError, match="empty"):
        synthesize(text, "en-US-male-1")


def test_synthesis_from_several_threads_at_once_gives_each_its_own_speech() -> None:
    voices = ["en-GB-male-1", "fr-FR-female-1", "de-DE-male-1", "es-ES-female-1"]
    text = "Threads take turns with the speech engine."
    # eSpeak output varies by a sample or two between calls, so compare lengths, not samples.
    alone = {v: len(synthesize(text, v).samples) for v in voices}
    together: dict[str, int] = {}

    def speak(voice: str) -> None:
        together[voice] = len(synthesize(text, voice).samples)

    threads = [threading.Thread(target=speak, args=(v,)) for v in voices * 2]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert together.keys() == alone.keys()
    assert all(abs(together[v] - alone[v]) <= 0.01 * alone[v] for v in voices)
    assert len(set(alone.values())) == len(voices)  # the voices really differ


def _tone(seconds: float, rate: int) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    return (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)


@pytest.mark.parametrize(("name", "codec", "rate"), [("tone.wav", "pcm_s16le", 16_000), ("tone.m4a", "aac", 44_100),
                                                      ("tone.mp3", "libmp3lame", 44_100)])  # fmt: skip
def test_decode_audio_reads_common_formats_as_mono_float(
    write_audio: WriteAudio, name: str, codec: str, rate: int
) -> None:
    path = write_audio(name, codec, _tone(1.5, rate), rate)
    speech = decode_audio(path)
    assert speech.sample_rate == rate
    assert speech.mouth is None
    assert speech.samples.dtype == np.float32 and speech.samples.ndim == 1
    assert speech.duration == pytest.approx(1.5, abs=0.08)  # lossy codecs pad a frame
    assert float(np.sqrt(np.mean(speech.samples**2))) == pytest.approx(0.5 / np.sqrt(2), rel=0.1)


def test_decode_audio_refuses_a_file_that_is_not_audio(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "speech.mp3"
    path.write_bytes(b"this is not an mp3 file at all" * 50)
    with pytest.raises(SpeechError, match=r"could not decode 'speech\.mp3'"):
        decode_audio(path)


def test_decode_audio_refuses_a_missing_file(tmp_path: pathlib.Path) -> None:
    with pytest.raises(SpeechError, match="does not exist"):
        decode_audio(tmp_path / "nothing.wav")


def test_decode_audio_refuses_a_video_without_sound(face_video: pathlib.Path) -> None:
    with pytest.raises(SpeechError, match="no audio stream"):
        decode_audio(face_video)


def test_decode_audio_refuses_audio_over_ten_minutes(write_audio: WriteAudio) -> None:
    path = write_audio("long.wav", "pcm_s16le", np.zeros(8_000 * 602, np.float32), 8_000)
    with pytest.raises(SpeechError, match="limit is 10 minutes"):
        decode_audio(path)


def test_mouth_track_is_shut_in_silence_and_open_on_loud_sound(burst_speech: Speech) -> None:
    fps = 25
    track = burst_speech.mouth_track(fps)
    assert len(track) == round(burst_speech.duration * fps)
    assert track.dtype == np.float32
    assert float(track.min()) >= 0.0 and float(track.max()) <= 1.0
    samples = burst_speech.samples
    hop = burst_speech.sample_rate / fps
    rms = np.array([np.sqrt(np.mean(samples[int(i * hop) : int((i + 1) * hop)] ** 2)) for i in range(len(track))])
    assert np.all(track[rms == 0] == 0.0)
    assert float(track[rms > 0.2].min()) > 0.5
    assert float(np.corrcoef(track, rms)[0, 1]) >= 0.8
    # Smooth: no frame jumps the whole range at once.
    assert float(np.abs(np.diff(track)).max()) < 0.8


def test_mouth_track_of_synthesized_speech_closes_in_pauses() -> None:
    speech = synthesize("Yes. No. Maybe.", "en-US-male-1")
    fps = 25
    track = speech.mouth_track(fps)
    hop = speech.sample_rate / fps
    rms = np.array(
        [np.sqrt(np.mean(speech.samples[int(i * hop) : int((i + 1) * hop)] ** 2)) for i in range(len(track))]
    )
    assert float(track.max()) > 0.7
    assert np.all(track[rms < 1e-4] == 0.0)
    assert float(np.corrcoef(track, rms)[0, 1]) > 0.5


def _frame_loudness(speech: Speech, fps: int, frames: int) -> np.ndarray:
    hop = speech.sample_rate / fps
    s = speech.samples.astype(np.float64)
    return np.array([np.sqrt(np.mean(s[int(i * hop) : int((i + 1) * hop)] ** 2)) for i in range(frames)])


@pytest.mark.parametrize("text", ["Open wide: ah, oh, ee, oo, mm, bah.", "Papa, mama.", "Ah, oh, ee, oo."])
def test_the_mouth_never_stays_shut_while_a_vowel_sounds(text: str) -> None:
    speech = synthesize(text, "en-US-male-1")
    track = speech.mouth_track(25)
    loud = _frame_loudness(speech, 25, len(track))
    voiced = loud > 0.25 * float(loud.max())
    shut_while_voiced = voiced & (track < 0.05)
    # Lips meet only for p, b, m (under 0.15 s each): never a long shut stretch in loud sound.
    longest = max(
        (len(run) for run in np.split(shut_while_voiced, np.flatnonzero(~shut_while_voiced)) if run.any()), default=0
    )
    assert longest <= 4
    # The jaw follows the loudness; a loud "mm" with the lips shut is the one place it must not.
    assert float(np.corrcoef(track, loud)[0, 1]) >= 0.5


def test_ee_is_spread_oo_is_rounded_f_bites_and_stress_is_marked() -> None:
    tracks = synthesize("ee, oo, five.", "en-US-female-1").mouth_tracks(25)
    # Coarticulation blends each vowel with its neighbours, so a frame reaches most of the way, not all.
    assert float(tracks.width.max()) > 0.7 and float(tracks.width.min()) < -0.7
    assert float(tracks.bite.max()) > 0.5
    assert float(tracks.stress.max()) > 0.9
    assert len(tracks.open) == len(tracks.width) == len(tracks.bite) == len(tracks.stress)
