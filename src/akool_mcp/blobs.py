"""Where finished files live, for the engine and the MCP server alike: finished videos, avatar pictures,
thumbnails, kept copies and posters, keyed by a relative name.

Two stores behind one interface:
- `FolderBlobs`, a folder (the default: the data directory's `files/`; a shared mount serves a cluster).
  A file is written elsewhere first and renamed in whole, so a reader never sees half of one.
- `S3Blobs`, any S3-compatible object storage (`AKOOL_BLOB_STORE=s3://bucket/prefix`, the endpoint in
  `AKOOL_S3_ENDPOINT_URL`, credentials the way every AWS client reads them). An upload appears whole
  or not at all; readers are sent to a presigned URL.

Keys are checked before they touch either store: relative, no `..`, no hidden parts.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from akool_mcp.privacy import FILE_MODE

if TYPE_CHECKING:
    from akool_mcp.config import Settings

# A presigned link lives long enough to start a download and seek in a video, no longer.
PRESIGNED_SECONDS = 3600


class BlobKeyError(ValueError):
    """A key that could leave the store (absolute, `..`, hidden parts, control characters)."""


def checked_key(key: str) -> str:
    path = PurePosixPath(key)
    bad = (
        not key
        or len(key) > 512
        or path.is_absolute()
        or any(part in ("", ".", "..") or part.startswith(".") for part in key.split("/"))
        or any(ord(c) < 0x20 or ord(c) == 0x7F or 0xD800 <= ord(c) <= 0xDFFF for c in key)
    )
    if bad:
        raise BlobKeyError("not a file name this store keeps")
    return key


class BlobStore(Protocol):
    def put_file(self, key: str, source: Path) -> None:
        """Store `source` under `key` (whole, replacing); `source` is consumed."""
        ...

    def put_bytes(self, key: str, data: bytes) -> None: ...

    def put_copy(self, key: str, source: Path) -> None:
        """Store a copy of `source` under `key` (whole, replacing); `source` stays."""
        ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None: ...

    def keys(self, prefix: str) -> list[str]: ...

    def local_copy(self, key: str, workdir: Path) -> Path:
        """A path to read the blob from: the file itself in a folder, a download into `workdir` otherwise."""
        ...

    def local_path(self, key: str) -> Path | None:
        """The file, when the store is a folder on this machine and holds it; None otherwise."""
        ...

    def presigned_url(self, key: str) -> str | None:
        """A time-limited URL a client may fetch the blob from directly, where the store has one."""
        ...


class FolderBlobs:
    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.root / checked_key(key)

    def put_file(self, key: str, source: Path) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            source.replace(target)  # the same disk: whole, at once
        except OSError:
            temp = target.with_name(f".{target.name}.{os.getpid()}.part")
            shutil.copyfile(source, temp)
            temp.replace(target)
            source.unlink(missing_ok=True)
        target.chmod(FILE_MODE)

    def put_bytes(self, key: str, data: bytes) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.with_name(f".{target.name}.{os.getpid()}.part")
        temp.write_bytes(data)
        temp.chmod(FILE_MODE)
        temp.replace(target)

    def put_copy(self, key: str, source: Path) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.with_name(f".{target.name}.{os.getpid()}.part")
        shutil.copyfile(source, temp)
        temp.chmod(FILE_MODE)
        temp.replace(target)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def keys(self, prefix: str) -> list[str]:
        base = self.root / prefix if prefix else self.root
        if not base.is_dir():
            return []
        return sorted(
            p.relative_to(self.root).as_posix()
            for p in base.rglob("*")
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(self.root).parts)
        )

    def local_copy(self, key: str, workdir: Path) -> Path:
        return self._path(key)

    def local_path(self, key: str) -> Path | None:
        try:
            root = self.root.resolve()
            target = (root / checked_key(key)).resolve()
        except (OSError, ValueError):
            return None
        return target if target.is_relative_to(root) and target.is_file() else None

    def presigned_url(self, key: str) -> str | None:
        return None


class S3Blobs:
    """Object storage through boto3 (imported only when configured). Calls block: run them off the loop."""

    def __init__(self, bucket: str, prefix: str, *, endpoint_url: str | None, client: Any = None) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        if client is None:
            import boto3  # cluster mode only: the single-user install does not carry it
            from botocore.config import Config

            client = boto3.client(  # pyright: ignore[reportUnknownMemberType,reportUnknownVariableType]
                "s3",
                endpoint_url=endpoint_url,
                config=Config(retries={"max_attempts": 3, "mode": "standard"}, s3={"addressing_style": "path"}),
            )
        self._s3: Any = client

    def _name(self, key: str) -> str:
        checked_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def put_file(self, key: str, source: Path) -> None:
        self._s3.upload_file(str(source), self.bucket, self._name(key))
        source.unlink(missing_ok=True)

    def put_copy(self, key: str, source: Path) -> None:
        self._s3.upload_file(str(source), self.bucket, self._name(key))

    def put_bytes(self, key: str, data: bytes) -> None:
        self._s3.put_object(Bucket=self.bucket, Key=self._name(key), Body=data)

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self._s3.head_object(Bucket=self.bucket, Key=self._name(key))
        except ClientError as exc:
            response: dict[str, Any] = dict(exc.response)  # pyright: ignore[reportUnknownArgumentType,reportUnknownMemberType]
            error: dict[str, Any] = dict(response.get("Error") or {})
            if str(error.get("Code")) in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def delete(self, key: str) -> None:
        self._s3.delete_object(Bucket=self.bucket, Key=self._name(key))

    def keys(self, prefix: str) -> list[str]:
        start = self._name(prefix) if prefix else (f"{self.prefix}/" if self.prefix else "")
        found: list[str] = []
        for page in self._s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=start):
            for item in page.get("Contents", []):
                name = str(item["Key"])
                found.append(name[len(self.prefix) + 1 :] if self.prefix else name)
        return sorted(found)

    def local_copy(self, key: str, workdir: Path) -> Path:
        target = workdir / "blobs" / checked_key(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        self._s3.download_file(self.bucket, self._name(key), str(target))
        return target

    def local_path(self, key: str) -> Path | None:
        return None

    def presigned_url(self, key: str) -> str | None:
        return str(
            self._s3.generate_presigned_url(
                "get_object", Params={"Bucket": self.bucket, "Key": self._name(key)}, ExpiresIn=PRESIGNED_SECONDS
            )
        )


def open_blobs(settings: Settings, default_root: Path) -> BlobStore:
    """The store the settings name: `s3://bucket/prefix`, a folder, or the data directory's `files/`."""
    where = settings.blob_store
    if where is None:
        return FolderBlobs(default_root)
    if where.startswith("s3://"):
        parts = urlsplit(where)
        endpoint = str(settings.s3_endpoint_url).rstrip("/") if settings.s3_endpoint_url else None
        return S3Blobs(parts.netloc, parts.path, endpoint_url=endpoint)
    return FolderBlobs(Path(where).expanduser())
