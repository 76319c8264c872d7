"""The avatar's mouth follows the speech: measured on the pixels of the decoded video."""

from __future__ import annotations

import pathlib

import av
import numpy as np
import pytest

from akool_mcp.render import AvatarLayer, Box, ColorLayer, Composition, render
from akool_mcp.render.builtin.spec import MOUTH_REGION
from akool_mcp.speech import Speech, synthesize

pytestmark = pytest.mark.slow

FPS = 25
BUST = (1620, 1080, 1080)  # left, top, side: Box(1620, 1080, 1080, 1080) holds the bust exactly


def _mouth_bgr(path: pathlib.Path) -> np.ndarray:
    """The mouth area with room around it for the head's sway, frame by frame (BGR)."""
    left, top, side = BUST
    x0, y0, x1, y1 = (round(v * side / 1000) for v in MOUTH_REGION)
    room = round(0.03 * side)  # the head moves a few pixels and turns a degree or so
    with av.open(str(path)) as container:
        crops = [
            frame.to_ndarray(format="bgr24")[top + y0 - room : top + y1 + room, left + x0 - room : left + x1 + room]
            for frame in container.decode(video=0)
        ]
    return np.stack(crops).astype(np.int16)


def _darkness(bgr: np.ndarray) -> np.ndarray:
    """Per frame: how many pixels show the inside of an open mouth (dark and deep red).

    Counting them does not depend on where the swaying head put the mouth; a dark beard, the
    lips' seam and shaded skin are not as red.
    """
    luma = bgr[..., 2] * 0.299 + bgr[..., 1] * 0.587 + bgr[..., 0] * 0.114
    inside = (luma < 70) & (bgr[..., 2] > 1.9 * bgr[..., 1]) & (bgr[..., 2] > bgr[..., 0] + 15)
    return np.count_nonzero(inside, axis=(1, 2)).astype(np.float64)


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
    opening = _darkness(_mouth_bgr(_render(tmp_path, burst_speech, "local_liam")))
    loudness = _loudness(burst_speech, len(opening))
    assert float(np.corrcoef(opening, loudness)[0, 1]) >= 0.8
    silent = loudness == 0
    assert silent.sum() >= 20
    # Shut: at most the few deep red pixels of the lips' seam, against a thousand when open.
    assert float(opening[silent].max()) <= 0.1 * float(opening.max())
    assert float(opening.max()) > 500  # a real opening at 4K, not a flicker


def test_the_mouth_follows_synthesized_speech(tmp_path: pathlib.Path) -> None:
    speech = synthesize("Hello there. I can talk. Can you see my mouth move?", "en-US-male-1")
    opening = _darkness(_mouth_bgr(_render(tmp_path, speech, "local_omar")))
    track = speech.mouth_track(FPS)
    assert len(opening) == len(track)
    # The pixels show what the track asked for (and the track follows the sound). Not exactly:
    # at one openness a rounded "oo" shows less of the inside than a spread "ee".
    assert float(np.corrcoef(opening, track)[0, 1]) >= 0.75
    # Loud "m" and "b" keep the lips together and "f" shows teeth, not the inside: the opening
    # follows the loudness less closely than the track (0.66 here) does.
    assert float(np.corrcoef(opening, _loudness(speech, len(opening)))[0, 1]) >= 0.4
    # Shut, the lips still show 85-150 levels of darkness as the head sways and the brows lift (the
    # neural voice opens the mouth less often all the way than eSpeak did, so this is ~15% of its widest).
    assert float(opening[track == 0].max()) <= 0.2 * float(opening.max())


def test_mouth_states_of_clips_shorter_than_the_pressed_window_keep_their_length() -> None:
    from akool_mcp.render.motion import mouth_states
    from akool_mcp.speech import MouthTracks

    for frames in (1, 2, 5):
        opening = np.linspace(0, 1, frames, dtype=np.float32)
        tracks = MouthTracks(opening, np.zeros(frames, np.float32), np.zeros(frames, np.float32), opening)
        states = mouth_states(tracks, 25)
        assert len(states.level) == frames and len(states.width) == frames
