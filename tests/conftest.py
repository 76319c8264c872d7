from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Generator
from pathlib import Path

import pytest

# Generated media (speech, faces, audio files) for the tests of every layer that needs them.
pytest_plugins = ["tests.samples"]

# The user's real home is never the tests' home: the whole run (and every process it starts) sees a stand-in
# whose folders must stay empty. Anything that builds settings without the test's own folders would write its
# videos and data there, and the guard below fails the test that did it. Set here, at import, so that no
# default (platformdirs' videos folder, XDG's data folder) is worked out from the real home first.
REAL_HOME = Path.home()
STAND_IN_HOME = Path(tempfile.mkdtemp(prefix="akool-tests-home-"))
for variable, folder in {
    "HOME": "",
    "XDG_DATA_HOME": ".local/share",
    "XDG_CONFIG_HOME": ".config",
    "XDG_CACHE_HOME": ".cache",
    "XDG_STATE_HOME": ".local/state",
}.items():
    os.environ[variable] = str(STAND_IN_HOME / folder)
    (STAND_IN_HOME / folder).mkdir(parents=True, exist_ok=True)
# What other programs started by the tests keep in their own caches (Chromium's certificate store, font and
# settings caches; uv's package cache when the install test builds a wheel): not this project's files.
FOREIGN = (".pki", ".cache/fontconfig", ".cache/dconf", ".cache/chromium", ".config/chromium", ".cache/uv",
           ".local/share/applications")  # fmt: skip


def written_in_home() -> list[str]:
    """Files the tests left in the stand-in home, outside other programs' own caches."""
    found: list[str] = []
    for path in sorted(STAND_IN_HOME.rglob("*")):
        rel = path.relative_to(STAND_IN_HOME).as_posix()
        if path.is_dir() or any(rel == f or rel.startswith(f + "/") for f in FOREIGN):
            continue
        found.append(rel)
    return found


@pytest.fixture(autouse=True)
def _home_stays_untouched() -> Generator[None]:
    """The guard: a test that writes into the (stand-in) home fails, naming what it wrote."""
    before = set(written_in_home())
    yield
    new = sorted(set(written_in_home()) - before)
    if new:
        pytest.fail(
            f"this test wrote outside its temporary folders, into the user's home: {new[:5]}; build Settings "
            "with tests.support.make_settings (it gives each test its own folders)",
            pytrace=False,
        )


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def _private_folders(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test's own videos folder and data directory, for make_settings and the processes tests start."""
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


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The run as a whole fails too when anything was left in the stand-in home (say, by a session fixture)."""
    left = written_in_home()
    if left:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"FAILED home guard: the tests wrote into the user's home: {left[:10]}", red=True)
        return
    shutil.rmtree(STAND_IN_HOME, ignore_errors=True)
