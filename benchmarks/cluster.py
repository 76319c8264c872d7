"""Cluster mode's costs on this machine: the queue alone, renders with 1 and 2 workers, and recovery after a
worker dies. Figures, never pass/fail; written to benchmarks/results/cluster.json.

1. The queue's own cost: 1,000 jobs that render nothing, each admitted and queued in one transaction as
   intake does, then drained by one worker process taking 4 at a time; each job claims its record's lease and
   completes it with its webhook, as a render would. Jobs per second, and the claim's latency (p50, p99).
2. Render throughput: the same short videos with 1 and with 2 worker processes (each renders one at a time),
   each with a webhook; and what the database saw meanwhile (write transactions and rows per video,
   connections per process), the basis of the README's estimate for 100 machines.
3. Recovery: a worker `kill -9`ed mid-render; seconds until its job runs again on the other worker.

PostgreSQL: AKOOL_DATABASE_URL if set (it must be migrated), else a throwaway server started here (Debian's
postgresql package), as the tests do.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import pwd
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Generator
from pathlib import Path
from typing import Any

import anyio
import httpx2

from akool_mcp.clock import SystemClock
from akool_mcp.local.cluster import ClusterQueue
from akool_mcp.local.filelinks import FileLinks
from akool_mcp.local.jobs import Job
from akool_mcp.local.leases import Lease
from akool_mcp.local.lifecycle import VideoLifecycle
from akool_mcp.local.pgstore import PgStore
from akool_mcp.local.records import Room, VideoRow, new_object_id
from akool_mcp.local.supervisor import Supervisor
from akool_mcp.migrations import migrate
from akool_mcp.models import Status

RESULTS = Path(__file__).parent / "results"
KEY = "bench-secret-0123456789abcdefghi"  # 32 bytes: the AES key of webhook envelopes
CLIENT_ID = "bench-client"
STALL_SECONDS = 10.0


@contextlib.contextmanager
def throwaway_postgres() -> Generator[str]:
    """A PostgreSQL server for this run only: unix socket in a temporary folder, stopped on exit."""
    bins = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    if not bins:
        raise SystemExit("PostgreSQL is not installed (apt-get install postgresql), and AKOOL_DATABASE_URL is unset")
    folder = bins[0]
    root = Path(tempfile.mkdtemp(prefix="akool-bench-pg-"))
    root.chmod(0o755)
    user = None
    if os.geteuid() == 0:
        user = "postgres"
        entry = pwd.getpwnam(user)
        os.chown(root, entry.pw_uid, entry.pw_gid)

    def run(*argv: str) -> None:
        cmd = list(argv) if user is None else ["runuser", "-u", user, "--", *argv]
        quiet = subprocess.DEVNULL
        subprocess.run(cmd, check=True, stdin=quiet, stdout=quiet, stderr=quiet, timeout=120)

    data = root / "data"
    run(str(folder / "initdb"), "-D", str(data), "-U", "akool", "--auth=trust")
    options = f"-c listen_addresses='' -k {root} -c max_connections=200"
    run(str(folder / "pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-o", options, "-w", "start")
    try:
        yield f"postgresql://akool@/postgres?host={root}"
    finally:
        run(str(folder / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _video(now: int) -> VideoRow:
    return VideoRow.accepted(
        new_object_id(now),
        uuid="bench",
        task_id="bench",
        request_json="{}",
        webhook_url="https://receiver.example/hook",
        stamp=now,
        client="bench",
    )


class NoWebhooks:
    def wake(self) -> None:
        """Webhooks are queued in the outbox (their cost counts); nobody sends them here."""


async def queue_cost(url: str, jobs: int) -> dict[str, Any]:
    store = PgStore(url)
    clock = SystemClock()
    lifecycle = VideoLifecycle(store, NoWebhooks(), clock, FileLinks(Path("/"), "https://engine.example"))
    claims: list[float] = []
    done = anyio.Event()
    finished = [0]

    async def produce(lease: Lease, _: object) -> None:
        started = time.perf_counter()
        row = lifecycle.start(lease)
        claims.append(time.perf_counter() - started)
        assert row is not None
        lifecycle.complete(lease, f"videos/{row.id}.mp4", 1.0)
        finished[0] += 1
        if finished[0] == jobs:
            done.set()

    queue = ClusterQueue(
        url,
        jobs={"video": Job(lifecycle, produce)},  # type: ignore[arg-type]
        supervisor=Supervisor(clock),
        clock=clock,
        workers=4,
        stall_seconds=STALL_SECONDS,
        worker_name="bench",
    )
    room = Room(total=jobs + 1, per_client=jobs + 1)
    started = time.perf_counter()
    for _ in range(jobs):
        row = _video(clock.now_ms())
        store.insert_video(row, room, queue.enqueue_with("video", row.id))
    enqueued = time.perf_counter() - started
    await queue.open()
    started = time.perf_counter()
    drained = 0.0
    async with anyio.create_task_group() as tg:
        await queue.start(tg, work=True)
        await done.wait()
        drained = time.perf_counter() - started
        queue.stop()
        await queue.drain()
        tg.cancel_scope.cancel()
    await queue.close_app()
    store.close()
    return {
        "jobs": jobs,
        "enqueue_per_second": round(jobs / enqueued, 1),
        "drain_per_second": round(jobs / drained, 1),
        "claim_ms_p50": round(1000 * statistics.median(claims), 2),
        "claim_ms_p99": round(1000 * percentile(claims, 0.99), 2),
    }


def _env(url: str, blobs: Path, data_dir: Path, port: int, stall: float) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AKOOL_")}
    env.update(
        {
            "AKOOL_DATABASE_URL": url,
            "AKOOL_BLOB_STORE": str(blobs),
            "AKOOL_DATA_DIR": str(data_dir),
            "AKOOL_LOCAL_CLIENT_ID": CLIENT_ID,
            "AKOOL_LOCAL_CLIENT_SECRET": KEY,
            "AKOOL_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "AKOOL_STALLED_WORKER_SECONDS": str(stall),
            "AKOOL_LOG_LEVEL": "WARNING",
            "AKOOL_ALLOW_PRIVATE_URLS": "true",  # the webhook receiver is on this machine
        }
    )
    return env


def _port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def processes(url: str, root: Path, workers: int, stall: float) -> Generator[tuple[int, list[subprocess.Popen[bytes]]]]:
    port = _port()
    blobs = root / "blobs"
    procs: list[subprocess.Popen[bytes]] = []
    api_log = root / "api.log"
    try:
        api = [sys.executable, "-m", "akool_mcp", "local-api", "--role", "api", "--port", str(port)]
        with api_log.open("wb") as log:
            procs.append(subprocess.Popen(api, env=_env(url, blobs, root / "api", port, stall), stderr=log))
        for n in range(workers):
            worker = [sys.executable, "-m", "akool_mcp", "local-api", "--role", "worker"]
            with (root / f"w{n}.log").open("wb") as log:
                procs.append(subprocess.Popen(worker, env=_env(url, blobs, root / f"w{n}", port, stall), stderr=log))
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx2.get(f"http://127.0.0.1:{port}/openapi.json", timeout=2)
                break
            except httpx2.HTTPError:
                if procs[0].poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the API did not start: {api_log.read_text()[-2000:]}") from None
                time.sleep(0.2)
        yield port, procs[1:]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=60)


def _body(api: httpx2.Client, text: str) -> dict[str, Any]:
    avatars = api.get("/api/open/v3/avatar/list", params={"from": 2}).json()["data"]["result"]
    return {
        "width": 3840,
        "height": 2160,
        "avatar_from": 2,
        "elements": [
            {"type": "image", "url": "#2B5F8E", "width": 3840, "height": 2160, "scale_x": 1, "scale_y": 1,
             "offset_x": 1920, "offset_y": 1080},
            {"type": "avatar", "avatar_id": avatars[0]["avatar_id"], "width": 1400, "height": 1400, "scale_x": 1,
             "scale_y": 1, "offset_x": 1920, "offset_y": 1080},
            {"type": "audio", "input_text": text, "voice_id": "en-US-female-1"},
        ],
    }  # fmt: skip


def _wait(api: httpx2.Client, ids: list[str], limit: float = 900) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        states = [
            api.get("/api/open/v3/content/video/infobymodelid", params={"video_model_id": i}).json()["data"][
                "video_status"
            ]
            for i in ids
        ]
        if all(s in (Status.COMPLETED, Status.FAILED) for s in states):
            return
        time.sleep(0.2)
    raise TimeoutError("renders did not finish")


@contextlib.contextmanager
def receiver() -> Generator[str]:
    """A webhook receiver on this machine that answers 200, so the renders' deliveries count as they would."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", "0")))
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hook"
    finally:
        server.shutdown()
        server.server_close()


