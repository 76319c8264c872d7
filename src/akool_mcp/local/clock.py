"""Time for the engine's parts, injected so tests drive backoff and expiry without sleeping."""

from __future__ import annotations

import time
from typing import Protocol

import anyio


class Clock(Protocol):
    def now_ms(self) -> int:
        """Wall-clock time in epoch milliseconds (what the API reports and the store keeps)."""
        ...

    async def wait(self, event: anyio.Event, seconds: float) -> None:
        """Return when `event` is set or `seconds` have passed, whichever comes first."""
        ...


class SystemClock:
    def now_ms(self) -> int:
        return int(time.time() * 1000)

    async def wait(self, event: anyio.Event, seconds: float) -> None:
        with anyio.move_on_after(max(0.0, seconds)):
            await event.wait()
