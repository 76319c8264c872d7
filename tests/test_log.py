"""Secrets never reach the logs: secret-named fields, known secret values anywhere, and bearer tokens."""

from __future__ import annotations

import io
import logging

import structlog

from akool_mcp.log import REDACTED, configure_logging

SECRET = "sk-live-0123456789abcdef"
TOKEN = "eyJhbGciOiJIUzI1NiJ9.payload.sig"


def test_secret_fields_values_and_bearer_tokens_are_redacted_in_structured_and_stdlib_logs() -> None:
    stream = io.StringIO()
    configure_logging("DEBUG", fmt="json", secrets=[SECRET], stream=stream)
    structlog.get_logger("test").info(
        "calling", api_key=SECRET, note=f"the key is {SECRET}", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    structlog.get_logger("test").info("echo", detail=[f"Bearer {TOKEN}", {"clientSecret": "abc123456"}])
    logging.getLogger("some.library").warning("sent %s with Authorization: Bearer %s", SECRET, TOKEN)
    output = stream.getvalue()
    assert output.count(REDACTED) >= 6, output
    assert SECRET not in output and TOKEN not in output and "abc123456" not in output
    assert "calling" in output and "some.library" in output  # the lines themselves were written


def test_logging_configuration_is_restored_between_tests() -> None:
    # The autouse fixture in conftest.py put back what the previous test configured.
    formatters = [type(h.formatter).__name__ for h in logging.getLogger().handlers]
    processors = [type(p).__name__ for p in structlog.get_config()["processors"]]
    assert "_RedactingFormatter" not in formatters and "SecretRedactor" not in processors
