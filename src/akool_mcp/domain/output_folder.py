"""Writing into the user's output folder without losing, replacing or misplacing anything.

- The folder is resolved once (the first time it is used) and opened by that real path, refusing a
  symlink in its place; every write checks the folder is still the same directory (device and inode),
  so a folder swapped for a link elsewhere after start is refused, not written through.
- A file is written under a fresh name only this process uses (`.akool-<random>.part`, created
  exclusively), then linked to its final name, which fails if that name exists: two saves with the same
  name can never both succeed or overwrite each other, and a user's own `holiday.mp4.part` is never touched.
- A full disk, a missing permission or any other error of the file system becomes a `SaveError` that
  says what to do, and leaves nothing behind. Messages name the folder, never its path on this machine
  (the model may be talking to the server over HTTP from elsewhere).
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import shutil
import stat
import unicodedata
from pathlib import Path
from typing import BinaryIO

from akool_mcp.errors import InputError, SaveError

MAX_NAME = 120
_RESERVED = frozenset(
    ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"] + [f"{kind}{n}" for kind in ("COM", "LPT") for n in "123456789"]
)
_FORBIDDEN = '<>:"|?*'


def checked_name(name: str) -> str:
    """A plain file name that is safe on every system and shows what it is; `.mp4` is added when missing."""
    cleaned = unicodedata.normalize("NFC", name.strip())
    if not cleaned:
        raise InputError("name", "is empty: give a file name such as 'welcome-video.mp4'.")
    if "/" in cleaned or "\\" in cleaned or cleaned in (".", "..") or cleaned.startswith(".."):
        raise InputError("name", "must be a plain file name, without folders or '..' (e.g. 'welcome-video.mp4').")
    if os.path.isabs(cleaned) or (len(cleaned) > 1 and cleaned[1] == ":"):
        raise InputError("name", "must be a plain file name, not an absolute path.")
    if cleaned.startswith(".") or any(ord(c) < 0x20 or ord(c) == 0x7F or c in _FORBIDDEN for c in cleaned):
        raise InputError("name", 'must not start with "." or contain control characters or <>:"|?*.')
    # Right-to-left overrides, zero-width and other invisible format characters make a name read as
    # something it is not ("gnp.mp4" shown as "mp4.png").
    if any(unicodedata.category(c) in ("Cf", "Co", "Cs", "Cn") for c in cleaned):
        raise InputError("name", "contains invisible or direction-changing characters; use plain letters and digits.")
    if cleaned.endswith((" ", ".")) and not cleaned.lower().endswith(".mp4"):
        raise InputError("name", "must not end with a space or a dot.")
    if not cleaned.lower().endswith(".mp4"):
        cleaned += ".mp4"
    if cleaned.split(".", 1)[0].rstrip(" ").upper() in _RESERVED:
        raise InputError("name", f"{cleaned!r} is a reserved device name on Windows; choose another name.")
    if len(cleaned) > MAX_NAME:
        raise InputError("name", f"is {len(cleaned)} characters; keep it under {MAX_NAME}.")
    return cleaned


class OutputFolder:
    def __init__(self, path: Path, *, file_mode: int = 0o644) -> None:
        self.path = path
        self._file_mode = file_mode  # the user's videos 0644; copies kept in the private data folder 0600
        self._real: Path | None = None
        self._identity: tuple[int, int] | None = None

    @property
    def shown(self) -> str:
        """How messages name the folder: by its name and the setting that chose it, not its path."""
        return f"the output folder '{self.path.name}' (AKOOL_OUTPUT_DIR)"

    def place(self, name: str, source: Path) -> Path:
        """`source` under `name` (a hard link where possible, else a copy); FileExistsError if taken."""
        if not source.is_file():
            raise SaveError("the finished video is no longer where the engine kept it; it cannot be saved.")
        folder = self._open()
        try:
            if self._link_in(source, name, folder):
                return self.real_path(name)
        finally:
            os.close(folder)
        with self.create(name) as new, source.open("rb") as data:
            shutil.copyfileobj(data, new.file, 1024 * 1024)
            return new.commit()

    def create(self, name: str) -> NewFile:
        """A new file that becomes `name` on `commit()` (FileExistsError if taken by then); until then it
        is a private temporary file, removed if anything goes wrong."""
        folder = self._open()
        temp = f".akool-{secrets.token_hex(8)}.part"
        try:
            handle = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, self._file_mode, dir_fd=folder)
        except OSError as exc:
            os.close(folder)
            raise self.failure(exc) from None
        return NewFile(self, folder, temp, name, os.fdopen(handle, "wb"))

    def exists(self, name: str) -> bool:
        return self._kind(name) is not None

    def is_plain_file(self, name: str) -> bool:
        """Whether `name` is a regular file (not a link, folder or device)."""
        kind = self._kind(name)
        return kind is not None and stat.S_ISREG(kind)

    def _kind(self, name: str) -> int | None:
        folder = self._open()
        try:
            return os.stat(name, dir_fd=folder, follow_symlinks=False).st_mode
        except FileNotFoundError:
            return None
        finally:
            os.close(folder)

    def _link_in(self, source: Path, name: str, folder: int) -> bool:
        """Hard-link `source` as `name` (never replacing); False where links cannot be made (copy instead)."""
        try:
            os.link(source, name, dst_dir_fd=folder, follow_symlinks=False)
        except FileExistsError:
            raise
        except FileNotFoundError:
            raise SaveError("the finished video is no longer where the engine kept it; it cannot be saved.") from None
        except OSError as exc:
            if exc.errno in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EOPNOTSUPP):
                return False
            raise self.failure(exc) from None
        return True

    def _open(self) -> int:
        """The folder, opened by its real path as first resolved, and checked to be the same directory."""
        try:
            if self._real is None:
                self.path.mkdir(parents=True, exist_ok=True)
                self._real = self.path.resolve(strict=True)
            fd = os.open(self._real, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except OSError as exc:
            if exc.errno == errno.ELOOP or exc.errno == errno.ENOTDIR:
                raise SaveError(
                    f"{self.shown} was replaced by a link or a file since the server started; nothing was written. "
                    "Restore the folder, or restart the server to use the new one."
                ) from None
            raise self.failure(exc) from None
        info = os.fstat(fd)
        identity = (info.st_dev, info.st_ino)
        if not stat.S_ISDIR(info.st_mode) or (self._identity is not None and identity != self._identity):
            os.close(fd)
            raise SaveError(
                f"{self.shown} was replaced since the server started; nothing was written. Restore the folder, or "
                "restart the server to use the new one."
            )
        self._identity = identity
        return fd

    def real_path(self, name: str) -> Path:
        assert self._real is not None
        return self._real / name

    def failure(self, exc: OSError) -> SaveError:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return SaveError(f"not enough disk space in {self.shown}; free some space, then try again.")
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return SaveError(f"{self.shown} cannot be written to; fix its permissions or set AKOOL_OUTPUT_DIR.")
        return SaveError(f"{self.shown} could not be written to ({exc.strerror or type(exc).__name__}); try again.")


class NewFile:
    """A file being written in the output folder under a temporary name (see `OutputFolder.create`)."""

    def __init__(self, owner: OutputFolder, folder: int, temp: str, name: str, file: BinaryIO) -> None:
        self.file = file
        self._owner = owner
        self._folder = folder
        self._temp = temp
        self._name = name
        self._closed = False

    def write(self, data: bytes) -> None:
        try:
            self.file.write(data)
        except OSError as exc:
            raise self._owner.failure(exc) from None

    def commit(self) -> Path:
        """Give the file its name, never replacing one that exists (FileExistsError then)."""
        try:
            self.file.flush()
            os.fsync(self.file.fileno())
            os.link(self._temp, self._name, src_dir_fd=self._folder, dst_dir_fd=self._folder, follow_symlinks=False)
        except FileExistsError:
            raise
        except OSError as exc:
            raise self._owner.failure(exc) from None
        finally:
            self.close()
        return self._owner.real_path(self._name)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(OSError):
            self.file.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._temp, dir_fd=self._folder)
        os.close(self._folder)

    def __enter__(self) -> NewFile:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