def database_activity(url: str) -> tuple[int, int, int]:
    """Write transactions so far (transaction ids handed out: reads get none), rows written so far, and the
    database's open connections now."""
    import psycopg

    with psycopg.connect(url) as db:
        db.execute("SELECT pg_stat_force_next_flush()")
        row = db.execute(
            "SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint, "
            "(SELECT tup_inserted + tup_updated + tup_deleted FROM pg_stat_database "
            "WHERE datname = current_database()), "
            "(SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database())"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


def render_throughput(url: str, workers: int, videos: int) -> dict[str, Any]:
    text = "This is a short clip rendered to measure how many videos a cluster makes in a minute."
    with (
        tempfile.TemporaryDirectory() as tmp,
        receiver() as hook,
        processes(url, Path(tmp), workers, STALL_SECONDS) as (port, _),
        httpx2.Client(base_url=f"http://127.0.0.1:{port}", headers={"x-api-key": KEY}, timeout=30) as api,
    ):
        body = {**_body(api, text), "webhookUrl": hook}
        writes, rows, _ = database_activity(url)
        started = time.perf_counter()
        ids = [api.post("/api/open/v3/talkingavatar/create", json=body).json()["data"]["_id"] for _ in range(videos)]
        _, _, connections = database_activity(url)  # while the renders run: every process holds its pools
        _wait(api, ids)
        seconds = time.perf_counter() - started
        time.sleep(2)  # the last status's webhooks go out
        writes_after, rows_after, _ = database_activity(url)
    processes_running = 1 + workers
    return {
        "workers": workers,
        "videos": videos,
        "seconds": round(seconds, 1),
        "per_minute": round(60 * videos / seconds, 2),
        # What the database saw, background included (heartbeats, sweeps, webhook polls): the basis of the
        # estimate for many machines in the README.
        "write_transactions_per_video": round((writes_after - writes) / videos, 1),
        "rows_written_per_video": round((rows_after - rows) / videos, 1),
        "write_transactions_per_second": round((writes_after - writes) / (seconds + 2), 1),
        "connections_per_process": round((connections - 1) / processes_running, 1),
    }


def recovery(url: str) -> dict[str, Any]:
    import psycopg

    text = " ".join(["A longer clip, so that a worker can be stopped part way through it."] * 3)
    with tempfile.TemporaryDirectory() as tmp, processes(url, Path(tmp), 2, STALL_SECONDS) as (port, workers):
        with httpx2.Client(base_url=f"http://127.0.0.1:{port}", headers={"x-api-key": KEY}, timeout=30) as api:
            video_id = api.post("/api/open/v3/talkingavatar/create", json=_body(api, text)).json()["data"]["_id"]
        with psycopg.connect(url) as db:
            while True:
                row = db.execute("SELECT lease_owner, progress FROM akool_videos WHERE id=%s", (video_id,)).fetchone()
                if row and row[0] and row[1] > 0:
                    break
                time.sleep(0.05)
            pid = int(str(row[0]).split("/")[0].rsplit(":", 1)[1])
            os.kill(pid, signal.SIGKILL)
            died = time.perf_counter()
            while True:
                again = db.execute("SELECT attempts, lease_owner FROM akool_videos WHERE id=%s", (video_id,)).fetchone()
                if again and again[0] >= 2 and again[1]:
                    break
                time.sleep(0.05)
            seconds = time.perf_counter() - died
        next(p for p in workers if p.pid == pid).wait()
    return {"stalled_worker_seconds": STALL_SECONDS, "death_to_running_again_seconds": round(seconds, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description="Cluster mode's costs on this machine")
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--videos", type=int, default=4)
    parser.add_argument("--skip-renders", action="store_true")
    args = parser.parse_args()
    given = os.environ.get("AKOOL_DATABASE_URL")
    with contextlib.nullcontext(given) if given else throwaway_postgres() as server:
        assert server is not None
        results: dict[str, Any] = {}
        base, _, query = server.partition("?")
        for name in ("queue", "one", "two", "recovery"):
            if not given:
                import psycopg

                with psycopg.connect(server, autocommit=True) as db:
                    db.execute(f"CREATE DATABASE bench_{name}".encode())
            url = server if given else f"{base.rsplit('/', 1)[0]}/bench_{name}?{query}"
            migrate(url)
            if name == "queue":
                results["queue"] = anyio.run(queue_cost, url, args.jobs)
            elif not args.skip_renders and name == "one":
                results["renders_1_worker"] = render_throughput(url, 1, args.videos)
            elif not args.skip_renders and name == "two":
                results["renders_2_workers"] = render_throughput(url, 2, args.videos)
            elif not args.skip_renders:
                results["recovery"] = recovery(url)
            print(name, json.dumps(results, indent=1), flush=True)
            if given:
                break
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "cluster.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
