"""A real cluster on one machine: API and render-worker processes on one PostgreSQL database and one shared
blob folder. Workers are killed (`kill -9`) and paused (SIGSTOP) mid-render, the API is killed mid-create;
nothing accepted is lost, nothing is rendered into two files, and every status change is announced once.
"""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path
from typing import Any

import anyio
import httpx2
import psycopg
import pytest
from psycopg.rows import dict_row

from akool_mcp.models import Status
from tests.local.cluster_support import (
    KEY,
    Cluster,
    Node,
    Receiver,
    api_up,
    choices,
    cluster,
    create,
    logged,
    talking_video,
    until,
)
from tests.s3 import CREDENTIALS, S3Server

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

SENTENCES = (
    "Hello there, this is the first clip of the day.",
    "A second clip, about the weather on the coast.",
    "The third one talks about trains and timetables.",
    "Number four is a short note about lunch.",
    "Five: a reminder to water the plants.",
    "And six, the last one, says goodbye to everyone.",
)


def _rows(database: str, query: str) -> list[dict[str, Any]]:
    with psycopg.connect(database) as db, db.cursor(row_factory=dict_row) as cursor:
        cursor.execute(query.encode())
        return [dict(r) for r in cursor.fetchall()]


def videos(database: str) -> dict[str, dict[str, Any]]:
    return {str(r["id"]): r for r in _rows(database, "SELECT * FROM akool_videos")}


def queue_entries(database: str) -> list[dict[str, Any]]:
    return _rows(database, "SELECT id, status, args FROM procrastinate_jobs")


def holder_pid(row: dict[str, Any]) -> int | None:
    owner = row.get("lease_owner")
    if not isinstance(owner, str):
        return None
    return int(owner.split("/")[0].rsplit(":", 1)[1])


def with_captions(output_path: object) -> list[str]:
    """The files a finished video from text leaves in the store: the video and its captions beside it."""
    video = Path(str(output_path)).name
    return sorted([video, Path(video).with_suffix(".vtt").name])


def files_of(blobs: Path, video_id: str) -> list[str]:
    folder = blobs / "videos"
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(video_id)) if folder.is_dir() else []


async def start_api(running: Cluster) -> Node:
    api = running.start("api")

    async def listening() -> bool:
        assert api.proc.poll() is None, f"the API process exited: {''.join(api.log[-15:])}"
        return await api_up(running.api_port)

    try:
        await until(listening, "the API process to listen")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; its log: {''.join(api.log[-15:])}") from None
    return api


async def test_six_renders_on_three_workers_survive_a_worker_killed_mid_render(tmp_path: Path, migrated: str) -> None:
    receiver = Receiver(first=500)
    try:
        with cluster(migrated, tmp_path) as running:
            await start_api(running)
            workers = [running.start("worker") for _ in range(3)]
            base = f"http://127.0.0.1:{running.api_port}"
            async with httpx2.AsyncClient(base_url=base, timeout=30) as http:
                avatar_id, voice_id = await choices(http)
                ids = [await create(http, talking_video(avatar_id, voice_id, s, receiver.url)) for s in SENTENCES]

                def rendering() -> bool:
                    return any(
                        holder_pid(r) in {w.pid for w in workers} and float(str(r["progress"])) > 0
                        for r in videos(migrated).values()
                    )

                await until(rendering, "a worker to be part-way through a render")
                row = next(r for r in videos(migrated).values() if float(str(r["progress"])) > 0 and r["lease_owner"])
                victim = next(w for w in workers if w.pid == holder_pid(row))
                os.kill(victim.pid, signal.SIGKILL)
                victim.proc.wait()

                def all_done() -> bool:
                    rows = videos(migrated)
                    return all(rows[i]["status"] in (Status.COMPLETED, Status.FAILED) for i in ids)

                await until(all_done, "all six videos to finish", seconds=600)
                await until(
                    lambda: all(receiver.statuses(i).count(int(Status.COMPLETED)) == 1 for i in ids),
                    "one completion webhook per video",
                )
                health = (await http.get("/health")).json()
                detail = (
                    await http.get(
                        "/api/open/v3/content/video/infobymodelid", params={"video_model_id": ids[0]}, headers=KEY
                    )
                ).json()["data"]
            rows = videos(migrated)
            killed = rows[str(row["id"])]
            others = [n for n in running.nodes if n is not victim]
    finally:
        receiver.close()
    assert all(rows[i]["status"] == Status.COMPLETED for i in ids), {i: rows[i]["error_reason"] for i in ids}
    assert killed["attempts"] == 2  # the killed worker's render ran again elsewhere, once
    for video_id in ids:
        assert files_of(running.blobs, video_id) == with_captions(rows[video_id]["output_path"])
        assert receiver.statuses(video_id).count(int(Status.COMPLETED)) == 1
    assert receiver.answers[0] == 500  # the receiver's first answer was a failure, retried later
    assert all(r["lease_owner"] is None for r in rows.values())
    assert {str(e["status"]) for e in queue_entries(migrated)} == {"succeeded"}  # nothing left running
    assert detail["webhook"]["state"] == "delivered"
    assert health["cluster"]["queued"] == 0 and health["cluster"]["stalled"] == 0
    assert any(logged(n, "job.stalled_requeued") for n in others)  # swept back by a live process's sweeper


