"""Checking a user's avatar image or video: one face, turned towards the camera.

Faces are found with BlazeFace and the face mesh (see :mod:`landmarks`), the same models that
later animate the face, so a photo that passes here is one the renderer can animate.
"""

from __future__ import annotations

import pathlib
from typing import cast

import av
import av.error
import cv2

from akool_mcp.render.composition import AvatarAnalysis, RenderError
from akool_mcp.render.face import landmarks as lm
from akool_mcp.render.face.photo import flatten
from akool_mcp.render.layers import IMAGE_SUFFIXES, load_image
from akool_mcp.render.pixels import Image

VIDEO_SUFFIXES = (".mp4", ".mov", ".avi")
MAX_VIDEO_SECONDS = 300.0
THUMBNAIL_SIDE = 256
MAX_YAW = 0.45  # nose this far from the middle of the cheeks: about 30 degrees turned
MIN_SECOND_FACE = 0.35  # a second face counts when at least this wide, relative to the first
FaceBox = tuple[int, int, int, int]  # left, top, width, height
_PROBED_AT = (0.0, 0.3, 0.6, 0.9)  # the frames read from a video, as parts of its duration

_ADVICE = "use a sharp, well-lit photo of one person looking straight at the camera"


def check_face(bgr: Image, name: str, what: str = "photo") -> lm.Face:
    """The one face in a picture; RenderError saying what is wrong and what to do otherwise."""
    return judge_faces(lm.find_faces(bgr), name, what)


def judge_faces(faces: list[lm.Face], name: str, what: str = "photo") -> lm.Face:
    """The one usable face among those found (most confident first), or RenderError why not."""
    if not faces:
        raise RenderError(f"no face found in {name!r}; {_ADVICE}")
    main = faces[0]
    others = [f for f in faces[1:] if f.box[2] >= MIN_SECOND_FACE * main.box[2]]
    if others:
        raise RenderError(
            f"{len(others) + 1} faces found in {name!r}; the avatar must show one person: crop the {what} to one face"
        )
    yaw = main.yaw()
    if abs(yaw) > MAX_YAW:
        raise RenderError(
            f"the face in {name!r} is turned too far to the side to animate; {_ADVICE}, head facing forward"
        )
    return main


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
            # A few moments spread over the video, each reached by seeking to the keyframe before it:
            # a long video costs a few groups of pictures to decode, not the whole of it.
            frames: list[Image] = []
            last_time = 0.0
            for moment in (duration * f for f in _PROBED_AT):
                if moment > 0 and stream.time_base is not None:
                    container.seek(int(moment / stream.time_base), stream=stream, backward=True, any_frame=False)
                for frame in container.decode(stream):
                    last_time = float(frame.time or 0.0)
                    if last_time >= moment - 1e-3:
                        frames.append(cast(Image, frame.to_ndarray(format="bgr24")))
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
    """Probe a user's avatar image or video and check the face in it."""
    suffix = path.suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        picture = flatten(load_image(path))
        face = check_face(picture, path.name)
        h, w = picture.shape[:2]
        return AvatarAnalysis("image", w, h, None, face.box, _thumbnail(picture))
    if suffix in VIDEO_SUFFIXES:
        if not path.is_file():
            raise RenderError(f"video {path.name!r} does not exist")
        width, height, duration, frames = video_frames_for_probe(path)
        # The face must be there and alone from the start; later moments may look away briefly.
        face = check_face(frames[0], path.name, "video")
        return AvatarAnalysis("video", width, height, duration, face.box, _thumbnail(frames[0]))
    raise RenderError(
        f"{path.name!r} is not a supported avatar file; use an image (.png .jpg .jpeg .webp) or a video "
        "(.mp4 .mov .avi)"
    )
