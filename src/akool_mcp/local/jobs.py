"""The job runner: a bounded number of renders at once, resumed after any stop.

A job accepted is a job finished or reported failed: unfinished jobs found at start are run again
(from scratch: outputs are written under a temporary name and renamed only when complete), and a
job that has crashed the engine too often is failed with a reason instead of looping forever.
"""

from __future__ import annotations

import math
import threading
from typing import TYPE_CHECKING, Literal

import anyio
import structlog
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from akool_mcp.local.production import produce_avatar, produce_video
from akool_mcp.local.webhooks import WebhookDispatcher
from akool_mcp.models import Status

if TYPE_CHECKING:
    from akool_mcp.local.engine import LocalEngine

log = structlog.get_logger(__name__)

JobKind = Literal["video", "avatar"]
MAX_ATTEMPTS = 3


class JobRunner:
    def __init__(self, engine: LocalEngine) -> None:
        self.engine = engine
        self._send: MemoryObjectSendStream[tuple[JobKind, str]]
        self._receive: MemoryObjectReceiveStream[tuple[JobKind, str]]
        self._send, self._receive = anyio.create_memory_object_stream[tuple[JobKind, str]](math.inf)
        self.stopping = threading.Event()
        self.webhooks = WebhookDispatcher(engine)
        self._done: dict[str, anyio.Event] = {}

    async def start(self, tg: TaskGroup) -> None:
        self._clean_partials()
        self._recover()
        for _ in range(self.engine.settings.max_concurrent_renders):
            tg.start_soon(self._worker)
        tg.start_soon(self.webhooks.run)

    def stop(self) -> None:
        """Ask running renders to stop at their next frame; their jobs resume on the next start."""
        self.stopping.set()
        self._send.close()

    def close(self) -> None:
        self._receive.close()

    def submit(self, kind: JobKind, record_id: str) -> None:
        self._done.setdefault(record_id, anyio.Event())
        self._send.send_nowait((kind, record_id))

    async def wait_done(self, record_id: str) -> None:
        """Return once the job has run in this process (finished, failed, or interrupted by a stop)."""
        event = self._done.get(record_id)
        if event is not None:
            await event.wait()

    def _clean_partials(self) -> None:
        for partial in (self.engine.files_root / "videos").glob(".*.partial.mp4"):
            partial.unlink(missing_ok=True)

    def _recover(self) -> None:
        store = self.engine.store
        for video in store.unfinished_videos():
            if video.attempts >= MAX_ATTEMPTS:
                reason = f"the render was interrupted {video.attempts} times (the engine stopped or crashed)"
                store.update_video(video.id, status=Status.FAILED, error_code=1109, error_reason=reason)
                self.webhooks.notify_video(video.id)
                continue
            store.update_video(video.id, status=Status.QUEUEING, progress=0.0)
            log.info("job.resumed", kind="video", id=video.id, attempts=video.attempts)
            self.submit("video", video.id)
        for avatar in store.unfinished_avatars():
            if avatar.attempts >= MAX_ATTEMPTS:
                store.update_avatar(
                    avatar.id, status=Status.FAILED, error_reason="preparing the avatar was interrupted repeatedly"
                )
                continue
            store.update_avatar(avatar.id, status=Status.QUEUEING)
            log.info("job.resumed", kind="avatar", id=avatar.id)
            self.submit("avatar", avatar.id)

    async def _worker(self) -> None:
        async for kind, record_id in self._receive:
            try:
                if kind == "video":
                    await produce_video(self.engine, record_id, self.stopping)
                else:
                    await produce_avatar(self.engine, record_id, self.stopping)
            finally:
                done = self._done.pop(record_id, None)
                if done is not None:
                    done.set()
