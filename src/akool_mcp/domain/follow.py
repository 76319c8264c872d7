"""Following a render until it finishes, or until the caller's wait budget runs out."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from akool_mcp.client import AkoolClient
from akool_mcp.clock import Clock
from akool_mcp.models import Status, Video

POLL_FIRST = 1.0
POLL_FACTOR = 1.5
POLL_MAX = 5.0

OnPoll = Callable[[Video, float], Awaitable[None]]


def is_final(video: Video) -> bool:
    return video.video_status in (Status.COMPLETED, Status.FAILED)


async def wait_for_video(
    client: AkoolClient,
    video_id: str,
    *,
    wait_seconds: float,
    clock: Clock,
    on_poll: OnPoll | None = None,
    max_interval: float = POLL_MAX,
) -> tuple[Video, float]:
    """Poll with backoff until the video is final or `wait_seconds` pass; returns it and the time waited.

    Cancellation (the client cancelling the tool call) propagates out of the sleep, ending the wait.
    """
    start = clock.monotonic()
    deadline = start + wait_seconds
    interval = min(POLL_FIRST, max_interval)
    video = await client.get_video(video_id)
    while True:
        waited = clock.monotonic() - start
        if on_poll is not None:
            await on_poll(video, waited)
        remaining = deadline - clock.monotonic()
        if is_final(video) or remaining <= 0:
            return video, waited
        await clock.sleep(min(interval, remaining))
        interval = min(interval * POLL_FACTOR, max_interval)
        video = await client.get_video(video_id)
