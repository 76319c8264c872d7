"""Small real media for fakes and hostile inputs: a few frames of H.264 in an MP4, broken clocks, huge headers."""
# pyright: reportUnknownMemberType=false, reportUnknownVariableType=false

from __future__ import annotations

import functools
import tempfile
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

VIDEO_SIZE = (320, 180)


@functools.cache
def tiny_mp4(width: int = VIDEO_SIZE[0], height: int = VIDEO_SIZE[1]) -> bytes:
    """A real H.264 MP4 of a few frames: a blue-left, orange-right picture (so a poster can be checked)."""
    picture = np.zeros((height, width, 3), np.uint8)
    picture[:, : width // 2] = (30, 144, 255)
    picture[:, width // 2 :] = (255, 140, 0)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "tiny.mp4"
        with av.open(str(path), "w") as container:
            stream = container.add_stream("libx264", rate=25)
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            for index in range(5):
                frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
                frame.pts = index
                for packet in stream.encode(frame):
                    container.mux(packet)
            for packet in stream.encode(None):
                container.mux(packet)
        return path.read_bytes()


# A 1x1 PNG, and the first bytes of an MP3 (an ID3 tag): what a media host serves for a probe of its links.
TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c49444154081d63686868000003040181d9f6"
    "b9bb0000000049454e44ae426082"
)
MP3_HEAD = b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(64)


# A clock of 2^31-1 ticks a second: frames 1,300 ticks apart come 0.6 microseconds apart, so a whole
# pass through the video lasts next to nothing (seen from a hostile client: looping it never advanced).
RACING_TIMESCALE = 2**31 - 1


def racing_clock_mp4(frames: int = 20, side: int = 64) -> bytes:
    """A valid H.264 MP4 whose timestamps race: thousands of frames a second by its own clock."""
    time_base = Fraction(1, RACING_TIMESCALE)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "racing.mp4"
        with av.open(str(path), "w") as container:
            stream = container.add_stream("libx264", rate=25)
            stream.width = stream.height = side
            stream.pix_fmt = "yuv420p"
            stream.time_base = time_base
            stream.codec_context.time_base = time_base
            for index in range(frames):
                frame = av.VideoFrame.from_ndarray(np.full((side, side, 3), index * 10, np.uint8), format="rgb24")
                frame.pts, frame.time_base = index * 1300, time_base
                for packet in stream.encode(frame):
                    container.mux(packet)
            for packet in stream.encode(None):
                container.mux(packet)
        return path.read_bytes()


def oversized_mjpeg_avi(width: int = 16000, height: int = 16000) -> bytes:
    """A Motion JPEG AVI whose frames say `width`x`height` in their headers, in a few kilobytes.

    The JPEG is a small one with its frame header's size rewritten: the attack as a file (a huge
    picture's header over almost no data), without spending gigabytes of memory to make one.
    """
    ok, small = cv2.imencode(".jpg", np.full((16, 16, 3), 128, np.uint8))
    assert ok
    jpeg = bytearray(small.tobytes())
    sof = jpeg.index(b"\xff\xc0")
    jpeg[sof + 5 : sof + 9] = height.to_bytes(2, "big") + width.to_bytes(2, "big")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "huge.avi"
        with av.open(str(path), "w") as container:
            stream = container.add_stream("mjpeg", rate=25)
            stream.width, stream.height, stream.pix_fmt = width, height, "yuvj420p"
            for index in range(3):
                packet = av.Packet(bytes(jpeg))
                packet.stream, packet.pts, packet.dts = stream, index, index
                packet.time_base = Fraction(1, 25)
                container.mux(packet)
        return path.read_bytes()
