# PyAV's stubs leave packets, streams and frames partly untyped: relax the unknown-type checks here only.
# pyright: reportUnknownMemberType=false, reportUnknownVariableType=false, reportUnknownArgumentType=false
"""Finished clips joined into one MP4: the pictures copied as they are where they can be, one soundtrack.

Clips made with the same encoding parameters (codec, size, frame rate and the decoder set-up they carry)
are joined by copying their compressed pictures one after the other, with their timestamps moved on:
nothing is decoded or encoded again, so a joint loses no quality and a minute of 4K takes well under a
second. A clip whose parameters differ (another size or frame rate, another encoder) is converted once,
to the first clip's parameters, before the copy. A crossfade blends the clips' pictures, so it re-encodes
everything.

The sound is always one continuous track: every clip's audio is decoded, cut or padded to exactly its
pictures' length (so sound and picture meet at every joint), faded over a few milliseconds at each
joint (no click) and encoded once.
"""

from __future__ import annotations

import fractions
import pathlib
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import cast

import av
import av.error
import numpy as np
import numpy.typing as npt
from av.container import OutputContainer

from akool_mcp.render.composition import RenderError
from akool_mcp.render.encode import AUDIO_BIT_RATE, AUDIO_CODER, AUDIO_RATE

Floats = npt.NDArray[np.float32]
Yuv = npt.NDArray[np.uint8]  # a picture as a yuv420p block: Y rows, then U and V

# Each clip's sound fades out and the next fades in over this long: a step between two samples is
# heard as a click, and 5 ms is far below what an ear notices as a fade.
JOINT_FADE_S = 0.005
_AUDIO_AHEAD_S = 0.5  # the sound is encoded this far ahead of the pictures, for close interleaving


@dataclass(frozen=True)
class ClipFormat:
    """What must match for pictures to be copied from one clip into another's stream."""

    codec: str
    width: int
    height: int
    fps: fractions.Fraction
    extradata: bytes  # the decoder set-up (H.264's SPS/PPS): pictures are only valid under their own


@dataclass(frozen=True)
class Clip:
    path: pathlib.Path
    format: ClipFormat
    frames: int

    @property
    def duration(self) -> float:
        return float(self.frames / self.format.fps)


@dataclass(frozen=True)
class Joined:
    path: pathlib.Path
    duration: float
    starts: tuple[float, ...]  # where each clip begins in the joined video, in seconds
    lengths: tuple[float, ...]  # how long each clip lasts there (its pictures; a crossfade overlaps the next)
    converted: tuple[int, ...]  # the clips that had to be encoded again (none when all matched)
    copied: bool  # whether the pictures were copied (False: a crossfade re-encoded them all)


def read_clip(path: pathlib.Path) -> Clip:
    """A finished clip's format and its number of pictures (counted from its packets, not decoded)."""
    try:
        with av.open(str(path), "r") as container:
            if not container.streams.video:
                raise RenderError(f"{path.name!r} has no pictures")
            stream = container.streams.video[0]
            rate = stream.average_rate or stream.guessed_rate
            if not rate:
                raise RenderError(f"{path.name!r} does not say its frame rate")
            context = stream.codec_context
            clip_format = ClipFormat(
                str(context.name), int(context.width), int(context.height), fractions.Fraction(rate),
                bytes(context.extradata or b""),
            )  # fmt: skip
            frames = sum(1 for packet in container.demux(stream) if packet.size > 0)
    except (av.error.FFmpegError, ValueError) as exc:
        raise RenderError(f"could not read {path.name!r} as a video ({exc})") from exc
    if frames == 0:
        raise RenderError(f"{path.name!r} has no pictures")
    return Clip(path, clip_format, frames)


def join_clips(
    paths: Sequence[pathlib.Path],
    out: pathlib.Path,
    *,
    crossfade: float = 0.0,
    preset: str = "veryfast",
    crf: int = 23,
    cancelled: Callable[[], bool] | None = None,
) -> Joined:
    """Join `paths` in order into `out` (see the module's docstring); `crossfade` seconds blend each joint."""
    if not paths:
        raise RenderError("there are no clips to join")
    clips = [read_clip(path) for path in paths]
    reference = clips[0].format
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".join-") as work:
        if crossfade > 0:
            sound = _soundtrack(clips, crossfade)
            _reencode(clips, out, reference, sound, crossfade=crossfade, preset=preset, crf=crf, cancelled=cancelled)
            return Joined(
                out,
                len(sound) / AUDIO_RATE,
                _starts(clips, crossfade),
                _lengths(clips),
                tuple(range(len(clips))),
                False,
            )
        converted: list[int] = []
        for index, clip in enumerate(clips):
            if clip.format != reference:
                target = pathlib.Path(work) / f"clip-{index}.mp4"
                _reencode([clip], target, reference, None, crossfade=0, preset=preset, crf=crf, cancelled=cancelled)
                clips[index] = read_clip(target)
                converted.append(index)
        if any(clip.format != reference for clip in clips):
            # The converted clips came out with another decoder set-up (another encoder made the first):
            # encode them all once, so the joint video has one.
            sound = _soundtrack(clips, 0.0)
            _reencode(clips, out, reference, sound, crossfade=0, preset=preset, crf=crf, cancelled=cancelled)
            return Joined(
                out, len(sound) / AUDIO_RATE, _starts(clips, 0.0), _lengths(clips), tuple(range(len(clips))), False
            )
        sound = _soundtrack(clips, 0.0)
        _copy_pictures(clips, out, sound, cancelled)
    total = sum(clip.duration for clip in clips)
    return Joined(out, total, _starts(clips, 0.0), _lengths(clips), tuple(converted), True)


