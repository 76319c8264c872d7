"""The error hierarchy of the Akool client, and every documented Akool code mapped in one table.

Names say what to catch. Every message tells the model (or the user) what to do next.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


class AkoolError(Exception):
    """Base of everything the client raises."""

    def __init__(self, message: str, *, code: int | None = None, http_status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.http_status = http_status


class InputError(AkoolError):
    """A parameter was refused before any request was sent; `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class BackendUnavailableError(AkoolError):
    """The backend (Akool client or local engine) could not be opened; the message says why."""


class AkoolConnectionError(AkoolError):
    """The service could not be reached, or did not answer in time."""


class SaveError(AkoolError):
    """A finished video could not be kept in the output folder; the message says why and what to do."""


class AkoolAPIError(AkoolError):
    """The service answered with an error (a business code other than 1000, or an HTTP error)."""


class AuthenticationError(AkoolAPIError):
    """Missing, invalid or expired credentials (1101, 1102)."""


class PermissionDeniedError(AkoolAPIError):
    """The account may not do this (1009, 1200)."""


class InvalidRequestError(AkoolAPIError):
    """A parameter was refused by the service (1003, 1204, 1207, 1210)."""


class NotFoundError(AkoolAPIError):
    """The id names nothing (1008, 1014, HTTP 404)."""


class ConflictError(AkoolAPIError):
    """The resource exists already (1222)."""


class QuotaExceededError(AkoolAPIError):
    """Not enough credit (1006)."""


class RateLimitError(AkoolAPIError):
    """Too many requests (1005, HTTP 429)."""


class ServiceError(AkoolAPIError):
    """The service failed on its side (1109, 1201, HTTP 5xx)."""


@dataclass(frozen=True)
class CodeInfo:
    error: type[AkoolAPIError]
    meaning: str
    advice: str


AKOOL_CODES: dict[int, CodeInfo] = {
    1003: CodeInfo(InvalidRequestError, "parameter error or empty parameter", "Fix {field} and call again."),
    1005: CodeInfo(RateLimitError, "operation too frequent", "Akool is rate limiting: wait a minute, then try again."),
    1006: CodeInfo(
        QuotaExceededError,
        "your quota is not enough",
        "The Akool account's credit is spent: top up at akool.com (or use the local engine) before trying again.",
    ),
    1008: CodeInfo(NotFoundError, "content does not exist", "Check the id: list_avatars shows valid avatar ids."),
    1009: CodeInfo(PermissionDeniedError, "permission denied", "This account may not use that resource; pick another."),
    1014: CodeInfo(NotFoundError, "resource does not exist", "Check the id and call again."),
    1101: CodeInfo(
        AuthenticationError,
        "invalid or expired token",
        "The Akool credentials were refused: check AKOOL_API_KEY (or AKOOL_CLIENT_ID and "
        "AKOOL_CLIENT_SECRET) in the server's configuration.",
    ),
    1102: CodeInfo(
        AuthenticationError,
        "authorization cannot be empty",
        "No Akool credentials were sent: set AKOOL_API_KEY (or AKOOL_CLIENT_ID and AKOOL_CLIENT_SECRET) "
        "in the server's configuration.",
    ),
    1109: CodeInfo(
        ServiceError,
        "create avatar video error",
        "{service} could not create the video; check the inputs and retry.",
    ),
    1200: CodeInfo(
        PermissionDeniedError,
        "the account has been banned",
        "The Akool account is banned: contact Akool support.",
    ),
    1201: CodeInfo(ServiceError, "create audio error", "Akool could not create the audio: try again later."),
    1204: CodeInfo(InvalidRequestError, "video duration exceeds 60 s", "Use a source video of at most 60 seconds."),
    1207: CodeInfo(InvalidRequestError, "video size exceeds 300 MB", "Use a source video of at most 300 MB."),
    1210: CodeInfo(InvalidRequestError, "frame rate above 30 fps", "Use a source video of at most 30 fps."),
    1222: CodeInfo(ConflictError, "resource already exists", "That avatar_id is taken: choose another avatar_id."),
}

_RETRYABLE_CODES = frozenset({1005})

# Fields the API takes; used to name the offending one when the service's message mentions it.
_KNOWN_FIELDS = (
    "avatar_from", "elements", "webhookUrl", "video_model_id", "avatar_id", "input_text", "voice_id",
    "scale_x", "scale_y", "offset_x", "offset_y", "url_from", "width", "height", "type", "url", "name",
    "from", "page", "size", "id",
)  # fmt: skip


def field_in_message(msg: str) -> str | None:
    """The first known parameter name the service's message mentions, e.g. 'elements[1].url'."""
    indexed = re.search(r"\b(elements\[\d+\](?:\.\w+)?)", msg)
    if indexed:
        return indexed.group(1)
    for name in _KNOWN_FIELDS:
        if re.search(rf"(?<![\w.]){re.escape(name)}(?![\w])", msg):
            return name
    return None


def is_retryable_code(code: int) -> bool:
    return code in _RETRYABLE_CODES


AKOOL = "Akool"
LOCAL_ENGINE = "the local engine"


def error_for_code(code: int, msg: str, *, http_status: int | None = None, service: str = AKOOL) -> AkoolAPIError:
    """Turn a business code (and the service's own message) into a typed error with advice.

    `service` names who answered: Akool's cloud, or the local engine (whose refusals are not Akool's, and read
    without Akool's code numbers).
    """
    info = AKOOL_CODES.get(code)
    detail = msg.strip().rstrip(".") or (info.meaning if info else "")
    said = f"Akool error {code} ({detail})" if service == AKOOL else f"The local engine refused this: {detail}"
    if info is None:
        return AkoolAPIError(
            f"{said}. Check the inputs; if it persists, try again later.", code=code, http_status=http_status
        )
    field = field_in_message(detail) if code == 1003 else None
    advice = info.advice.format(field=f"`{field}`" if field else "the parameter it names", service=service)
    if code == 1005 and "try again in" in detail:
        advice = "Nothing was created; call again after that wait."  # the service said when: no guessing
    return info.error(f"{said}. {advice[0].upper()}{advice[1:]}", code=code, http_status=http_status)


def error_for_http_status(status: int, body_excerpt: str = "") -> AkoolAPIError:
    """An HTTP error with no usable business code."""
    hint = f": {body_excerpt[:200]}" if body_excerpt else ""
    if status in (401, 403):
        return AuthenticationError(
            f"Akool refused the credentials (HTTP {status}){hint}. Check AKOOL_API_KEY or "
            "AKOOL_CLIENT_ID/AKOOL_CLIENT_SECRET.",
            http_status=status,
        )
    if status == 404:
        return NotFoundError(f"Not found (HTTP 404){hint}. Check the id and the base URL.", http_status=status)
    if status == 429:
        return RateLimitError(f"Rate limited (HTTP 429){hint}. Wait a minute and try again.", http_status=status)
    if status >= 500:
        return ServiceError(
            f"Akool had a server error (HTTP {status}){hint}. Try again in a minute.", http_status=status
        )
    return AkoolAPIError(f"Akool answered HTTP {status}{hint}.", http_status=status)
