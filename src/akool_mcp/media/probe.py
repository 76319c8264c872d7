# PyAV's stubs leave stream and codec attributes partly untyped: relax the unknown-type checks here only.
# pyright: reportUnknownMemberType=false, reportUnknownVariableType=false, reportUnknownArgumentType=false
"""What a video or audio file really is, read from its container before anything decodes it in full.

A few megabytes can describe a 16000x16000 video (gigabytes once decoded), a stream whose clock runs
so fast that looping it never gets anywhere, or hours of audio. So every avatar video and every audio
file is probed when it arrives (an avatar upload) and again before a render, and refused, with the
limit it breaks, when it is outside these bounds. The limits are part of the API (`/openapi.json`).
"""

from __future__ import annotations

import pathlib
from dataclasses import dataclass
from fractions import Fraction

# The largest video frame an avatar may have: 4096 px a side, and no more pixels than a 4096x2304
# frame (DCI 4K and UHD 3840x2160 pass, in either orientation). A decoded frame of that size is
# about 14 MB in YUV, 28 MB in BGR.
MAX_VIDEO_SIDE = 4096
MAX_VIDEO_PIXELS = 4096 * 2304
MIN_VIDEO_SECONDS = 0.1
MAX_VIDEO_SECONDS = 300.0  # five minutes: an avatar video loops, so a minute (as Akool asks) is plenty
MIN_FPS = 1.0
MAX_FPS = 120.0
# The first frames' own timestamps must not run faster than this many times MAX_FPS: a container that
# claims a sane rate over a stream whose clock races (a huge timescale) is caught here.
_RACING_FACTOR = 2.0
_FRAMES_CHECKED = 5
VIDEO_CODECS = frozenset({"h264", "hevc", "vp8", "vp9", "av1", "mpeg4", "mjpeg", "prores", "mpeg2video"})

MAX_AUDIO_SECONDS = 600.0  # ten minutes of speech, the longest a video may be
MIN_SAMPLE_RATE = 8_000
MAX_SAMPLE_RATE = 192_000
MAX_CHANNELS = 8
AUDIO_CODECS = frozenset({"mp3", "mp3float", "aac", "opus", "libopus", "vorbis", "flac", "alac"})


class ProbeError(ValueError):
    """The file is not media the engine will take; the message names the limit and what to do."""


@dataclass(frozen=True)
class VideoFacts:
    width: int
    height: int
    duration: float
    fps: float
    codec: str


@dataclass(frozen=True)
class AudioFacts:
    duration: float
    sample_rate: int
    channels: int
    codec: str


def limits() -> dict[str, object]:
    """The limits as the API documents them."""
    return {
        "video": {
            "max_side_px": MAX_VIDEO_SIDE,
            "max_pixels": MAX_VIDEO_PIXELS,
            "seconds": [MIN_VIDEO_SECONDS, MAX_VIDEO_SECONDS],
            "fps": [MIN_FPS, MAX_FPS],
            "codecs": sorted(VIDEO_CODECS),
        },
        "audio": {
            "max_seconds": MAX_AUDIO_SECONDS,
            "sample_rate_hz": [MIN_SAMPLE_RATE, MAX_SAMPLE_RATE],
            "max_channels": MAX_CHANNELS,
            "codecs": sorted(AUDIO_CODECS | {"pcm (wav)"}),
        },
    }


