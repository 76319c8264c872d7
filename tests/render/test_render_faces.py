# PyAV and OpenCV stubs are partly untyped: relax the unknown-type checks here only.
# pyright: reportUnknownMemberType=false, reportUnknownVariableType=false, reportUnknownArgumentType=false
"""Real faces talk: the astronaut photo (scikit-image, public domain) animated at her own lips.

Every check measures the output video's pixels with the face mesh run on the decoded frames,
as a viewer would judge it: where the lips are, how far apart, how wide.
"""

from __future__ import annotations

import fractions
import pathlib
from dataclasses import dataclass

import av
import cv2
import numpy as np
import pytest
from skimage import data as skimage_data

from akool_mcp.render import AvatarLayer, Box, ColorLayer, Composition, RenderError, analyze_avatar_source, render
from akool_mcp.render.face import landmarks as lm
from akool_mcp.render.face.check import judge_faces
from akool_mcp.speech import Speech, synthesize

pytestmark = pytest.mark.slow

FPS = 25
BACKGROUND = (30, 60, 90)  # BGR of the canvas behind the avatar
BACKGROUND_RGBA = (90, 60, 30, 255)


@pytest.fixture(scope="session")
def astronaut(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    path = tmp_path_factory.mktemp("astronaut") / "astronaut.png"
    cv2.imwrite(str(path), cv2.cvtColor(skimage_data.astronaut(), cv2.COLOR_RGB2BGR))
    return path


def _frames(path: pathlib.Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="bgr24") for frame in container.decode(video=0)]


def _render(
    tmp_path: pathlib.Path, speech: Speech, layer: AvatarLayer, size: tuple[int, int] = (1280, 720)
) -> list[np.ndarray]:
    width, height = size
    layers = [ColorLayer(BACKGROUND_RGBA, Box(0, 0, width, height)), layer]
    out = tmp_path / "talk.mp4"
    # A low crf keeps the codec noise well under the changes measured.
    render(Composition(layers=layers, speech=speech, width=width, height=height), out, preset="ultrafast", crf=12)
    return _frames(out)


def _face(frame: np.ndarray) -> lm.Face:
    faces = lm.find_faces(frame)
    assert faces, "the face mesh lost the face in an output frame"
    return faces[0]


def _opening(frame: np.ndarray, face: lm.Face) -> float:
    """Dark pixels between the lips the mesh found, per eye width squared: the open mouth."""
    lips = face.points[list(lm.INNER_LIP_UPPER + lm.INNER_LIP_LOWER[::-1])]
    x0, y0 = np.floor(lips.min(axis=0) - 0.08 * face.eye_distance).astype(int)
    x1, y1 = np.ceil(lips.max(axis=0) + 0.08 * face.eye_distance).astype(int)
    luma = cv2.cvtColor(frame[y0:y1, x0:x1], cv2.COLOR_BGR2GRAY)
    return float(np.count_nonzero(luma < 75)) / face.eye_distance**2


def _loudness(speech: Speech, frames: int) -> np.ndarray:
    hop = speech.sample_rate / FPS
    s = speech.samples.astype(np.float64)
    return np.array(
        [np.sqrt(np.mean(s[int(i * hop) : max(int((i + 1) * hop), int(i * hop) + 1)] ** 2)) for i in range(frames)]
    )


@dataclass(frozen=True)
class Talk:
    speech: Speech
    frames: list[np.ndarray]
    faces: list[lm.Face]


@pytest.fixture(scope="module")
def bursts(tmp_path_factory: pytest.TempPathFactory, astronaut: pathlib.Path, burst_speech: Speech) -> Talk:
    frames = _render(
        tmp_path_factory.mktemp("bursts"), burst_speech, AvatarLayer(Box(0, 0, 1280, 720), image_path=astronaut)
    )
    return Talk(burst_speech, frames, [_face(f) for f in frames])


def test_the_photo_keeps_its_aspect_ratio_centred_in_a_wide_box(bursts: Talk) -> None:
    frame = bursts.frames[0].astype(int)
    # The 512x512 photo fits the 720 px height: a 720x720 square from x = 280 to 1000.
    assert np.abs(frame[:, :270] - BACKGROUND).max() <= 12
    assert np.abs(frame[:, 1010:] - BACKGROUND).max() <= 12
    assert np.abs(frame[:, 290:990] - BACKGROUND).mean() > 40


