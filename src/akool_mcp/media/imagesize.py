"""An image's width and height from its header, before anything decodes it.

A 1.5 MB PNG can hold 20000x20000 pixels: decoding it first and checking afterwards costs 1.2 GB per
copy. The three formats the API accepts (PNG, JPEG, WebP) all state their size in the first bytes, so
the limit is enforced from there. Reading is bounded: PNG and WebP need 30 bytes; JPEG walks its
marker segments (each skipped by its length) up to the first frame header, within the first 1 MiB.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO

__all__ = ["ImageSizeError", "check_image_pixels", "image_size"]

JPEG_SCAN_LIMIT = 1024 * 1024
# Start-of-frame markers carry the size; DHT (C4), JPG (C8) and DAC (CC) share the range but do not.
_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


class ImageSizeError(ValueError):
    """The file is not a PNG, JPEG or WebP image whose size can be read, or it is too large."""


def image_size(path: Path) -> tuple[int, int]:
    """(width, height) read from the header of a PNG, JPEG or WebP file."""
    with path.open("rb") as fh:
        head = fh.read(32)
        if head.startswith(b"\x89PNG\r\n\x1a\n") and head[12:16] == b"IHDR":
            width, height = struct.unpack(">II", head[16:24])
            return int(width), int(height)
        if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
            return _webp_size(head)
        if head[:2] == b"\xff\xd8":
            fh.seek(2)
            return _jpeg_size(fh)
    raise ImageSizeError("is not a PNG, JPEG or WebP image")


def check_image_pixels(path: Path, max_pixels: int) -> tuple[int, int]:
    """The image's size, or ImageSizeError when it has more than `max_pixels` pixels."""
    width, height = image_size(path)
    if width <= 0 or height <= 0:
        raise ImageSizeError(f"has an invalid size ({width}x{height})")
    if width * height > max_pixels:
        raise ImageSizeError(
            f"is {width}x{height} pixels ({width * height / 1e6:.0f} megapixels); "
            f"use an image of at most {max_pixels / 1e6:.0f} megapixels"
        )
    return width, height


def _webp_size(head: bytes) -> tuple[int, int]:
    chunk = head[12:16]
    if chunk == b"VP8 " and head[23:26] == b"\x9d\x01\x2a" and len(head) >= 30:
        width, height = struct.unpack("<HH", head[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and head[20:21] == b"\x2f" and len(head) >= 25:
        bits = int.from_bytes(head[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X" and len(head) >= 30:
        return int.from_bytes(head[24:27], "little") + 1, int.from_bytes(head[27:30], "little") + 1
    raise ImageSizeError("is a WebP file whose size cannot be read")


def _jpeg_size(fh: BinaryIO) -> tuple[int, int]:
    while fh.tell() < JPEG_SCAN_LIMIT:
        byte = fh.read(1)
        if not byte:
            break
        if byte != b"\xff":
            continue
        marker = fh.read(1)
        while marker == b"\xff":  # fill bytes
            marker = fh.read(1)
        if not marker:
            break
        code = marker[0]
        if code in (0xD8, 0x01) or 0xD0 <= code <= 0xD7:  # markers without a length
            continue
        length_bytes = fh.read(2)
        if len(length_bytes) < 2:
            break
        (length,) = struct.unpack(">H", length_bytes)
        if code in _SOF_MARKERS:
            frame = fh.read(5)
            if len(frame) < 5:
                break
            height, width = struct.unpack(">HH", frame[1:5])
            return int(width), int(height)
        if length < 2:
            break
        fh.seek(length - 2, 1)
    raise ImageSizeError("is a JPEG file whose size cannot be read")
