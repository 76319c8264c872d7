"""The paid requests in PostgreSQL, for MCP servers that run side by side (cluster mode).

The same rules as the single-user `Ledger`: a `request_id` is honoured and an identical request within the
duplicate window is taken for a repeat, whichever replica the balancer hands the repeat to. A claim (check,
then write "sending") is one step across the cluster: it runs under a transaction-level advisory lock, and
the unique index on (kind, request_id) stands behind it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any

from akool_mcp.domain.ledger import DUPLICATE_WINDOW, Claim, Kind, PaidRequest, paid_request
from akool_mcp.domain.shared_db import SharedDatabase

# The advisory lock that makes a claim one step across replicas (claims are rare: one per paid call).
CLAIM_LOCK = 0x616B6F6F6C + 16


class SharedLedger:
    def __init__(self, db: SharedDatabase, *, now: Callable[[], float] = time.time) -> None:
        self._db = db
        self._now = now

    def close(self) -> None:
        self._db.close()

    def check(self, kind: Kind, print_: str, *, request_id: str | None, allow_duplicate: bool) -> Claim:
        with self._db.connection() as db:
            return self._check(db, kind, print_, request_id=request_id, allow_duplicate=allow_duplicate)

    def claim(self, kind: Kind, print_: str, *, request_id: str | None, allow_duplicate: bool) -> Claim:
        with self._db.transaction() as db:
            db.execute("SELECT pg_advisory_xact_lock(%s)", (CLAIM_LOCK,))
            found = self._check(db, kind, print_, request_id=request_id, allow_duplicate=allow_duplicate)
            if found.earlier is not None or found.other_request:
                return found
            row = db.execute(
                "INSERT INTO akool_mcp_paid_requests (kind, fingerprint, request_id, state, sent_at) "
                "VALUES (%s, %s, %s, 'sending', %s) RETURNING seq",
                (kind, print_, request_id, self._now()),
            ).fetchone()
            return Claim(seq=int(row["seq"]))

    def _check(self, db: Any, kind: Kind, print_: str, *, request_id: str | None, allow_duplicate: bool) -> Claim:
        if request_id is not None:
            row = db.execute(
                "SELECT * FROM akool_mcp_paid_requests WHERE kind = %s AND request_id = %s", (kind, request_id)
            ).fetchone()
            if row is not None:
                earlier = paid_request(row)
                return Claim(earlier=earlier, why="request_id", other_request=earlier.fingerprint != print_)
        if not allow_duplicate:
            row = db.execute(
                "SELECT * FROM akool_mcp_paid_requests WHERE kind = %s AND fingerprint = %s AND sent_at >= %s "
                "ORDER BY sent_at DESC LIMIT 1",
                (kind, print_, self._now() - DUPLICATE_WINDOW),
            ).fetchone()
            if row is not None:
                return Claim(earlier=paid_request(row), why="duplicate")
        return Claim()

    def done(self, seq: int, result_id: str, result: Mapping[str, Any]) -> None:
        with self._db.connection() as db:
            db.execute(
                "UPDATE akool_mcp_paid_requests SET state = 'done', result_id = %s, result = %s WHERE seq = %s",
                (result_id, json.dumps(result), seq),
            )

    def unknown(self, seq: int) -> None:
        with self._db.connection() as db:
            db.execute("UPDATE akool_mcp_paid_requests SET state = 'unknown' WHERE seq = %s", (seq,))

    def refused(self, seq: int) -> None:
        with self._db.connection() as db:
            db.execute("DELETE FROM akool_mcp_paid_requests WHERE seq = %s", (seq,))

    def age(self, entry: PaidRequest) -> float:
        return max(0.0, self._now() - entry.sent_at)
