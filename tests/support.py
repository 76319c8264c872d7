"""Shared test helpers: a fake clock, and the server wired to a fake Akool."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

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


def make_settings(values: Mapping[str, Any] | None = None, /, **more: Any) -> Settings:
    """The one way tests build Settings: in the test's own folders (conftest's `_private_folders` makes them)
    unless `data_dir` or `output_dir` are given, so no test writes into the user's videos or data folders."""
    given = {**(values or {}), **more}
    folders: dict[str, Any] = {}
    for name, variable in (("data_dir", "AKOOL_DATA_DIR"), ("output_dir", "AKOOL_OUTPUT_DIR")):
        if name not in given:
            if variable not in os.environ:  # a module or session fixture runs before the per-test folders exist
                raise RuntimeError(f"outside a test, give make_settings both folders ({name} is missing)")
            folders[name] = os.environ[variable]
    return Settings.model_validate({**folders, **given})


def cloud_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {"api_key": "test-api-key-0123456789", "backend": "akool", "max_retries": 2}
    values.update(overrides)
    return make_settings(values)


def data(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, text(result)
    assert result.structured_content is not None
    return result.structured_content


def text(result: CallToolResult) -> str:
    return " ".join(getattr(c, "text", "") for c in result.content)


def local_file(url: str) -> Path:
    """The file a `file://` URL names."""
    assert url.startswith("file://"), url
    return Path(unquote(urlsplit(url).path))


def server_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of an akool-mcp process a test starts: this one's without any AKOOL_ setting, its folders
    in the test's own, on the local engine, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AKOOL_")}
    env.update(
        {
            "AKOOL_DATA_DIR": str(tmp_path / "data"),
            "AKOOL_OUTPUT_DIR": str(tmp_path / "videos"),
            "AKOOL_BACKEND": "local",
            **extra,
        }
    )
    return env


def stop_server(proc: subprocess.Popen[str]) -> None:
    """Stop a server process as Ctrl-C does; kill it if it has not gone within 20 s."""
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
