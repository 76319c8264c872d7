"""Every data folder of either backend is the user's alone: folders 0700, files 0600, old ones tightened."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from mcp import Client

from akool_mcp.server import build_server
from tests.fakes.akool import FakeAkool
from tests.support import FakeClock, cloud_settings, data


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.anyio
async def test_the_cloud_backends_data_folder_and_its_list_of_videos_are_private(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o755)
    data_dir.chmod(0o755)  # as an older release left it
    settings = cloud_settings(data_dir=data_dir, output_dir=tmp_path / "out")
    server = build_server(settings, transport=FakeAkool().transport(), clock=FakeClock())
    async with Client(server) as client:
        data(await client.call_tool("list_videos", {}))
    assert mode(data_dir) == 0o700
    assert mode(data_dir / "library.sqlite3") == 0o600