def test_the_mouth_opens_at_her_real_lips_with_the_loudness_and_rests_in_silence(
    bursts: Talk, astronaut: pathlib.Path
) -> None:
    opening = np.array([_opening(f, face) for f, face in zip(bursts.frames, bursts.faces, strict=True)])
    loudness = _loudness(bursts.speech, len(opening))
    assert float(np.corrcoef(opening, loudness)[0, 1]) >= 0.8
    silent = bursts.speech.mouth_track(FPS)[: len(opening)] == 0
    assert silent.sum() >= 20
    rest = float(np.median(opening[silent]))
    assert float(np.abs(opening[silent] - rest).max()) <= 0.08 * float(opening.max() - rest)
    # Her lips in the output are where they are in the photo (scaled 720/512, moved to x = 280),
    # give or take the small head motion: not a second mouth under the nose.
    photo = lm.find_faces(np.asarray(cv2.imread(str(astronaut)), np.uint8))[0]
    expected = photo.points[lm.LIP_UPPER_INNER] * 720 / 512 + (280, 0)
    for face in bursts.faces:
        assert float(np.linalg.norm(face.points[lm.LIP_UPPER_INNER] - expected)) < 0.12 * face.eye_distance


def test_above_the_eyes_and_outside_the_head_only_the_head_motion_changes_pixels(bursts: Talk) -> None:
    first = bursts.frames[0]
    face = bursts.faces[0]
    unit = face.eye_distance
    x, _, w, _ = face.box
    for frame in bursts.frames[1:]:
        # Far from the head (the photo's lower corners, the background beside it): untouched.
        for area in (np.s_[600:720, 290:420], np.s_[600:720, 860:990], np.s_[:, :270]):
            assert np.abs(frame[area].astype(int) - first[area]).mean() < 1.5
    # Above the eyes: once the head's turn and shift are undone (measured on the pixels by
    # OpenCV's ECC alignment), frame and first frame agree; no mouth or blink warp reaches there.
    top = int(face.at(lm.FOREHEAD)[1] - 0.2 * unit)
    bottom = int(min(face.at(105)[1], face.at(334)[1]) - 0.05 * unit)
    left, right, pad = x + w // 4, x + 3 * w // 4, 16
    template = cv2.cvtColor(first[top:bottom, left:right], cv2.COLOR_BGR2GRAY).astype(np.float32)
    moved = 0.0
    for frame in bursts.frames[1:]:
        wider = cv2.cvtColor(frame[top - pad : bottom + pad, left - pad : right + pad], cv2.COLOR_BGR2GRAY)
        warp = np.array([[1, 0, pad], [0, 1, pad]], np.float32)
        criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 100, 1e-5)
        _, warp = cv2.findTransformECC(template, wider.astype(np.float32), warp, cv2.MOTION_EUCLIDEAN, criteria)
        moved = max(moved, float(np.hypot(warp[0, 2] - pad, warp[1, 2] - pad)))
        size = (template.shape[1], template.shape[0])
        aligned = cv2.warpAffine(wider.astype(np.float32), warp, size, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)
        assert float(np.abs(aligned - template)[2:-2, 2:-2].mean()) < 3.0
    assert moved > 0.5  # the head does move


def test_vowel_only_speech_moves_the_mouth(tmp_path: pathlib.Path, astronaut: pathlib.Path) -> None:
    speech = synthesize("Ah, oh, ee, oo, ah, eh.", "en-US-female-1")
    frames = _render(tmp_path, speech, AvatarLayer(Box(0, 0, 640, 360), image_path=astronaut), (640, 360))
    opening = np.array([_opening(f, _face(f)) for f in frames])
    track = speech.mouth_track(FPS)[: len(frames)]
    voiced, pauses = track > 0.3, track == 0
    assert voiced.sum() >= 15 and pauses.sum() >= 3
    # Every vowel opens the lips; in the pauses between them they meet.
    assert float(np.min(opening[voiced])) > float(np.max(opening[pauses])) + 0.01
    assert float(np.median(opening[voiced])) > float(np.median(opening[pauses])) + 0.04


def test_oo_and_ee_differ_in_lip_width_to_height(tmp_path: pathlib.Path, astronaut: pathlib.Path) -> None:
    speech = synthesize("ee, oo, ee, oo.", "en-US-female-1")
    frames = _render(tmp_path, speech, AvatarLayer(Box(0, 0, 1280, 720), image_path=astronaut))
    tracks = speech.mouth_tracks(FPS)
    shapes: list[float] = []
    for frame in frames:
        face = _face(frame)
        height = float(np.linalg.norm(face.points[17] - face.points[0]))  # outer lips, top to bottom
        shapes.append(face.mouth_width() / height)
    ratio = np.array(shapes)
    n = len(frames)
    spread = (tracks.width[:n] > 0.6) & (tracks.open[:n] > 0.2)
    rounded = (tracks.width[:n] < -0.6) & (tracks.open[:n] > 0.2)
    assert spread.sum() >= 4 and rounded.sum() >= 4
    assert float(np.median(ratio[spread])) > 1.15 * float(np.median(ratio[rounded]))


