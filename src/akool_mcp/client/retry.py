"""Retry policy as small pure functions: what to retry, and how long to wait before the next try."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable

RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})
MAX_RETRY_AFTER = 60.0
BASE_DELAY = 0.5
MAX_DELAY = 8.0


def should_retry_status(status: int) -> bool:
    return status in RETRYABLE_STATUS or status >= 500


def parse_retry_after(value: str | None, *, now: Callable[[], float] = time.time) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date); None when absent or silly."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        if parsed is None:
            return None
        seconds = parsed.timestamp() - now()
    if seconds < 0 or seconds > MAX_RETRY_AFTER:
        return None
    return seconds


def backoff_delay(attempt: int, *, retry_after: float | None = None, jitter: Callable[[], float]) -> float:
    """Capped exponential backoff with jitter; a server's Retry-After (within reason) wins.

    `attempt` counts retries from 0; `jitter()` returns a number in [0, 1).
    """
    if retry_after is not None:
        return retry_after
    delay = min(BASE_DELAY * (2**attempt), MAX_DELAY)
    # Full jitter on the upper quarter keeps clients from retrying in lockstep.
    return delay * (0.75 + 0.25 * jitter())
