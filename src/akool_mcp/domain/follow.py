"""Following a render until it finishes, or until the caller's wait budget runs out."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import anyio

from akool_mcp.client import AkoolClient
from akool_mcp.models import Status, Video

POLL_FIRST = 1.0
POLL_FACTOR = 1.5
POLL_MAX = 5.0

OnPoll = Callable[[Video, float], Awaitable[None]]


@dataclass(frozen=True)
class Clock:
    """Time and sleep together, so tests drive both with a fake."""

    now: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = anyio.sleep


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
    start = clock.now()
    deadline = start + wait_seconds
    interval = min(POLL_FIRST, max_interval)
    video = await client.get_video(video_id)
    while True:
        waited = clock.now() - start
        if on_poll is not None:
            await on_poll(video, waited)
        remaining = deadline - clock.now()
        if is_final(video) or remaining <= 0:
            return video, waited
        await clock.sleep(min(interval, remaining))
        interval = min(interval * POLL_FACTOR, max_interval)
        video = await client.get_video(video_id)
