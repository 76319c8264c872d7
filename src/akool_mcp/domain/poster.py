"""A poster frame for a finished video: its first picture, about 640 px wide, as a JPEG of tens of KB."""

from __future__ import annotations

from pathlib import Path

from akool_mcp.privacy import private_dir, write_private

POSTER_WIDTH = 640
JPEG_QUALITY = 82


class PosterError(Exception):
    """The video has no picture that can be decoded."""


def jpeg_of(bgr: object, width: int = POSTER_WIDTH) -> bytes:
    """Scale a BGR picture to `width` (keeping its aspect ratio) and encode it as a JPEG."""
    import cv2
    import numpy as np

    image = np.asarray(bgr, dtype=np.uint8)
    height, source_width = image.shape[:2]
    new_height = max(1, round(height * width / source_width))
    small = cv2.resize(image, (width, new_height), interpolation=cv2.INTER_AREA)
    ok, encoded = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise PosterError("the poster could not be encoded")
    return encoded.tobytes()


def first_frame(video: Path) -> object:
    import av
    import av.error

    try:
        with av.open(str(video)) as container:
            for frame in container.decode(video=0):
                return frame.to_ndarray(format="bgr24")
    except av.error.FFmpegError as exc:
        raise PosterError(f"the video could not be decoded ({exc})") from exc
    raise PosterError("the video has no frames")


def make_poster(video: Path, poster: Path) -> Path:
    """Write the poster of `video` to `poster` (once; an existing poster is reused)."""
    if poster.is_file():
        return poster
    private_dir(poster.parent)
    write_private(poster, jpeg_of(first_frame(video)))
    return poster
