"""Limits that must hold across the API processes of a cluster, not per process."""

from __future__ import annotations

from akool_mcp.local.pgstore import PgStore, SharedRateLimiter


def test_get_token_calls_from_one_caller_are_counted_across_api_processes(migrated: str) -> None:
    first, second = PgStore(migrated), PgStore(migrated)  # two API processes
    try:
        one = SharedRateLimiter(first, per_minute=10, burst=2)
        other = SharedRateLimiter(second, per_minute=10, burst=2)
        answers = [one.allow("10.0.0.7"), other.allow("10.0.0.7"), one.allow("10.0.0.7")]
        stranger = other.allow("10.0.0.8")
    finally:
        first.close()
        second.close()
    assert answers[:2] == [0.0, 0.0]
    assert 0 < answers[2] <= 6.0  # the third call within the burst waits for a token (10 a minute: 6 s each)
    assert stranger == 0.0
