"""The engine's data directory: made private, and checked usable before anything else starts."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from akool_mcp.config import ConfigError
from akool_mcp.privacy import private_dir


class DataDirError(ConfigError):
    """The data directory cannot be used; the message names the path and what to do."""


@dataclass(frozen=True)
class FileLayout:
    """Where the engine keeps things under its data directory."""

    data_dir: Path

    @property
    def database(self) -> Path:
        return self.data_dir / "engine.sqlite3"

    @property
    def files_root(self) -> Path:
        return self.data_dir / "files"

    @property
    def work_root(self) -> Path:
        return self.data_dir / "work"

    def job_dir(self, record_id: str) -> Path:
        path = self.work_root / record_id
        path.mkdir(parents=True, exist_ok=True)
        return path


def prepare_data_dir(path: Path) -> FileLayout:
    """Create (0700) or check the data directory and its folders; DataDirError names the path if unusable."""
    shown = f"AKOOL_DATA_DIR ({path})"
    try:
        if path.exists() and not path.is_dir():
            raise DataDirError(f"{shown} is not a directory; point AKOOL_DATA_DIR at a directory.")
        private_dir(path)  # it holds the engine's secret: the user's eyes only
        layout = FileLayout(path)
        for folder in (layout.files_root / "videos", layout.files_root / "avatars", layout.work_root):
            folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except DataDirError:
        raise
    except PermissionError:
        raise DataDirError(
            f"{shown} is not writable by this user; fix its permissions or choose another AKOOL_DATA_DIR."
        ) from None
    except OSError as exc:
        raise DataDirError(
            f"{shown} cannot be used ({exc.strerror or type(exc).__name__}); choose another AKOOL_DATA_DIR."
        ) from None
    return layout
