"""Cluster mode's job queue: Procrastinate on PostgreSQL, in the database that holds the records.

Why Procrastinate (compared from the projects' docs and issues): a job is a row, so intake queues it in the
transaction that stores its record (a row and a job, or neither); workers send heartbeats, and the jobs of
a worker that stopped sending them can be found and run again (`get_stalled_jobs`), with no visibility
timeout that would hand a render longer than it to a second worker while the first is still at it (Celery
and taskiq on Redis do, and arq is in maintenance only); retry decisions are stored with the job; it is
asyncio-native; and PostgreSQL is one `apt-get install` away in CI, where Temporal and Hatchet would
download their servers.

Who does what:
- intake queues a job with `enqueue_with` inside its own transaction;
- a worker (`--role worker|all`) runs Procrastinate's worker: it fetches a job (Procrastinate's row lock
  makes that a claim of the queue entry), then the producer claims the record with a lease
  (`leases.Lease`) and renews it while it runs. Procrastinate's heartbeat and our lease are renewed from
  the same event loop, at the same pace;
- every worker also sweeps: jobs of workers silent for `stalled_worker_seconds` go back to the queue; the
  next claim finds their lease lapsed, and an attempt beyond `MAX_ATTEMPTS` fails the record with a reason;
- a stop (SIGTERM) ends renders at their next frame, lets their leases go and queues their jobs again.
"""

from __future__ import annotations

import datetime
import statistics
import threading
import time
from collections import deque
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import anyio
from anyio.abc import TaskGroup

from akool_mcp.clock import Clock
from akool_mcp.local.jobs import TYPICAL_JOB_SECONDS, WORKER_KIND, Job
from akool_mcp.local.leases import JobKind, Lease
from akool_mcp.local.records import Enqueue
from akool_mcp.local.supervisor import Supervisor
from akool_mcp.log import get_logger

if TYPE_CHECKING:
    from procrastinate import App

log = get_logger(__name__)

QUEUE = "akool"
TASK = "akool.produce"
SWEEPER_KIND = "stalled-job sweeper"
# Procrastinate's own count of tries of one queue entry (crashes, stalls, stops, waits for a lease): far above
# the record's MAX_ATTEMPTS, which is what fails a video; this only stops a job that can never be claimed.
QUEUE_ATTEMPTS = 50
STOP_GRACE_SECONDS = 30.0  # how long a stop waits for renders to notice it and give their jobs back
_RECENT_JOBS = 20


class Interrupted(Exception):
    """The engine stopped mid-job: the job goes back to the queue, for this worker's successor or another."""


class LeaseHeld(Exception):
    """Another attempt still holds the record's lease: try again when it lapses."""

    def __init__(self, until_ms: int) -> None:
        super().__init__(f"held until {until_ms}")
        self.until_ms = until_ms


class StoreUnreachable(Exception):
    """The database could not be reached mid-job; the job is tried again after a backoff."""


def _retry_strategy() -> Any:
    from procrastinate import BaseRetryStrategy, RetryDecision

    class Strategy(BaseRetryStrategy):
        """Again at once after a stop, when a held lease lapses, or with backoff when the store was down."""

        def get_retry_decision(self, *, exception: BaseException, job: Any) -> RetryDecision | None:
            if job.attempts >= QUEUE_ATTEMPTS:
                return None
            if isinstance(exception, Interrupted):
                return RetryDecision(retry_in={"seconds": 0})
            if isinstance(exception, LeaseHeld):
                at = datetime.datetime.fromtimestamp(exception.until_ms / 1000 + 0.05, tz=datetime.UTC)
                return RetryDecision(retry_at=max(at, datetime.datetime.now(datetime.UTC)))
            if isinstance(exception, StoreUnreachable):
                return RetryDecision(retry_in={"seconds": min(60, 2 ** min(job.attempts, 6))})
            return None

    return Strategy()


