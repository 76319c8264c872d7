# PyAV and OpenCV stubs are partly untyped: relax the unknown-type checks here only.
# pyright: reportUnknownMemberType=false, reportUnknownVariableType=false, reportUnknownArgumentType=false
"""Eyes that live: blinks at a natural pace that show behind glasses, and glances.

The faces: Grace Hopper's portrait in glasses (matplotlib's sample data, public domain), and the
astronaut (scikit-image, public domain) with glasses frames drawn on. A blink is judged on the
output's pixels, as a viewer sees it: the irises covered by skin, not the face mesh's eye points
(the mesh, run on a shut eye behind glasses, still reports it open).
"""

from __future__ import annotations

import importlib.resources
import pathlib
from collections.abc import Callable

import av
import cv2
import numpy as np
import pytest
from skimage import data as skimage_data

from akool_mcp.render import AvatarLayer, Box, Composition, render
from akool_mcp.render.builtin.catalog import EYE_LIDS, GAZES, eye_patch, sprite
from akool_mcp.render.face import landmarks as lm
from akool_mcp.render.motion import GAZE_LEVELS, eye_lids, gaze_track
from akool_mcp.speech import Speech

FPS = 25
SIDE = 720


def grace_hopper() -> np.ndarray:
    """Grace Hopper in her glasses and cap, from matplotlib's sample data."""
    path = importlib.resources.files("matplotlib") / "mpl-data" / "sample_data" / "grace_hopper.jpg"
    picture = cv2.imdecode(np.frombuffer(path.read_bytes(), np.uint8), cv2.IMREAD_COLOR)
    return np.asarray(picture, np.uint8)


def astronaut_in_glasses() -> np.ndarray:
    """The astronaut with dark glasses frames drawn over her eyes (a thick rim close above them)."""
    picture = np.ascontiguousarray(cv2.cvtColor(skimage_data.astronaut(), cv2.COLOR_RGB2BGR))
    face = lm.find_faces(picture)[0]
    unit = face.eye_distance
    thick = max(2, round(0.045 * unit))
    for upper, lower in ((lm.EYE_RIGHT_UPPER, lm.EYE_RIGHT_LOWER), (lm.EYE_LEFT_UPPER, lm.EYE_LEFT_LOWER)):
        eye = face.points[list(upper + lower)]
        centre = eye.mean(axis=0)
        axes = (round(0.3 * unit), round(0.2 * unit))
        cv2.ellipse(picture, (round(centre[0]), round(centre[1])), axes, 0, 0, 360, (25, 22, 20), thick, cv2.LINE_AA)
    bridge = face.points[[lm.EYE_RIGHT_INNER, lm.EYE_LEFT_INNER]].round().astype(int)
    cv2.line(picture, tuple(bridge[0].tolist()), tuple(bridge[1].tolist()), (25, 22, 20), thick, cv2.LINE_AA)
    return picture


def _ten_seconds_of_speech() -> Speech:
    """10 s of voiced-sounding tone in syllables with short pauses, and silence between sentences."""
    rate = 16_000
    t = np.arange(10 * rate) / rate
    voice = np.sin(2 * np.pi * 170 * t) + 0.5 * np.sin(2 * np.pi * 340 * t)
    syllables = 0.55 + 0.45 * np.sin(2 * np.pi * 3.5 * t) ** 2
    sentences = (np.sin(2 * np.pi * t / 3.3) > -0.8).astype(np.float64)
    return Speech(samples=(0.4 * voice * syllables * sentences).astype(np.float32), sample_rate=rate)


def _frames(path: pathlib.Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="bgr24") for frame in container.decode(video=0)]


