"""The hold one attempt has on a job: taken when it starts, renewed while it runs, checked by every write.

A lease names its holder (this process and a random part, fresh for every attempt) and lapses
`seconds` after its last renewal. While it runs, an attempt renews it several times per lease (a task
on the event loop, beside the render thread) and with every progress write. A write that finds the
lease gone (the process was paused or cut off for longer than a lease, and another worker took the job)
changes nothing: the attempt stops at its next frame and throws its output away. One machine needs no
more than that its attempts write through the lease too; in a cluster it is what keeps a job finished
by one worker only.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import anyio

from akool_mcp.clock import Clock
from akool_mcp.log import get_logger

log = get_logger(__name__)

# Attempts a job gets (a crash, a kill or a lost worker each cost one); then it fails with a reason.
MAX_ATTEMPTS = 3
# How many times per lease a running attempt renews it: a lease survives two missed renewals.
RENEWALS_PER_LEASE = 3
# A lease on one machine: nobody else can take the job there, so it only needs to outlast any job.
SOLO_LEASE_SECONDS = 86_400.0

JobKind = Literal["video", "avatar"]


class Renewer(Protocol):
    def renew(self, kind: str, record_id: str, holder: str, lease_seconds: float, **fields: Any) -> bool: ...


class LeaseLost(Exception):
    """Another attempt holds the job now: this one stops and keeps nothing."""


def process_name() -> str:
    """This process, as logs and holders name it: host and pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


def new_holder(worker: str) -> str:
    return f"{worker}/{secrets.token_hex(6)}"


@dataclass
class Lease:
    kind: JobKind
    record_id: str
    holder: str
    seconds: float
    lost: threading.Event = field(default_factory=threading.Event)
    claimed: bool = False  # set once the attempt took the job: its writes go through the lease from then on

    @classmethod
    def fresh(cls, kind: JobKind, record_id: str, worker: str, seconds: float) -> Lease:
        return cls(kind, record_id, new_holder(worker), seconds)

    @property
    def tag(self) -> str:
        """The attempt's own random part: names what it writes locally."""
        return self.holder.rsplit("/", 1)[-1]

    def renew(self, store: Renewer, **fields: Any) -> bool:
        """Extend the lease (writing `fields` with it); once it is lost, stays lost."""
        if self.lost.is_set():
            return False
        if store.renew(self.kind, self.record_id, self.holder, self.seconds, **fields):
            return True
        self.lost.set()
        log.warning("job.lease_lost", kind=self.kind, id=self.record_id, holder=self.holder)
        return False

    async def keep(self, store: Renewer, clock: Clock, done: anyio.Event) -> None:
        """Renew until `done` is set or the lease is lost (run beside the work, on the event loop)."""
        every = self.seconds / RENEWALS_PER_LEASE
        while not done.is_set() and not self.lost.is_set():
            await clock.wait(done, every)
            if done.is_set():
                return
            try:
                await anyio.to_thread.run_sync(self.renew, store)
            except Exception:  # the store is unreachable for now: the lease may still hold, try again
                log.exception("job.lease_renewal_failed", kind=self.kind, id=self.record_id)
