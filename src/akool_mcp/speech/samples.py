# PyAV's stubs leave Packet and **kwargs untyped: relax the unknown-type checks here only.
# pyright: reportUnknownMemberType=false, reportUnknownVariableType=false
"""Voice samples: a short preview of each voice: a fixed sentence in its language, made once and kept as an MP3."""

from __future__ import annotations

import fractions
import io
import re
import threading
from pathlib import Path

from akool_mcp.speech.clip import SpeechError
from akool_mcp.speech.voices import VOICES

PREVIEW_SENTENCES = {
    "English": "Hi, I'm {name}. This is how I sound when I read your script aloud.",
    "Spanish": "Hola, soy {name}. Así suena mi voz cuando leo tu texto.",
    "French": "Bonjour, je suis {name}. Voici ma voix quand je lis votre texte.",
    "German": "Hallo, ich bin {name}. So klingt meine Stimme, wenn ich Ihren Text lese.",
}
PREVIEW_BIT_RATE = 64_000  # mono speech: transparent enough for choosing a voice, ~30 KB a preview
_NAME = re.compile(r"[A-Za-z0-9-]{1,64}")
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def preview_text(voice_id: str) -> str:
    voice = VOICES.get(voice_id)
    if voice is None:
        raise SpeechError(f"unknown voice_id {voice_id!r}; use one of: {', '.join(VOICES)}")
    return PREVIEW_SENTENCES.get(voice.language, PREVIEW_SENTENCES["English"]).format(name=voice.name)


def encode_mp3(samples: object, rate: int) -> bytes:
    """Mono float32 samples as MP3 bytes (LAME, from PyAV's FFmpeg)."""
    import av
    import numpy as np

    audio = np.ascontiguousarray(np.asarray(samples, np.float32).reshape(1, -1))
    out = io.BytesIO()
    with av.open(out, "w", format="mp3") as container:
        stream = container.add_stream("libmp3lame", rate=rate)
        stream.layout = "mono"
        stream.bit_rate = PREVIEW_BIT_RATE
        frame = av.AudioFrame.from_ndarray(audio, format="flt", layout="mono")
        frame.sample_rate = rate
        frame.pts = 0
        frame.time_base = fractions.Fraction(1, rate)
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return out.getvalue()


def preview_file(voice_id: str, folder: Path) -> Path:
    """The voice's preview MP3 in ``folder``, made on first use and kept (thread-safe, written atomically)."""
    from akool_mcp.speech.synthesis import synthesize

    if voice_id not in VOICES or not _NAME.fullmatch(voice_id):
        raise SpeechError(f"unknown voice_id {voice_id!r}; use one of: {', '.join(VOICES)}")
    target = folder / voice_id / "preview.mp3"
    if target.is_file():
        return target
    with _locks_guard:
        lock = _locks.setdefault(voice_id, threading.Lock())
    with lock:
        if target.is_file():
            return target
        speech = synthesize(preview_text(voice_id), voice_id)
        data = encode_mp3(speech.samples, speech.sample_rate)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(".preview.partial.mp3")
        partial.write_bytes(data)
        partial.replace(target)
    return target
