"""Recorded speech: any common audio file (or a video's audio) decoded to mono float32 with PyAV."""

from __future__ import annotations

import pathlib

import av
import av.error
import numpy as np

from akool_mcp.speech.clip import MAX_SECONDS, Speech, SpeechError
from akool_mcp.speech.mouth import FloatArray


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
