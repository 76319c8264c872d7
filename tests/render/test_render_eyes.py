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
from akool_mcp.render.builtin.catalog import EYE_LIDS, GAZES, builtin_spec, eye_patch, sprite
from akool_mcp.render.builtin.spec import EYE_Y
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
    """The astronaut in drawn glasses: thin dark frames around her eyes joined over the nose, and
    lenses that grey the eyes a little and carry a reflection (lower contrast behind them)."""
    picture = np.ascontiguousarray(cv2.cvtColor(skimage_data.astronaut(), cv2.COLOR_RGB2BGR))
    face = lm.find_faces(picture)[0]
    unit = face.eye_distance
    frame_colour = (32, 28, 26)
    lenses = np.zeros(picture.shape[:2], np.uint8)
    centres = []
    for upper, lower in ((lm.EYE_RIGHT_UPPER, lm.EYE_RIGHT_LOWER), (lm.EYE_LEFT_UPPER, lm.EYE_LEFT_LOWER)):
        centre = face.points[list(upper + lower)].mean(axis=0) + np.array([0.0, 0.02 * unit])
        centres.append(centre)
        axes = (round(0.27 * unit), round(0.19 * unit))
        cv2.ellipse(lenses, (round(centre[0]), round(centre[1])), axes, 0, 0, 360, 1, -1, cv2.LINE_AA)
    # The lenses: the eyes behind them a fifth of the way to a cool grey, and a soft reflection.
    inside = (lenses > 0)[..., None]
    tinted = picture * 0.8 + np.array([120.0, 110.0, 105.0]) * 0.2
    ys, xs = np.mgrid[0 : picture.shape[0], 0 : picture.shape[1]].astype(np.float32)
    streak = np.exp(-((((xs - centres[0][0]) + (ys - centres[0][1]) - 0.1 * unit) / (0.06 * unit)) ** 2))
    tinted = tinted + (255 - tinted) * 0.25 * streak[..., None]
    picture = np.where(inside, np.clip(tinted, 0, 255), picture).astype(np.uint8)
    thick = max(2, round(0.03 * unit))
    for centre in centres:
        axes = (round(0.27 * unit), round(0.19 * unit))
        cv2.ellipse(picture, (round(centre[0]), round(centre[1])), axes, 0, 0, 360, frame_colour, thick, cv2.LINE_AA)
    # The bridge over the nose, from rim to rim at the height of the upper lids.
    inner = [(c[0] + side * 0.27 * unit, c[1] - 0.06 * unit) for c, side in zip(centres, (1, -1), strict=True)]
    ends = np.round(np.array(inner)).astype(int)
    cv2.line(picture, tuple(ends[0].tolist()), tuple(ends[1].tolist()), frame_colour, thick, cv2.LINE_AA)
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
    """Per frame: how far the irises (the dark half of the eyes' openings in the first frame,
    their rims left out) are covered by skin, 0 as in the first frame .. 1 as light as the skin
    around the eyes (a ring from 0.025 to 0.07 eye widths outside them, glasses included).

    Each frame is first aligned to the first around the eyes (the head sways and rolls; a
    picture-based fit, sub-pixel, where the mesh's points on a 30 px eye move by pixels)."""
    first = frames[0]
    face = lm.find_faces(first)[0]
    unit = face.eye_distance
    gray0 = cv2.cvtColor(first, cv2.COLOR_BGR2GRAY).astype(np.float32)
    eyes = np.zeros(gray0.shape, np.uint8)
    for upper, lower in ((lm.EYE_RIGHT_UPPER, lm.EYE_RIGHT_LOWER), (lm.EYE_LEFT_UPPER, lm.EYE_LEFT_LOWER)):
        cv2.fillPoly(eyes, [face.points[list(upper + lower[::-1])].round().astype(np.int32)], 1)

    def grown(by: float) -> np.ndarray:
        return cv2.dilate(eyes, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * round(by * unit) + 1,) * 2))

    ring = (grown(0.07) > 0) & (grown(0.025) == 0)
    inner = cv2.erode(eyes, np.ones((3, 3), np.uint8)) > 0
    iris = inner & (gray0 < np.percentile(gray0[inner], 50))
    assert np.count_nonzero(iris) > 20
    dark, light = float(gray0[iris].mean()), float(np.median(gray0[ring]))
    assert light - dark > 25  # irises that show against the skin
    points = face.points[list(lm.EYE_RIGHT_UPPER + lm.EYE_LEFT_UPPER + lm.EYE_RIGHT_LOWER + lm.EYE_LEFT_LOWER)]
    x0, y0 = np.floor(points.min(axis=0) - 0.25 * unit).astype(int)
    x1, y1 = np.ceil(points.max(axis=0) + 0.25 * unit).astype(int)
    reference = gray0[y0:y1, x0:x1]
    warp = np.eye(2, 3, dtype=np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 60, 1e-4)
    cover = []
    for frame in frames:
        gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY).astype(np.float32)
        crop = np.ascontiguousarray(gray[y0:y1, x0:x1])
        _, warp = cv2.findTransformECC(reference, crop, warp, cv2.MOTION_EUCLIDEAN, criteria)
        aligned = gray0.copy()
        flags = cv2.INTER_LINEAR + cv2.WARP_INVERSE_MAP
        aligned[y0:y1, x0:x1] = cv2.warpAffine(crop, warp, (x1 - x0, y1 - y0), flags=flags)
        cover.append((float(aligned[iris].mean()) - dark) / (light - dark))
    return np.array(cover)


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    padded = np.concatenate(([False], flags, [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


@pytest.mark.slow
@pytest.mark.parametrize("face", [grace_hopper, astronaut_in_glasses], ids=["grace-hopper", "drawn-glasses"])
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

    # Where the irises went, the eye darkens; where they left, the white shows: to their right.
    change = aside.sum(axis=2) - ahead.sum(axis=2)
    _, darker = np.nonzero(change < -90)
    _, lighter = np.nonzero(change > 90)
    assert len(darker) > 20 and len(lighter) > 20
    assert float(darker.mean()) > float(lighter.mean())


@pytest.mark.slow
@pytest.mark.parametrize("gaze", GAZES)
def test_a_built_in_avatars_shut_lids_hide_the_whites_and_the_irises_wherever_it_looks(gaze: float) -> None:
    side = 600
    eyes = sprite("local_sofia", side).eyes
    white = np.array([236, 241, 244])  # the whites of its eyes (BGR)
    iris = np.array(builtin_spec("local_sofia").iris)
    below_brows = round((EYE_Y - 22) * side / 1000) - eyes.top + 1  # from the upper lid's highest point

    def showing(lid: int) -> tuple[int, int]:
        bgr = eyes.patches[eye_patch(lid, 0, GAZES.index(gaze))][below_brows:, :, :3].astype(int)
        whites, irises = (int(np.count_nonzero(np.abs(bgr - colour).max(axis=2) < 20)) for colour in (white, iris))
        return whites, irises

    whites, irises = showing(0)
    assert whites > 200 and irises > 200  # open, both show
    # Half shut (the middle lid steps), less of each; shut, none.
    for lid in range(1, len(EYE_LIDS) - 1):
        assert showing(lid)[0] < whites and showing(lid)[1] < irises
    assert showing(len(EYE_LIDS) - 1) == (0, 0)
