"""A script of scenes made into one video: each scene rendered as a talking video, then joined.

A script is one video for the conversation: its `video_id` (`script-...`) is listed, followed and kept like
any other. Behind it, each scene is an ordinary render on the backend (all sent at once, so the backend
works on them in parallel where it can), kept when it finishes in a scene store under the data folder,
and joined (`render.joiner`) into the output folder once every scene is there.

Scenes are remembered by what they ask for (a fingerprint of the request sent for them): a script made
again after a failure reuses every scene already rendered, or still rendering, and renders only what
failed — on Akool, where each scene is billed, nothing is paid for twice. No MCP here.

MCP servers side by side (cluster mode) keep scripts and what their scenes made in PostgreSQL
(`shared_scripts`), and the joined file in the shared blob store: any replica follows any script, one of
them joins it (a claim on the script), the others wait for that join and serve its file.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import anyio
import anyio.to_thread

from akool_mcp.clock import Clock
from akool_mcp.domain.keeping import VideoKeeper, captions_of, default_name
from akool_mcp.domain.poster import PosterError, make_poster
from akool_mcp.domain.requests import explain_failure
from akool_mcp.domain.transcript import JoinedPart, joined_captions
from akool_mcp.domain.video_library import VideoLibrary
from akool_mcp.errors import NotFoundError, SaveError
from akool_mcp.log import get_logger
from akool_mcp.models import Status, TalkingVideoRequest, Video
from akool_mcp.privacy import private_dir, write_private

if TYPE_CHECKING:
    from akool_mcp.render.joiner import Joined

log = get_logger(__name__)

PREFIX = "script-"
Transition = Literal["cut", "crossfade"]
CROSSFADE_SECONDS = 0.4  # long enough to read as a dissolve, short enough not to blur a sentence's start
POLL_FIRST, POLL_FACTOR, POLL_MAX = 1.0, 1.5, 5.0  # seconds between status checks, as for one video
# How long one replica's claim on joining a script lasts unless renewed (it renews every third of it while it
# joins): long enough that a busy database round trip never lets it lapse, short enough that a replica that
# died mid-join holds the others up for a minute at most. A join that re-encodes (crossfade) may run longer.
JOIN_CLAIM_SECONDS = 60.0


def is_script(video_id: str) -> bool:
    return video_id.startswith(PREFIX)


@dataclass(frozen=True)
class ScenePlan:
    """One scene, checked and ready to send: what is sent, and how it is told and weighed."""

    request: TalkingVideoRequest
    fingerprint: str  # of the request (and the backend): the same scene asked again is the same scene
    avatar: str | None
    summary: str
    seconds: float  # its speech's estimated length, to weigh the script's progress
    params: str  # the tool parameters per request element, to tell a failure in their words
    text: str | None = None  # what it says, when made from text (Akool's captions are made from it)


@dataclass
class SceneEntry:
    fingerprint: str
    video_id: str
    seconds: float
    params: str
    avatar: str | None = None
    text: str | None = None


@dataclass
class Script:
    script_id: str
    backend: str
    title: str | None
    transition: Transition
    scenes: list[SceneEntry]
    created_at: float
    status: str = "processing"  # processing | completed | failed (queueing is not used: the scenes start at once)
    error: str | None = None


@dataclass(frozen=True)
class Progress:
    """Where a script stands, for the tool's result."""

    script: Script
    status: str
    percent: float
    done_scenes: int
    current: int  # the scene being worked on (1-based), or the number of scenes when all are done
    error: str | None = None
    file_path: str | None = None
    problem: str | None = None  # why a finished script could not be kept
    waited: float = 0.0

    @property
    def summary(self) -> str:
        total = len(self.script.scenes)
        if self.status == "completed":
            return f"all {total} scenes joined"
        if self.status == "failed":
            return f"failed at scene {self.current} of {total}"
        if self.done_scenes == total:
            return f"all {total} scenes rendered, joining them, {self.percent:g}%"
        return f"scene {self.current} of {total}, {self.percent:g}%"


