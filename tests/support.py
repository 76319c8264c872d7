"""Shared test helpers: a fake clock, and the server wired to a fake Akool."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import anyio
from mcp.types import CallToolResult

from akool_mcp.config import Settings

WALL_START_MS = 1_732_844_760_000  # a few seconds before the fake Akool's videos were created


@dataclass
class FakeClock:
    """Time moves only when the code under test sleeps; every sleep is recorded."""

    t: float = 1000.0
    sleeps: list[float] = field(default_factory=list[float])

    def now_ms(self) -> int:
        return WALL_START_MS + round(self.t * 1000)

    def monotonic(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds

    async def wait(self, event: anyio.Event, seconds: float) -> None:
        if not event.is_set():
            await self.sleep(seconds)


def cloud_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {"api_key": "test-api-key-0123456789", "backend": "akool", "max_retries": 2}
    values.update(overrides)
    return Settings.model_validate(values)


def data(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, text(result)
    assert result.structured_content is not None
    return result.structured_content


def text(result: CallToolResult) -> str:
    return " ".join(getattr(c, "text", "") for c in result.content)