def _starts(clips: Sequence[Clip], crossfade: float) -> tuple[float, ...]:
    starts: list[float] = []
    at = 0.0
    for clip in clips:
        starts.append(at)
        at += clip.duration - crossfade
    return tuple(starts)


def _lengths(clips: Sequence[Clip]) -> tuple[float, ...]:
    return tuple(clip.duration for clip in clips)


def _clip_sound(clip: Clip) -> Floats:
    """The clip's sound as mono float at AUDIO_RATE, cut or padded to exactly its pictures' length."""
    wanted = round(clip.duration * AUDIO_RATE)
    pieces: list[Floats] = []
    try:
        with av.open(str(clip.path), "r") as container:
            if container.streams.audio:
                resampler = av.AudioResampler(format="flt", layout="mono", rate=AUDIO_RATE)
                for frame in container.decode(container.streams.audio[0]):
                    pieces.extend(out.to_ndarray().reshape(-1).astype(np.float32) for out in resampler.resample(frame))
                pieces.extend(out.to_ndarray().reshape(-1).astype(np.float32) for out in resampler.resample(None))
    except (av.error.FFmpegError, ValueError) as exc:
        raise RenderError(f"could not read the sound of {clip.path.name!r} ({exc})") from exc
    sound = np.concatenate(pieces) if pieces else np.zeros(0, np.float32)
    fitted = np.zeros(wanted, np.float32)
    fitted[: min(wanted, len(sound))] = sound[:wanted]
    return fitted


