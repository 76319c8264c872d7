"""Image sizes come from the header, so a decompression bomb is refused before anything decodes it."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from akool_mcp.media.imagesize import ImageSizeError, check_image_pixels, image_size


def png_header(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + chunk + struct.pack(">I", zlib.crc32(chunk))


@pytest.mark.parametrize("ext", [".png", ".jpg", ".webp"])
def test_real_images_report_their_size(tmp_path: Path, ext: str) -> None:
    path = tmp_path / f"picture{ext}"
    cv2.imwrite(str(path), np.zeros((37, 53, 3), np.uint8))
    assert image_size(path) == (53, 37)


def test_a_lossless_webp_reports_its_size(tmp_path: Path) -> None:
    path = tmp_path / "lossless.webp"
    cv2.imwrite(str(path), np.full((21, 34, 3), 90, np.uint8), [cv2.IMWRITE_WEBP_QUALITY, 101])
    assert image_size(path) == (34, 21)


def test_a_progressive_jpeg_with_metadata_reports_its_size(tmp_path: Path) -> None:
    path = tmp_path / "progressive.jpg"
    ok, encoded = cv2.imencode(".jpg", np.zeros((64, 96, 3), np.uint8), [cv2.IMWRITE_JPEG_PROGRESSIVE, 1])
    assert ok
    data = encoded.tobytes()
    comment = b"\xff\xfe" + struct.pack(">H", 2 + 300) + b"x" * 300  # a COM segment before the frame
    path.write_bytes(data[:2] + comment + data[2:])
    assert image_size(path) == (96, 64)


def test_a_20000_by_20000_png_is_refused_from_its_header(tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"
    path.write_bytes(png_header(20_000, 20_000) + b"\0" * 100)  # no pixel data needed: it is never decoded
    with pytest.raises(ImageSizeError, match=r"20000x20000 pixels \(400 megapixels\)"):
        check_image_pixels(path, 50_000_000)


@pytest.mark.parametrize("content", [b"GIF89a" + b"\0" * 40, b"", b"\xff\xd8\xff\xe0\x00", b"RIFF\0\0\0\0WEBPVP8 "])
def test_other_or_broken_files_are_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "odd.png"
    path.write_bytes(content)
    with pytest.raises(ImageSizeError):
        image_size(path)