async def test_a_worker_paused_past_its_lease_keeps_nothing_when_it_wakes(tmp_path: Path, migrated: str) -> None:
    with cluster(migrated, tmp_path) as running:
        await start_api(running)
        first = running.start("worker")
        base = f"http://127.0.0.1:{running.api_port}"
        async with httpx2.AsyncClient(base_url=base, timeout=30) as http:
            avatar_id, voice_id = await choices(http)
            text = " ".join(SENTENCES[:3])
            video_id = await create(http, talking_video(avatar_id, voice_id, text, None))

            def first_rendering() -> bool:
                row = videos(migrated)[video_id]
                return holder_pid(row) == first.pid and float(str(row["progress"])) > 0

            await until(first_rendering, "the first worker to be part-way through the render")
            os.kill(first.pid, signal.SIGSTOP)
            second = running.start("worker")
            await until(
                lambda: videos(migrated)[video_id]["status"] == Status.COMPLETED,
                "the second worker to finish the job",
                seconds=300,
            )
            finished = videos(migrated)[video_id]
            os.kill(first.pid, signal.SIGCONT)
            await until(
                lambda: logged(first, "video.render_abandoned") or logged(first, "video.output_discarded"),
                "the woken worker to see it lost the lease",
            )
            after = videos(migrated)[video_id]
    assert finished["lease_owner"] is None
    assert finished["attempts"] == 2 and str(finished["output_path"]).endswith("-a2.mp4")
    assert after == finished  # the woken worker's writes changed nothing
    assert files_of(running.blobs, video_id) == with_captions(finished["output_path"])  # none of the loser's
    leftovers = [p for p in (first.data_dir / "work").rglob("*") if p.is_file()]
    assert leftovers == []  # its half-made file is gone
    assert logged(second, "video.completed")


