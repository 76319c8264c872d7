"""The tests' own isolation: the user's home is never theirs, and a test that writes into it fails."""

from __future__ import annotations

import shutil

import pytest

from akool_mcp.config import Settings
from tests.conftest import REAL_HOME, STAND_IN_HOME, written_in_home
from tests.support import cloud_settings, make_settings


def test_settings_built_for_tests_use_the_tests_own_folders(tmp_path_factory: pytest.TempPathFactory) -> None:
    for settings in (make_settings(backend="local"), cloud_settings()):
        for folder in (settings.data_dir, settings.output_dir):
            assert folder.is_relative_to(tmp_path_factory.getbasetemp()), folder


def test_the_defaults_point_into_a_stand_in_home_never_the_users() -> None:
    careless = Settings.model_validate({})  # what a test that forgets its folders would get
    assert careless.output_dir.is_relative_to(STAND_IN_HOME) and careless.data_dir.is_relative_to(STAND_IN_HOME)
    assert not STAND_IN_HOME.is_relative_to(REAL_HOME)


def test_a_file_written_into_the_home_is_caught_by_the_guard() -> None:
    careless = Settings.model_validate({})
    careless.output_dir.mkdir(parents=True)
    (careless.output_dir / "akool-phantom.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42")
    try:
        caught = written_in_home()
    finally:
        shutil.rmtree(STAND_IN_HOME / "Videos")  # undone here, so this test itself passes the guard
    assert "Videos/akool-mcp/akool-phantom.mp4" in caught
    assert not any(path.startswith("Videos/") for path in written_in_home())
