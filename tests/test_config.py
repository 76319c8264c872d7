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


CLUSTER = {"AKOOL_DATABASE_URL": "postgresql://akool@db.internal/akool"}


def test_a_cluster_engine_refuses_to_start_without_the_secrets_its_replicas_share() -> None:
    from akool_mcp.config import check_cluster

    with pytest.raises(ConfigError) as refused:
        check_cluster(Settings.from_environ(CLUSTER), engine=True)
    message = str(refused.value)
    assert "AKOOL_LOCAL_CLIENT_SECRET" in message and "AKOOL_LOCAL_CLIENT_ID" in message
    assert "AKOOL_PUBLIC_URL" in message and "postgresql://" not in message
    complete = {
        **CLUSTER,
        "AKOOL_LOCAL_CLIENT_ID": "engine-1",
        "AKOOL_LOCAL_CLIENT_SECRET": "0123456789abcdef0123456789abcdef",
        "AKOOL_PUBLIC_URL": "https://engine.example.com",
    }
    check_cluster(Settings.from_environ(complete), engine=True)


def test_a_cluster_mcp_server_refuses_to_start_without_a_token_an_address_and_a_blob_store() -> None:
    from akool_mcp.config import check_cluster

    with pytest.raises(ConfigError) as refused:
        check_cluster(Settings.from_environ(CLUSTER), engine=False)
    assert all(name in str(refused.value) for name in ("AKOOL_MCP_TOKEN", "AKOOL_PUBLIC_URL", "AKOOL_BLOB_STORE"))
    check_cluster(Settings.from_environ({}), engine=False)  # one machine: nothing to agree on


def test_a_worker_role_without_a_database_is_refused_before_anything_starts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from akool_mcp.cli import main

    monkeypatch.delenv("AKOOL_DATABASE_URL", raising=False)
    assert main(["local-api", "--role", "worker"]) == 2
    assert "AKOOL_DATABASE_URL" in capsys.readouterr().err
