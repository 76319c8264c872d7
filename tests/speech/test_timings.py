# onnxruntime's session outputs are untyped.
# pyright: reportUnknownMemberType=false, reportUnknownVariableType=false
"""The voice's own phoneme timings drive the mouth: it opens with each voiced stretch and shuts in pauses."""

from __future__ import annotations

import importlib.resources

import numpy as np
import numpy.typing as npt
import pytest

from akool_mcp.speech import Speech, synthesize
from akool_mcp.speech.neural import speak
from akool_mcp.speech.onnxgraph import INT64, with_outputs
from akool_mcp.speech.phonemes import Timed, mouth_shapes, timeline
from akool_mcp.speech.voices import VoiceEngine

FPS = 25
TEXT = "Hello there. I can talk, and you can see my mouth move. Maybe we should meet again soon?"


def frame_loudness(speech: Speech, frames: int) -> npt.NDArray[np.float64]:
    hop = speech.sample_rate / FPS
    s = speech.samples.astype(np.float64)
    return np.array([np.sqrt(np.mean(s[int(i * hop) : int((i + 1) * hop)] ** 2)) for i in range(frames)])


def stretches(flags: npt.NDArray[np.bool_], shortest: int) -> list[tuple[int, int]]:
    padded = np.concatenate(([False], flags, [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True) if b - a >= shortest]


@pytest.mark.parametrize("voice_id", ["en-US-female-1", "en-US-male-1", "en-GB-female-1"])
def test_the_mouth_opens_within_two_frames_of_each_voiced_stretch_and_shuts_in_pauses(voice_id: str) -> None:
    speech = synthesize(TEXT, voice_id)
    track = speech.mouth_track(FPS)
    loud = frame_loudness(speech, len(track))
    voiced = stretches(loud > 0.2 * float(loud.max()), shortest=3)  # syllables of 120 ms and more
    assert len(voiced) >= 6
    for start, end in voiced:
        near = track[max(0, start - 2) : start + 3]
        # Parted at least a tenth: a stretch that starts on a hummed "m" opens as its vowel comes.
        assert float(near.max()) > 0.1, (voice_id, start, np.round(track[start - 3 : end], 2))
        # Never shut through voiced speech: lips meet only for p, b, m, each under 0.15 s.
        shut = stretches(track[start:end] < 0.05, shortest=4)
        assert not shut, (voice_id, start, shut)
    pauses = stretches(loud < 1e-3, shortest=4)
    assert len(pauses) >= 2  # between the sentences
    for start, end in pauses:
        assert float(track[start + 1 : end - 1].max(initial=0.0)) == 0.0


def test_the_graphs_durations_come_out_and_add_up_to_the_audio() -> None:
    for engine in (VoiceEngine("hibari", "heart"), VoiceEngine("kokoro", "am_michael")):
        said = speak(engine, "həlˈO ðˈɛɹ.")
        assert len(said.durations) == len(said.symbols)
        assert float(said.durations.sum()) == pytest.approx(len(said.samples) / 24_000, abs=0.026)
        assert said.symbols[0] == said.symbols[-1] == ""  # the model's padding at both ends


def test_an_extra_output_added_to_a_graph_is_listed_by_onnxruntime() -> None:
    from akool_mcp.speech.neural import quiet_onnxruntime

    quiet_onnxruntime()
    import onnxruntime

    raw = (importlib.resources.files("hibari") / "assets" / "hibari.onnx").read_bytes()
    before = onnxruntime.InferenceSession(raw, providers=["CPUExecutionProvider"])
    after = onnxruntime.InferenceSession(
        with_outputs(raw, [("/Cast_32_output_0", INT64)]), providers=["CPUExecutionProvider"]
    )
    assert [o.name for o in after.get_outputs()] == [o.name for o in before.get_outputs()] + ["/Cast_32_output_0"]
    with pytest.raises(ValueError, match="not an ONNX model"):
        with_outputs(b"\x07garbage", [("x", INT64)])


def test_stress_marks_and_spaces_give_their_time_to_the_sounds_around_them() -> None:
    sounds = timeline(["", "h", "ə", "l", "ˈ", "O", " ", "ð", ".", ""], [0.1, 0.05, 0.05, 0.05, 0.025, 0.2, 0.025,
                                                                         0.05, 0.1, 0.2])  # fmt: skip
    assert [s.symbol for s in sounds] == ["", "h", "ə", "l", "O", "ð", ".", ""]
    o = sounds[4]
    assert o.stressed and o.start == pytest.approx(0.25) and o.end == pytest.approx(0.5)  # from the mark to the space


def test_neighbouring_shapes_blend_and_lips_close_for_m_ahead_of_time() -> None:
    # "ah" then "m" then "ah": the lips close on the m; the mouth starts closing before it begins.
    sounds = [Timed("ɑ", 0.0, 0.3), Timed("m", 0.3, 0.4), Timed("ɑ", 0.4, 0.7)]
    opening, shapes = mouth_shapes(sounds, 0.7)
    assert float(opening[35]) < 0.15  # the middle of the m
    assert float(opening[10]) > 0.9  # the middle of the first ah
    assert 0.2 < float(opening[28]) < float(opening[20])  # anticipating the m
    ee_oo = mouth_shapes([Timed("i", 0.0, 0.2), Timed("u", 0.2, 0.4)], 0.4)[1][:, 0]
    assert float(ee_oo[5]) > 0.8 and float(ee_oo[35]) < -0.8 and -0.5 < float(ee_oo[20]) < 0.5
    assert shapes.shape == (70, 4)


def test_the_tongue_shows_over_its_own_sounds_only() -> None:
    # "ah th ah": the tip between the teeth on the th, none on the vowels around it (no blending).
    _, shapes = mouth_shapes([Timed("ɑ", 0.0, 0.3), Timed("θ", 0.3, 0.4), Timed("ɑ", 0.4, 0.7)], 0.7)
    tongue = shapes[:, 3]
    assert float(tongue[30:40].min()) == 1.0
    assert float(tongue[:30].max()) == 0.0 and float(tongue[40:].max()) == 0.0


@pytest.mark.parametrize("voice_id", ["en-US-female-1", "en-US-male-2", "en-GB-male-1"])
def test_the_phoneme_shapes_line_up_with_the_sound(voice_id: str) -> None:
    """The shapes alone (before loudness shapes them) against the sound, every 10 ms: in step, not
    shifted. Measured: in step the fit is within 0.03 of the best shift within 150 ms; timings 100 ms
    off lose 0.2 of it."""
    speech = synthesize(TEXT, voice_id)
    assert speech.mouth is not None
    hop = speech.sample_rate // 100
    steps = len(speech.mouth)
    s = speech.samples.astype(np.float64)
    loud = np.sqrt(np.array([np.sqrt(np.mean(s[i * hop : (i + 1) * hop] ** 2)) for i in range(steps)]))
    lags = range(-15, 16)
    fit = [float(np.corrcoef(np.roll(speech.mouth, lag)[15:-15], loud[15:-15])[0, 1]) for lag in lags]
    assert fit[15] >= max(fit) - 0.06, dict(zip(lags, np.round(fit, 2), strict=True))
    assert fit[15] > 0.3
