"""Keeping the engine's loops alive: a loop that dies is logged, counted and restarted with backoff.

The loops (render workers, the webhook dispatcher) each catch what goes wrong with one item and
record it on that item; reaching here means something outside any one item failed (the store cannot
be written, a bug in the loop itself). The engine keeps serving meanwhile, and `/health` says so.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import anyio
from anyio.abc import TaskGroup

from akool_mcp.clock import Clock
from akool_mcp.log import get_logger

log = get_logger(__name__)

BACKOFF_SECONDS = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
# A loop that ran this long before failing starts its backoff from the beginning again.
STEADY_MS = 5 * 60 * 1000


@dataclass
class LoopHealth:
    name: str
    kind: str
    alive: bool = False
    restarts: int = 0
    last_error: str | None = None
    last_error_at: int | None = None


class Supervisor:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self.loops: dict[str, LoopHealth] = {}
        self.last_error: str | None = None
        self.last_error_at: int | None = None

    def start(self, tg: TaskGroup, name: str, kind: str, loop: Callable[[], Awaitable[None]]) -> None:
        self.loops[name] = LoopHealth(name, kind, alive=True)  # scheduled: it takes work from now on
        tg.start_soon(self._keep, self.loops[name], loop)

    def note_error(self, text: str) -> None:
        self.last_error = text[:300]
        self.last_error_at = self._clock.now_ms()

    def alive(self, kind: str) -> tuple[int, int]:
        """(alive, total) loops of this kind."""
        mine = [h for h in self.loops.values() if h.kind == kind]
        return sum(h.alive for h in mine), len(mine)

    async def _keep(self, health: LoopHealth, loop: Callable[[], Awaitable[None]]) -> None:
        failures = 0
        while True:
            started = self._clock.now_ms()
            health.alive = True
            try:
                await loop()
            except Exception as exc:
                health.alive = False
                health.restarts += 1
                failures = 1 if self._clock.now_ms() - started >= STEADY_MS else failures + 1
                text = f"{type(exc).__name__}: {str(exc)[:200]}"
                health.last_error, health.last_error_at = text, self._clock.now_ms()
                self.note_error(f"{health.name}: {text}")
                delay = BACKOFF_SECONDS[min(failures - 1, len(BACKOFF_SECONDS) - 1)]
                log.exception("loop.died", loop=health.name, restarts=health.restarts, retry_in=delay)
                await self._clock.wait(anyio.Event(), delay)
                continue
            finally:
                health.alive = False
            return  # the loop ended on purpose (its queue was closed)
