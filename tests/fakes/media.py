"""Small real media for fakes: a few frames of H.264 in an MP4."""
# pyright: reportUnknownMemberType=false, reportUnknownVariableType=false

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

import av
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
