# PyAV and OpenCV stubs are partly untyped: relax the unknown-type checks here only.
# pyright: reportUnknownMemberType=false, reportUnknownVariableType=false, reportUnknownArgumentType=false
"""The inside of an open mouth, drawn from the face: teeth under the upper lip over part of the
opening, a cavity darker than the lips, the tongue's tip on l th n t d, the face's own colours.

Faces: Grace Hopper with her mouth closed (matplotlib's sample data) and the astronaut with her
lips pressed shut (so that both show no teeth of their own and get drawn ones), at the size of
a 4K render's face; a pan and zoom over the astronaut as a video avatar.
"""

from __future__ import annotations

import fractions
import pathlib
from collections.abc import Callable

import av
import cv2
import numpy as np
import pytest
from scipy import ndimage
from skimage import data as skimage_data

from akool_mcp.render import AvatarLayer, Box, ColorLayer, Composition, render
from akool_mcp.render.face import landmarks as lm
from akool_mcp.render.face.cavity import SHOWN_GAP
from akool_mcp.render.face.mouth_opening import find_opening
from akool_mcp.render.face.mouth_posing import MouthPose
from akool_mcp.render.face.mouth_rig import MouthRig, build_mouth_rig
from akool_mcp.render.face.palette import mouth_palette
from akool_mcp.render.face.photo import mouth_pose
from akool_mcp.render.face.video import FaceTracker, LoopedFrames
from akool_mcp.render.face.warp import remap
from akool_mcp.speech import synthesize
from akool_mcp.speech.visemes import phoneme_tongue
from tests.render.test_render_eyes import grace_hopper
from tests.render.test_render_faces import pan_and_zoom

pytestmark = pytest.mark.slow

SIDE = 2160
WIDE = MouthPose(1.0, 0.0, 0.0)


def _at_4k(picture: np.ndarray) -> np.ndarray:
    scale = SIDE / picture.shape[0]
    return np.asarray(cv2.resize(picture, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC), np.uint8)


def _astronaut_shut() -> np.ndarray:
    photo = _at_4k(cv2.cvtColor(skimage_data.astronaut(), cv2.COLOR_RGB2BGR))
    rig = build_mouth_rig(lm.find_faces(photo)[0], photo.shape[1], photo.shape[0])
    x0, y0, x1, y1 = rig.rect
    palette = mouth_palette(photo, lm.find_faces(photo)[0], True)
    photo[y0:y1, x0:x1] = rig.render(np.ascontiguousarray(photo[y0:y1, x0:x1]), mouth_pose(-1, 2), palette)
    return photo


@pytest.fixture(scope="module", params=["grace-hopper", "astronaut"])
def face(request: pytest.FixtureRequest) -> tuple[np.ndarray, MouthRig]:
    photo = _at_4k(grace_hopper()) if request.param == "grace-hopper" else _astronaut_shut()
    rig = build_mouth_rig(lm.find_faces(photo)[0], photo.shape[1], photo.shape[0])
    assert not rig.placement.own_teeth  # teeth are drawn for both
    return photo, rig


