"""The paid requests this server has sent, so that none is sent twice: by the caller's `request_id`, or because
an identical one went out a few minutes ago (a model that retries after a timeout, or calls twice).

Each paid request is written down before it is sent ("sending"), then with what it made ("done"); a request
whose answer was lost stays "unknown", and is never sent again by itself. Kept in SQLite under the data
directory, so it holds across restarts. No MCP here.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from akool_mcp.privacy import private_database

if TYPE_CHECKING:
    import sqlite3

Kind = Literal["video", "avatar", "script"]
State = Literal["sending", "done", "unknown"]
DUPLICATE_WINDOW = 600.0  # seconds: an identical paid request this recent is taken for a repeat, not a wish

_SCHEMA = """
CREATE TABLE IF NOT EXISTS paid_requests (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    request_id TEXT,
    state TEXT NOT NULL,
    result_id TEXT,
    result TEXT,
    sent_at REAL NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS paid_request_ids ON paid_requests (kind, request_id) WHERE request_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS paid_recent ON paid_requests (kind, fingerprint, sent_at);
"""


def fingerprint(body: Mapping[str, Any]) -> str:
    """The same request gives the same fingerprint, whatever the order of its keys."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class PaidRequest:
    seq: int
    kind: Kind
    fingerprint: str
    request_id: str | None
    state: State
    result_id: str | None
    result: dict[str, Any] | None
    sent_at: float


@dataclass(frozen=True)
class Claim:
    """What to do with a paid request: send it (`seq` is its entry), or not, because of `earlier`."""

    seq: int | None = None
    earlier: PaidRequest | None = None
    why: Literal["request_id", "duplicate"] | None = None
    other_request: bool = False  # the request_id was used for a different request


class PaidLedger(Protocol):
    """The paid requests: this file on one machine, PostgreSQL for servers side by side (`shared_ledger`)."""

    def close(self) -> None: ...
    def check(self, kind: Kind, print_: str, *, request_id: str | None, allow_duplicate: bool) -> Claim: ...
    def claim(self, kind: Kind, print_: str, *, request_id: str | None, allow_duplicate: bool) -> Claim: ...
    def done(self, seq: int, result_id: str, result: Mapping[str, Any]) -> None: ...
    def unknown(self, seq: int) -> None: ...
    def refused(self, seq: int) -> None: ...
    def age(self, entry: PaidRequest) -> float: ...


class Ledger:
    """One connection, serialised by a lock (like the video registry): claims are checked and written at once."""

    def __init__(self, path: Path, *, now: Callable[[], float] = time.time) -> None:
        self.path = path
        self._now = now
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None

    @property
    def _db(self) -> sqlite3.Connection:
        with self._lock:
            if self._conn is None:  # on first use; it holds what the user paid for, and the first words of it
                self._conn = private_database(self.path, _SCHEMA)
            return self._conn

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def check(self, kind: Kind, print_: str, *, request_id: str | None, allow_duplicate: bool) -> Claim:
        """Whether this request may go out, without writing anything (see `claim`)."""
        with self._lock:
            return self._check(kind, print_, request_id=request_id, allow_duplicate=allow_duplicate)

    def claim(self, kind: Kind, print_: str, *, request_id: str | None, allow_duplicate: bool) -> Claim:
        """Check, and when the request may go out write it down as "sending", in one step."""
        with self._lock:
            found = self._check(kind, print_, request_id=request_id, allow_duplicate=allow_duplicate)
            if found.earlier is not None or found.other_request:
                return found
            cursor = self._db.execute(
                "INSERT INTO paid_requests (kind, fingerprint, request_id, state, sent_at) VALUES (?, ?, ?, ?, ?)",
                (kind, print_, request_id, "sending", self._now()),
            )
            return Claim(seq=cursor.lastrowid)

    def _check(self, kind: Kind, print_: str, *, request_id: str | None, allow_duplicate: bool) -> Claim:
        if request_id is not None:
            row = self._db.execute(
                "SELECT * FROM paid_requests WHERE kind = ? AND request_id = ?", (kind, request_id)
            ).fetchone()
            if row is not None:
                earlier = paid_request(row)
                return Claim(earlier=earlier, why="request_id", other_request=earlier.fingerprint != print_)
        if not allow_duplicate:
            row = self._db.execute(
                "SELECT * FROM paid_requests WHERE kind = ? AND fingerprint = ? AND sent_at >= ? "
                "ORDER BY sent_at DESC LIMIT 1",
                (kind, print_, self._now() - DUPLICATE_WINDOW),
            ).fetchone()
            if row is not None:
                return Claim(earlier=paid_request(row), why="duplicate")
        return Claim()

    def done(self, seq: int, result_id: str, result: Mapping[str, Any]) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE paid_requests SET state = 'done', result_id = ?, result = ? WHERE seq = ?",
                (result_id, json.dumps(result), seq),
            )

    def unknown(self, seq: int) -> None:
        """Sent, and the answer lost: it may have been made and billed. Never sent again by itself."""
        with self._lock:
            self._db.execute("UPDATE paid_requests SET state = 'unknown' WHERE seq = ?", (seq,))

    def refused(self, seq: int) -> None:
        """The backend refused it, so nothing was made: forget it (the same request_id may be used again)."""
        with self._lock:
            self._db.execute("DELETE FROM paid_requests WHERE seq = ?", (seq,))

    def age(self, entry: PaidRequest) -> float:
        return max(0.0, self._now() - entry.sent_at)


def paid_request(row: sqlite3.Row | Mapping[str, Any]) -> PaidRequest:
    """An entry from its row, in either store."""
    result = row["result"]
    return PaidRequest(
        seq=row["seq"],
        kind=row["kind"],
        fingerprint=row["fingerprint"],
        request_id=row["request_id"],
        state=row["state"],
        result_id=row["result_id"],
        result=json.loads(result) if result else None,
        sent_at=row["sent_at"],
    )
