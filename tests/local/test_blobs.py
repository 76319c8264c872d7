"""The blob stores, one contract: a folder and S3-compatible object storage (moto's S3 server)."""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path

import httpx2
import pytest

from akool_mcp.blobs import BlobKeyError, BlobStore, FolderBlobs, S3Blobs
from tests.s3 import S3Server


@pytest.fixture(params=["folder", "s3"])
def blobs(request: pytest.FixtureRequest, tmp_path: Path) -> Generator[BlobStore]:
    if request.param == "folder":
        yield FolderBlobs(tmp_path / "blobs")
        return
    request.getfixturevalue("s3_credentials")
    server: S3Server = request.getfixturevalue("s3_server")
    yield S3Blobs(server.new_bucket(), "cluster/files", endpoint_url=server.endpoint)


def test_a_file_put_whole_is_there_and_its_source_is_consumed(blobs: BlobStore, tmp_path: Path) -> None:
    source = tmp_path / "render.mp4"
    source.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"x" * 1000)
    blobs.put_file("videos/v1.mp4", source)
    assert not source.exists()
    assert blobs.exists("videos/v1.mp4") and not blobs.exists("videos/v2.mp4")
    copy = blobs.local_copy("videos/v1.mp4", tmp_path / "work")
    assert copy.read_bytes()[4:8] == b"ftyp"
    assert blobs.keys("videos") == ["videos/v1.mp4"]


def test_bytes_are_replaced_and_deleted(blobs: BlobStore) -> None:
    blobs.put_bytes("avatars/a/thumbnail.png", b"one")
    blobs.put_bytes("avatars/a/thumbnail.png", b"two")
    assert blobs.keys("avatars") == ["avatars/a/thumbnail.png"]
    blobs.delete("avatars/a/thumbnail.png")
    blobs.delete("avatars/a/thumbnail.png")  # deleting what is gone is no error
    assert not blobs.exists("avatars/a/thumbnail.png") and blobs.keys("avatars") == []


@pytest.mark.parametrize("key", ["../escape.mp4", "/abs.mp4", "videos/.hidden.mp4", "a//b", "videos/\x00.mp4", ""])
def test_keys_that_could_leave_the_store_are_refused(blobs: BlobStore, key: str) -> None:
    with pytest.raises(BlobKeyError):
        blobs.put_bytes(key, b"x")


def test_object_storage_hands_out_a_presigned_link_that_serves_byte_ranges(
    s3_server: S3Server, s3_credentials: None
) -> None:
    store = S3Blobs(s3_server.new_bucket(), "", endpoint_url=s3_server.endpoint)
    store.put_bytes("videos/v.mp4", bytes(range(256)))
    link = store.presigned_url("videos/v.mp4")
    assert link is not None and "Signature" in link
    part = httpx2.get(link, headers={"Range": "bytes=10-19"})
    assert part.status_code == 206 and part.content == bytes(range(10, 20))
    assert store.local_path("videos/v.mp4") is None


def test_a_folder_serves_its_own_files_and_no_presigned_link(tmp_path: Path) -> None:
    store = FolderBlobs(tmp_path / "blobs")
    store.put_bytes("videos/v.mp4", b"abc")
    assert store.local_path("videos/v.mp4") == (tmp_path / "blobs" / "videos" / "v.mp4").resolve()
    assert store.local_path("videos/missing.mp4") is None and store.presigned_url("videos/v.mp4") is None
