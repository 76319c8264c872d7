"""A real 4K render: the file's streams, the layers' pixels, progress, cancelling, bad input."""

from __future__ import annotations

import pathlib
from dataclasses import dataclass

import av
import cv2
import numpy as np
import pytest

from akool_mcp.render import (
    AvatarLayer,
    Box,
    ColorLayer,
    Composition,
    ImageLayer,
    RenderError,
    RenderResult,
    render,
)
from akool_mcp.render.builtin.spec import MOUTH_Y
from akool_mcp.speech import Speech, decode_audio, synthesize

pytestmark = pytest.mark.slow

AVATAR_BOX = Box(1420, 560, 1000, 1600)  # the bust is 1000 px, bottom-centred: top-left (1420, 1160)
BUST_LEFT, BUST_TOP, BUST_SIDE = 1420, 1160, 1000
MOUTH_CANVAS_Y = BUST_TOP + round(MOUTH_Y * BUST_SIDE / 1000)


@dataclass(frozen=True)
class Rendered:
    result: RenderResult
    speech: Speech
    progress: list[float]


def _write_png(path: pathlib.Path, bgra: np.ndarray) -> pathlib.Path:
    cv2.imwrite(str(path), bgra)
    return path


def _quadrants() -> np.ndarray:
    """100x100: red, blue / yellow, white (BGRA, opaque)."""
    image = np.zeros((100, 100, 4), np.uint8)
    image[:50, :50] = (0, 0, 255, 255)
    image[:50, 50:] = (255, 0, 0, 255)
    image[50:, :50] = (0, 255, 255, 255)
    image[50:, 50:] = (255, 255, 255, 255)
    return image


def _half_green() -> np.ndarray:
    """200x100: the left half opaque green, the right half fully transparent."""
    image = np.zeros((100, 200, 4), np.uint8)
    image[:, :100] = (0, 200, 0, 255)
    return image


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory, burst_speech: Speech) -> Rendered:
    folder = tmp_path_factory.mktemp("render4k")
    quad = _write_png(folder / "quad.png", _quadrants())
    green = _write_png(folder / "green.png", _half_green())
    layers = [
        ColorLayer((30, 60, 120, 255), Box(0, 0, 3840, 2160)),
        ColorLayer((255, 255, 255, 128), Box(-200, -200, 600, 500)),  # half-transparent, off the top-left
        ImageLayer(quad, Box(-100, 1800, 200, 200)),  # only its right half is on the canvas
        AvatarLayer(AVATAR_BOX, builtin_id="local_liam"),
        ImageLayer(green, Box(1930, MOUTH_CANVAS_Y - 50, 200, 100)),  # over the mouth's right half
        ImageLayer(quad, Box(3740, 2060, 200, 200)),  # only its top-left quarter is on the canvas
    ]
    seen: list[float] = []
    result = render(
        Composition(layers=layers, speech=burst_speech),
        folder / "out.mp4",
        preset="ultrafast",
        progress=seen.append,
    )
    return Rendered(result, burst_speech, seen)


def _frames_bgr(path: pathlib.Path, wanted: set[int]) -> dict[int, np.ndarray]:
    found: dict[int, np.ndarray] = {}
    with av.open(str(path)) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index in wanted:
                found[index] = frame.to_ndarray(format="bgr24")
            if index >= max(wanted):
                break
    return found


def _near(pixel: np.ndarray, bgr: tuple[int, int, int], tolerance: int = 10) -> bool:
    return bool(np.all(np.abs(pixel.astype(int) - np.array(bgr)) <= tolerance))


def test_the_file_is_4k_h264_yuv420p_with_aac_as_long_as_the_speech(rendered: Rendered) -> None:
    path = rendered.result.path
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        audio = container.streams.audio[0]
        assert (video.codec_context.width, video.codec_context.height) == (3840, 2160)
        assert video.codec_context.name == "h264"
        assert video.codec_context.pix_fmt == "yuv420p"
        assert audio.codec_context.name == "aac"
        assert video.average_rate == 25
        assert video.duration is not None and audio.duration is not None
        assert video.time_base is not None and audio.time_base is not None
        video_seconds = float(video.duration * video.time_base)
        audio_seconds = float(audio.duration * audio.time_base)
        frames = sum(1 for _ in container.decode(video=0))
    speech_seconds = rendered.speech.duration
    assert abs(video_seconds - speech_seconds) <= 0.04
    assert abs(audio_seconds - speech_seconds) <= 0.03  # AAC rounds up to its 1024-sample frames
    assert frames == rendered.result.frames == round(speech_seconds * 25)
    assert rendered.result.width == 3840 and rendered.result.height == 2160
    assert rendered.result.duration == pytest.approx(speech_seconds)


def test_the_voice_comes_through_the_aac_track_faithfully(tmp_path: pathlib.Path) -> None:
    """Real speech, encoded and decoded again, in step and at least 30 dB above its coding noise."""
    speech = synthesize("Five very fine fish swim past the shiny ship.", "en-US-female-1")
    layers = [
        ColorLayer((30, 60, 120, 255), Box(0, 0, 320, 240)),
        AvatarLayer(Box(0, 0, 320, 240), builtin_id="local_liam"),
    ]
    composition = Composition(layers=layers, speech=speech, width=320, height=240)
    result = render(composition, tmp_path / "voice.mp4", preset="ultrafast")
    heard = decode_audio(result.path, speech.sample_rate).samples
    n = len(speech.samples)
    assert len(heard) >= n
    error = heard[:n] - speech.samples
    snr = 10 * np.log10(float(np.sum(speech.samples**2)) / float(np.sum(error**2)))
    assert snr >= 30, f"the voice came back at {snr:.1f} dB over its coding noise"


