"""eSpeak NG through ctypes: text to 22,050 Hz speech with phoneme events, offline.

eSpeak NG comes from the ``espeakng-loader`` wheel (library and data, no system packages; GPL-3.0).
It speaks only the basic voices, languages no neural voice here covers. Its phoneme events give
per-10 ms mouth shapes (see :mod:`visemes`).
"""

from __future__ import annotations

import ctypes
import threading

import espeakng_loader
import numpy as np
import numpy.typing as npt

from akool_mcp.speech.clip import MAX_SECONDS, SpeechError
from akool_mcp.speech.mouth import FloatArray

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


def espeak_speak(text: str, espeak_voice: str) -> tuple[FloatArray, int, list[tuple[int, str]]]:
    """Speak ``text`` with an eSpeak NG voice: samples in -1..1, their rate, and phoneme events (ms, name)."""
    global _engine
    with _engine_lock:
        if _engine is None:
            _engine = _Engine()
        raw, phonemes = _engine.run(text, espeak_voice)
        rate = _engine.sample_rate
    return (raw.astype(np.float32) / 32768.0).astype(np.float32), rate, phonemes
