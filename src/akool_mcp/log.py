"""structlog to stderr, configured once, with secrets redacted before anything is written."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any, TextIO, cast

import structlog

_SECRET_KEYS = re.compile(r"(api[_-]?key|secret|token|authorization|password|signature|dataencrypt)", re.I)
_BEARER = re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+", re.I)
REDACTED = "[redacted]"


class SecretRedactor:
    """A structlog processor that hides secret-named fields and any known secret value anywhere."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def _scrub(self, value: Any) -> Any:
        if isinstance(value, str):
            for secret in self._secrets:
                value = value.replace(secret, REDACTED)
            return _BEARER.sub(r"\1" + REDACTED, value)
        if isinstance(value, dict):
            items = cast("dict[object, Any]", value).items()
            return {k: (REDACTED if _SECRET_KEYS.search(str(k)) else self._scrub(v)) for k, v in items}
        if isinstance(value, list | tuple):
            return [self._scrub(v) for v in cast("list[Any] | tuple[Any, ...]", value)]
        return value

    def __call__(self, logger: Any, method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        for key in list(event_dict):
            if _SECRET_KEYS.search(key):
                event_dict[key] = REDACTED
            else:
                event_dict[key] = self._scrub(event_dict[key])
        return event_dict


def configure_logging(
    level: str = "INFO", *, fmt: str = "console", secrets: Iterable[str] = (), stream: TextIO | None = None
) -> None:
    """Route structlog and stdlib logging to stderr (stdout is the MCP wire in stdio mode)."""
    out = stream or sys.stderr
    numeric = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    renderer: Any = (
        structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer(colors=False)
    )
    redactor = SecretRedactor(secrets)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redactor,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(out)
    handler.setFormatter(_RedactingFormatter(redactor, "%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(max(numeric, logging.INFO))
    # httpx-style clients log full URLs at INFO; keep them quiet unless debugging.
    for noisy in ("httpx2", "httpcore2", "httpx", "httpcore", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


class _RedactingFormatter(logging.Formatter):
    def __init__(self, redactor: SecretRedactor, fmt: str) -> None:
        super().__init__(fmt)
        self._redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        return str(self._redactor._scrub(super().format(record)))  # pyright: ignore[reportPrivateUsage]
