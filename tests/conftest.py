from __future__ import annotations

import logging
from collections.abc import Generator

import pytest

# Generated media (speech, faces, audio files) for the tests of every layer that needs them.
pytest_plugins = ["tests.samples", "tests.postgres", "tests.s3"]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def _private_folders(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test writes into the user's own videos folder or data directory."""
    root = tmp_path_factory.mktemp("user")
    monkeypatch.setenv("AKOOL_OUTPUT_DIR", str(root / "Videos" / "akool-mcp"))
    monkeypatch.setenv("AKOOL_DATA_DIR", str(root / "data"))


@pytest.fixture(autouse=True)
def _restore_logging() -> Generator[None]:
    """Tests that configure logging (to capture it) leave the process's logging as they found it."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {
        name: logging.getLogger(name).level
        for name in ("httpx2", "httpcore2", "httpx", "httpcore", "uvicorn.access", "akool_mcp")
    }
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, saved in levels.items():
        logging.getLogger(name).setLevel(saved)
