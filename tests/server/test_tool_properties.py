"""Property tests of the MCP tools' inputs on the local backend: any arguments get an answer, never a crash.

Whatever a model sends (wrong types, odd text, lone surrogates, huge numbers, unknown keys), every tool
answers with a result or a tool error that reads as a message, with no traceback text, and the server
goes on answering. The server runs once, on a portal's event loop; hypothesis drives it from outside.
"""

from __future__ import annotations

import json
from collections.abc import Generator
from pathlib import Path
from typing import Any, cast

import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mcp import Client

from akool_mcp.server import build_server
from tests.support import make_settings

ALL_HEALTH_CHECKS: list[HealthCheck] = [HealthCheck(c) for c in HealthCheck]
TRACEBACK_WORDS = ("Traceback (most recent call last)", 'File "/')

ODD_TEXT = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        ["", " ", "#", "#GGGGGG", "blue", "\ud800", "\x00", "http://[::1/x.png", "http://example.com:abc/h",
         "https://example.com/" + "a" * 5000, "file:///etc/passwd", "../../etc/passwd", "ftp://x/y.png",
         "http://127.0.0.1/a.png", "javascript:alert(1)", "local_amy", "en-US-female-1"]
    ),
)  # fmt: skip
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    ODD_TEXT,
    st.lists(st.dictionaries(st.sampled_from(["type", "url", "avatar_id", "voice_id"]), ODD_TEXT), max_size=3),
)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Generator[tuple[BlockingPortal, Client, dict[str, Any]]]:
    data_dir: Path = tmp_path_factory.mktemp("props") / "data"
    settings_ = make_settings(
        {"data_dir": data_dir, "output_dir": data_dir / "videos", "backend": "local", "render_preset": "ultrafast"}
    )
    with (
        start_blocking_portal() as portal,
        portal.wrap_async_context_manager(Client(build_server(settings_))) as client,
    ):
        tools = portal.call(client.list_tools).tools
        schemas = {tool.name: tool.input_schema for tool in tools}
        yield portal, client, schemas


def arguments_for(schema: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    names = sorted(schema.get("properties", {}))
    optional = dict.fromkeys([*names, "background_color", "unknown"], VALUES)
    return st.fixed_dictionaries({}, optional=optional)


@pytest.mark.slow
def test_any_arguments_to_any_tool_get_a_readable_answer_and_the_server_serves_on(
    served: tuple[BlockingPortal, Client, dict[str, Any]],
) -> None:
    portal, client, schemas = served
    calls: list[str] = []

    @settings(max_examples=300, deadline=None, derandomize=True, database=None, suppress_health_check=ALL_HEALTH_CHECKS)
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        name = data.draw(st.sampled_from(sorted(schemas)))
        arguments = data.draw(arguments_for(schemas[name]))
        result = portal.call(client.call_tool, name, arguments)
        calls.append(name)
        text = " ".join(getattr(c, "text", "") for c in result.content)
        described = json.dumps(arguments, default=str)[:300]
        assert not any(word in text for word in TRACEBACK_WORDS), f"{name}({described}) -> {text[:300]}"
        if result.is_error:
            assert text.strip(), f"{name}({described}) failed without a message"

    run()
    after = portal.call(client.call_tool, "list_avatars", cast("dict[str, Any]", {}))
    assert not after.is_error and len(set(calls)) == len(schemas)
