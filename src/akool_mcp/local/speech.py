"""Offline speech for the local engine: eSpeak NG text to speech, audio decoding, mouth tracks.

eSpeak NG comes from the ``espeakng-loader`` wheel (library and data, no system packages) and
is driven through ctypes. Its phoneme events give per-10 ms mouth shapes; decoded audio only has
loudness, so :meth:`Speech.mouth_track` works from either.
"""

from __future__ import annotations

import ctypes
import math
import pathlib
import threading
from dataclasses import dataclass

import av
import av.error
import espeakng_loader
import numpy as np
import numpy.typing as npt

__all__ = ["MouthTracks", "Speech", "SpeechError", "Voice", "decode_audio", "list_voices", "synthesize"]

MAX_SECONDS = 600.0
MAX_TEXT_CHARS = 50_000
MOUTH_STEP = 0.01  # seconds per entry of Speech.mouth

FloatArray = npt.NDArray[np.float32]


class SpeechError(Exception):
    """Speech could not be produced; the message tells the user what to change."""


@dataclass(frozen=True)
class Voice:
    voice_id: str
    name: str
    gender: str
    language: str
    locale: str


# voice_id -> (eSpeak voice name with variant, display name). The ids are part of the public
# contract: never rename one, only add.
_VOICE_TABLE: tuple[tuple[Voice, str], ...] = (
    (Voice("en-US-male-1", "Ethan", "male", "English", "en-US"), "en-us"),
    (Voice("en-US-male-2", "Noah", "male", "English", "en-US"), "en-us+m3"),
    (Voice("en-US-female-1", "Ava", "female", "English", "en-US"), "en-us+f3"),
    (Voice("en-US-female-2", "Mia", "female", "English", "en-US"), "en-us+f4"),
    (Voice("en-GB-male-1", "Oliver", "male", "English", "en-GB"), "en"),
    (Voice("en-GB-female-1", "Amelia", "female", "English", "en-GB"), "en+f2"),
    (Voice("es-ES-male-1", "Mateo", "male", "Spanish", "es-ES"), "es"),
    (Voice("es-ES-female-1", "Lucia", "female", "Spanish", "es-ES"), "es+f3"),
    (Voice("fr-FR-male-1", "Louis", "male", "French", "fr-FR"), "fr"),
    (Voice("fr-FR-female-1", "Camille", "female", "French", "fr-FR"), "fr+f3"),
    (Voice("de-DE-male-1", "Lukas", "male", "German", "de-DE"), "de"),
    (Voice("de-DE-female-1", "Hannah", "female", "German", "de-DE"), "de+f2"),
)
_ESPEAK_NAMES = {voice.voice_id: espeak for voice, espeak in _VOICE_TABLE}


def list_voices() -> list[Voice]:
    return [voice for voice, _ in _VOICE_TABLE]


@dataclass(frozen=True)
class MouthTracks:
    """Per video frame: how the mouth moves, and when a syllable is stressed."""

    open: FloatArray  # jaw opening 0..1, exactly 0 on silent frames
    width: FloatArray  # lip shape -1 rounded (o u w) .. 0 neutral .. +1 spread (i e)
    bite: FloatArray  # 0..1 lower lip tucked under the upper teeth (f v)
    stress: FloatArray  # 0..1 a stressed syllable's emphasis (brows lift), decaying after it


@dataclass(frozen=True, eq=False)
class Speech:
    """Mono speech; ``eq=False`` because arrays have no single truth value to compare.

    ``mouth`` (openness) and ``shapes`` (columns width, bite, stress) come every MOUTH_STEP
    seconds from synthesized speech's phonemes; decoded audio has neither and moves the mouth
    by loudness alone.
    """

    samples: FloatArray
    sample_rate: int
    mouth: FloatArray | None = None
    shapes: FloatArray | None = None

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate

    def mouth_track(self, fps: int) -> FloatArray:
        """Per-video-frame mouth openness in 0..1, exactly 0 on silent frames."""
        if fps <= 0:
            raise ValueError("fps must be positive")
        return _mouth_track(self.samples, self.sample_rate, self.mouth, fps)

    def mouth_tracks(self, fps: int) -> MouthTracks:
        """Openness (as :meth:`mouth_track`) with the lip shape and stress, per video frame."""
        opening = self.mouth_track(fps)
        frames = len(opening)
        if self.shapes is None or len(self.shapes) == 0:
            flat = np.zeros(frames, np.float32)
            return MouthTracks(opening, flat, flat.copy(), _loudness_stress(opening, fps))
        columns = [
            _frame_means(self.shapes[:, k].astype(np.float64), 1 / (MOUTH_STEP * fps), frames).astype(np.float32)
            for k in range(3)
        ]
        speaking = opening > 0
        width = np.where(speaking, columns[0], 0.0).astype(np.float32)
        bite = np.where(speaking, columns[1], 0.0).astype(np.float32)
        return MouthTracks(opening, width, bite, columns[2])