@dataclass(frozen=True)
class Started:
    script: Script
    sent: int  # scenes sent now; the others were rendered, or are rendering, from before


SendScene = Callable[[ScenePlan], Awaitable[Video]]
OnPoll = Callable[[Progress], Awaitable[None]]
VideoSource = Callable[[str], Awaitable[Video]]


class ScriptBook:
    """Scripts and the scenes they rendered, as small JSON files in a private folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.scenes = folder / "scenes"

    def new_id(self) -> str:
        return f"{PREFIX}{secrets.token_hex(12)}"

    def save(self, script: Script) -> None:
        private_dir(self.folder)
        write_private(self.folder / f"{script.script_id}.json", script_json(script).encode())

    def get(self, script_id: str) -> Script | None:
        if not well_formed(script_id):
            return None
        try:
            return script_from_json((self.folder / f"{script_id}.json").read_text())
        except (OSError, ValueError):
            return None

    def claim_join(self, script_id: str, holder: str, seconds: float) -> bool:
        """Take (or renew) the join of a script for `holder`. One process joins its own scripts one at a
        time already (`Scripts.joining`); the shared book makes that hold across replicas."""
        return True

    def release_join(self, script_id: str, holder: str) -> None:
        """Let the join go (joined, or failed and to be tried again by whoever looks next)."""

    def known_scene(self, fingerprint: str) -> str | None:
        """The video made for this scene before, if it was not found failed since."""
        try:
            return str(json.loads((self.scenes / f"{fingerprint}.json").read_text())["video_id"])
        except (OSError, ValueError, KeyError):
            return None

    def remember_scene(self, fingerprint: str, video_id: str) -> None:
        private_dir(self.scenes)
        write_private(self.scenes / f"{fingerprint}.json", json.dumps({"video_id": video_id}).encode())

    def forget_scene(self, fingerprint: str) -> None:
        (self.scenes / f"{fingerprint}.json").unlink(missing_ok=True)

    def scene_file(self, video_id: str) -> Path:
        return self.scenes / default_name(video_id)


def well_formed(script_id: str) -> bool:
    return is_script(script_id) and script_id[len(PREFIX) :].isalnum()


def script_json(script: Script) -> str:
    return json.dumps(asdict(script))


def script_from_json(text: str) -> Script:
    raw = json.loads(text)
    raw["scenes"] = [SceneEntry(**scene) for scene in raw["scenes"]]
    return Script(**raw)


@dataclass
class _Seen:
    video: Video | None = None
    kept: Path | None = None
    failed: str | None = None
    progress: float = 0.0


@dataclass
class Scripts:
    """Makes and follows scripts; `keeper` downloads Akool's scene files into the scene store."""

    book: ScriptBook
    library: VideoLibrary
    keeper: VideoKeeper
    clock: Clock
    joining: dict[str, anyio.Event] = field(default_factory=dict[str, anyio.Event])

    async def start(
        self, plans: Sequence[ScenePlan], *, backend: str, title: str | None, transition: Transition, send: SendScene
    ) -> Started:
        """Send every scene that is not rendered or rendering already, and register the script as a video."""
        entries: list[SceneEntry] = []
        sent = 0
        for plan in plans:
            video_id = self.book.known_scene(plan.fingerprint)
            if video_id is None:
                video_id = (await send(plan)).id
                self.book.remember_scene(plan.fingerprint, video_id)
                sent += 1
            entries.append(SceneEntry(plan.fingerprint, video_id, plan.seconds, plan.params, plan.avatar, plan.text))
        script = Script(self.book.new_id(), backend, title, transition, entries, created_at=time.time())
        self.book.save(script)
        summary = title or plans[0].summary
        self.library.registry.add(
            script.script_id, backend=backend, status="processing", avatar=plans[0].avatar, summary=summary
        )
        log.info("script.started", script=script.script_id, scenes=len(entries), sent=sent)
        return Started(script, sent)

    async def follow(
        self, get_video: VideoSource, script_id: str, *, wait_seconds: float, on_poll: OnPoll | None = None
    ) -> Progress:
        """Check the scenes until the script is finished (joined and kept) or failed, or the wait runs out."""
        script = self.book.get(script_id)
        if script is None:
            raise NotFoundError(f"no script video {script_id!r}")
        start = self.clock.monotonic()
        interval = POLL_FIRST
        while True:
            progress = await self._look(get_video, script)
            waited = self.clock.monotonic() - start
            progress = replace(progress, waited=waited)
            if on_poll is not None:
                await on_poll(progress)
            remaining = wait_seconds - waited
            if progress.status in ("completed", "failed") or remaining <= 0:
                return progress
            await self.clock.sleep(min(interval, remaining))
            interval = min(interval * POLL_FACTOR, POLL_MAX)

    async def _look(self, get_video: VideoSource, script: Script) -> Progress:
        if script.status == "failed":
            return self._progress(script, [_Seen(failed=script.error)] * len(script.scenes))
        if script.status == "completed":
            # Joined already (here, or by another replica): no scene needs looking at, or fetching, again.
            record = self.library.registry.get(script.script_id)
            if record is not None and record.file_path and await self.library.is_kept(record.file_path):
                seen = [_Seen(kept=self.book.scene_file(e.video_id), progress=1.0) for e in script.scenes]
                return replace(self._progress(script, seen, joined=True), file_path=record.file_path)
        seen = [await self._scene(get_video, entry) for entry in script.scenes]
        failed = next((n for n, scene in enumerate(seen) if scene.failed), None)
        if failed is not None:
            entry = script.scenes[failed]
            self.book.forget_scene(entry.fingerprint)  # a script made again renders this scene anew
            reason = explain_failure(seen[failed].failed, entry.params) or "no reason given"
            script.status, script.error = "failed", f"scene {failed + 1} (scenes[{failed}]) failed: {reason}"
            self.book.save(script)
            self.library.registry.update(script.script_id, backend=script.backend, status="failed")
            return self._progress(script, seen)
        if all(scene.kept for scene in seen):
            return await self._joined(script, seen)
        return self._progress(script, seen)

    async def _scene(self, get_video: VideoSource, entry: SceneEntry) -> _Seen:
        kept = self.book.scene_file(entry.video_id)
        if await anyio.to_thread.run_sync(kept.is_file):
            return _Seen(kept=kept, progress=1.0)
        video = await get_video(entry.video_id)
        if video.video_status == Status.FAILED:
            return _Seen(video=video, failed=video.error_reason or "the render failed")
        if video.video_status != Status.COMPLETED or not video.video:
            return _Seen(video=video, progress=max(0.0, min(1.0, video.progress or 0.0)))
        try:
            return _Seen(video=video, kept=await self.keeper.keep(entry.video_id, video.video), progress=1.0)
        except SaveError as exc:
            return _Seen(video=video, failed=f"its finished file could not be fetched ({exc})")

    def _progress(self, script: Script, seen: Sequence[_Seen], *, joined: bool = False) -> Progress:
        weights = [max(entry.seconds, 1.0) for entry in script.scenes]
        rendered = sum(w * s.progress for w, s in zip(weights, seen, strict=True)) / sum(weights)
        done = sum(1 for s in seen if s.kept)
        # Rendering is 95% of the work; joining the last 5%.
        percent = 100.0 if joined else round(95.0 * rendered, 1)
        current = next((n + 1 for n, s in enumerate(seen) if not s.kept), len(seen))
        status = "completed" if joined else script.status
        return Progress(script, status, percent, done, current, error=script.error)

    async def _joined(self, script: Script, seen: Sequence[_Seen]) -> Progress:
        record = self.library.registry.get(script.script_id)
        if record is not None and record.file_path and await self.library.is_kept(record.file_path):
            return replace(self._progress(script, seen, joined=True), file_path=record.file_path)
        busy = self.joining.get(script.script_id)
        if busy is not None:  # another check is joining it: wait for that one
            await busy.wait()
            return await self._joined(script, seen)
        holder = secrets.token_hex(8)
        if not await anyio.to_thread.run_sync(self.book.claim_join, script.script_id, holder, JOIN_CLAIM_SECONDS):
            return self._progress(script, seen)  # another replica is joining it: its file is served from there
        self.joining[script.script_id] = done = anyio.Event()
        try:
            kept, problem = await self._join_claimed(script, [s.kept for s in seen if s.kept is not None], holder)
        finally:
            del self.joining[script.script_id]
            done.set()
            await anyio.to_thread.run_sync(self.book.release_join, script.script_id, holder)
        progress = self._progress(script, seen, joined=kept is not None)
        return replace(progress, file_path=str(kept) if kept else None, problem=problem)

    async def _join_claimed(self, script: Script, files: Sequence[Path], holder: str) -> tuple[Path | None, str | None]:
        """Join, renewing the claim on the join every third of its length while it runs."""
        finished = anyio.Event()

        async def renew() -> None:
            while not finished.is_set():
                with anyio.move_on_after(JOIN_CLAIM_SECONDS / 3):
                    await finished.wait()
                if finished.is_set():
                    return
                try:
                    await anyio.to_thread.run_sync(self.book.claim_join, script.script_id, holder, JOIN_CLAIM_SECONDS)
                except Exception as exc:  # the database is away for now: at worst a second replica joins it too
                    log.warning("script.join_claim_not_renewed", script=script.script_id, error=type(exc).__name__)

        joined: tuple[Path | None, str | None] = (None, None)
        failure: Exception | None = None
        async with anyio.create_task_group() as tg:
            tg.start_soon(renew)
            try:
                joined = await self._join(script, files)
            except Exception as exc:  # raised as it is, after the renewals stop (not wrapped in a group)
                failure = exc
            finally:
                finished.set()
        if failure is not None:
            raise failure
        return joined

    async def _join(self, script: Script, files: Sequence[Path]) -> tuple[Path | None, str | None]:
        from akool_mcp.render import RenderError
        from akool_mcp.render.joiner import join_clips

        work = self.book.folder / f".{script.script_id}.mp4"
        crossfade = CROSSFADE_SECONDS if script.transition == "crossfade" else 0.0
        try:
            joined = await anyio.to_thread.run_sync(lambda: join_clips(files, work, crossfade=crossfade))
            # Captions first, so that the joined video is never kept without them.
            await self._keep_captions(script, files, joined)
            try:
                kept = await anyio.to_thread.run_sync(
                    self.library.keeper.folder.place, default_name(script.script_id), work
                )
            except FileExistsError:
                kept = self.library.keeper.folder.path / default_name(script.script_id)
        except (RenderError, SaveError) as exc:
            log.info("script.join_failed", script=script.script_id, error=str(exc))
            return None, f"the scenes could not be joined ({exc})"
        finally:
            work.unlink(missing_ok=True)
        poster: Path | None = self.library.poster_path(script.script_id)
        try:
            await anyio.to_thread.run_sync(make_poster, kept, poster)
        except (PosterError, OSError):
            poster = None
        await self.library.share(kept, poster)
        self.library.registry.update(script.script_id, backend=script.backend, status="completed")
        shown = str(poster) if poster else None
        self.library.registry.set_files(script.script_id, file_path=str(kept), poster_path=shown)
        script.status = "completed"
        self.book.save(script)
        log.info("script.joined", script=script.script_id, scenes=len(files))
        return kept, None

    async def _keep_captions(self, script: Script, files: Sequence[Path], joined: Joined) -> None:
        """One caption file for the joined video: each scene's cues moved by where its part begins."""
        parts = [
            JoinedPart(clip, entry.text, start, length)
            for clip, entry, start, length in zip(files, script.scenes, joined.starts, joined.lengths, strict=True)
        ]
        try:
            document = await anyio.to_thread.run_sync(joined_captions, parts, joined.duration)
            if document is not None:
                name = captions_of(Path(default_name(script.script_id))).name
                await anyio.to_thread.run_sync(self.library.write_beside, name, document)
        except Exception as exc:  # captions are a bonus: the video is joined and kept either way
            log.info("script.captions_failed", script=script.script_id, error=type(exc).__name__)
