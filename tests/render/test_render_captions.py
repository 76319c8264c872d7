"""Captions burned into the picture: shown while their words are spoken, gone in the pauses."""

from __future__ import annotations

import pathlib

import av
import numpy as np
import numpy.typing as npt

from akool_mcp.render import AvatarLayer, Box, ColorLayer, Composition, render
from akool_mcp.speech import synthesize

WIDTH, HEIGHT, FPS = 640, 360, 25


def _frames(path: pathlib.Path) -> list[npt.NDArray[np.uint8]]:
    with av.open(str(path)) as container:
        return [np.asarray(f.to_ndarray(format="bgr24"), np.uint8) for f in container.decode(video=0)]


def _render(tmp_path: pathlib.Path, burn: bool) -> tuple[list[npt.NDArray[np.uint8]], list[float], list[float]]:
    speech = synthesize("Hello there, friends. See you soon.", "en-US-female-1")
    layers = [
        ColorLayer((40, 90, 160, 255), Box(0, 0, WIDTH, HEIGHT)),
        AvatarLayer(Box(250, 10, 140, 180), builtin_id="local_liam"),
    ]
    composition = Composition(layers=layers, speech=speech, width=WIDTH, height=HEIGHT, burn_captions=burn)
    result = render(composition, tmp_path / f"burn-{burn}.mp4", preset="ultrafast")
    return _frames(result.path), [c.start for c in speech.cues], [c.end for c in speech.cues]


def test_burned_captions_show_while_spoken_and_leave_the_pauses_clean(tmp_path: pathlib.Path) -> None:
    frames, starts, ends = _render(tmp_path, burn=True)
    plain, _, _ = _render(tmp_path, burn=False)
    band = slice(int(HEIGHT * 0.8), int(HEIGHT * 0.95))

    def difference(index: int) -> float:
        return float(np.abs(frames[index][band].astype(int) - plain[index][band].astype(int)).mean())

    assert len(starts) == 2
    during = [round((s + e) / 2 * FPS) for s, e in zip(starts, ends, strict=True)]
    pause = round((ends[0] + starts[1]) / 2 * FPS)
    for index in during:
        assert difference(index) > 4  # a dark box with white letters over the blue
        assert int(frames[index][band].max()) > 200  # the letters
    assert difference(pause) < 1.5  # nothing left over from the cue before
    assert difference(0) < 1.5  # before the first word
    # Above the band the picture is untouched.
    assert float(np.abs(frames[during[0]][: int(HEIGHT * 0.75)].astype(int) - plain[during[0]][: int(HEIGHT * 0.75)])
                 .mean()) < 1.5  # fmt: skip
