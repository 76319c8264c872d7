"""Two MCP servers behind a real load balancer (HAProxy, round-robin), on one PostgreSQL database and one
shared blob store, in front of a cluster engine: a video created through one replica is followed, listed and
its file read through the other, and a script of two scenes is followed through both and joined once.

HAProxy names the replica that answered each request (a response header), so the test sees which one did
what instead of trusting the balancer's order.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import sys
from collections.abc import AsyncGenerator, Generator
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.local.cluster_support import Cluster, api_up, cluster, free_port, until
from tests.local.engine_support import ENGINE_KEY
from tests.support import data

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

TOKEN = "replicas-token-0123456789abcdef"
HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"


def _haproxy_config(front: int, replicas: list[int]) -> str:
    servers = "\n".join(f"    server r{n} 127.0.0.1:{port}" for n, port in enumerate(replicas, start=1))
    return f"""
global
    maxconn 200
defaults
    mode http
    timeout connect 5s
    timeout client 120s
    timeout server 120s
frontend mcp
    bind 127.0.0.1:{front}
    default_backend replicas
backend replicas
    balance roundrobin
    http-response set-header X-Replica %s
{servers}
"""


@contextlib.contextmanager
def _balancer(root: Path, front: int, replicas: list[int]) -> Generator[subprocess.Popen[bytes]]:
    if not Path(HAPROXY).exists():
        pytest.fail("HAProxy is not installed (apt-get install haproxy; .ci/run installs it)")
    config = root / "haproxy.cfg"
    config.write_text(_haproxy_config(front, replicas))
    proc = subprocess.Popen(
        [HAPROXY, "-db", "-f", str(config)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _replica_env(running: Cluster, root: Path, name: str, front: int) -> dict[str, str]:
    env = running.env(root / name / "data")
    env.update(
        {
            "AKOOL_BACKEND": "akool",
            "AKOOL_BASE_URL": f"http://127.0.0.1:{running.api_port}",
            "AKOOL_API_KEY": ENGINE_KEY,
            "AKOOL_MCP_TOKEN": TOKEN,
            "AKOOL_LINK_SECRET": "replicas-link-secret-0123456789abcdef",
            "AKOOL_PUBLIC_URL": f"http://127.0.0.1:{front}",
            "AKOOL_OUTPUT_DIR": str(root / name / "videos"),
        }
    )
    return env


@contextlib.contextmanager
def _replicas(running: Cluster, root: Path, front: int) -> Generator[list[int]]:
    ports = [free_port(), free_port()]
    logs = [(root / f"replica{n}.log").open("w") for n in (1, 2)]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "akool_mcp", "serve", "--transport", "streamable-http", "--port", str(port)],
            env=_replica_env(running, root, f"replica{n}", front),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=logs[n - 1],
        )
        for n, port in enumerate(ports, start=1)
    ]
    try:
        yield ports
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for log in logs:
            log.close()


class Served:
    """Which replica answered which tool call (from HAProxy's header)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    async def record(self, response: httpx2.Response) -> None:
        request = response.request
        if request.method != "POST":
            return
        with contextlib.suppress(ValueError):
            message = json.loads(request.content)
            if message.get("method") == "tools/call":
                self.calls.append((str(message["params"]["name"]), response.headers.get("x-replica", "?")))

    def replica_of(self, tool: str) -> str:
        return next(replica for name, replica in self.calls if name == tool)


@contextlib.asynccontextmanager
async def _client(front: int, served: Served) -> AsyncGenerator[Client]:
    async with (
        httpx2.AsyncClient(
            headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60, event_hooks={"response": [served.record]}
        ) as http,
        Client(streamable_http_client(f"http://127.0.0.1:{front}/mcp", http_client=http)) as client,
    ):
        yield client


async def _listening(port: int) -> bool:
    try:
        async with httpx2.AsyncClient(timeout=2) as http:
            # A file that is not there: a quick 404 once the server is up (GET /mcp would open a stream).
            await http.get(
                f"http://127.0.0.1:{port}/media/videos/none.mp4", headers={"Authorization": f"Bearer {TOKEN}"}
            )
    except httpx2.HTTPError:
        return False
    return True


async def test_a_video_made_through_one_replica_is_followed_listed_and_read_through_the_other(
    tmp_path: Path, migrated: str
) -> None:
    front = free_port()
    served = Served()
    with cluster(migrated, tmp_path) as running:
        running.start("all")
        await until(lambda: api_up(running.api_port), "the engine's API to listen")
        with _replicas(running, tmp_path, front) as ports, _balancer(tmp_path, front, ports):
            for port in ports:
                await until(lambda port=port: _listening(port), f"the replica on {port} to listen")
            await until(lambda: _listening(front), "the balancer to listen")
            with anyio.fail_after(300):
                async with _client(front, served) as client:
                    avatars = data(await client.call_tool("list_avatars", {"source": "official", "size": 1}))
                    created = data(
                        await client.call_tool(
                            "create_talking_video",
                            {
                                "avatar_id": avatars["avatars"][0]["avatar_id"],
                                "text": "Made on one, seen on the other.",
                                "voice_id": "en-US-female-1",
                            },
                        )
                    )
                    status: dict[str, Any] = {"done": False}
                    while not status["done"]:
                        status = data(
                            await client.call_tool(
                                "get_video_status", {"video_id": created["video_id"], "wait_seconds": 20}
                            )
                        )
                    # Twice more each: round-robin hands consecutive calls to different replicas.
                    again = [
                        data(await client.call_tool("get_video_status", {"video_id": created["video_id"]}))
                        for _ in range(2)
                    ]
                    listed = [data(await client.call_tool("list_videos", {})) for _ in range(2)]
                    # A script of two scenes: made on one replica, followed on both, joined once.
                    scene = {"avatar_id": avatars["avatars"][0]["avatar_id"], "voice_id": "en-US-female-1"}
                    script = data(
                        await client.call_tool(
                            "create_video_from_script",
                            {"scenes": [{**scene, "text": "Scene one."}, {**scene, "text": "Scene two."}]},
                        )
                    )
                    joined: dict[str, Any] = {"done": False}
                    while not joined["done"]:
                        joined = data(
                            await client.call_tool(
                                "get_video_status", {"video_id": script["video_id"], "wait_seconds": 20}
                            )
                        )
                    joined_again = data(await client.call_tool("get_video_status", {"video_id": script["video_id"]}))
                async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30) as raw:
                    reads = [await raw.get(status["video_url"], headers={"Range": "bytes=0-99"}) for _ in range(2)]
                    script_reads = [
                        await raw.get(joined["video_url"], headers={"Range": "bytes=0-99"}) for _ in range(2)
                    ]
    made_on = served.replica_of("create_talking_video")
    assert made_on in ("r1", "r2")
    assert {replica for name, replica in served.calls if name == "get_video_status"} == {"r1", "r2"}, served.calls
    assert {replica for name, replica in served.calls if name == "list_videos"} == {"r1", "r2"}, served.calls
    assert status["status"] == "completed"
    assert all(a["status"] == "completed" and a["video_url"] == status["video_url"] for a in again), [
        (a.get("video_url"), a.get("file_url"), a.get("message")) for a in again
    ] + [status["video_url"]]
    assert all([v["video_id"] for v in answer["videos"]] == [created["video_id"]] for answer in listed)
    assert status["video_url"].startswith(f"http://127.0.0.1:{front}/media/videos/")
    assert {r.headers["x-replica"] for r in reads} == {"r1", "r2"}  # each replica served the file
    assert all(r.status_code == 206 and r.content[4:8] == b"ftyp" for r in reads)
    assert {replica for name, replica in served.calls if name == "create_video_from_script"} <= {"r1", "r2"}
    assert joined["status"] == "completed" and joined_again["status"] == "completed", (joined, joined_again)
    assert joined_again["video_url"].split("?")[0] == joined["video_url"].split("?")[0]
    assert {r.headers["x-replica"] for r in script_reads} == {"r1", "r2"}
    assert all(r.status_code == 206 and r.content[4:8] == b"ftyp" for r in script_reads)
    kept = sorted(p.name for p in (tmp_path / "blobs" / "kept").iterdir())
    joined_files = [name for name in kept if script["video_id"] in name]
    assert sorted(Path(name).suffix for name in joined_files) == [".mp4", ".vtt"]  # joined once, captions with it
