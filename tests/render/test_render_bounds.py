"""A video avatar's frames are bounded work: a racing clock still advances, frames are decoded no larger
than they are drawn, and a stop reaches inside a frame's work."""

from __future__ import annotations

from pathlib import Path

import pytest

from akool_mcp.render import RenderError
from akool_mcp.render.face.video import MIN_DECODE_SIDE, LoopedFrames
from tests.fakes.media import racing_clock_mp4, tiny_mp4


def test_looping_a_video_whose_clock_races_still_advances_with_output_time(tmp_path: Path) -> None:
    path = tmp_path / "racing.mp4"
    path.write_bytes(racing_clock_mp4(frames=20))
    decoded: list[int] = []

    def cancelled() -> bool:  # counts decoded source frames; gives up on a loop that never advances
        decoded.append(1)
        return len(decoded) > 10_000

    frames = LoopedFrames(path, cancelled=cancelled)
    for index in range(50):  # two seconds of output at 25 fps
        frames.at(index / 25)
    assert len(decoded) <= 2 * 120 + 20  # at most the highest frame rate's worth per second, plus a pass


def test_frames_are_decoded_at_the_size_they_are_drawn_at_but_never_upscaled(tmp_path: Path) -> None:
    path = tmp_path / "wide.mp4"
    path.write_bytes(tiny_mp4(1280, 720))
    small = LoopedFrames(path, fit=(320, 180)).at(0.0)
    assert (small.width, small.height) == (MIN_DECODE_SIDE, MIN_DECODE_SIDE * 720 // 1280)
    large = LoopedFrames(path, fit=(3840, 2160)).at(0.0)
    assert (large.width, large.height) == (1280, 720)


def test_a_stop_reaches_inside_a_frames_work(tmp_path: Path) -> None:
    path = tmp_path / "me.mp4"
    path.write_bytes(tiny_mp4())
    with pytest.raises(RenderError, match="cancelled"):
        LoopedFrames(path, cancelled=lambda: True).at(0.0)