def test_progress_rises_to_one(rendered: Rendered) -> None:
    assert rendered.progress[0] == 0.0 and rendered.progress[-1] == 1.0
    assert rendered.progress == sorted(rendered.progress)


def test_layers_blend_and_clip_at_the_canvas_edges(rendered: Rendered) -> None:
    frame = _frames_bgr(rendered.result.path, {0})[0]
    assert _near(frame[1000, 600], (120, 60, 30))  # plain background (BGR)
    # White at alpha 128 over the background: halfway between the two.
    assert _near(frame[100, 100], (188, 158, 143))
    assert _near(frame[350, 100], (120, 60, 30))  # below that layer's clipped box
    # Left-edge image: its right half shows, top blue and bottom white.
    assert _near(frame[1850, 50], (255, 0, 0))
    assert _near(frame[1950, 50], (255, 255, 255))
    # Bottom-right image: only its red top-left quarter fits on the canvas.
    assert _near(frame[2110, 3790], (0, 0, 255))
    # The avatar is drawn: skin on the cheek, not background.
    cheek = frame[BUST_TOP + 470, BUST_LEFT + 400]
    assert not _near(cheek, (120, 60, 30), 40)


def test_a_layer_above_the_avatar_stays_on_top_while_the_mouth_moves(rendered: Rendered) -> None:
    track = rendered.speech.mouth_track(25)
    widest = int(np.argmax(track))
    assert track[widest] > 0.8
    frames = _frames_bgr(rendered.result.path, {0, widest})
    for index in (0, widest):
        frame = frames[index]
        assert _near(frame[MOUTH_CANVAS_Y + 6, 1945], (0, 200, 0))  # the green half covers the mouth's right end
        assert not _near(frame[MOUTH_CANVAS_Y - 20, 2080], (0, 200, 0), 60)  # its transparent half does not
    # Uncovered, the mouth really opened: the middle of the lips went dark.
    closed = frames[0][MOUTH_CANVAS_Y + 6, 1920].astype(int).sum()
    opened = frames[widest][MOUTH_CANVAS_Y + 6, 1920].astype(int).sum()
    assert opened < closed - 150


def _small(speech: Speech, layers: list[object] | None = None) -> Composition:
    chosen = layers or [
        ColorLayer((0, 0, 0, 255), Box(0, 0, 320, 180)),
        AvatarLayer(Box(80, 0, 180, 180), "local_omar"),
    ]
    return Composition(layers=chosen, speech=speech, width=320, height=180)  # type: ignore[arg-type]


def test_cancelling_stops_the_render_and_removes_the_file(tmp_path: pathlib.Path, burst_speech: Speech) -> None:
    calls = {"n": 0}

    def cancelled() -> bool:
        calls["n"] += 1
        return calls["n"] > 5

    out = tmp_path / "out.mp4"
    with pytest.raises(RenderError, match=r"^cancelled$"):
        render(_small(burst_speech), out, preset="ultrafast", cancelled=cancelled)
    assert not out.exists()


@pytest.mark.parametrize(
    ("layers", "message"),
    [
        ([ColorLayer((0, 0, 0, 255), Box(0, 0, 320, 180))], "exactly one avatar layer; this one has 0"),
        ([AvatarLayer(Box(0, 0, 100, 100), "local_omar"), AvatarLayer(Box(0, 0, 100, 100), "local_liam")],
         "exactly one avatar layer; this one has 2"),
        ([AvatarLayer(Box(0, 0, 100, 100), "nobody")], "unknown built-in avatar 'nobody'; use one of: local_"),
        ([AvatarLayer(Box(0, 0, 100, 100))], "exactly one of builtin_id, image_path or video_path"),
        ([AvatarLayer(Box(0, 0, 100, 100), "local_omar"), ImageLayer(pathlib.Path("/nope.png"), Box(0, 0, 9, 9))],
         "does not exist"),
        ([AvatarLayer(Box(0, 0, 100, 100), "local_omar"), ColorLayer((0, 0, 0, 255), Box(0, 0, 0, 9))],
         "at least 1x1"),
    ],
)  # fmt: skip
def test_bad_compositions_are_refused_with_a_reason(
    tmp_path: pathlib.Path, burst_speech: Speech, layers: list[object], message: str
) -> None:
    with pytest.raises(RenderError, match=message):
        render(_small(burst_speech, layers), tmp_path / "out.mp4")


def test_an_odd_canvas_size_is_refused(tmp_path: pathlib.Path, burst_speech: Speech) -> None:
    composition = Composition(layers=[AvatarLayer(Box(0, 0, 100, 100), "local_omar")], speech=burst_speech, width=321)
    with pytest.raises(RenderError, match="must be even"):
        render(composition, tmp_path / "out.mp4")
