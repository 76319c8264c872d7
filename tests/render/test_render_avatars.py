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

from akool_mcp.render import (
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
from akool_mcp.render.builtin.catalog import (
    BITE_PATCH,
    BROWS,
    EYE_LIDS,
    MOUTH_LEVELS,
    MOUTH_WIDTHS,
    mouth_patch,
    sprite,
)
from akool_mcp.render.builtin.spec import EYE_Y
from akool_mcp.speech import Speech

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


def _lip_extent(patch: np.ndarray) -> tuple[int, int]:
    """Width and height of what differs from the shut mouth's skin: lips and the open mouth."""
    bgr = patch[..., :3].astype(int)
    skin = np.median(bgr[:4].reshape(-1, 3), axis=0)  # the top rows of the patch are cheek
    ys, xs = np.nonzero(np.abs(bgr - skin).sum(axis=2) > 60)
    return int(xs.max() - xs.min()), int(ys.max() - ys.min())


def test_built_in_mouths_round_for_oo_and_spread_for_ee() -> None:
    mouth = sprite("local_sofia", 800).mouth
    level = MOUTH_LEVELS // 2
    rounded = _lip_extent(mouth.patches[mouth_patch(level, MOUTH_WIDTHS.index(-1.0))])
    neutral = _lip_extent(mouth.patches[mouth_patch(level, MOUTH_WIDTHS.index(0.0))])
    spread = _lip_extent(mouth.patches[mouth_patch(level, MOUTH_WIDTHS.index(1.0))])
    assert rounded[0] < 0.85 * neutral[0] < 0.85 * spread[0]
    assert rounded[0] / rounded[1] < 0.8 * spread[0] / spread[1]
    # f and v: the upper teeth rest on the lower lip, a flash of white in a nearly shut mouth.
    bite = mouth.patches[BITE_PATCH][..., :3].astype(int)
    assert np.count_nonzero(bite.min(axis=2) > 200) > 30
    assert np.count_nonzero(mouth.patches[0][..., :3].min(axis=2) > 200) < 5


def test_built_in_brows_lift_without_touching_the_eyes() -> None:
    eyes = sprite("local_liam", 800).eyes
    rest, lifted = eyes.patches[0], eyes.patches[len(EYE_LIDS) * (len(BROWS) - 1)]
    changed = np.nonzero(np.any(rest != lifted, axis=2))[0]
    assert len(changed) > 0
    eye_top = round((EYE_Y - 22) * 800 / 1000) - eyes.top  # the upper lid's highest point
    assert changed.max() < eye_top


def test_built_in_avatars_sway_only_the_head(tmp_path: pathlib.Path) -> None:
    speech = Speech(samples=np.zeros(22_050 * 2, np.float32), sample_rate=22_050)
    layers = [ColorLayer((200, 210, 220, 255), Box(0, 0, 640, 360)), AvatarLayer(Box(140, 0, 360, 360), "local_omar")]
    out = tmp_path / "sway.mp4"
    render(Composition(layers=layers, speech=speech, width=640, height=360), out, preset="ultrafast", crf=12)
    with av.open(str(out)) as container:
        frames = [f.to_ndarray(format="gray").astype(int) for f in container.decode(video=0)]
    face = np.s_[60:200, 260:380]  # eyes, nose and mouth of the 360 px bust at x 140
    shoulders = np.s_[330:360, 150:490]
    assert max(float(np.abs(f[face] - frames[0][face]).mean()) for f in frames) > 2.0  # the head moves
    assert max(float(np.abs(f[shoulders] - frames[0][shoulders]).mean()) for f in frames) < 0.5  # the body not


def test_a_large_built_in_avatars_mouth_and_eyes_are_drawn_smooth() -> None:
    """A big avatar's bust is drawn once with anti-aliasing, but its mouth and eye states, small
    curved shapes that show stair steps at a 200% crop, are drawn supersampled: nearer the
    same states drawn at four times the size and averaged down than drawn at size once, and
    joining the bust around them with no seam."""
    side = 900  # bigger than avatars drawn whole at twice the size
    now = sprite("local_liam", side)
    once, fine = (sprite("local_liam", side, detail_supersample=k) for k in (1, 4))
    for part in ("mouth", "eyes"):
        index = mouth_patch(6, 2) if part == "mouth" else 0
        ours, plain, reference = (getattr(s, part).patches[index].astype(int) for s in (now, once, fine))
        assert float(np.abs(ours - reference).mean()) < 0.5 * float(np.abs(plain - reference).mean())
        states = getattr(now, part)
        top, left, h, w = states.top, states.left, states.height, states.width
        ring = np.zeros((side, side), bool)
        ring[top - 1 : top + h + 1, left - 1 : left + w + 1] = True
        ring[top + 1 : top + h - 1, left + 1 : left + w - 1] = False
        assert int(np.abs(now.image.astype(int) - once.image)[ring].max()) <= 3
