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


@pytest.mark.anyio
async def test_everything_the_cloud_backend_keeps_in_its_data_folder_is_private(tmp_path: Path) -> None:
    # A video from text (its text kept for captions, its poster) and a script (its record, its scenes).
    from tests.tools.test_cloud_captions import talking_mp4
    from tests.tools.test_scripts import AKOOL_SCENES, follow
    from tests.tools.test_spending import User

    data_dir = tmp_path / "data"
    settings = cloud_settings(data_dir=data_dir, output_dir=tmp_path / "out")
    fake = FakeAkool(cdn_video=talking_mp4(1.0))
    server = build_server(settings, transport=fake.transport(), resolver=fake.resolve, clock=FakeClock())
    async with Client(server, elicitation_callback=User()) as client:
        script = data(await client.call_tool("create_video_from_script", {"scenes": AKOOL_SCENES}))
        assert data(await follow(client, script["video_id"]))["status"] == "completed"
        video = data(await client.call_tool("create_talking_video", {**AKOOL_SCENES[0], "allow_duplicate": True}))
        assert data(await follow(client, video["video_id"]))["status"] == "completed"
    folders = [data_dir, *(p for p in data_dir.rglob("*") if p.is_dir())]
    files = [p for p in data_dir.rglob("*") if p.is_file()]
    assert {p.name for p in folders} >= {"transcripts", "scripts"} and len(files) > 5
    assert {str(p.relative_to(tmp_path)): oct(mode(p)) for p in folders if mode(p) != 0o700} == {}
    assert {str(p.relative_to(tmp_path)): oct(mode(p)) for p in files if mode(p) != 0o600} == {}
