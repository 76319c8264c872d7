"""Structured logs through the standard library, to stderr, with secrets redacted before anything is written.

`log = get_logger(__name__)` then `log.info("video.kept", video=video_id, bytes=size)`: an event name and
fields. Records go through stdlib `logging`, like the SDK's and the libraries' own, so one handler on
stderr writes them all (stdout is the MCP wire in stdio mode), as `console` lines or `json` objects.
The standard library is enough for this: structlog did it before, and its import alone was a tenth of
what start-up spends beyond the SDK (callgrind, 2026-11).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from collections.abc import Iterable, Mapping
from typing import Any, Literal, TextIO, cast

_SECRET_KEYS = re.compile(r"(api[_-]?key|secret|token|authorization|password|signature|dataencrypt)", re.I)
_BEARER = re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+", re.I)
REDACTED = "[redacted]"
_FIELDS = "akool_fields"  # the LogRecord attribute that carries an event's fields


class EventLogger:
    """Logs an event name with fields; a thin face on a stdlib logger."""

    __slots__ = ("_logger",)

    def __init__(self, logger: logging.Logger) -> None:
        self._logger = logger

    def debug(self, event: str, **fields: Any) -> None:
        self._log(logging.DEBUG, event, fields)

    def info(self, event: str, **fields: Any) -> None:
        self._log(logging.INFO, event, fields)

    def warning(self, event: str, **fields: Any) -> None:
        self._log(logging.WARNING, event, fields)

    def error(self, event: str, **fields: Any) -> None:
        self._log(logging.ERROR, event, fields)

    def exception(self, event: str, **fields: Any) -> None:
        """An error with the exception being handled (its traceback is written)."""
        self._log(logging.ERROR, event, fields, exc_info=True)

    def _log(self, level: int, event: str, fields: dict[str, Any], *, exc_info: bool = False) -> None:
        if self._logger.isEnabledFor(level):
            self._logger.log(level, event, exc_info=exc_info, extra={_FIELDS: fields}, stacklevel=3)


def get_logger(name: str) -> EventLogger:
    return EventLogger(logging.getLogger(name))


class SecretRedactor:
    """Hides secret-named fields, any known secret value anywhere, and bearer tokens."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def scrub(self, value: Any) -> Any:
        if isinstance(value, str):
            for secret in self._secrets:
                value = value.replace(secret, REDACTED)
            return _BEARER.sub(r"\1" + REDACTED, value)
        if isinstance(value, Mapping):
            items = cast("Mapping[object, Any]", value).items()
            return {k: (REDACTED if _SECRET_KEYS.search(str(k)) else self.scrub(v)) for k, v in items}
        if isinstance(value, list | tuple):
            return [self.scrub(v) for v in cast("list[Any] | tuple[Any, ...]", value)]
        return value


class EventFormatter(logging.Formatter):
    """One line per record: `console` (time [level] event key=value ...) or `json`; redacted last."""

    def __init__(self, redactor: SecretRedactor, fmt: Literal["console", "json"]) -> None:
        super().__init__()
        self._redactor = redactor
        self._json = fmt == "json"

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802 (stdlib name)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        return f"{stamp}.{int(record.msecs):03d}Z"

    def format(self, record: logging.LogRecord) -> str:
        fields = cast("dict[str, Any] | None", getattr(record, _FIELDS, None))
        event = record.msg if fields is not None else record.getMessage()
        level = record.levelname.lower()
        body = cast(dict[str, Any], self._redactor.scrub(fields or {}))
        if record.exc_info:
            body["exception"] = self.formatException(record.exc_info)
        if self._json:
            line = json.dumps(
                {"timestamp": self.formatTime(record), "level": level, "logger": record.name, "event": event, **body},
                default=str,
            )
        else:
            shown = " ".join(f"{key}={_console(value)}" for key, value in body.items() if key != "exception")
            line = f"{self.formatTime(record)} [{level:<7}] {event}" + (f"  {shown}" if shown else "")
            if fields is None:
                line += f"  logger={record.name}"
            if "exception" in body:
                line += "\n" + str(body["exception"])
        return cast(str, self._redactor.scrub(line))


def _console(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return repr(text) if not text or any(c.isspace() for c in text) or "=" in text else text


def configure_logging(
    level: str = "INFO",
    *,
    fmt: Literal["console", "json"] = "console",
    secrets: Iterable[str] = (),
    stream: TextIO | None = None,
) -> None:
    """Every logger, ours and the libraries', to one redacting handler on stderr (or `stream`)."""
    numeric = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(EventFormatter(SecretRedactor(secrets), fmt))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(max(numeric, logging.INFO))  # the libraries' debug output only floods
    logging.getLogger("akool_mcp").setLevel(numeric)
    # httpx-style clients log full URLs at INFO; keep them quiet unless debugging.
    for noisy in ("httpx2", "httpcore2", "httpx", "httpcore", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
