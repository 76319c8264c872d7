# PyAV's stubs leave frames partly untyped: relax the unknown-type checks here only.
# pyright: reportUnknownMemberType=false, reportUnknownVariableType=false, reportUnknownArgumentType=false
"""Clips joined into one video: pictures copied where they can be, one continuous soundtrack in sync."""

from __future__ import annotations

import pathlib

import av
import numpy as np
import pytest

from akool_mcp.render import AvatarLayer, Box, ColorLayer, Composition, render
from akool_mcp.render.joiner import JOINT_FADE_S, join_clips, read_clip
from akool_mcp.speech import Speech

RATE = 22_050
COLOURS = ((200, 30, 30), (30, 200, 30), (30, 30, 200))


def clip(folder: pathlib.Path, index: int, seconds: float, size: tuple[int, int] = (640, 360)) -> pathlib.Path:
    """A rendered clip: a built-in avatar on one colour, speaking a steady tone for `seconds`."""
    t = np.arange(round(seconds * RATE)) / RATE
    speech = Speech(samples=(0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), sample_rate=RATE)
    width, height = size
    layers = [
        ColorLayer((*COLOURS[index], 255), Box(0, 0, width, height)),
        AvatarLayer(Box(width // 3, height // 10, height * 8 // 10, height * 8 // 10), builtin_id="local_liam"),
    ]
    path = folder / f"scene-{index}.mp4"
    render(Composition(layers=layers, speech=speech, width=width, height=height), path, preset="ultrafast")
    return path


def corner_colours(path: pathlib.Path) -> list[tuple[int, int, int]]:
    with av.open(str(path)) as container:
        corners = [f.to_ndarray(format="rgb24")[4, 4] for f in container.decode(video=0)]
    return [(int(r), int(g), int(b)) for r, g, b in corners]


def soundtrack(path: pathlib.Path) -> np.ndarray:
    resampler = av.AudioResampler(format="flt", layout="mono", rate=48_000)
    with av.open(str(path)) as container:
        pieces = [out.to_ndarray().reshape(-1) for f in container.decode(audio=0) for out in resampler.resample(f)]
    return np.concatenate(pieces)


def near(found: tuple[int, int, int], wanted: tuple[int, int, int]) -> bool:
    return max(abs(a - b) for a, b in zip(found, wanted, strict=True)) < 12


@pytest.fixture(scope="module")
def scenes(tmp_path_factory: pytest.TempPathFactory) -> list[pathlib.Path]:
    folder = tmp_path_factory.mktemp("scenes")
    return [clip(folder, 0, 1.3), clip(folder, 1, 0.9), clip(folder, 2, 1.1)]


def test_clips_made_alike_are_joined_by_copying_their_pictures_in_order(
    scenes: list[pathlib.Path], tmp_path: pathlib.Path
) -> None:
    joined = join_clips(scenes, tmp_path / "joined.mp4")
    parts = [read_clip(path) for path in scenes]
    colours = corner_colours(joined.path)
    assert joined.copied and joined.converted == ()
    assert len(colours) == sum(part.frames for part in parts)
    assert joined.duration == pytest.approx(sum(part.duration for part in parts))
    assert joined.starts == pytest.approx((0.0, parts[0].duration, parts[0].duration + parts[1].duration))
    assert joined.lengths == pytest.approx(tuple(part.duration for part in parts))
    start = 0
    for part, colour in zip(parts, COLOURS, strict=True):  # each part shows its own scene, whole
        assert all(near(found, colour) for found in colours[start : start + part.frames])
        start += part.frames


def test_the_soundtrack_is_continuous_in_sync_and_without_clicks_at_every_joint(
    scenes: list[pathlib.Path], tmp_path: pathlib.Path
) -> None:
    joined = join_clips(scenes, tmp_path / "joined.mp4")
    sound = soundtrack(joined.path)
    assert abs(len(sound) / 48_000 - joined.duration) < 1024 / 48_000 + 1e-9  # within one AAC frame's padding
    steady = float(np.abs(np.diff(sound[24_000:24_960])).max())  # a step of the tone inside a scene
    for start in joined.starts[1:]:
        at = round(start * 48_000)
        around = sound[at - 2_400 : at + 2_400]
        windows = [float(np.sqrt(np.mean(around[k : k + 240] ** 2))) for k in range(0, len(around), 240)]
        assert min(windows) > 0.3 * max(windows)  # no silent gap: the 5 ms fades dip, they do not stop
        quietest = int(np.argmin(windows)) * 240 - 2_400
        assert abs(quietest) <= JOINT_FADE_S * 48_000 + 240  # the dip is at the joint: sound meets picture
        assert float(np.abs(np.diff(sound[at - 480 : at + 480])).max()) < 1.5 * steady  # no click


def test_a_clip_made_at_another_size_is_converted_once_and_the_rest_copied(
    scenes: list[pathlib.Path], tmp_path: pathlib.Path
) -> None:
    odd = clip(tmp_path, 1, 0.9, size=(320, 180))
    joined = join_clips([scenes[0], odd, scenes[2]], tmp_path / "joined.mp4", preset="ultrafast")
    with av.open(str(joined.path)) as container:
        size = (container.streams.video[0].width, container.streams.video[0].height)
    assert joined.copied and joined.converted == (1,) and size == (640, 360)
    assert near(corner_colours(joined.path)[read_clip(scenes[0]).frames + 5], COLOURS[1])


def test_a_crossfade_blends_the_pictures_and_the_sound_over_the_joint(
    scenes: list[pathlib.Path], tmp_path: pathlib.Path
) -> None:
    joined = join_clips(scenes[:2], tmp_path / "faded.mp4", crossfade=0.2, preset="ultrafast")
    parts = [read_clip(path) for path in scenes[:2]]
    colours = corner_colours(joined.path)
    overlap = round(0.2 * 25)
    assert not joined.copied
    assert len(colours) == parts[0].frames + parts[1].frames - overlap
    middle = colours[parts[0].frames - overlap + overlap // 2]
    assert not near(middle, COLOURS[0]) and not near(middle, COLOURS[1])  # both scenes show through
    assert near(colours[0], COLOURS[0]) and near(colours[-1], COLOURS[1])
