"""Recorded speech: any common audio file (or a video's audio) decoded to mono float32 with PyAV."""

from __future__ import annotations

import pathlib

import av
import av.error
import numpy as np

from akool_mcp.speech.clip import MAX_SECONDS, Speech, SpeechError
from akool_mcp.speech.mouth import FloatArray


def resample(samples: FloatArray, rate: int, to: int) -> FloatArray:
    """``samples`` at ``rate`` brought to ``to`` samples a second, band-limited exactly (FFT).

    FFmpeg's resampler (what PyAV does unasked) has a transition band just under the lower rate's
    Nyquist frequency: 24 -> 48 -> 24 kHz through it came back at 32.8 dB over the difference on a
    neural voice, which puts energy right up to 12 kHz; through the FFT the round trip is exact
    (161 dB), so the AAC coder's own noise is all that is left. float32 throughout: 10 minutes of
    speech at 48 kHz costs about 350 MB for a moment.
    """
    if rate == to or len(samples) == 0:
        return samples
    count = round(len(samples) * to / rate)
    spectrum = np.fft.rfft(np.asarray(samples, np.float32))
    kept = np.zeros(count // 2 + 1, spectrum.dtype)
    bins = min(len(spectrum), len(kept))
    kept[:bins] = spectrum[:bins]
    if count % 2 == 0 and bins == len(kept):
        kept[-1] = kept[-1].real  # the new Nyquist bin of an even length is real
    out = np.fft.irfft(kept, count).astype(np.float32)
    out *= count / len(samples)
    return out


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
            own_rate = stream.codec_context.sample_rate or 44_100
            resampler = av.AudioResampler(format="flt", layout="mono", rate=own_rate)
            pieces: list[FloatArray] = []
            total = 0
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    piece = out.to_ndarray().reshape(-1).astype(np.float32)
                    pieces.append(piece)
                    total += len(piece)
                if total > (MAX_SECONDS + 1) * own_rate:
                    raise SpeechError(_too_long_message(path, total / own_rate))
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
    if rate is not None and rate != own_rate:
        samples = resample(samples, own_rate, rate)
    np.clip(samples, -1.0, 1.0, out=samples)
    return Speech(samples=samples, sample_rate=rate or own_rate, mouth=None)


def _too_long_message(path: pathlib.Path, seconds: float) -> str:
    return (
        f"{path.name!r} lasts {seconds / 60:.1f} minutes; the limit is {MAX_SECONDS / 60:.0f} minutes, trim the audio"
    )