async def test_the_api_killed_during_a_create_leaves_a_row_and_a_job_or_neither(tmp_path: Path, migrated: str) -> None:
    with cluster(migrated, tmp_path) as running:
        api = await start_api(running)
        base = f"http://127.0.0.1:{running.api_port}"
        async with httpx2.AsyncClient(base_url=base, timeout=30) as http:
            avatar_id, voice_id = await choices(http)
            body = talking_video(avatar_id, voice_id, "Hello.", None)
            # Hold the queue's table so the create stops between storing the row and queueing the job.
            with psycopg.connect(migrated, autocommit=True) as blocker:
                blocker.execute("BEGIN")
                blocker.execute("LOCK TABLE procrastinate_jobs IN EXCLUSIVE MODE")
                async with anyio.create_task_group() as tg:
                    tg.start_soon(_create_ignoring_the_cut, http, body)

                    def api_waits_on_the_queue() -> bool:
                        with psycopg.connect(migrated) as db:
                            found = db.execute(
                                "SELECT COUNT(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                "AND datname = current_database() AND query ILIKE '%%procrastinate%%'"
                            ).fetchone()
                        return found is not None and found[0] > 0

                    await until(api_waits_on_the_queue, "the create to wait on the queue's table")
                    os.kill(api.pid, signal.SIGKILL)
                    api.proc.wait()
                blocker.execute("ROLLBACK")
        await until(lambda: _lock_waiters(migrated) == 0, "the killed API's transaction to be gone", seconds=30)
        cut_rows, cut_jobs = len(videos(migrated)), len(queue_entries(migrated))
        again = await start_api(running)
        async with httpx2.AsyncClient(base_url=base, timeout=30) as http:
            video_id = await create(http, body)
        rows, jobs = videos(migrated), queue_entries(migrated)
        assert again.proc.poll() is None
    assert (cut_rows, cut_jobs) == (0, 0)  # neither
    assert list(rows) == [video_id] and [j["args"] for j in jobs] == [{"kind": "video", "record_id": video_id}]


async def _create_ignoring_the_cut(http: httpx2.AsyncClient, body: dict[str, Any]) -> None:
    with contextlib.suppress(httpx2.HTTPError):  # the API was killed mid-answer: that is the point
        await http.post("/api/open/v3/talkingavatar/create", json=body, headers=KEY)


def _lock_waiters(database: str) -> int:
    with psycopg.connect(database) as db:
        found = db.execute(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND wait_event_type = 'Lock'"
        ).fetchone()
    return 0 if found is None else int(found[0])


async def test_a_render_on_object_storage_is_served_through_a_presigned_link(
    tmp_path: Path, migrated: str, s3_server: S3Server
) -> None:
    bucket = s3_server.new_bucket()
    storage = {"AKOOL_BLOB_STORE": f"s3://{bucket}/engine", "AKOOL_S3_ENDPOINT_URL": s3_server.endpoint, **CREDENTIALS}
    with cluster(migrated, tmp_path) as running:
        api = running.start("api", **storage)
        await until(lambda: api_up(running.api_port), "the API process to listen")
        running.start("worker", **storage)
        base = f"http://127.0.0.1:{running.api_port}"
        async with httpx2.AsyncClient(base_url=base, timeout=30) as http:
            avatar_id, voice_id = await choices(http)
            video_id = await create(http, talking_video(avatar_id, voice_id, "Stored far away.", None))
            await until(lambda: videos(migrated)[video_id]["status"] == Status.COMPLETED, "the render", seconds=300)
            detail = (
                await http.get(
                    "/api/open/v3/content/video/infobymodelid", params={"video_model_id": video_id}, headers=KEY
                )
            ).json()["data"]
            link = await http.get(detail["video"].removeprefix(base))
            thumbnail = (await http.get("/api/open/v3/avatar/list", params={"from": 2}, headers=KEY)).json()
            thumb = await http.get(thumbnail["data"]["result"][0]["thumbnailUrl"].removeprefix(base))
        assert api.proc.poll() is None
    assert link.status_code == 307 and link.headers["location"].startswith(s3_server.endpoint)
    served = httpx2.get(link.headers["location"], headers={"Range": "bytes=0-11"})
    assert served.status_code == 206 and served.content[4:8] == b"ftyp"
    assert thumb.status_code == 307
    keys = [k["Key"] for k in s3_server.client().list_objects_v2(Bucket=bucket, Prefix="engine/videos/")["Contents"]]
    assert keys == [f"engine/videos/{video_id}.mp4", f"engine/videos/{video_id}.vtt"]
    assert not (tmp_path / "blobs" / "videos").exists()  # nothing went to a local folder