def pan_and_zoom(path: pathlib.Path, frames: int) -> None:
    """A 320x240 clip moving slowly across and into the astronaut photo."""
    picture = cv2.resize(cv2.cvtColor(skimage_data.astronaut(), cv2.COLOR_RGB2BGR), (1024, 1024))
    with av.open(str(path), "w") as container:
        # x264's macroblock tree reads memory it never wrote at this size (the bitstream changed
        # with MALLOC_PERTURB_ and with whatever the process had allocated before, LiteRT
        # included, at one thread or more); without it the clip is the same every time.
        stream = container.add_stream("libx264", rate=FPS, options={"x264-params": "mbtree=0"})
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        for index in range(frames):
            t = index / (frames - 1)
            scale = 240 / (430 / (1 + 0.3 * t))
            cx, cy = 360 + 110 * t, 330 + 30 * t
            matrix = np.array([[scale, 0, 160 - cx * scale], [0, scale, 120 - cy * scale]], np.float32)
            image = np.asarray(cv2.warpAffine(picture, matrix, (320, 240), borderMode=cv2.BORDER_REFLECT), np.uint8)
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            frame.pts, frame.time_base = index, fractions.Fraction(1, FPS)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def test_a_panning_zooming_video_avatar_keeps_the_mouth_on_the_tracked_lips(tmp_path: pathlib.Path) -> None:
    clip = tmp_path / "pan.mp4"
    pan_and_zoom(clip, 75)
    speech = synthesize("Open wide: ah, oh, bah, papa.", "en-US-female-1")
    frames = _render(tmp_path, speech, AvatarLayer(Box(0, 0, 640, 480), video_path=clip), (640, 480))
    track = speech.mouth_track(FPS)
    offsets: list[tuple[float, float, float]] = []
    for index, frame in enumerate(frames):
        face = _face(frame)
        if track[index] < 0.4:
            continue
        # The painted inside of the mouth: the dark pixels between the mouth corners the mesh
        # found, from the upper lip down towards the chin.
        unit = face.eye_distance
        x0, x1 = int(face.at(lm.LIP_CORNER_RIGHT)[0] - 0.05 * unit), int(face.at(lm.LIP_CORNER_LEFT)[0] + 0.05 * unit)
        y0, y1 = int(face.at(lm.LIP_UPPER_INNER)[1] - 0.1 * unit), int(face.at(lm.LIP_LOWER_INNER)[1] + 0.3 * unit)
        gray = cv2.cvtColor(frame[y0:y1, x0:x1], cv2.COLOR_BGR2GRAY)
        ys, xs = np.nonzero(gray < 50)
        assert len(xs) > 20, f"frame {index}: no open mouth at the tracked lips"
        middle = (face.at(lm.LIP_CORNER_RIGHT)[0] + face.at(lm.LIP_CORNER_LEFT)[0]) / 2
        across = (float(np.percentile(xs, 3)) + float(np.percentile(xs, 97))) / 2 + x0
        top = float(np.percentile(ys, 3)) + y0
        offsets.append((across - middle, top - face.at(lm.LIP_UPPER_INNER)[1], unit))
    assert len(offsets) >= 10
    dx, dy, unit = np.array(offsets).T
    # Wherever the face went in the frame, the mouth stayed between the corners (her smile is a
    # little lopsided, so a little right of their middle) and its top just under the upper lip
    # (below the teeth), to a few pixels; the eyes are about 140 px apart here.
    assert abs(float(np.median(dx))) <= 0.05 * float(unit.min())
    assert float(np.abs(dx - np.median(dx)).max()) <= 6.0
    # Within 5% of the eye distance (about 7 px here) above the upper lip.
    assert float(dy.min()) >= -0.05 * float(unit.min())
    assert float(dy.max()) <= 0.1 * float(unit.min())


def test_the_upload_check_accepts_the_astronaut(astronaut: pathlib.Path) -> None:
    found = analyze_avatar_source(astronaut)
    x, y, w, h = found.face_box
    assert (found.kind, found.width, found.height) == ("image", 512, 512)
    assert 160 < x < 200 and 50 < y < 100 and 70 < w < 120 and 80 < h < 130  # her face, not the suit


