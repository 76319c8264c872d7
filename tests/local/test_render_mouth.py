"""The avatar's mouth follows the speech: measured on the pixels of the decoded video."""

from __future__ import annotations

import pathlib

import av
import numpy as np
import pytest

from akool_mcp.local.render import AvatarLayer, Box, ColorLayer, Composition, render
from akool_mcp.local.render.spec import MOUTH_REGION
from akool_mcp.local.speech import Speech, synthesize

pytestmark = pytest.mark.slow

FPS = 25
BUST = (1620, 1080, 1080)  # left, top, side: Box(1620, 1080, 1080, 1080) holds the bust exactly


def _mouth_luma(path: pathlib.Path) -> np.ndarray:
    """The mouth area's luma, frame by frame (frames x height x width)."""
    left, top, side = BUST
    x0, y0, x1, y1 = (round(v * side / 1000) for v in MOUTH_REGION)
    with av.open(str(path)) as container:
        crops = [
            frame.to_ndarray(format="gray")[top + y0 : top + y1, left + x0 : left + x1]
            for frame in container.decode(video=0)
        ]
    return np.stack(crops).astype(np.int16)


def _darkness(luma: np.ndarray) -> np.ndarray:
    """Per frame: how many pixels are dark (the inside of an open mouth)."""
    return np.count_nonzero(luma < 70, axis=(1, 2)).astype(np.float64)


def _loudness(speech: Speech, frames: int) -> np.ndarray:
    hop = speech.sample_rate / FPS
    s = speech.samples.astype(np.float64)
    return np.array(
        [np.sqrt(np.mean(s[int(i * hop) : max(int((i + 1) * hop), int(i * hop) + 1)] ** 2)) for i in range(frames)]
    )


def _render(tmp_path: pathlib.Path, speech: Speech, avatar: str) -> pathlib.Path:
    layers = [
        ColorLayer((200, 210, 220, 255), Box(0, 0, 3840, 2160)),
        AvatarLayer(Box(BUST[0], BUST[1], BUST[2], BUST[2]), builtin_id=avatar),
    ]
    out = tmp_path / "talk.mp4"
    render(Composition(layers=layers, speech=speech), out, preset="ultrafast")
    return out


def test_the_mouth_opens_with_loud_sound_and_is_shut_in_silence(tmp_path: pathlib.Path, burst_speech: Speech) -> None:
    darkness = _darkness(_mouth_luma(_render(tmp_path, burst_speech, "local_liam")))
    loudness = _loudness(burst_speech, len(darkness))
    opening = darkness - darkness[0]  # frame 0 is silent: the shut mouth's own dark seam
    assert float(np.corrcoef(opening, loudness)[0, 1]) >= 0.8
    silent = loudness == 0
    assert silent.sum() >= 20
    assert float(np.abs(opening[silent]).max()) <= 0.02 * float(opening.max())
    assert float(opening.max()) > 500  # a real opening at 4K, not a flicker


def test_the_mouth_follows_synthesized_speech(tmp_path: pathlib.Path) -> None:
    speech = synthesize("Hello there. I can talk. Can you see my mouth move?", "en-US-male-1")
    luma = _mouth_luma(_render(tmp_path, speech, "local_omar"))
    track = speech.mouth_track(FPS)
    shut = luma[int(np.argmax(track == 0))]  # speech starts at once: find a pause for the reference
    # A dark beard surrounds this mouth, so count the pixels that differ from the shut mouth.
    opening = np.count_nonzero(np.abs(luma - shut) > 30, axis=(1, 2)).astype(np.float64)
    assert len(opening) == len(track)
    # The pixels show exactly what the track asked for (and the track follows the sound).
    assert float(np.corrcoef(opening, track)[0, 1]) >= 0.9
    assert float(np.corrcoef(opening, _loudness(speech, len(opening)))[0, 1]) >= 0.6
    assert float(np.abs(opening[track == 0]).max()) <= 0.02 * float(opening.max())