def probe_video(path: pathlib.Path, shown: str | None = None) -> VideoFacts:
    """The video's size, length, frame rate and codec, refused (ProbeError) outside the limits.

    `shown` is how messages name the file ("the avatar video"); its own name by default.
    """
    import av
    import av.error

    name = shown or repr(path.name)
    try:
        with av.open(str(path), "r") as container:
            if not container.streams.video:
                raise ProbeError(f"{name} has no video stream; use an .mp4, .mov or .avi video")
            stream = container.streams.video[0]
            codec = str(stream.codec_context.name or "")
            width, height = int(stream.codec_context.width or 0), int(stream.codec_context.height or 0)
            _check_video_header(name, codec, width, height)
            duration = _duration(container.duration, stream.duration, stream.time_base)
            rate = stream.average_rate or stream.guessed_rate
            times: list[float] = []
            for frame in container.decode(stream):
                if frame.pts is not None:
                    times.append(float(frame.time))
                if len(times) >= _FRAMES_CHECKED:
                    break
    except ProbeError:
        raise
    except (av.error.FFmpegError, ValueError, OSError) as exc:
        raise ProbeError(
            f"could not read {name} as a video ({type(exc).__name__}); use an .mp4, .mov or .avi file"
        ) from None
    if not times:
        raise ProbeError(f"{name} contains no video frames")
    fps = float(rate) if rate else 0.0
    if len(times) > 1 and times[-1] > times[0]:
        own = (len(times) - 1) / (times[-1] - times[0])
        fps = fps or own
        if own > _RACING_FACTOR * MAX_FPS:
            raise ProbeError(
                f"{name}: its frames' timestamps run at {own:,.0f} frames a second (its time base is broken); "
                "re-encode it (e.g. with ffmpeg -r 30) and upload it again"
            )
    elif len(times) > 1:
        raise ProbeError(f"{name}: its frames carry no advancing timestamps; re-encode it and upload it again")
    if duration <= 0.0 and fps > 0:
        duration = len(times) / fps
    if not MIN_FPS <= fps <= MAX_FPS:
        raise ProbeError(f"{name} runs at {fps:,.2f} frames a second; use a video of {MIN_FPS:g} to {MAX_FPS:g} fps")
    if duration < MIN_VIDEO_SECONDS:
        raise ProbeError(f"{name} lasts {duration:.3f} s; an avatar video needs at least {MIN_VIDEO_SECONDS:g} s")
    if duration > MAX_VIDEO_SECONDS:
        raise ProbeError(
            f"{name} lasts {duration / 60:.1f} minutes; use an avatar video of at most "
            f"{MAX_VIDEO_SECONDS / 60:.0f} minutes (it loops, so one minute is plenty)"
        )
    return VideoFacts(width, height, duration, fps, codec)


def _check_video_header(name: str, codec: str, width: int, height: int) -> None:
    if codec not in VIDEO_CODECS:
        raise ProbeError(
            f"{name} is encoded as {codec or 'an unknown codec'}; use H.264, H.265, VP8, VP9, AV1, MPEG-4, "
            "Motion JPEG or ProRes"
        )
    if width <= 0 or height <= 0:
        raise ProbeError(f"{name} does not say its frame size; re-encode it and upload it again")
    if max(width, height) > MAX_VIDEO_SIDE or width * height > MAX_VIDEO_PIXELS:
        raise ProbeError(
            f"{name} is {width}x{height} pixels; an avatar video may be at most {MAX_VIDEO_SIDE} px a side and "
            f"{MAX_VIDEO_PIXELS / 1e6:.1f} megapixels (3840x2160 fits): scale it down"
        )


def probe_audio(path: pathlib.Path, shown: str | None = None) -> AudioFacts:
    """The audio's length, rate, channels and codec, refused (ProbeError) outside the limits."""
    import av
    import av.error

    name = shown or repr(path.name)
    try:
        with av.open(str(path), "r") as container:
            if not container.streams.audio:
                raise ProbeError(f"{name} has no audio stream; give an mp3, wav, m4a, ogg or flac file")
            stream = container.streams.audio[0]
            codec = str(stream.codec_context.name or "")
            rate = int(stream.codec_context.sample_rate or 0)
            channels = int(stream.codec_context.channels or 0)
            duration = _duration(container.duration, stream.duration, stream.time_base)
    except ProbeError:
        raise
    except (av.error.FFmpegError, ValueError, OSError) as exc:
        raise ProbeError(
            f"could not read {name} as audio ({type(exc).__name__}); give an mp3, wav, m4a, ogg or flac file"
        ) from None
    if codec not in AUDIO_CODECS and not codec.startswith("pcm_"):
        raise ProbeError(
            f"{name} is encoded as {codec or 'an unknown codec'}; give mp3, AAC, Opus, Vorbis, FLAC or WAV"
        )
    if not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
        raise ProbeError(f"{name} has a sample rate of {rate} Hz; use {MIN_SAMPLE_RATE} to {MAX_SAMPLE_RATE} Hz")
    if not 1 <= channels <= MAX_CHANNELS:
        raise ProbeError(f"{name} has {channels} channels; use mono or stereo audio")
    if duration > MAX_AUDIO_SECONDS:
        raise ProbeError(
            f"{name} lasts {duration / 60:.1f} minutes; the limit is {MAX_AUDIO_SECONDS / 60:.0f} minutes, "
            "trim the audio or split it into several videos"
        )
    return AudioFacts(duration, rate, channels, codec)


def _duration(container_us: int | None, stream_units: int | None, time_base: Fraction | None) -> float:
    """Seconds, from the container (microseconds) or else the stream (its own time base)."""
    if container_us is not None and container_us > 0:
        return container_us / 1_000_000
    if stream_units is not None and time_base is not None and stream_units > 0:
        return float(stream_units * time_base)
    return 0.0
