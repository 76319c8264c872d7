# PyAV and OpenCV stubs are partly untyped: relax the unknown-type checks here only.
# pyright: reportUnknownMemberType=false, reportUnknownVariableType=false, reportUnknownArgumentType=false
"""Generated media for the speech, render and tool tests: tone bursts, face photos and videos, audio files."""

from __future__ import annotations

import fractions
import pathlib
from collections.abc import Callable

import av
import cv2
import numpy as np
import pytest

from akool_mcp.render.builtin.catalog import sprite
from akool_mcp.render.pixels import over
from akool_mcp.speech import Speech

TONE_RATE = 22_050
# (seconds, loudness) pieces: speech-like bursts with silent gaps between them.
BURSTS = ((0.4, 0.0), (0.5, 0.6), (0.32, 0.0), (0.4, 0.2), (0.32, 0.0), (0.4, 0.9), (0.36, 0.0))


@pytest.fixture(scope="session")
def burst_speech() -> Speech:
    """2.7 s of voiced-sounding tone bursts, with silence before, between and after them."""
    pieces: list[np.ndarray] = []
    for seconds, level in BURSTS:
        t = np.arange(round(seconds * TONE_RATE)) / TONE_RATE
        voice = np.sin(2 * np.pi * 180 * t) + 0.5 * np.sin(2 * np.pi * 360 * t) + 0.25 * np.sin(2 * np.pi * 720 * t)
        # Syllables: the loudness swells and fades a few times a second, as in speech.
        swell = 0.55 + 0.45 * np.sin(np.pi * t / seconds) ** 2 * (0.6 + 0.4 * np.cos(2 * np.pi * 4 * t))
        pieces.append((level * 0.5 * voice * swell).astype(np.float32))
    return Speech(samples=np.concatenate(pieces), sample_rate=TONE_RATE, mouth=None)


def _face_picture(side: int) -> np.ndarray:
    """A photo-like picture of a drawn face: soft background, the bust, a little blur and grain."""
    canvas = np.zeros((side, side, 3), np.uint8)
    gradient = np.linspace(150, 215, side, dtype=np.float32)[:, None]
    canvas[...] = np.stack([gradient * 0.95, gradient * 0.92, gradient * 0.85], axis=2).astype(np.uint8)
    over(canvas, sprite("local_liam", side).image)
    canvas = cv2.GaussianBlur(canvas, (0, 0), 0.8)
    grain = np.random.default_rng(5).normal(0, 3, canvas.shape)
    return np.clip(canvas + grain, 0, 255).astype(np.uint8)


@pytest.fixture(scope="session")
def face_photo(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """A 640x640 PNG 'photo' whose face OpenCV's Haar cascade finds."""
    path = tmp_path_factory.mktemp("photo") / "face.png"
    cv2.imwrite(str(path), _face_picture(640))
    return path


@pytest.fixture(scope="session")
def face_video(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """A 1 s 480x480 H.264 clip of the face drifting slightly (so frames differ)."""
    path = tmp_path_factory.mktemp("video") / "face.mp4"
    picture = _face_picture(520)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 480, 480, "yuv420p"
        for index in range(25):
            shift = round(4 * np.sin(index / 25 * 2 * np.pi))
            frame_bgr = np.ascontiguousarray(picture[20 + shift : 500 + shift, 20:500])
            frame = av.VideoFrame.from_ndarray(frame_bgr, format="bgr24")
            frame.pts = index
            frame.time_base = fractions.Fraction(1, 25)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


@pytest.fixture
def write_audio(tmp_path: pathlib.Path) -> Callable[[str, str, np.ndarray, int], pathlib.Path]:
    """Write mono float audio with PyAV: (file name, codec, samples, rate) -> path."""

    def write(name: str, codec: str, samples: np.ndarray, rate: int) -> pathlib.Path:
        path = tmp_path / name
        with av.open(str(path), "w") as container:
            stream = container.add_stream(codec, rate=rate)
            assert isinstance(stream, av.AudioStream)
            stream.layout = "mono"
            frame = av.AudioFrame.from_ndarray(samples.astype(np.float32).reshape(1, -1), format="flt", layout="mono")
            frame.sample_rate = rate
            frame.pts = 0
            for packet in stream.encode(frame):
                container.mux(packet)
            for packet in stream.encode(None):
                container.mux(packet)
        return path

    return write
