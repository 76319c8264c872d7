"""Time, injected: one clock for the server and the engine, so tests drive waits, backoff and expiry
without sleeping."""

from __future__ import annotations

import time
from typing import Protocol

import anyio


class Clock(Protocol):
    def now_ms(self) -> int:
        """Wall-clock time in epoch milliseconds (what records keep and the API reports)."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back, for measuring how long something took."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds`."""
        ...

    async def wait(self, event: anyio.Event, seconds: float) -> None:
        """Return when `event` is set or `seconds` have passed, whichever comes first."""
        ...


class SystemClock:
    def now_ms(self) -> int:
        return int(time.time() * 1000)

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(seconds)

    async def wait(self, event: anyio.Event, seconds: float) -> None:
        with anyio.move_on_after(max(0.0, seconds)):
            await event.wait()
