"""What a file is by its first bytes, whatever its name says."""

from __future__ import annotations

import pytest

from akool_mcp.media.sniff import describe, sniff
from tests.fakes.media import MP3_HEAD, TINY_PNG, tiny_mp4


@pytest.mark.parametrize(
    ("head", "category"),
    [
        (TINY_PNG, "image"),
        (b"\xff\xd8\xff\xe0" + bytes(12), "image"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image"),
        (tiny_mp4()[:64], "video"),
        (b"RIFF\x00\x00\x00\x00AVI LIST", "video"),
        (b"\x00\x00\x00\x08wide\x00\x00", "video"),
        (b"\x00\x00\x00\x20ftypM4A \x00\x00", "audio"),
        (MP3_HEAD, "audio"),
        (b"\xff\xfb\x90\x64" + bytes(8), "audio"),
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", "audio"),
        (b"OggS\x00\x02", "audio"),
        (b"fLaC\x00\x00", "audio"),
    ],
)
def test_the_formats_the_renderer_takes_are_recognised(head: bytes, category: str) -> None:
    assert sniff(head) == category


@pytest.mark.parametrize(
    ("head", "words"),
    [
        (b"root:x:0:0:root:/root:/bin/bash\n", "a text file"),
        (b"  <!DOCTYPE html><html>", "a web page"),
        (b"GIF89a\x01\x00", "a GIF (not supported: use PNG, JPEG or WebP)"),
        (b"%PDF-1.7", "a PDF document"),
        (b"", "an empty file"),
        (bytes(range(0, 64)), "a file of an unknown kind"),
        ("caf\u00e9 menu".encode()[:4], "a text file"),  # the first bytes may end inside a character
    ],
)
def test_anything_else_is_described_in_words(head: bytes, words: str) -> None:
    assert sniff(head) is None and describe(head) == words