class ClusterQueue:
    """Jobs in PostgreSQL: queued by intake in its own transaction, run by this process's worker if it has one."""

    def __init__(
        self,
        conninfo: str,
        *,
        jobs: Mapping[JobKind, Job],
        supervisor: Supervisor,
        clock: Clock,
        workers: int,
        stall_seconds: float,
        worker_name: str,
    ) -> None:
        from procrastinate import App, PsycopgConnector, SyncPsycopgConnector
        from procrastinate.manager import JobManager

        self._jobs = dict(jobs)
        self._supervisor = supervisor
        self._clock = clock
        self._workers = workers
        self._stall = stall_seconds
        self.worker_name = worker_name
        self.stopping = threading.Event()
        self.quarantined: set[str] = set()
        self._recent: deque[float] = deque(maxlen=_RECENT_JOBS)
        self._running = 0
        self._worker: Any = None
        self._worker_done = anyio.Event()
        # Deferring runs on the caller's own connection (intake's transaction): this manager opens nothing.
        self._deferrer = JobManager(SyncPsycopgConnector(conninfo=conninfo))
        self.app: App = App(connector=PsycopgConnector(conninfo=conninfo, kwargs={"application_name": worker_name}))
        self.app.task(name=TASK, queue=QUEUE, pass_context=True, retry=_retry_strategy())(self._task)

    # -- the JobQueue side (intake) ---------------------------------------------------------------

    def submit(self, kind: JobKind, record_id: str) -> None:
        raise RuntimeError("cluster jobs are queued with their record (enqueue_with), never after it")

    def enqueue_with(self, kind: JobKind, record_id: str) -> Enqueue:
        from procrastinate.jobs import Job as QueuedJob

        def enqueue(connection: Any) -> None:
            job = QueuedJob(
                queue=QUEUE,
                lock=None,
                queueing_lock=None,
                task_name=TASK,
                task_kwargs={"kind": kind, "record_id": record_id},
            )
            self._deferrer.defer_job(job, connection=connection)

        return enqueue

    def estimated_wait(self, jobs_ahead: int) -> float:
        typical = statistics.median(self._recent) if self._recent else TYPICAL_JOB_SECONDS
        return typical * jobs_ahead / max(1, self._workers)

    async def wait_done(self, record_id: str) -> None:
        """Only the in-process queue can say when one of its jobs ran; callers here poll the record."""

    # -- running ------------------------------------------------------------------------------------

    async def open(self) -> None:
        await self.app.open_async()

    async def close_app(self) -> None:
        await self.app.close_async()

    async def start(self, tg: TaskGroup, *, work: bool) -> None:
        """Sweep stalled jobs; with `work`, also run a worker taking `workers` jobs at a time."""
        self._supervisor.start(tg, "stalled-job-sweeper", SWEEPER_KIND, self._sweep)
        if work:
            self._supervisor.start(tg, f"worker-{self.worker_name}", WORKER_KIND, self._work)
        else:
            self._worker_done.set()

    def stop(self) -> None:
        self.stopping.set()
        if self._worker is not None:
            self._worker.stop()

    async def drain(self) -> None:
        """After `stop`: wait (bounded) until the worker has handed back its running jobs."""
        with anyio.move_on_after(STOP_GRACE_SECONDS):
            await self._worker_done.wait()

    def close(self) -> None:
        """Nothing held in memory: the jobs are in the database."""

    async def _work(self) -> None:
        from procrastinate.worker import Worker

        self._worker = Worker(
            self.app,
            queues=[QUEUE],
            name=self.worker_name,
            concurrency=self._workers,
            install_signal_handlers=False,
            update_heartbeat_interval=self._stall / 3,
            stalled_worker_timeout=self._stall,
            listen_notify=True,
            fetch_job_polling_interval=max(0.5, self._stall / 3),
        )
        try:
            await self._worker.run()
        finally:
            self._worker_done.set()

    async def _sweep(self) -> None:
        """Put the jobs of silent workers back in the queue (every worker does this; the first one wins)."""
        manager = self.app.job_manager
        while not self.stopping.is_set():
            stalled = await manager.get_stalled_jobs(seconds_since_heartbeat=self._stall, queue=QUEUE)
            for job in stalled:
                try:
                    await manager.retry_job(job)
                except Exception:  # another sweeper put it back first
                    log.debug("job.stalled_already_requeued", job=job.id)
                    continue
                log.warning(
                    "job.stalled_requeued",
                    job=job.id,
                    kind=job.task_kwargs.get("kind"),
                    id=job.task_kwargs.get("record_id"),
                    dead_worker=job.worker_id,
                    tries=job.attempts + 1,
                )
            await manager.prune_stalled_workers(self._stall)
            await self._clock.wait(anyio.Event(), self._stall / 3)

    async def _task(self, context: Any, kind: str, record_id: str) -> None:
        from psycopg import OperationalError
        from psycopg_pool import PoolTimeout

        job = self._jobs[kind]  # type: ignore[index]
        lease = Lease.fresh(kind, record_id, self.worker_name, self._stall)  # type: ignore[arg-type]
        started = time.monotonic()
        log.info("job.started", kind=kind, id=record_id, job=context.job.id, worker=self.worker_name)
        self._running += 1
        try:
            await job.produce(lease, self.stopping)
        except (OperationalError, PoolTimeout) as exc:
            raise StoreUnreachable(type(exc).__name__) from exc
        except Exception as exc:  # the boundary: a job's failure is the job's, never the worker's
            if self.stopping.is_set() and self._give_back(job, lease):
                raise Interrupted(record_id) from None
            log.exception("job.crashed", kind=kind, id=record_id, worker=self.worker_name)
            self._supervisor.note_error(f"{kind} {record_id}: {type(exc).__name__}: {str(exc)[:160]}")
            what = f"{type(exc).__name__}: {str(exc)[:120]}" if str(exc) else type(exc).__name__
            job.lifecycle.fail(
                record_id,
                f"internal error while {job.lifecycle.doing} ({what}); see the engine log",
                holder=lease.holder if lease.claimed else None,
            )
            return
        finally:
            self._running -= 1
        if self.stopping.is_set() and self._give_back(job, lease):
            raise Interrupted(record_id)
        if not lease.claimed:
            held = job.lifecycle.held_until(record_id)
            if held is not None:
                raise LeaseHeld(held)  # a lapsed worker's lease not yet run out: again when it does
            return
        self._recent.append(time.monotonic() - started)

    def _give_back(self, job: Job, lease: Lease) -> bool:
        """Let the lease go and put the record back to waiting; False if it was not ours any more."""
        return lease.claimed and not lease.lost.is_set() and job.lifecycle.release(lease)

    # -- what /health reports about the whole cluster ----------------------------------------------

    async def report(self) -> dict[str, Any]:
        """Workers alive (by heartbeat), queue depth, the oldest queued job's age, stalled jobs."""
        rows = await self.app.connector.execute_query_all_async(
            query=_CLUSTER_STATS,  # pyright: ignore[reportArgumentType]
            stall=self._stall,
            queue=QUEUE,
        )
        row = rows[0]
        return {
            "workers_alive": int(row["alive"]),
            "queued": int(row["queued"]),
            "running": int(row["running"]),
            "oldest_queued_seconds": None if row["oldest"] is None else round(float(row["oldest"]), 1),
            "stalled": int(row["stalled"]),
            "stall_after_seconds": self._stall,
        }


_CLUSTER_STATS = """
SELECT
    (SELECT COUNT(*) FROM procrastinate_workers
        WHERE last_heartbeat >= NOW() - make_interval(secs => %(stall)s)) AS alive,
    (SELECT COUNT(*) FROM procrastinate_jobs WHERE queue_name = %(queue)s AND status = 'todo') AS queued,
    (SELECT COUNT(*) FROM procrastinate_jobs WHERE queue_name = %(queue)s AND status = 'doing') AS running,
    (SELECT EXTRACT(EPOCH FROM NOW() - MIN(COALESCE(j.scheduled_at, e.at)))
        FROM procrastinate_jobs j JOIN procrastinate_events e ON e.job_id = j.id AND e.type = 'deferred'
        WHERE j.queue_name = %(queue)s AND j.status = 'todo') AS oldest,
    (SELECT COUNT(*) FROM procrastinate_jobs j
        LEFT JOIN procrastinate_workers w ON w.id = j.worker_id
        WHERE j.queue_name = %(queue)s AND j.status = 'doing'
          AND (w.id IS NULL OR w.last_heartbeat < NOW() - make_interval(secs => %(stall)s))) AS stalled
"""