def _loudness_stress(opening: FloatArray, fps: int) -> FloatArray:
    """Without phonemes, emphasis is where the mouth opens wider than it has lately."""
    stress = np.zeros(len(opening), np.float32)
    decay = math.exp(-1 / (fps * _STRESS_DECAY_S))
    level, recent = 0.0, 0.0
    for index, value in enumerate(opening.tolist()):
        level *= decay
        if value > 0.75 and value > recent + 0.25:
            level = 1.0
        recent = max(value, recent * decay)
        stress[index] = level
    return stress


# --- eSpeak NG through ctypes -------------------------------------------------------------

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INIT_PHONEME_EVENTS = 0x0001
_INIT_DONT_EXIT = 0x8000  # without it eSpeak calls exit() on a bad data path
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_EVENT_LIST_TERMINATED = 0
_EVENT_PHONEME = 7
_PARAM_RATE = 1
_WORDS_PER_MINUTE = 165  # a touch slower than eSpeak's 175 reads more naturally for a presenter


class _EventId(ctypes.Union):
    _fields_ = (("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8))


class _Event(ctypes.Structure):
    _fields_ = (
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    )


# Pointers arrive as plain addresses (c_void_p) and are cast where used.
_SynthCallback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p)


class _Engine:
    """The one eSpeak instance of the process (eSpeak keeps global state)."""

    def __init__(self) -> None:
        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int)
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetVoiceByName.argtypes = (ctypes.c_char_p,)
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.c_int)
        lib.espeak_Synth.argtypes = (
            ctypes.c_char_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        )
        lib.espeak_Synth.restype = ctypes.c_int
        data = espeakng_loader.get_data_path().encode()
        rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data, _INIT_PHONEME_EVENTS | _INIT_DONT_EXIT)
        if rate <= 0:
            raise SpeechError("the offline speech engine (eSpeak NG) failed to start; reinstall espeakng-loader")
        self.lib = lib
        self.sample_rate = rate
        self.max_samples = int(MAX_SECONDS * rate)
        self.chunks: list[npt.NDArray[np.int16]] = []
        self.phonemes: list[tuple[int, str]] = []
        self.total = 0
        self.too_long = False
        # Kept on the instance: ctypes would free a callback that only C holds.
        self.callback = _SynthCallback(self._on_audio)
        lib.espeak_SetSynthCallback(self.callback)

    def _on_audio(self, wav: int | None, count: int, events: int | None) -> int:
        if wav and count > 0:
            block = (ctypes.c_short * count).from_address(wav)
            self.chunks.append(np.frombuffer(memoryview(block), np.int16).copy())
            self.total += count
        if events:
            listed = ctypes.cast(events, ctypes.POINTER(_Event))
            i = 0
            while listed[i].type != _EVENT_LIST_TERMINATED:
                event = listed[i]
                if event.type == _EVENT_PHONEME:
                    self.phonemes.append((event.audio_position, event.id.string.decode("utf-8", "replace")))
                i += 1
        if self.total > self.max_samples:
            self.too_long = True
            return 1  # asks eSpeak to stop
        return 0

    def run(self, text: str, espeak_voice: str) -> tuple[npt.NDArray[np.int16], list[tuple[int, str]]]:
        self.chunks, self.phonemes, self.total, self.too_long = [], [], 0, False
        if self.lib.espeak_SetVoiceByName(espeak_voice.encode()) != 0:
            raise SpeechError(f"voice data for {espeak_voice!r} is missing from eSpeak NG; reinstall espeakng-loader")
        self.lib.espeak_SetParameter(_PARAM_RATE, _WORDS_PER_MINUTE, 0)
        encoded = text.encode("utf-8")
        status = self.lib.espeak_Synth(encoded, len(encoded) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
        if self.too_long:
            raise SpeechError(
                f"the text would take more than {MAX_SECONDS / 60:.0f} minutes to speak; split it into shorter videos"
            )
        if status != 0:
            raise SpeechError(f"speech synthesis failed (eSpeak NG error {status}); try simpler text")
        samples = np.concatenate(self.chunks) if self.chunks else np.zeros(0, np.int16)
        return samples, self.phonemes


_engine: _Engine | None = None
_engine_lock = threading.Lock()


def synthesize(text: str, voice_id: str) -> Speech:
    """Speak ``text`` with a local eSpeak NG voice (offline, thread-safe)."""
    global _engine
    espeak_voice = _ESPEAK_NAMES.get(voice_id)
    if espeak_voice is None:
        valid = ", ".join(_ESPEAK_NAMES)
        raise SpeechError(f"unknown voice_id {voice_id!r}; use one of: {valid}")
    text = text.strip()
    if not text:
        raise SpeechError("the text to speak is empty; give at least one word")
    if len(text) > MAX_TEXT_CHARS:
        raise SpeechError(f"the text has {len(text)} characters; the limit is {MAX_TEXT_CHARS}, split it")
    with _engine_lock:
        if _engine is None:
            _engine = _Engine()
        raw, phonemes = _engine.run(text, espeak_voice)
        rate = _engine.sample_rate
    if len(raw) == 0:
        raise SpeechError("the text produced no speech; give words in the voice's language")
    samples = (raw.astype(np.float32) / 32768.0).astype(np.float32)
    mouth, shapes = _phoneme_mouth(phonemes, len(samples) / rate)
    return Speech(samples=samples, sample_rate=rate, mouth=mouth, shapes=shapes)


# --- phonemes to mouth shapes ---------------------------------------------------------------

# How far each sound opens the jaw (0 lips together, 1 wide open). eSpeak mnemonics share
# their vowel letters across languages, so one table serves every voice.
_VOWEL_OPENNESS = {
    "a": 1.0,
    "A": 0.95,
    "V": 0.85,
    "&": 0.9,
    "O": 0.8,
    "o": 0.7,
    "0": 0.8,
    "Q": 0.8,
    "E": 0.7,
    "e": 0.6,
    "3": 0.55,
    "@": 0.45,
    "I": 0.4,
    "i": 0.35,
    "y": 0.35,
    "Y": 0.4,
    "U": 0.35,
    "u": 0.3,
}
# Lip shape per vowel: -1 rounded and pushed forward (u, o), +1 spread (i, e).
_VOWEL_WIDTH = {"i": 1.0, "I": 0.7, "e": 0.7, "E": 0.45, "&": 0.3, "a": 0.1, "y": -0.9, "Y": -0.7, "u": -1.0,
                "U": -0.8, "o": -0.85, "O": -0.6, "0": -0.55, "Q": -0.5}  # fmt: skip
_CLOSED_CONSONANTS = frozenset("pbm")  # lips pressed together
_BITE_CONSONANTS = frozenset("fv")  # lower lip under the upper teeth
_ROUND_CONSONANTS = {"w": -1.0, "S": -0.5, "Z": -0.5, "r": -0.35}
_STRESS_DECAY_S = 0.35


def phoneme_openness(phoneme: str) -> float:
    """Jaw opening for one eSpeak phoneme mnemonic (stress marks and suffixes ignored)."""
    return phoneme_viseme(phoneme)[0]


def phoneme_viseme(phoneme: str) -> tuple[float, float, float]:
    """(openness, width, bite) for one eSpeak phoneme mnemonic: its mouth shape.

    Five families: closed (p b m), rounded (o u w), spread (i e), open (a) and lip-on-teeth
    (f v); other consonants keep the jaw a little open in a neutral shape.
    """
    core = phoneme.lstrip("',%=")
    if not core or core[0] == "_":
        return 0.0, 0.0, 0.0
    for ch in core:
        if ch in _VOWEL_OPENNESS:
            return _VOWEL_OPENNESS[ch], _VOWEL_WIDTH.get(ch, 0.0), 0.0
    if core[0] in _CLOSED_CONSONANTS:
        return 0.0, 0.0, 0.0
    if core[0] in _BITE_CONSONANTS:
        return 0.1, 0.1, 1.0
    if core[0] in _ROUND_CONSONANTS:
        return 0.15, _ROUND_CONSONANTS[core[0]], 0.0
    if core.startswith(("tS", "dZ")):
        return 0.2, -0.5, 0.0
    return 0.22, 0.0, 0.0


def _phoneme_mouth(phonemes: list[tuple[int, str]], duration: float) -> tuple[FloatArray, FloatArray]:
    """Openness and (width, bite, stress) every MOUTH_STEP from eSpeak's phoneme events (ms)."""
    steps = max(1, math.ceil(duration / MOUTH_STEP))
    mouth = np.zeros(steps, np.float32)
    shapes = np.zeros((steps, 3), np.float32)
    # Sorted by time only: eSpeak reports a pause marker and the vowel after it at the same
    # moment, pause first; sorting on the names too put the pause last and silenced the vowel.
    ordered = sorted(phonemes, key=lambda event: event[0])
    for index, (start_ms, name) in enumerate(ordered):
        end_ms = ordered[index + 1][0] if index + 1 < len(ordered) else start_ms + 120
        if end_ms <= start_ms:
            continue  # an instant marker: the next sound starts here
        first, last = int(start_ms / 10), min(steps, max(int(end_ms / 10), int(start_ms / 10) + 1))
        openness, width, bite = phoneme_viseme(name)
        mouth[first:last] = openness
        shapes[first:last, 0] = width
        shapes[first:last, 1] = bite
        if name.startswith("'") and openness > 0.3:  # a vowel with primary stress
            span = np.arange(steps - first, dtype=np.float32) * MOUTH_STEP
            shapes[first:, 2] = np.maximum(shapes[first:, 2], np.exp(-span / _STRESS_DECAY_S))
    # Neighbouring sounds blend into each other (coarticulation): a 30 ms box smooths the steps.
    kernel = np.ones(3, np.float32) / 3
    smooth = np.convolve(mouth, kernel, mode="same").astype(np.float32)
    for k in range(2):
        shapes[:, k] = np.convolve(shapes[:, k], kernel, mode="same")
    return smooth, shapes


# --- mouth track ----------------------------------------------------------------------------

_GATE_BELOW_PEAK_DB = 32.0  # frames this far under the loud frames count as silence
_GATE_FLOOR = 10 ** (-55 / 20)  # absolute floor: hiss in a quiet recording is silence
_ATTACK_S = 0.03
_RELEASE_S = 0.07
_CLOSE_S = 0.1  # the fastest a fully open mouth may close when a pause comes
_LONGEST_CLOSURE_S = 0.15
_SHAPED_REFERENCE = 0.75  # phoneme openness (times loudness) that counts as wide open


def _runs(flags: npt.NDArray[np.bool_]) -> list[tuple[int, int]]:
    """(start, end) of each stretch of True values."""
    padded = np.concatenate(([False], flags, [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def _frame_means(values: npt.NDArray[np.float64], per_frame: float, frames: int) -> npt.NDArray[np.float64]:
    """Mean of ``values`` over each video frame's span (``per_frame`` values per frame)."""
    cumulative = np.concatenate(([0.0], np.cumsum(values)))
    edges = np.minimum(np.round(np.arange(frames + 1) * per_frame).astype(np.int64), len(values))
    starts, ends = edges[:-1], edges[1:]
    ends = np.maximum(ends, np.minimum(starts + 1, len(values)))
    counts = np.maximum(ends - starts, 1)
    return (cumulative[ends] - cumulative[starts]) / counts


def _mouth_track(samples: FloatArray, rate: int, mouth: FloatArray | None, fps: int) -> FloatArray:
    frames = max(1, round(len(samples) / rate * fps))
    rms = np.sqrt(_frame_means(samples.astype(np.float64) ** 2, rate / fps, frames))
    audible = rms[rms > _GATE_FLOOR]
    if len(audible) == 0:
        return np.zeros(frames, np.float32)
    reference = float(np.percentile(audible, 95))
    silent = rms < max(reference * 10 ** (-_GATE_BELOW_PEAK_DB / 20), _GATE_FLOOR)
    # Jaw opening grows roughly with the square root of loudness: quiet syllables still move it.
    loud = np.sqrt(np.clip(rms / reference, 0.0, 1.0))
    if mouth is not None and len(mouth) > 0:
        shape = _frame_means(mouth.astype(np.float64), 1 / (MOUTH_STEP * fps), frames)
        target = shape * (0.45 + 0.55 * loud)
        # Lips stay shut through p, b and m, which last under a tenth of a second; a longer
        # shut stretch while sound plays means the phoneme timings slipped: follow the sound.
        shut = (shape <= 0.02) & ~silent
        for start, end in _runs(shut):
            if (end - start) / fps > _LONGEST_CLOSURE_S:
                target[start:end] = loud[start:end]
    else:
        target = loud
    target[silent] = 0.0
    voiced = target[target > 0]
    if len(voiced) > 0:
        # Loudness alone is relative: its loud moments open the mouth wide. Phoneme shapes are
        # absolute: "ee, oo" must not open as wide as "ah" just because no "ah" was said.
        floor = _SHAPED_REFERENCE if mouth is not None and len(mouth) > 0 else 1e-6
        target = np.clip(target / max(float(np.percentile(voiced, 95)), floor) * 0.95, 0.0, 1.0)

    attack = 1 - math.exp(-1 / (fps * _ATTACK_S))
    release = 1 - math.exp(-1 / (fps * _RELEASE_S))
    smooth = np.empty(frames, np.float64)
    level = 0.0
    for index, value in enumerate(target.tolist()):
        level += (attack if value > level else release) * (value - level)
        smooth[index] = level
    smooth[silent] = 0.0
    # Offline we can look ahead: start closing before a pause instead of snapping shut on it.
    step = 1 / (fps * _CLOSE_S)
    for index in range(frames - 2, -1, -1):
        smooth[index] = min(smooth[index], smooth[index + 1] + step)
    return smooth.astype(np.float32)


# --- decoding -------------------------------------------------------------------------------


def decode_audio(path: pathlib.Path, rate: int | None = None) -> Speech:
    """Decode any common audio file (or a video's audio) to mono float32, at its own rate or ``rate``."""
    if not path.is_file():
        raise SpeechError(f"audio file {path.name!r} does not exist")
    try:
        with av.open(str(path), "r") as container:
            if not container.streams.audio:
                raise SpeechError(f"{path.name!r} has no audio stream; give an mp3, wav, m4a, ogg or flac file")
            if container.duration is not None and container.duration / 1_000_000 > MAX_SECONDS + 1:
                raise SpeechError(_too_long_message(path, container.duration / 1_000_000))
            stream = container.streams.audio[0]
            rate = rate or stream.codec_context.sample_rate or 44_100
            resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
            pieces: list[FloatArray] = []
            total = 0
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    piece = out.to_ndarray().reshape(-1).astype(np.float32)
                    pieces.append(piece)
                    total += len(piece)
                if total > (MAX_SECONDS + 1) * rate:
                    raise SpeechError(_too_long_message(path, total / rate))
            for out in resampler.resample(None):
                pieces.append(out.to_ndarray().reshape(-1).astype(np.float32))
    except SpeechError:
        raise
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise SpeechError(
            f"could not decode {path.name!r} as audio ({exc}); give an mp3, wav, m4a, ogg or flac file"
        ) from exc
    samples = np.concatenate(pieces) if pieces else np.zeros(0, np.float32)
    if len(samples) == 0:
        raise SpeechError(f"{path.name!r} contains no audio samples")
    np.clip(samples, -1.0, 1.0, out=samples)
    return Speech(samples=samples, sample_rate=rate, mouth=None)


def _too_long_message(path: pathlib.Path, seconds: float) -> str:
    return (
        f"{path.name!r} lasts {seconds / 60:.1f} minutes; the limit is {MAX_SECONDS / 60:.0f} minutes, trim the audio"
    )