def test_the_upload_check_refuses_two_people(tmp_path: pathlib.Path) -> None:
    picture = cv2.cvtColor(skimage_data.astronaut(), cv2.COLOR_RGB2BGR)
    pair = tmp_path / "pair.png"
    cv2.imwrite(str(pair), np.hstack([picture, picture]))
    with pytest.raises(RenderError, match=r"2 faces found in 'pair\.png'.*crop the photo to one face"):
        analyze_avatar_source(pair)


def test_the_upload_check_refuses_a_face_turned_to_the_side() -> None:
    face = lm.find_faces(cv2.cvtColor(skimage_data.astronaut(), cv2.COLOR_RGB2BGR))[0]
    assert abs(face.yaw()) < 0.15  # she looks at the camera
    assert judge_faces([face], "me.png") is face
    # Seen from the side the nose tip sits near one cheek: move it there.
    turned = face.points.copy()
    turned[lm.NOSE_TIP, 0] = 0.2 * turned[lm.CHEEK_RIGHT, 0] + 0.8 * turned[lm.CHEEK_LEFT, 0]
    with pytest.raises(RenderError, match=r"'me\.png' is turned too far to the side.*looking straight at the camera"):
        judge_faces([lm.Face(turned, 1.0)], "me.png")
    with pytest.raises(RenderError, match=r"no face found in 'me\.png'"):
        judge_faces([], "me.png")


def _assert_settled(tmp_path: pathlib.Path, astronaut: pathlib.Path, said: Speech, new: Speech) -> None:
    """Her photo made to say ``said`` is used as a video avatar that says ``new``: her mouth
    follows the new loudness and is shut in the new silences, however open it was in the video."""
    source = tmp_path / "source.mp4"
    layer = AvatarLayer(Box(0, 0, 480, 480), image_path=astronaut)
    render(Composition(layers=[layer], speech=said, width=480, height=480), source, preset="ultrafast", crf=12)
    heard = _frames(source)
    assert len(heard) / FPS > new.duration  # no loop: frame i of the output is frame i here
    frames = _render(tmp_path, new, AvatarLayer(Box(0, 0, 640, 480), video_path=source), (640, 480))
    n = len(frames)
    before = np.array([_opening(f, _face(f)) for f in heard[:n]])
    after = np.array([_opening(f, _face(f)) for f in frames])
    assert float(np.corrcoef(after, _loudness(new, n))[0, 1]) >= 0.8
    silent = new.mouth_track(FPS)[:n] == 0
    rest = float(np.median(after[silent]))
    quiet = said.mouth_track(FPS)[:n] == 0
    source_rest = float(np.median(before[quiet])) if quiet.any() else 0.0
    # Where the new speech is silent but her mouth in the source was open, it is shut now.
    talking = before > source_rest + 0.4 * float(before.max() - source_rest)
    assert int((silent & talking).sum()) >= 5
    assert float(np.abs(after[silent & talking] - rest).max()) <= 0.15 * float(after.max() - rest)
    # Shut, not only no longer dark: her lips there are no further apart than in her photo.
    photo = lm.find_faces(np.asarray(cv2.imread(str(astronaut)), np.uint8))[0]
    gaps = np.array([_face(f).lip_gap() for f in frames])
    assert float(gaps[silent & talking].max()) <= 1.1 * photo.lip_gap()


def test_a_video_of_her_talking_is_settled_and_her_mouth_follows_the_new_speech(
    tmp_path: pathlib.Path, astronaut: pathlib.Path, burst_speech: Speech
) -> None:
    # A source that talks, made without downloads: the engine's own render of her photo saying
    # one thing. Then the video is made to say something else, with pauses in other places.
    said = synthesize("Papa, mama, open wide: ah, oh, bah, and more words after that.", "en-US-female-1")
    _assert_settled(tmp_path, astronaut, said, burst_speech)


def test_a_video_of_her_mouth_open_wide_throughout_is_settled_too(
    tmp_path: pathlib.Path, astronaut: pathlib.Path, burst_speech: Speech
) -> None:
    # A long loud vowel-like tone: her mouth in the source is open wide on every frame, so no
    # frame of it shows her mouth shut; the rest shape must be made, not found.
    rate = burst_speech.sample_rate
    t = np.arange(round(3.4 * rate)) / rate
    voice = np.sin(2 * np.pi * 160 * t) + 0.5 * np.sin(2 * np.pi * 320 * t)
    swell = 0.8 + 0.2 * np.cos(2 * np.pi * 1.5 * t)
    said = Speech(samples=(0.45 * voice * swell).astype(np.float32), sample_rate=rate)
    _assert_settled(tmp_path, astronaut, said, burst_speech)
