"""The backend opens in the background; if it cannot, tool calls say why instead of hanging or crashing."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp import Client

from akool_mcp.config import Settings
from akool_mcp.server import build_server
from tests.support import text

pytestmark = pytest.mark.anyio


async def test_a_local_engine_that_cannot_start_is_reported_to_the_model(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the data directory should be")
    settings = Settings.model_validate({"data_dir": blocker / "data", "backend": "local"})
    async with Client(build_server(settings)) as client:
        tools = await client.list_tools()
        result = await client.call_tool("list_voices", {})
    assert tools.tools  # the protocol answered although the backend failed
    assert result.is_error
    assert "local backend could not start" in text(result)
