"""What a file is, from its first bytes: a picture, a video, a sound, or something else (and what, in words).

Extensions and Content-Type headers say what a file claims to be; these bytes say what it is. Only the
formats the renderer takes are recognised.
"""

from __future__ import annotations

from typing import Literal

Category = Literal["image", "video", "audio"]
HEAD_BYTES = 64  # enough for every signature below

_AUDIO_BRANDS = (b"M4A ", b"M4B ", b"M4P ")


def sniff(head: bytes) -> Category | None:
    """The category of a file whose first bytes are `head`, or None when it is none the renderer takes."""
    if head.startswith(b"\x89PNG\r\n\x1a\n") or head.startswith(b"\xff\xd8\xff"):
        return "image"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "video"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio"
    if head[4:8] == b"ftyp":
        return "audio" if head[8:12] in _AUDIO_BRANDS else "video"
    if head[4:8] in (b"moov", b"mdat", b"wide", b"free", b"skip"):
        return "video"  # QuickTime files from before `ftyp`
    if head.startswith((b"ID3", b"OggS", b"fLaC", b"\x1a\x45\xdf\xa3")):
        return "audio"
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        return "audio"  # an MPEG audio or ADTS frame
    return None


def describe(head: bytes) -> str:
    """What a file that is no picture, video or sound seems to be, for a message."""
    if not head:
        return "an empty file"
    if head.lstrip().lower().startswith((b"<!doctype html", b"<html")):
        return "a web page"
    if head.startswith(b"GIF8"):
        return "a GIF (not supported: use PNG, JPEG or WebP)"
    if head.startswith(b"%PDF"):
        return "a PDF document"
    text = head.decode("utf-8", errors="replace")  # the first bytes may end inside a character
    plain = sum(c.isprintable() or c in "\r\n\t" for c in text)
    return "a text file" if plain >= 0.95 * len(text) else "a file of an unknown kind"
