"""The job runner: a bounded number of renders at once, supervised, resumed after any stop.

A job accepted is a job finished or reported failed:
- each job runs inside a boundary that turns any exception into a recorded failure of that job
  (status 4 with a reason), so one bad job never takes its worker down;
- if even the failure cannot be recorded (the disk is full), the job goes back in the queue and the
  worker loop fails, to be restarted by the supervisor after a backoff; a job that does this
  `QUARANTINE_AFTER` times is set aside, and the next start fails it with a reason;
- unfinished jobs found at start are run again (from scratch: outputs are written under a temporary
  name and renamed only when complete), and a job interrupted too often is failed instead.
"""

from __future__ import annotations

import math
import statistics
import threading
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Literal

import anyio
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from akool_mcp.local.datadir import FileLayout
from akool_mcp.local.lifecycle import Lifecycle
from akool_mcp.local.supervisor import Supervisor
from akool_mcp.log import get_logger

log = get_logger(__name__)

JobKind = Literal["video", "avatar"]
Produce = Callable[[str, threading.Event], Awaitable[None]]
MAX_ATTEMPTS = 3
QUARANTINE_AFTER = 3
WORKER_KIND = "render worker"
TYPICAL_JOB_SECONDS = 30.0  # assumed until jobs have run: about a 20 s clip at 4K on two cores
_RECENT_JOBS = 20


@dataclass(frozen=True)
class Job:
    """One kind of job: the lifecycle of the records it makes, and the producer that makes one."""

    lifecycle: Lifecycle
    produce: Produce


class JobRunner:
    def __init__(
        self, *, jobs: Mapping[JobKind, Job], layout: FileLayout, supervisor: Supervisor, workers: int
    ) -> None:
        self._jobs = dict(jobs)
        self._layout = layout
        self._supervisor = supervisor
        self._workers = workers
        self._send: MemoryObjectSendStream[tuple[JobKind, str]]
        self._receive: MemoryObjectReceiveStream[tuple[JobKind, str]]
        self._send, self._receive = anyio.create_memory_object_stream[tuple[JobKind, str]](math.inf)
        self.stopping = threading.Event()
        self._done: dict[str, anyio.Event] = {}
        self._crashes: Counter[str] = Counter()
        self.quarantined: set[str] = set()
        self._recent: deque[float] = deque(maxlen=_RECENT_JOBS)  # how long recent jobs took, seconds

    async def start(self, tg: TaskGroup) -> None:
        self._clean_partials()
        self._recover()
        for n in range(self._workers):
            self._supervisor.start(tg, f"render-worker-{n + 1}", WORKER_KIND, self._worker)

    def stop(self) -> None:
        """Ask running renders to stop at their next frame; their jobs resume on the next start."""
        self.stopping.set()
        self._send.close()

    def close(self) -> None:
        self._receive.close()

    def submit(self, kind: JobKind, record_id: str) -> None:
        self._done.setdefault(record_id, anyio.Event())
        self._send.send_nowait((kind, record_id))

    def estimated_wait(self, jobs_ahead: int) -> float:
        """Seconds until `jobs_ahead` jobs are done, from how long recent jobs took on these workers."""
        typical = statistics.median(self._recent) if self._recent else TYPICAL_JOB_SECONDS
        return typical * jobs_ahead / self._workers

    async def wait_done(self, record_id: str) -> None:
        """Return once the job has run in this process (finished, failed, or interrupted by a stop)."""
        event = self._done.get(record_id)
        if event is not None:
            await event.wait()

    def _clean_partials(self) -> None:
        for partial in (self._layout.files_root / "videos").glob(".*.partial.mp4"):
            partial.unlink(missing_ok=True)

    def _recover(self) -> None:
        for kind, job in self._jobs.items():
            for record in job.lifecycle.unfinished():
                if record.attempts >= MAX_ATTEMPTS:
                    times = f"{record.attempts} times (the engine stopped or crashed)"
                    job.lifecycle.fail(record.record_id, f"{job.lifecycle.doing} was interrupted {times}")
                    continue
                job.lifecycle.requeue(record.record_id)
                log.info("job.resumed", kind=kind, id=record.record_id, attempts=record.attempts)
                self.submit(kind, record.record_id)

    async def _worker(self) -> None:
        async for kind, record_id in self._receive:
            if record_id in self.quarantined:
                continue
            await self._run(kind, record_id)

    async def _run(self, kind: JobKind, record_id: str) -> None:
        job = self._jobs[kind]
        started = time.monotonic()
        try:
            await job.produce(record_id, self.stopping)
            self._recent.append(time.monotonic() - started)
        except Exception as exc:  # the boundary: a job's failure is the job's, never the worker's
            if self.stopping.is_set():
                self._finished(record_id)  # interrupted by a stop: it resumes on the next start
                return
            log.exception("job.crashed", kind=kind, id=record_id)
            self._supervisor.note_error(f"{kind} {record_id}: {type(exc).__name__}: {str(exc)[:160]}")
            try:
                what = f"{type(exc).__name__}: {str(exc)[:120]}" if str(exc) else type(exc).__name__
                job.lifecycle.fail(
                    record_id, f"internal error while {job.lifecycle.doing} ({what}); see the engine log"
                )
            except Exception:
                self._crashes[record_id] += 1
                if self._crashes[record_id] < QUARANTINE_AFTER:
                    self._send.send_nowait((kind, record_id))  # again, once the worker has restarted
                else:
                    self.quarantined.add(record_id)
                    self._finished(record_id)
                    log.error("job.quarantined", kind=kind, id=record_id, crashes=self._crashes[record_id])
                raise
        self._finished(record_id)

    def _describe(self, exc: Exception) -> str:
        """What went wrong, for the caller: never a path on this machine (the caller may be elsewhere)."""
        if isinstance(exc, OSError):
            return f"{type(exc).__name__}: {exc.strerror or 'system error'}"
        text = str(exc).replace(str(self._layout.data_dir), "<data folder>")[:120]
        return f"{type(exc).__name__}: {text}" if text else type(exc).__name__

    def _finished(self, record_id: str) -> None:
        self._crashes.pop(record_id, None)
        done = self._done.pop(record_id, None)
        if done is not None:
            done.set()
