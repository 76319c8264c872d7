"""A client that cancels get_video_status stops the server's wait."""

from __future__ import annotations

import anyio
import pytest
from mcp import Client

from akool_mcp.server import build_server
from tests.fakes.akool import FakeAkool
from tests.support import cloud_settings, data

pytestmark = pytest.mark.anyio


class BlockingClock:
    """A clock whose sleep never ends by itself: only cancellation gets the server out."""

    def __init__(self) -> None:
        self.sleeping = anyio.Event()
        self.cancelled = anyio.Event()

    def now_ms(self) -> int:
        return 0

    def monotonic(self) -> float:
        return 0.0

    async def wait(self, event: anyio.Event, seconds: float) -> None:
        await self.sleep(seconds)

    async def sleep(self, seconds: float) -> None:
        self.sleeping.set()
        try:
            await anyio.Event().wait()
        except anyio.get_cancelled_exc_class():
            self.cancelled.set()
            raise


async def test_cancelling_the_call_stops_the_wait_on_the_server() -> None:
    fake = FakeAkool(video_polls_until_done=1000)
    blocking = BlockingClock()
    server = build_server(cloud_settings(), transport=fake.transport(), resolver=fake.resolve, clock=blocking)
    async with Client(server) as client:
        created = data(
            await client.call_tool("create_talking_video", {"avatar_id": "Me1", "audio_url": "https://a.example/s.mp3"})
        )

        async def wait_for_video() -> None:
            await client.call_tool("get_video_status", {"video_id": created["video_id"], "wait_seconds": 50})

        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                tg.start_soon(wait_for_video)
                await blocking.sleeping.wait()
                tg.cancel_scope.cancel()
            await blocking.cancelled.wait()
        # The session is still usable after the cancelled call.
        again = data(await client.call_tool("get_video_status", {"video_id": created["video_id"]}))
    assert again["status"] == "processing"
