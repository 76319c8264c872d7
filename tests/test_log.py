"""Logs: events with fields on stderr, in console or JSON form; secrets never reach them."""

from __future__ import annotations

import io
import json
import logging

import pytest

from akool_mcp.log import REDACTED, configure_logging, get_logger

SECRET = "sk-live-0123456789abcdef"
TOKEN = "eyJhbGciOiJIUzI1NiJ9.payload.sig"


def test_secret_fields_values_and_bearer_tokens_are_redacted_in_our_events_and_library_logs() -> None:
    stream = io.StringIO()
    configure_logging("DEBUG", fmt="json", secrets=[SECRET], stream=stream)
    get_logger("akool_mcp.test").info(
        "calling", api_key=SECRET, note=f"the key is {SECRET}", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    get_logger("akool_mcp.test").info("echo", detail=[f"Bearer {TOKEN}", {"clientSecret": "abc123456"}])
    logging.getLogger("some.library").warning("sent %s with Authorization: Bearer %s", SECRET, TOKEN)
    output = stream.getvalue()
    assert output.count(REDACTED) >= 6, output
    assert SECRET not in output and TOKEN not in output and "abc123456" not in output
    assert "calling" in output and "some.library" in output  # the lines themselves were written


def test_json_lines_carry_the_event_its_fields_level_logger_and_traceback() -> None:
    stream = io.StringIO()
    configure_logging("INFO", fmt="json", stream=stream)
    get_logger("akool_mcp.jobs").info("job.done", id="v1", seconds=2.5)
    try:
        raise ValueError("bad frame")
    except ValueError:
        get_logger("akool_mcp.jobs").exception("job.crashed", id="v2")
    done, crashed = (json.loads(line) for line in stream.getvalue().splitlines())
    assert done["event"] == "job.done" and done["id"] == "v1" and done["seconds"] == 2.5
    assert done["level"] == "info" and done["logger"] == "akool_mcp.jobs" and done["timestamp"].endswith("Z")
    assert crashed["level"] == "error" and "ValueError: bad frame" in crashed["exception"]


def test_console_lines_show_the_event_then_its_fields() -> None:
    stream = io.StringIO()
    configure_logging("INFO", stream=stream)
    get_logger("akool_mcp.x").warning("video.kept", video="v1", note="two words")
    line = stream.getvalue().strip()
    assert "[warning] video.kept" in line
    assert line.endswith("video=v1 note='two words'")


def test_debug_shows_our_events_but_not_the_libraries_chatter() -> None:
    stream = io.StringIO()
    configure_logging("DEBUG", stream=stream)
    get_logger("akool_mcp.x").debug("ours")
    logging.getLogger("mcp.server.lowlevel").debug("theirs")
    get_logger("akool_mcp.x").info("shown")
    output = stream.getvalue()
    assert "ours" in output and "shown" in output and "theirs" not in output
    stream.truncate(0)
    configure_logging("WARNING", stream=stream)
    get_logger("akool_mcp.x").info("hidden")
    assert stream.getvalue() == ""


def test_nothing_is_written_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("DEBUG")
    get_logger("akool_mcp.x").info("to.stderr", n=1)
    logging.getLogger("some.library").warning("also to stderr")
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "to.stderr" in captured.err and "also to stderr" in captured.err


def test_logging_configuration_is_restored_between_tests() -> None:
    # The autouse fixture in conftest.py put back what the previous test configured.
    formatters = [type(h.formatter).__name__ for h in logging.getLogger().handlers]
    assert "EventFormatter" not in formatters
