"""Keeping a finished video in the background: a slow download does not hold the status check hostage."""

from __future__ import annotations

from pathlib import Path

import anyio
import httpx2
import pytest

from akool_mcp.client.http import ready
from akool_mcp.domain.keeping import VideoKeeper
from akool_mcp.domain.registry import VideoRegistry
from akool_mcp.domain.video_library import VideoLibrary
from akool_mcp.models import Video
from tests.fakes.media import tiny_mp4

pytestmark = pytest.mark.anyio


def finished(video_id: str = "v1") -> Video:
    return Video.model_validate({"_id": video_id, "video_status": 3, "video": "https://cdn.example/v.mp4"})


async def test_a_slow_download_answers_saving_and_a_later_check_finds_the_file(tmp_path: Path) -> None:
    gate = anyio.Event()
    requests: list[httpx2.Request] = []

    async def cdn(request: httpx2.Request) -> httpx2.Response:
        requests.append(request)
        await gate.wait()
        return httpx2.Response(200, content=tiny_mp4())

    async with httpx2.AsyncClient(transport=httpx2.MockTransport(cdn)) as http:
        keeper = VideoKeeper(tmp_path / "Videos", ready(http), max_bytes=10_000_000)
        library = VideoLibrary(VideoRegistry(tmp_path / "library.sqlite3"), keeper, tmp_path / "posters")
        async with library.running():
            with anyio.fail_after(30):
                first = await library.observe(finished(), backend="akool", wait=0)
                again = await library.observe(finished(), backend="akool", wait=0)
                gate.set()
                done = await library.observe(finished(), backend="akool")
    assert first.saving and first.record.file_path is None
    assert again.saving and len(requests) == 1  # one download, however often the status is checked
    assert not done.saving and done.problem is None
    assert done.record.file_path is not None and Path(done.record.file_path).read_bytes() == tiny_mp4()
    assert done.record.poster_path is not None and Path(done.record.poster_path).is_file()


async def test_leaving_the_library_cancels_a_download_and_leaves_no_partial_file(tmp_path: Path) -> None:
    async def cdn(request: httpx2.Request) -> httpx2.Response:
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    async with httpx2.AsyncClient(transport=httpx2.MockTransport(cdn)) as http:
        keeper = VideoKeeper(tmp_path / "Videos", ready(http), max_bytes=10_000_000)
        library = VideoLibrary(VideoRegistry(tmp_path / "library.sqlite3"), keeper, tmp_path / "posters")
        with anyio.fail_after(30):
            async with library.running():
                observed = await library.observe(finished(), backend="akool", wait=0)
    assert observed.saving
    assert list((tmp_path / "Videos").iterdir()) == []
