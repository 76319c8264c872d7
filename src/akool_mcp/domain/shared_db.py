"""The cluster database, as the MCP servers that run side by side see it: one small pool per process, opened
on first use, shared by the list of videos, the paid requests and the scripts (all in tables that
`akool-mcp migrate` made). Calls are short and block, like the SQLite files' they stand in for.
"""

from __future__ import annotations

import threading
from collections.abc import Generator
from contextlib import contextmanager
from typing import Any

# Connections per MCP server process: calls are a few milliseconds, made from the event loop and a thread or
# two (saves, joins); four keep a busy replica from queueing behind itself (see README, "Cluster mode").
POOL_SIZE = 4


class SharedDatabase:
    def __init__(self, conninfo: str, *, pool_size: int = POOL_SIZE) -> None:
        self._conninfo = conninfo
        self._size = pool_size
        self._lock = threading.Lock()
        self._pool: Any = None

    def _opened(self) -> Any:
        with self._lock:
            if self._pool is None:  # on first use: listing the tools should not open connections
                from psycopg.rows import dict_row
                from psycopg_pool import ConnectionPool

                self._pool = ConnectionPool(
                    self._conninfo,
                    min_size=1,
                    max_size=self._size,
                    kwargs={"autocommit": True, "row_factory": dict_row},
                    open=True,
                    name="akool-mcp",
                )
            return self._pool

    @contextmanager
    def connection(self) -> Generator[Any]:
        with self._opened().connection() as db:
            yield db

    @contextmanager
    def transaction(self) -> Generator[Any]:
        with self._opened().connection() as db, db.transaction():
            yield db

    def check_schema(self) -> None:
        """Refuse to serve on a database `akool-mcp migrate` has not brought up to this release."""
        from akool_mcp.migrations import require_current

        with self.connection() as db:
            require_current(db)

    def close(self) -> None:
        """Reopened on next use (the SSE transport runs a lifespan per connection)."""
        with self._lock:
            if self._pool is not None:
                self._pool.close()
                self._pool = None
