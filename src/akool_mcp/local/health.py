"""The engine's health as `/health` reports it: can it take work, and what it is doing."""

from __future__ import annotations

from typing import Any

from akool_mcp.local.jobs import WORKER_KIND, JobRunner
from akool_mcp.local.store import Room, Store
from akool_mcp.local.supervisor import Supervisor
from akool_mcp.models import Status

DISPATCHER_KIND = "webhook dispatcher"


class Health:
    def __init__(self, store: Store, supervisor: Supervisor, runner: JobRunner, room: Room) -> None:
        self._store = store
        self._supervisor = supervisor
        self._runner = runner
        self._room = room

    def report(self) -> tuple[bool, dict[str, Any]]:
        """(can take work, details): workers alive, queue depth, webhook backlog, the last error."""
        alive, total = self._supervisor.alive(WORKER_KIND)
        dispatcher_alive, _ = self._supervisor.alive(DISPATCHER_KIND)
        details: dict[str, Any] = {}
        try:
            self._store.ping()
            details["queue"] = {
                "queued": self._store.count_videos(Status.QUEUEING),
                "processing": self._store.count_videos(Status.PROCESSING),
                "unfinished_jobs": self._store.count_unfinished(),
                "limit": self._room.total,
                "per_client_limit": self._room.per_client,
            }
            details["webhooks"] = {"pending": self._store.count_webhooks("pending"), "dispatcher_alive": True}
            store_ok = True
        except Exception as exc:
            details["store_error"] = f"{type(exc).__name__}: {str(exc)[:200]}"
            store_ok = False
        ready = store_ok and alive > 0
        details.setdefault("webhooks", {})["dispatcher_alive"] = dispatcher_alive > 0
        status = "ok" if ready and dispatcher_alive else "degraded" if ready else "unavailable"
        body: dict[str, Any] = {
            "status": status,
            "workers": {"alive": alive, "total": total},
            **details,
            "restarts": sum(h.restarts for h in self._supervisor.loops.values()),
            "quarantined": len(self._runner.quarantined),
            "last_error": self._supervisor.last_error,
            "last_error_at": self._supervisor.last_error_at,
        }
        return ready, body