def _iris_cover(frames: list[np.ndarray]) -> np.ndarray:
    """Per frame: how far the irises (dark inside the eyes of the first frame) are covered by
    skin, 0 as in the first frame .. 1 as light as the skin just under the brows."""
    first = frames[0]
    face = lm.find_faces(first)[0]
    unit = face.eye_distance
    gray0 = cv2.cvtColor(first, cv2.COLOR_BGR2GRAY).astype(np.float32)
    iris = np.zeros(gray0.shape, np.uint8)
    skin = np.zeros(gray0.shape, np.uint8)
    for upper, lower in ((lm.EYE_RIGHT_UPPER, lm.EYE_RIGHT_LOWER), (lm.EYE_LEFT_UPPER, lm.EYE_LEFT_LOWER)):
        contour = face.points[list(upper + lower[::-1])].round().astype(np.int32)
        inside = np.zeros(gray0.shape, np.uint8)
        cv2.fillPoly(inside, [contour], 1)
        values = gray0[inside > 0]
        iris |= (inside > 0) & (gray0 < np.percentile(values, 50))
        # The lid's skin: a band above the eye, under the brow and clear of the frames' rim.
        band = contour.copy()
        band[:, 1] -= round(0.02 * unit)
        cv2.polylines(skin, [band[: len(upper)]], False, 1, max(1, round(0.01 * unit)))
    assert np.count_nonzero(iris) > 20
    dark, light = float(gray0[iris > 0].mean()), float(np.median(gray0[skin > 0]))
    assert light - dark > 25  # irises that show
    cover = []
    for frame in frames:
        gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY).astype(np.float32)
        cover.append((float(gray[iris > 0].mean()) - dark) / (light - dark))
    return np.array(cover)


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    padded = np.concatenate(([False], flags, [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


@pytest.mark.slow
@pytest.mark.parametrize("face", [grace_hopper], ids=["grace-hopper"])
def test_a_photo_in_glasses_blinks_at_least_twice_in_ten_seconds(
    tmp_path: pathlib.Path, face: Callable[[], np.ndarray]
) -> None:
    photo = tmp_path / "glasses.png"
    cv2.imwrite(str(photo), face())
    out = tmp_path / "talk.mp4"
    layer = AvatarLayer(Box(0, 0, SIDE, SIDE), image_path=photo)
    render(
        Composition(layers=[layer], speech=_ten_seconds_of_speech(), width=SIDE, height=SIDE),
        out,
        preset="ultrafast",
        crf=14,
    )
    cover = _iris_cover(_frames(out))
    # Shut: the irises under skin at least two thirds of the way; a blink is a run of such frames.
    blinks = _runs(cover > 0.66)
    assert len(blinks) >= 2, f"iris cover peaks: {np.sort(cover)[-6:]}"
    # Open in between: most frames show the irises as the photo does.
    assert float(np.median(cover)) < 0.15


def test_a_blink_closes_in_100_to_150_ms_and_opens_more_slowly() -> None:
    fps = 100  # fine enough to time the lid
    lids = eye_lids("timing", 20 * fps, fps)
    runs = _runs(lids > 0)
    assert len(runs) >= 4
    starts = []
    for a, b in runs:
        lid = lids[a:b]
        shut = int(np.argmax(lid >= 1.0))
        assert lid.max() == 1.0
        closing = shut / fps
        opening = (len(lid) - shut - int(np.count_nonzero(lid == 1.0))) / fps
        assert 0.09 <= closing <= 0.15
        assert opening > 1.3 * closing
        starts.append(a / fps)
    gaps = np.diff(starts)
    assert float(gaps.min()) >= 1.5 and float(gaps.max()) <= 6.0


def test_every_blink_is_seen_shut_on_some_frame_at_25_fps() -> None:
    lids = eye_lids("frames", 60 * FPS, FPS)
    for a, b in _runs(lids > 0):
        assert float(lids[a:b].max()) == 1.0


def test_stressed_syllables_bring_blinks_forward() -> None:
    frames = 30 * FPS
    calm = eye_lids("emphasis", frames, FPS)
    stress = np.zeros(frames, np.float32)
    stress[np.arange(FPS, frames, FPS)] = 1.0  # a stressed syllable every second
    stressed = eye_lids("emphasis", frames, FPS, stress)
    assert len(_runs(stressed > 0)) > len(_runs(calm > 0))


def test_the_eyes_glance_aside_in_a_pause_between_sentences_and_rest_ahead_mostly() -> None:
    frames = 8 * FPS
    opening = np.full(frames, 0.5, np.float32)
    opening[3 * FPS : 3 * FPS + 15] = 0.0  # a pause of 0.6 s between two sentences
    gaze = np.asarray(GAZE_LEVELS)[gaze_track("glance", frames, FPS, opening)]
    assert float(np.abs(gaze[3 * FPS : 3 * FPS + 10]).min()) == 1.0
    assert float(np.mean(np.abs(gaze) < 1.0)) > 0.8
    assert np.array_equal(gaze, np.asarray(GAZE_LEVELS)[gaze_track("glance", frames, FPS, opening)])


@pytest.mark.slow
def test_a_glance_moves_a_built_in_avatars_irises_not_its_lids() -> None:
    eyes = sprite("local_sofia", 600).eyes
    ahead = eyes.patches[eye_patch(0, 0, GAZES.index(0.0))][..., :3].astype(int)
    aside = eyes.patches[eye_patch(0, 0, GAZES.index(1.0))][..., :3].astype(int)
    shut = eyes.patches[eye_patch(len(EYE_LIDS) - 1, 0, GAZES.index(1.0))][..., :3].astype(int)

    # Where the irises went, the eye darkens; where they left, the white shows: to their right.
    change = aside.sum(axis=2) - ahead.sum(axis=2)
    _, darker = np.nonzero(change < -90)
    _, lighter = np.nonzero(change > 90)
    assert len(darker) > 20 and len(lighter) > 20
    assert float(darker.mean()) > float(lighter.mean())
    assert np.abs(shut - ahead).max() > 60  # and the lids still close
