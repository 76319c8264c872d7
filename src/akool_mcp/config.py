"""One settings model, built once at start-up and passed down; nothing reads the environment at import."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal, get_origin

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, SecretStr, field_validator

DEFAULT_BASE_URL = "https://openapi.akool.com"


class Backend(StrEnum):
    AUTO = "auto"
    AKOOL = "akool"
    LOCAL = "local"


def default_data_dir() -> Path:
    """Per-user data directory, following XDG on Linux and the platform habit elsewhere."""
    xdg = os.environ.get("XDG_DATA_HOME")
    if xdg:
        return Path(xdg) / "akool-mcp"
    if os.name == "nt":  # pragma: no cover - not exercised on the CI platform
        return Path(os.environ.get("LOCALAPPDATA", Path.home())) / "akool-mcp"
    return Path.home() / ".local" / "share" / "akool-mcp"


def default_output_dir() -> Path:
    """Where finished videos are kept: a folder in the user's videos directory (platformdirs knows it)."""
    from platformdirs import user_videos_dir

    return Path(user_videos_dir()) / "akool-mcp"


ENV_PREFIX = "AKOOL_"


class Settings(BaseModel):
    """Every knob of akool-mcp. Environment variables are the field names upper-cased, prefixed AKOOL_.

    Built once at start-up by `from_environ` and passed down; tests build it with `model_validate`.
    (A plain pydantic model and a ten-line reader rather than pydantic-settings: that library's import
    alone cost about a tenth of the server's start-up.)
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read AKOOL_* variables (names case-insensitive); list values are JSON, as `["a", "b"]`."""
        env = {k.upper(): v for k, v in (os.environ if environ is None else environ).items()}
        values: dict[str, Any] = {}
        for name, field in cls.model_fields.items():
            raw = env.get(ENV_PREFIX + name.upper())
            if raw is None:
                continue
            if get_origin(field.annotation) is list:
                try:
                    values[name] = json.loads(raw)
                except ValueError:
                    values[name] = raw  # validation then names the variable and the expected type
            else:
                values[name] = raw
        return cls.model_validate(values)

    # Akool cloud
    api_key: SecretStr | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    base_url: AnyHttpUrl | None = None
    backend: Backend = Backend.AUTO
    timeout: Annotated[float, Field(gt=0, le=600)] = 30.0
    max_retries: Annotated[int, Field(ge=0, le=10)] = 2

    # Finished videos
    output_dir: Path = Field(default_factory=default_output_dir)
    max_download_mb: Annotated[int, Field(ge=1, le=20_000)] = 2048

    # MCP server over HTTP
    mcp_token: SecretStr | None = None
    allowed_origins: list[str] = Field(default_factory=list)
    # Media links (signed, expiring): the signing secret (else one generated and kept in the data directory)
    link_secret: SecretStr | None = None
    link_ttl_hours: Annotated[float, Field(gt=0, le=24 * 30)] = 24.0

    # Paid calls on Akool: ask the user first (auto: when the client can be asked; always: refuse otherwise)
    confirm_spend: Literal["auto", "always", "never"] = "auto"

    # Local engine
    data_dir: Path = Field(default_factory=default_data_dir)
    local_api_key: SecretStr | None = None
    local_client_id: str | None = None
    local_client_secret: SecretStr | None = None
    max_concurrent_renders: Annotated[int, Field(ge=1, le=16)] = 1
    render_preset: Literal[
        "ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow"
    ] = "veryfast"
    allow_private_urls: bool = False
    public_url: AnyHttpUrl | None = None
    local_token_ttl_days: Annotated[int, Field(ge=1, le=3650)] = 365
    # Every render must finish within budget_seconds + budget_factor x its speech's length (wall
    # time); an avatar upload within budget_seconds. A 4K render takes about 0.5-1.5x the speech on
    # two cores, so the defaults leave room for a busy machine and stop only what would never end.
    render_budget_seconds: Annotated[float, Field(ge=10, le=86_400)] = 120.0
    render_budget_factor: Annotated[float, Field(ge=1, le=1000)] = 10.0
    # Jobs waiting or running at once: for the whole engine, and for one caller (by address).
    max_queued_jobs: Annotated[int, Field(ge=1, le=100_000)] = 100
    max_queued_per_client: Annotated[int, Field(ge=1, le=100_000)] = 20

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["console", "json"] = "console"

    @field_validator("api_key", "client_secret", "mcp_token", "local_api_key", "local_client_secret", "link_secret")
    @classmethod
    def _blank_secret_is_none(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().strip():
            return None
        return value

    @field_validator("client_id", "local_client_id")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @property
    def has_akool_credentials(self) -> bool:
        return self.api_key is not None or (self.client_id is not None and self.client_secret is not None)

    @property
    def effective_backend(self) -> Literal["akool", "local"]:
        """`auto` means Akool when credentials are configured, else the built-in local engine."""
        if self.backend is Backend.AUTO:
            return "akool" if self.has_akool_credentials else "local"
        return "akool" if self.backend is Backend.AKOOL else "local"

    @property
    def resolved_base_url(self) -> str:
        return str(self.base_url or DEFAULT_BASE_URL).rstrip("/")


class ConfigError(Exception):
    """The configuration cannot work; the message says which variable to fix."""


def check_settings(settings: Settings) -> None:
    """Reject combinations that would only fail later, with a message naming the variable."""
    if settings.backend is Backend.AKOOL and not settings.has_akool_credentials:
        raise ConfigError(
            "AKOOL_BACKEND=akool needs credentials: set AKOOL_API_KEY (recommended), or both "
            "AKOOL_CLIENT_ID and AKOOL_CLIENT_SECRET. Or leave AKOOL_BACKEND unset to use the local engine."
        )
    if (settings.client_id is None) != (settings.client_secret is None) and settings.api_key is None:
        missing = "AKOOL_CLIENT_SECRET" if settings.client_secret is None else "AKOOL_CLIENT_ID"
        raise ConfigError(f"{missing} is missing: AKOOL_CLIENT_ID and AKOOL_CLIENT_SECRET go together.")
    check_local_secret(settings)


LOCAL_SECRET_SIZES = (16, 24, 32)


def check_local_secret(settings: Settings) -> None:
    """The local engine's secret is its API key, its getToken secret and its webhook AES key at once."""
    key, secret = settings.local_api_key, settings.local_client_secret
    if key is not None and secret is not None and key.get_secret_value() != secret.get_secret_value():
        raise ConfigError(
            "AKOOL_LOCAL_API_KEY and AKOOL_LOCAL_CLIENT_SECRET are both set and differ: the engine's API key IS "
            "its client secret (as on Akool). Set only one of them."
        )
    chosen = secret or key
    if chosen is None:
        return
    name = "AKOOL_LOCAL_CLIENT_SECRET" if secret is not None else "AKOOL_LOCAL_API_KEY"
    size = len(chosen.get_secret_value().encode("utf-8", "surrogatepass"))
    if size not in LOCAL_SECRET_SIZES:
        raise ConfigError(
            f"{name} is {size} bytes; it must be 16, 24 or 32 bytes, because it is also the AES key that seals "
            "webhook envelopes. Make one with: openssl rand -base64 24"
        )
