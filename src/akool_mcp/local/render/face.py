"""Finding the face in a user's avatar image or video (OpenCV Haar cascades, no downloads)."""

from __future__ import annotations

import pathlib
import threading
from typing import cast

import av
import av.error
import cv2
import numpy as np
from cv2 import data as cv2_data

from akool_mcp.local.render.draw import Image
from akool_mcp.local.render.layers import IMAGE_SUFFIXES, load_image
from akool_mcp.local.render.model import AvatarAnalysis, RenderError

VIDEO_SUFFIXES = (".mp4", ".mov", ".avi")
MAX_VIDEO_SECONDS = 300.0
THUMBNAIL_SIDE = 256
FaceBox = tuple[int, int, int, int]  # left, top, width, height

_local = threading.local()  # a CascadeClassifier is not safe to share between threads


def _cascades() -> tuple[cv2.CascadeClassifier, cv2.CascadeClassifier, cv2.CascadeClassifier]:
    found: tuple[cv2.CascadeClassifier, cv2.CascadeClassifier, cv2.CascadeClassifier] | None = getattr(
        _local, "cascades", None
    )
    if found is None:
        root = pathlib.Path(cv2_data.haarcascades)
        found = tuple(
            cv2.CascadeClassifier(str(root / name))
            for name in (
                "haarcascade_frontalface_default.xml",
                "haarcascade_eye.xml",
                "haarcascade_eye_tree_eyeglasses.xml",
            )
        )  # type: ignore[assignment]
        assert found is not None
        if any(c.empty() for c in found):
            raise RenderError("OpenCV's face detector data is missing; reinstall opencv-python-headless")
        _local.cascades = found
    return found


def _has_eyes(gray: Image, face: FaceBox) -> bool:
    """A real face shows at least one eye in its upper half: this drops most false faces."""
    _, eye, glasses = _cascades()
    x, y, w, h = face
    upper = gray[y : y + h * 6 // 10, x : x + w]
    size = max(8, w // 9)
    for cascade in (eye, glasses):
        eyes = cascade.detectMultiScale(upper, scaleFactor=1.1, minNeighbors=3, minSize=(size, size))
        if len(eyes) > 0:
            return True
    return False


def detect_face(bgr: Image) -> FaceBox | None:
    """The largest eye-confirmed frontal face, in the image's pixels; None if there is none."""
    face_cascade = _cascades()[0]
    gray_full = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    h, w = gray_full.shape
    for max_side in (640, 1280):  # small first (fast, finds big faces), then finer
        scale = min(1.0, max_side / max(h, w))
        gray = cv2.resize(gray_full, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else gray_full
        gray = cast(Image, cv2.equalizeHist(gray))
        smallest = max(24, min(gray.shape) // 12)
        faces = face_cascade.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5, minSize=(smallest, smallest))
        ranked = sorted((tuple(int(v) for v in f) for f in faces), key=lambda f: -f[2] * f[3])
        for fx, fy, fw, fh in ranked:
            if _has_eyes(gray, (fx, fy, fw, fh)):
                return round(fx / scale), round(fy / scale), round(fw / scale), round(fh / scale)
        if scale == 1.0:
            break
    return None


def _flatten(bgra_premultiplied: Image) -> Image:
    """Premultiplied BGRA over mid grey: what a detector or a thumbnail should see."""
    alpha = bgra_premultiplied[..., 3:4].astype(np.uint16)
    grey = ((255 - alpha) * 128 + 127) // 255
    return (bgra_premultiplied[..., :3].astype(np.uint16) + grey).clip(0, 255).astype(np.uint8)


def _thumbnail(bgr: Image) -> bytes:
    h, w = bgr.shape[:2]
    scale = THUMBNAIL_SIDE / max(h, w)
    small = cv2.resize(bgr, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    ok, data = cv2.imencode(".png", small)
    if not ok:
        raise RenderError("could not encode the avatar thumbnail")
    return data.tobytes()


def video_frames_for_probe(path: pathlib.Path) -> tuple[int, int, float, list[Image]]:
    """(width, height, duration, a few BGR frames spread over the video)."""
    try:
        with av.open(str(path), "r") as container:
            if not container.streams.video:
                raise RenderError(f"{path.name!r} has no video stream; use an .mp4, .mov or .avi video")
            stream = container.streams.video[0]
            if container.duration is not None:
                duration = container.duration / 1_000_000
            elif stream.duration is not None and stream.time_base is not None:
                duration = float(stream.duration * stream.time_base)
            else:
                duration = 0.0
            if duration > MAX_VIDEO_SECONDS:
                raise RenderError(
                    f"the avatar video lasts {duration / 60:.1f} minutes; use one under {MAX_VIDEO_SECONDS / 60:.0f}"
                )
            wanted = [duration * f for f in (0.0, 0.3, 0.6, 0.9)]
            frames: list[Image] = []
            last_time = 0.0
            for frame in container.decode(stream):
                last_time = float(frame.time or 0.0)
                if wanted and last_time >= wanted[0]:
                    frames.append(cast(Image, frame.to_ndarray(format="bgr24")))
                    while wanted and last_time >= wanted[0]:
                        wanted.pop(0)
                if not wanted:
                    break
            width, height = stream.codec_context.width, stream.codec_context.height
    except RenderError:
        raise
    except (av.error.FFmpegError, ValueError) as exc:
        raise RenderError(f"could not read {path.name!r} as a video ({exc}); use an .mp4, .mov or .avi file") from exc
    if not frames:
        raise RenderError(f"{path.name!r} contains no video frames")
    return width, height, max(duration, last_time), frames


def analyze_avatar_source(path: pathlib.Path) -> AvatarAnalysis:
    """Probe a user's avatar image or video and find the face in it."""
    suffix = path.suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        picture = _flatten(load_image(path))
        face = detect_face(picture)
        if face is None:
            raise RenderError(
                f"no face found in {path.name!r}; use a sharp, well-lit photo looking straight at the camera"
            )
        h, w = picture.shape[:2]
        return AvatarAnalysis("image", w, h, None, face, _thumbnail(picture))
    if suffix in VIDEO_SUFFIXES:
        if not path.is_file():
            raise RenderError(f"video {path.name!r} does not exist")
        width, height, duration, frames = video_frames_for_probe(path)
        found = [f for f in (detect_face(frame) for frame in frames) if f is not None]
        if not found:
            raise RenderError(
                f"no face found in {path.name!r}; use a video of one person looking straight at the camera"
            )
        # The median box over a few moments: the head may drift, the mouth area should not jump.
        median = np.median(np.asarray(found, np.float64), axis=0)
        face = (int(median[0]), int(median[1]), int(median[2]), int(median[3]))
        return AvatarAnalysis("video", width, height, duration, face, _thumbnail(frames[0]))
    raise RenderError(
        f"{path.name!r} is not a supported avatar file; use an image (.png .jpg .jpeg .webp) or a video "
        "(.mp4 .mov .avi)"
    )
