"""Pictures converted for whoever reads them: a JPEG or WebP thumbnail as the PNG a resource declares."""

from __future__ import annotations


class PictureError(ValueError):
    """The bytes are not a picture that can be decoded (or encoded again)."""


def as_png(data: bytes) -> bytes:
    """`data` (any format OpenCV decodes) as a PNG, colour kept, alpha dropped."""
    import cv2
    import numpy as np

    picture = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if picture is None:
        raise PictureError("could not be read as an image")
    ok, encoded = cv2.imencode(".png", picture)
    if not ok:
        raise PictureError("could not be converted to PNG")
    return encoded.tobytes()