def _soundtrack(clips: Sequence[Clip], crossfade: float) -> Floats:
    """One track: each clip's sound faded at its ends (or crossfaded over `crossfade`), end to end."""
    fade = max(round(JOINT_FADE_S * AUDIO_RATE), round(crossfade * AUDIO_RATE))
    track = np.zeros(0, np.float32)
    for index, clip in enumerate(clips):
        sound = _clip_sound(clip)
        ramp = np.linspace(0.0, 1.0, min(fade, len(sound) // 2), dtype=np.float32)
        if index > 0 and len(ramp):
            sound[: len(ramp)] *= ramp
        if index < len(clips) - 1 and len(ramp):
            sound[len(sound) - len(ramp) :] *= ramp[::-1]
        overlap = min(round(crossfade * AUDIO_RATE), len(track), len(sound))
        if overlap:
            track[len(track) - overlap :] += sound[:overlap]
            sound = sound[overlap:]
        track = np.concatenate([track, sound])
    return track


class _Sound:
    """The soundtrack, encoded as AAC a little ahead of the pictures."""

    def __init__(self, container: OutputContainer, track: Floats) -> None:
        self.container = container
        self.track = track
        self.stream = container.add_stream("aac", rate=AUDIO_RATE)
        self.stream.layout = "mono"
        self.stream.bit_rate = AUDIO_BIT_RATE
        self.stream.options = {"aac_coder": AUDIO_CODER}
        self.done = 0

    def until(self, seconds: float) -> None:
        """Encode the sound up to `seconds` and a little beyond, in half-second pieces."""
        if self.done >= (seconds + _AUDIO_AHEAD_S / 2) * AUDIO_RATE:
            return  # far enough ahead still
        end = min(len(self.track), int((seconds + _AUDIO_AHEAD_S) * AUDIO_RATE))
        while self.done < end:
            stop = min(end, self.done + AUDIO_RATE // 2)
            frame = av.AudioFrame.from_ndarray(self.track[self.done : stop].reshape(1, -1), format="flt", layout="mono")
            frame.sample_rate, frame.pts = AUDIO_RATE, self.done
            frame.time_base = fractions.Fraction(1, AUDIO_RATE)
            for packet in self.stream.encode(frame):
                self.container.mux(packet)
            self.done = stop

    def finish(self) -> None:
        self.until(len(self.track) / AUDIO_RATE)
        for packet in self.stream.encode(None):
            self.container.mux(packet)


def _copy_pictures(
    clips: Sequence[Clip], out: pathlib.Path, track: Floats, cancelled: Callable[[], bool] | None
) -> None:
    try:
        with av.open(str(out), "w", format="mp4", options={"movflags": "+faststart"}) as container:
            with av.open(str(clips[0].path), "r") as first:
                video = container.add_stream_from_template(first.streams.video[0])
            sound = _Sound(container, track)
            offset = 0.0
            for clip in clips:
                with av.open(str(clip.path), "r") as source:
                    stream = source.streams.video[0]
                    base = stream.time_base
                    assert base is not None
                    shift = round(offset / base)
                    for packet in source.demux(stream):
                        if packet.size == 0:
                            continue  # the demuxer's end-of-stream marker
                        if cancelled is not None and cancelled():
                            raise RenderError("cancelled")
                        packet.pts = None if packet.pts is None else packet.pts + shift
                        packet.dts = None if packet.dts is None else packet.dts + shift
                        packet.stream = video
                        packet.time_base = base
                        if packet.pts is not None:
                            sound.until(float(packet.pts * base))
                        container.mux(packet)
                offset += clip.duration
            sound.finish()
    except (av.error.FFmpegError, ValueError, OSError) as exc:
        out.unlink(missing_ok=True)
        raise RenderError(f"joining the clips failed ({exc}); check there is free disk space") from exc


def _reencode(
    clips: Sequence[Clip],
    out: pathlib.Path,
    target: ClipFormat,
    track: Floats | None,
    *,
    crossfade: float,
    preset: str,
    crf: int,
    cancelled: Callable[[], bool] | None,
) -> None:
    """Decode the clips' pictures, scaled to `target`'s size and rate, blend `crossfade` seconds at each
    joint, and encode them with libx264 (with `track` as the sound, or the one clip's own when None).

    Pictures stream through: only the `crossfade` seconds at the end of a clip are held, to blend."""
    fps = target.fps
    blend = round(crossfade * fps)
    sound_track = track if track is not None else _clip_sound(clips[0])
    try:
        with av.open(str(out), "w", format="mp4", options={"movflags": "+faststart"}) as container:
            video = container.add_stream("libx264", rate=fps)
            video.width, video.height, video.pix_fmt = target.width, target.height, "yuv420p"
            video.options = {"preset": preset, "crf": str(crf)}
            sound = _Sound(container, sound_track)
            written = 0

            def write(picture: npt.NDArray[np.uint8]) -> None:
                nonlocal written
                if cancelled is not None and cancelled():
                    raise RenderError("cancelled")
                frame = av.VideoFrame.from_ndarray(picture, format="yuv420p")
                frame.pts, frame.time_base = written, 1 / fps
                for packet in video.encode(frame):
                    container.mux(packet)
                written += 1
                sound.until(written / float(fps))

            held: list[npt.NDArray[np.uint8]] = []  # the previous clip's last pictures, blended into this one's first
            for number, clip in enumerate(clips):
                count = max(1, round(clip.duration * fps))
                keep = blend if number < len(clips) - 1 else 0
                tail: list[npt.NDArray[np.uint8]] = []
                for k, picture in enumerate(_pictures(clip, target, fps, count)):
                    if k < len(held):
                        share = (k + 1) / (len(held) + 1)  # the new clip's share rises through the overlap
                        mixed = held[k].astype(np.float32) * (1 - share) + picture.astype(np.float32) * share
                        picture = (mixed + 0.5).astype(np.uint8)
                    if k >= count - keep:
                        tail.append(picture)
                    else:
                        write(picture)
                held = tail
            for packet in video.encode(None):
                container.mux(packet)
            sound.finish()
    except (av.error.FFmpegError, ValueError, OSError) as exc:
        out.unlink(missing_ok=True)
        raise RenderError(f"encoding the joined video failed ({exc}); check there is free disk space") from exc


def _pictures(clip: Clip, target: ClipFormat, fps: fractions.Fraction, count: int) -> Iterator[npt.NDArray[np.uint8]]:
    """The clip's pictures as yuv420p arrays at `target`'s size, `count` of them at `fps` (held or dropped)."""
    with av.open(str(clip.path), "r") as container:
        frames = container.decode(container.streams.video[0])
        current = next(frames, None)
        if current is None:
            raise RenderError(f"{clip.path.name!r} has no pictures")
        start = float(current.time or 0.0)
        upcoming = next(frames, None)
        for n in range(count):
            at = start + n / float(fps)
            while upcoming is not None and float(upcoming.time or 0.0) <= at + 1e-6:
                current, upcoming = upcoming, next(frames, None)
            yield cast(Yuv, current.to_ndarray(format="yuv420p", width=target.width, height=target.height))
