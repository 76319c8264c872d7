"""Pictures converted for resources: a JPEG thumbnail becomes the PNG the resource declares."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from akool_mcp.media.pictures import PictureError, as_png


def test_a_jpeg_thumbnail_is_served_as_the_png_the_resource_declares() -> None:
    jpeg = cv2.imencode(".jpg", np.full((12, 20, 3), 90, np.uint8))[1].tobytes()
    png = as_png(jpeg)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    decoded = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    assert decoded is not None and decoded.shape == (12, 20, 3)


def test_bytes_that_are_no_picture_are_refused_with_a_reason() -> None:
    with pytest.raises(PictureError, match="could not be read as an image"):
        as_png(b"<html>not a picture</html>")
