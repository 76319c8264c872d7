# PyAV's stubs leave packets partly untyped: relax the unknown-type checks here only.
# pyright: reportUnknownMemberType=false, reportUnknownVariableType=false, reportUnknownArgumentType=false
"""Media probed before it is accepted: sizes, lengths, rates and codecs outside the limits are refused,
from the container's headers, before anything is decoded in full."""

from __future__ import annotations

import wave
from pathlib import Path

import av
import numpy as np
import pytest

from akool_mcp.media.probe import MAX_AUDIO_SECONDS, ProbeError, limits, probe_audio, probe_video
from tests.fakes.media import oversized_mjpeg_avi, racing_clock_mp4, tiny_mp4


def test_an_ordinary_video_is_described(tmp_path: Path) -> None:
    path = tmp_path / "me.mp4"
    path.write_bytes(tiny_mp4())
    facts = probe_video(path)
    assert (facts.width, facts.height, facts.codec) == (320, 180, "h264")
    assert facts.fps == pytest.approx(25) and 0.1 <= facts.duration <= 0.3


def test_a_video_whose_clock_races_is_refused_saying_its_time_base_is_broken(tmp_path: Path) -> None:
    path = tmp_path / "racing.mp4"
    path.write_bytes(racing_clock_mp4())
    with pytest.raises(ProbeError, match="time base is broken"):
        probe_video(path)


def test_a_16000_pixel_video_is_refused_from_its_header(tmp_path: Path) -> None:
    path = tmp_path / "huge.avi"
    path.write_bytes(oversized_mjpeg_avi())
    with pytest.raises(ProbeError, match=r"16000x16000 pixels.*at most 4096 px"):
        probe_video(path)


def test_a_video_in_a_codec_outside_the_list_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "raw.avi"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("rawvideo", rate=25)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        for index in range(3):
            frame = av.VideoFrame.from_ndarray(np.zeros((32, 32, 3), np.uint8), format="rgb24")
            frame.pts = index
            for packet in stream.encode(frame):
                container.mux(packet)
    with pytest.raises(ProbeError, match="encoded as rawvideo"):
        probe_video(path)


def test_a_file_that_is_no_video_is_refused_with_a_reason(tmp_path: Path) -> None:
    path = tmp_path / "notes.mp4"
    path.write_text("these are not the frames you are looking for")
    with pytest.raises(ProbeError, match=r"could not read .notes\.mp4. as a video"):
        probe_video(path)


def _wav(path: Path, seconds: float, rate: int = 8000) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(np.zeros(int(seconds * rate), np.int16).tobytes())
    return path


def test_audio_is_described_and_audio_over_the_limit_is_refused(tmp_path: Path) -> None:
    short = probe_audio(_wav(tmp_path / "short.wav", 1.5))
    assert short.duration == pytest.approx(1.5) and short.sample_rate == 8000 and short.codec.startswith("pcm_")
    with pytest.raises(ProbeError, match="the limit is 10 minutes"):
        probe_audio(_wav(tmp_path / "long.wav", MAX_AUDIO_SECONDS + 5))


def test_audio_at_an_odd_sample_rate_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ProbeError, match="sample rate of 4000 Hz"):
        probe_audio(_wav(tmp_path / "low.wav", 1.0, rate=4000))


def test_the_limits_are_published_as_data() -> None:
    published = limits()
    assert published["video"] == {
        "max_side_px": 4096,
        "max_pixels": 4096 * 2304,
        "seconds": [0.1, 300.0],
        "fps": [1.0, 120.0],
        "codecs": sorted(["h264", "hevc", "vp8", "vp9", "av1", "mpeg4", "mjpeg", "prores", "mpeg2video"]),
    }
