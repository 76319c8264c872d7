"""Folders and files that only the user may read: the data folders of either backend and what they hold
(the engine's secret, the list of videos with signed links and summaries of what they say, posters)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlite3

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Create `path` (and its parents) readable by the user only, or take group/other access away from it."""
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    info = path.stat()
    if info.st_uid == os.getuid() and info.st_mode & 0o077:
        path.chmod(DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Create `path` empty if missing, readable by the user only; take group/other access away from an old one."""
    fd = os.open(path, os.O_CREAT | os.O_RDWR, FILE_MODE)
    os.close(fd)
    if path.stat().st_mode & 0o077:
        path.chmod(FILE_MODE)
    return path


def write_private(path: Path, data: bytes) -> None:
    """Write `data` to `path` atomically (a temporary name, then a rename), readable by the user only."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.part")
    fd = os.open(partial, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        partial.replace(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def private_database(path: Path, schema: str) -> sqlite3.Connection:
    """A SQLite file readable by the user only, its `schema` made, open for any thread (callers serialise
    their use with a lock); rows come back as `sqlite3.Row`."""
    import sqlite3  # here, not at import: a server that is only listed never opens a database

    private_dir(path.parent)
    private_file(path)
    conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=5)
    conn.row_factory = sqlite3.Row
    conn.executescript(schema)
    return conn
