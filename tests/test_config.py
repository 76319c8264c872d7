"""Settings come from AKOOL_* variables, read once; a bad value names its variable."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from akool_mcp.cli import load_settings
from akool_mcp.config import Backend, ConfigError, Settings


def test_variables_are_read_with_their_types() -> None:
    settings = Settings.from_environ(
        {
            "AKOOL_API_KEY": "k" * 20,
            "akool_backend": "local",
            "AKOOL_MAX_RETRIES": "4",
            "AKOOL_ALLOW_PRIVATE_URLS": "true",
            "AKOOL_ALLOWED_ORIGINS": '["https://a.example", "https://b.example"]',
            "AKOOL_DATA_DIR": "/tmp/akool-data",
            "OTHER_VARIABLE": "ignored",
        }
    )
    assert settings.api_key is not None and settings.api_key.get_secret_value() == "k" * 20
    assert settings.backend is Backend.LOCAL and settings.max_retries == 4 and settings.allow_private_urls
    assert settings.allowed_origins == ["https://a.example", "https://b.example"]
    assert settings.data_dir == Path("/tmp/akool-data")


def test_an_empty_environment_gives_the_defaults() -> None:
    settings = Settings.from_environ({})
    assert settings == Settings.model_validate({"data_dir": settings.data_dir})
    assert settings.api_key is None and settings.effective_backend == "local"


@pytest.mark.parametrize(
    ("variable", "value"),
    [("AKOOL_MAX_RETRIES", "many"), ("AKOOL_ALLOWED_ORIGINS", "not json"), ("AKOOL_TIMEOUT", "-1")],
)
def test_a_bad_value_is_refused_naming_its_variable(monkeypatch: pytest.MonkeyPatch, variable: str, value: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=variable):
        load_settings()
    with pytest.raises(ValidationError):
        Settings.from_environ({variable: value})