def _posed(photo: np.ndarray, rig: MouthRig, pose: MouthPose) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(the patch posed with its inside, the patch only warped, the opening's mask).

    The mask leaves out the corners, where the lips come within SHOWN_GAP of each other and the
    inside fades out (what shows there is lip)."""
    x0, y0, x1, y1 = rig.rect
    patch = np.ascontiguousarray(photo[y0:y1, x0:x1])
    palette = mouth_palette(photo, lm.find_faces(photo)[0], rig.placement.own_teeth)
    moved = rig.posed(pose)
    warped = remap(patch, rig.mesh.maps(rig.placement.rest, moved))
    ring = np.vstack([moved[rig.shape.teeth_edge], moved[rig.shape.lower_inner][1:-1][::-1]])
    mask = np.zeros(patch.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(ring * 16).astype(np.int32)], 1, cv2.LINE_8, shift=4)
    mask[:, mask.sum(axis=0) < SHOWN_GAP * rig.placement.frame.unit] = 0
    return rig.render(patch.copy(), pose, palette), warped, cv2.erode(mask, np.ones((3, 3), np.uint8)) > 0


def _luma(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)


@pytest.mark.parametrize("pose", [WIDE, MouthPose(0.6, 1.0, 0.0)], ids=["ah", "ee"])
def test_the_bright_teeth_sit_under_the_upper_lip_over_only_part_of_the_opening(
    face: tuple[np.ndarray, MouthRig], pose: MouthPose
) -> None:
    photo, rig = face
    posed, _, opening = _posed(photo, rig, pose)
    luma = _luma(posed)
    around = cv2.dilate(opening.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    lips = float(np.median(luma[around & ~opening]))
    bright = opening & (luma > lips + 20)
    assert np.count_nonzero(bright) > 50  # teeth do show
    # Not the whole opening: at most half the gap in the middle ("ee", _TEETH_SHARE), less
    # towards the corners. Measured 0.37 (Grace Hopper) and 0.24 (the astronaut) on "ee", 0.18
    # and 0.12 on "ah"; the old slab of teeth filled 0.8 and more.
    assert np.count_nonzero(bright) <= 0.45 * np.count_nonzero(opening)
    # Every bright column's teeth start at the top of the opening (under the upper lip) and end
    # in its upper half.
    for x in np.flatnonzero(bright.any(axis=0)):
        rows = np.flatnonzero(opening[:, x])
        lit = np.flatnonzero(bright[:, x])
        assert lit.max() <= rows.min() + 0.5 * (rows.max() - rows.min()) + 1
    # Lit in the middle, shaded into the corners: the bright columns stop short of them.
    columns = np.flatnonzero(opening.any(axis=0))
    lit_columns = np.flatnonzero(bright.any(axis=0))
    assert lit_columns.max() - lit_columns.min() <= 0.85 * (columns.max() - columns.min())


def test_the_cavity_is_darker_than_the_lips_and_has_no_hard_rim(face: tuple[np.ndarray, MouthRig]) -> None:
    photo, rig = face
    posed, _, opening = _posed(photo, rig, WIDE)
    luma = _luma(posed)
    around = cv2.dilate(opening.astype(np.uint8), np.ones((15, 15), np.uint8)) > 0
    lips = float(np.median(luma[around & ~opening]))
    # The lower half of the opening at its middle: the cavity (and the tongue's body).
    columns = np.flatnonzero(opening.any(axis=0))
    middle = columns[len(columns) // 3 : 2 * len(columns) // 3]
    cavity = []
    for x in middle:
        rows = np.flatnonzero(opening[:, x])
        cavity.append(luma[rows[len(rows) // 2 :], x])
        # Down a column from the teeth to the lower lip, no step between neighbours as sharp
        # as the old rim under the teeth (60-90 grey levels within a pixel or two).
        below_teeth = luma[rows[len(rows) // 3 :], x]
        assert float(np.abs(np.diff(below_teeth)).max()) < 40
    assert float(np.mean(np.concatenate(cavity))) < 0.55 * lips


def test_tongue_sounds_show_the_tongues_tip_in_the_middle_of_the_opening(face: tuple[np.ndarray, MouthRig]) -> None:
    photo, rig = face
    plain, _, opening = _posed(photo, rig, MouthPose(0.4, 0.0, 0.0))
    tongue, _, _ = _posed(photo, rig, MouthPose(0.4, 0.0, 0.0, tongue=1.0))
    changed = np.abs(tongue.astype(int) - plain).max(axis=2) > 12
    assert np.count_nonzero(changed & opening) > 100
    _, xs = np.nonzero(changed)
    columns = np.flatnonzero(opening.any(axis=0))
    centre = (columns.min() + columns.max()) / 2
    assert abs(float(np.median(xs)) - centre) < 0.1 * (columns.max() - columns.min())
    assert xs.max() - xs.min() < 0.6 * (columns.max() - columns.min())  # a tip, not a band
    # Redder than the cavity around it: the tongue's own colour (the lips' in shade).
    red = tongue[..., 2].astype(int) - tongue[..., 0]
    assert float(red[changed & opening].mean()) > float(red[opening & ~changed].mean())


def test_tongue_sounds_fill_the_tongue_channel_and_others_do_not() -> None:
    assert {p: phoneme_tongue(p) > 0 for p in ("l", "T", "D", "n", "t", "d", "'a", "m", "s", "_:")} == {
        "l": True, "T": True, "D": True, "n": True, "t": True, "d": True,
        "'a": False, "m": False, "s": False, "_:": False,
    }  # fmt: skip
    tracks = synthesize("Think, then lull the lot.", "en-US-female-1").mouth_tracks(25)
    assert len(tracks.tongue) == len(tracks.open)
    assert int(np.count_nonzero(tracks.tongue > 0.3)) >= 4
    assert float(tracks.tongue[tracks.open == 0].max(initial=0.0)) == 0.0


def _frames(path: pathlib.Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="bgr24") for frame in container.decode(video=0)]


def _inside_face(picture: np.ndarray, face: lm.Face, below_nose: bool = False) -> np.ndarray:
    """Inside the face's outline (``below_nose``: from the nose tip down, where the mouth is)."""
    mask = np.zeros(picture.shape[:2], np.uint8)
    cv2.fillPoly(mask, [face.points[list(lm.FACE_OVAL)].round().astype(np.int32)], 1)
    if below_nose:
        mask[: int(face.points[lm.NOSE_TIP, 1])] = 0
    return mask > 0


def grace_pan(path: pathlib.Path, frames: int) -> None:
    """A 480x360 clip moving slowly across and into Grace Hopper's portrait (her mouth shut)."""
    picture = grace_hopper()
    with av.open(str(path), "w") as container:
        # No macroblock tree: the same clip every time (see pan_and_zoom).
        stream = container.add_stream("libx264", rate=25, options={"x264-params": "mbtree=0"})
        stream.width, stream.height, stream.pix_fmt = 480, 360, "yuv420p"
        for index in range(frames):
            t = index / (frames - 1)
            scale = 1.2 * (1 + 0.15 * t)
            cx, cy = 256 + 30 * t, 300 + 20 * t
            matrix = np.array([[scale, 0, 240 - cx * scale], [0, scale, 180 - cy * scale]], np.float32)
            image = np.asarray(cv2.warpAffine(picture, matrix, (480, 360), borderMode=cv2.BORDER_REFLECT), np.uint8)
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            frame.pts, frame.time_base = index, fractions.Fraction(1, 25)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def test_a_closed_mouth_in_a_video_is_not_taken_for_an_open_one(tmp_path: pathlib.Path) -> None:
    """Grace Hopper's closed lips meet on a shadowed seam 0.045-0.055 eye widths tall. Taken for
    an open mouth (in 21 of these 50 frames), it was settled into a pale, streaked curtain of
    stretched lip with dark specks under it."""
    clip = tmp_path / "grace.mp4"
    grace_pan(clip, 50)
    frames, tracker = LoopedFrames(clip), FaceTracker(25)
    for index in range(50):
        picture = frames.at(index / 25)
        face = tracker.track(picture)
        assert face is not None
        assert not find_opening(picture, face).found, f"frame {index}"


@pytest.mark.parametrize("clip_of", [pan_and_zoom, grace_pan], ids=["astronaut", "grace-hopper"])
def test_every_pixel_of_a_video_avatars_face_is_a_colour_of_the_source_frames_face(
    tmp_path: pathlib.Path, clip_of: Callable[[pathlib.Path, int], None]
) -> None:
    """No speck, hole or colour from outside the face: each output frame, scaled back to the
    source's size, shows in the lower face (where the mouth is drawn; above it the frame is only
    scaled) only colours near one the source frame's face has (8-bit BGR distance). The old
    inside, a near-black (14, 14, 32) throat and a cool grey band of teeth, was 38 away on the
    astronaut's video. (The whole face's colours: drawn teeth take theirs from its palest
    pixels, the whites of the eyes, highlights; Grace Hopper's lower face alone has none that
    pale, 45 away.)"""
    clip = tmp_path / "pan.mp4"
    clip_of(clip, 75)
    speech = synthesize("Open wide: ah, oh, bah, papa. Think, then, lot.", "en-US-female-1")
    out = tmp_path / "talk.mp4"
    layers = [ColorLayer((90, 60, 30, 255), Box(0, 0, 640, 480)), AvatarLayer(Box(0, 0, 640, 480), video_path=clip)]
    render(Composition(layers=layers, speech=speech, width=640, height=480), out, preset="ultrafast", crf=12)
    sources, outputs = _frames(clip), _frames(out)
    step = 4  # colours binned 4 levels a channel
    worst = 0.0
    for index, frame in enumerate(outputs):
        source = sources[index % len(sources)]
        frame = cv2.resize(frame, (source.shape[1], source.shape[0]), interpolation=cv2.INTER_AREA)
        face = lm.find_faces(source)[0]
        region = _inside_face(source, face, below_nose=True)
        known = np.zeros((256 // step,) * 3, bool)
        binned = source[_inside_face(source, face)] // step
        known[binned[:, 0], binned[:, 1], binned[:, 2]] = True
        distance = np.asarray(ndimage.distance_transform_edt(~known), np.float64) * step
        shown = np.asarray(frame[region] // step, np.int64)
        worst = max(worst, float(distance[shown[:, 0], shown[:, 1], shown[:, 2]].max()))
    assert worst <= 24.0
