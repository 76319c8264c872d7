# PyAV's stubs leave Packet and **kwargs untyped: relax the unknown-type checks here only.
# pyright: reportUnknownMemberType=false, reportUnknownVariableType=false
"""Avatars: the drawn built-ins, finding faces in users' files, and animating photos and videos."""

from __future__ import annotations

import fractions
import pathlib

import av
import cv2
import numpy as np
import pytest

from akool_mcp.local.render import (
    AvatarLayer,
    Box,
    ColorLayer,
    Composition,
    RenderError,
    analyze_avatar_source,
    builtin_avatar_png,
    builtin_thumbnail_png,
    list_builtin_avatars,
    render,
)
from akool_mcp.local.render.mouth import locate_mouth, open_mouth
from akool_mcp.local.speech import Speech

FPS = 25


def _png(data: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    assert image is not None
    return image


def test_there_are_at_least_four_varied_built_in_avatars() -> None:
    avatars = list_builtin_avatars()
    assert len(avatars) >= 4
    assert len({a.avatar_id for a in avatars}) == len(avatars)
    assert {a.gender for a in avatars} == {"female", "male"}
    assert all(a.name for a in avatars)


@pytest.mark.parametrize("avatar_id", [a.avatar_id for a in list_builtin_avatars()])
def test_a_built_in_portrait_is_an_rgba_png_on_a_transparent_background(avatar_id: str) -> None:
    data = builtin_avatar_png(avatar_id, 360, 480)
    image = _png(data)
    assert image.shape == (480, 360, 4)
    assert image[0, 0, 3] == 0 and image[130, 5, 3] == 0  # corners: transparent
    assert image[300, 180, 3] == 255  # the face: opaque
    assert builtin_avatar_png(avatar_id, 360, 480) == data  # drawn the same every time
    thumb = _png(builtin_thumbnail_png(avatar_id))
    assert thumb.shape == (256, 256, 4)


def test_an_unknown_built_in_avatar_names_the_valid_ones() -> None:
    with pytest.raises(RenderError, match="unknown built-in avatar 'zed'; use one of: local_amara"):
        builtin_avatar_png("zed", 100, 100)


def test_analysis_finds_the_face_in_a_photo(face_photo: pathlib.Path) -> None:
    found = analyze_avatar_source(face_photo)
    assert (found.kind, found.width, found.height, found.duration) == ("image", 640, 640, None)
    x, y, w, h = found.face_box
    # The drawn face spans about x 208-432 and y 106-403 of this 640 px picture.
    assert 150 < x < 260 and 90 < y < 200 and 200 < w < 380 and 200 < h < 380
    assert max(_png(found.thumbnail_png).shape[:2]) == 256


def test_analysis_finds_the_face_in_a_video(face_video: pathlib.Path) -> None:
    found = analyze_avatar_source(face_video)
    assert (found.kind, found.width, found.height) == ("video", 480, 480)
    assert found.duration == pytest.approx(1.0, abs=0.1)
    assert 150 < found.face_box[2] < 320


def test_analysis_says_so_when_there_is_no_face(tmp_path: pathlib.Path) -> None:
    plain = tmp_path / "wall.jpg"
    picture = np.full((480, 640, 3), (90, 140, 180), np.uint8)
    cv2.circle(picture, (320, 240), 100, (30, 60, 90), -1)
    cv2.imwrite(str(plain), picture)
    with pytest.raises(RenderError, match=r"no face found in 'wall\.jpg'"):
        analyze_avatar_source(plain)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("broken.png", b"\x89PNG not really", "could not read 'broken.png' as an image"),
        ("clip.mp4", b"not a video", "could not read 'clip.mp4' as a video"),
        ("anim.gif", b"GIF89a", "not a supported avatar file"),
    ],
)
def test_analysis_refuses_unreadable_or_unsupported_files(
    tmp_path: pathlib.Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(RenderError, match=message):
        analyze_avatar_source(path)


def test_analysis_refuses_a_video_over_five_minutes(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "long.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=1)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        for index in range(302):
            frame = av.VideoFrame.from_ndarray(np.zeros((64, 64, 3), np.uint8), format="bgr24")
            frame.pts, frame.time_base = index, fractions.Fraction(1, 1)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    with pytest.raises(RenderError, match="use one under 5"):
        analyze_avatar_source(path)


def test_opening_a_photo_mouth_darkens_the_mouth_and_leaves_the_rest(face_photo: pathlib.Path) -> None:
    picture = np.asarray(cv2.imread(str(face_photo)), np.uint8)
    face = (175, 139, 293, 293)  # a known face box, as the detector gives for this picture
    mouth = locate_mouth(picture, face)
    # The drawn lips meet at y = 0.54 of the 640 px bust: 346.
    assert abs(mouth.line_y - 346) <= 3
    assert open_mouth(picture, mouth, 0.0) is picture  # shut: the photo untouched
    opened = open_mouth(picture, mouth, 1.0)
    x0, y0, x1, y1 = mouth.region()
    changed = np.any(opened != picture, axis=2)
    assert not changed[:y0].any() and not changed[y1:].any()
    assert not changed[:, :x0].any() and not changed[:, x1:].any()
    assert 25 < mouth.half_width < 40  # the drawn lips are 60 px wide
    inside = (slice(int(mouth.line_y) + 3, int(mouth.line_y) + 12), slice(int(mouth.cx) - 10, int(mouth.cx) + 10))
    assert opened[inside].mean() < picture[inside].mean() - 60
    half = open_mouth(picture, mouth, 0.5)
    assert picture[inside].mean() > half[inside].mean() > opened[inside].mean()


def _mouth_luma_track(path: pathlib.Path, area: tuple[int, int, int, int]) -> np.ndarray:
    x0, y0, x1, y1 = area
    with av.open(str(path)) as container:
        return np.stack([frame.to_ndarray(format="gray")[y0:y1, x0:x1] for frame in container.decode(video=0)]).astype(
            np.int16
        )


def _loud_and_silent(speech: Speech, frames: int) -> tuple[np.ndarray, np.ndarray]:
    track = speech.mouth_track(FPS)[:frames]
    return track > 0.6, track == 0


def test_a_photo_avatar_talks(tmp_path: pathlib.Path, face_photo: pathlib.Path, burst_speech: Speech) -> None:
    layers = [
        ColorLayer((20, 20, 20, 255), Box(0, 0, 1280, 720)),
        AvatarLayer(Box(320, 40, 640, 640), image_path=face_photo),
    ]
    out = tmp_path / "photo.mp4"
    result = render(Composition(layers=layers, speech=burst_speech, width=1280, height=720), out, preset="ultrafast")
    assert result.frames == round(burst_speech.duration * FPS)
    # The photo sits unscaled at (320, 40): its mouth is around (640, 386).
    luma = _mouth_luma_track(out, (600, 370, 680, 410))
    loud, silent = _loud_and_silent(burst_speech, len(luma))
    shut = luma[int(np.argmax(silent))]
    change = np.abs(luma - shut).mean(axis=(1, 2))
    assert change[silent].max() < 3.0  # what is left is the encoder's noise on the photo's grain
    assert change[loud].min() > 8.0


def test_a_video_avatar_loops_and_talks(tmp_path: pathlib.Path, face_video: pathlib.Path, burst_speech: Speech) -> None:
    layers = [
        ColorLayer((20, 20, 20, 255), Box(0, 0, 1280, 720)),
        AvatarLayer(Box(400, 0, 720, 720), video_path=face_video),
    ]
    out = tmp_path / "video.mp4"
    result = render(Composition(layers=layers, speech=burst_speech, width=1280, height=720), out, preset="ultrafast")
    frames = round(burst_speech.duration * FPS)
    assert result.frames == frames  # 2.7 s from a 1 s clip: it looped
    with av.open(str(out)) as container:
        assert sum(1 for _ in container.decode(video=0)) == frames
    # The clip's face box, scaled 1.5x into the avatar box; the lips are in its lower third.
    x, y, w, h = analyze_avatar_source(face_video).face_box
    cx = 400 + (x + w / 2) * 1.5
    luma = _mouth_luma_track(out, (int(cx - 40), int((y + 0.64 * h) * 1.5), int(cx + 40), int((y + 0.9 * h) * 1.5)))
    dark = np.count_nonzero(luma < 70, axis=(1, 2))
    loud, silent = _loud_and_silent(burst_speech, len(luma))
    assert dark[silent].max() <= 5
    assert dark[loud].mean() > 100


@pytest.mark.parametrize("kind", ["builtin", "image", "video"])
@pytest.mark.parametrize("box", [Box(-450, 100, 1000, 1000), Box(100, -530, 1000, 1000), Box(-2000, 0, 500, 500)])
def test_an_avatar_partly_or_wholly_off_the_canvas_still_renders(
    tmp_path: pathlib.Path, face_photo: pathlib.Path, face_video: pathlib.Path, kind: str, box: Box
) -> None:
    speech = Speech(samples=np.sin(np.arange(11_025) / 5).astype(np.float32) * 0.5, sample_rate=22_050)
    layer = {
        "builtin": AvatarLayer(box, builtin_id="local_grace"),
        "image": AvatarLayer(box, image_path=face_photo),
        "video": AvatarLayer(box, video_path=face_video),
    }[kind]
    composition = Composition(
        layers=[ColorLayer((9, 9, 9, 255), Box(0, 0, 640, 360)), layer], speech=speech, width=640, height=360
    )
    result = render(composition, tmp_path / "edge.mp4", preset="ultrafast")
    assert result.frames == 12 and (tmp_path / "edge.mp4").stat().st_size > 0
