"""Running a real cluster in tests: API and worker processes (`akool-mcp local-api --role ...`) on one
PostgreSQL database and one shared blob folder, and a webhook receiver on this machine."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import anyio
import httpx2

from akool_mcp.client.webhook import verify_and_decrypt
from tests.local.engine_support import ENGINE_CLIENT_ID, ENGINE_KEY

KEY = {"x-api-key": ENGINE_KEY}
STALL_SECONDS = 3.0  # workers silent this long are taken for dead (short, for the tests)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Receiver:
    """A webhook receiver on 127.0.0.1: answers `first` to the very first delivery, 200 to the rest, and
    keeps every envelope it was sent, opened."""

    def __init__(self, first: int = 500) -> None:
        self.first = first
        self.events: list[dict[str, Any]] = []
        self.answers: list[int] = []
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                with owner._lock:
                    status = owner.first if not owner.answers else 200
                    owner.answers.append(status)
                    if status == 200:
                        opened = verify_and_decrypt(body, client_id=ENGINE_CLIENT_ID, client_secret=ENGINE_KEY)
                        owner.events.append({"id": opened.id, "status": int(opened.status), "url": opened.url})
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def statuses(self, video_id: str) -> list[int]:
        with self._lock:
            return [e["status"] for e in self.events if e["id"] == video_id]


@dataclass
class Node:
    role: str
    proc: subprocess.Popen[str]
    data_dir: Path
    port: int | None
    log: list[str] = field(default_factory=list[str])
    reader: threading.Thread | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid


@dataclass
class Cluster:
    database: str
    blobs: Path
    root: Path
    api_port: int
    nodes: list[Node] = field(default_factory=list[Node])

    def env(self, data_dir: Path, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AKOOL_")}
        env.update(
            {
                "AKOOL_DATABASE_URL": self.database,
                "AKOOL_BLOB_STORE": str(self.blobs),
                "AKOOL_DATA_DIR": str(data_dir),
                "AKOOL_LOCAL_CLIENT_ID": ENGINE_CLIENT_ID,
                "AKOOL_LOCAL_CLIENT_SECRET": ENGINE_KEY,
                "AKOOL_PUBLIC_URL": f"http://127.0.0.1:{self.api_port}",
                "AKOOL_ALLOW_PRIVATE_URLS": "true",
                "AKOOL_RENDER_PRESET": "ultrafast",
                "AKOOL_STALLED_WORKER_SECONDS": str(STALL_SECONDS),
                "AKOOL_LOG_FORMAT": "json",
                **extra,
            }
        )
        return env

    def start(self, role: str, **extra: str) -> Node:
        data_dir = self.root / f"{role}-{len(self.nodes)}"
        port = self.api_port if role in ("api", "all") else None
        args = [sys.executable, "-m", "akool_mcp", "local-api", "--role", role]
        if port is not None:
            args += ["--host", "127.0.0.1", "--port", str(port)]
        proc = subprocess.Popen(
            args,
            env=self.env(data_dir, **extra),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        node = Node(role, proc, data_dir, port)
        node.reader = threading.Thread(target=_read_log, args=(node,), daemon=True)
        node.reader.start()
        self.nodes.append(node)
        return node

    def stop_all(self) -> None:
        for node in self.nodes:
            if node.proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    node.proc.send_signal(signal.SIGCONT)
                    node.proc.send_signal(signal.SIGTERM)
        for node in self.nodes:
            try:
                node.proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                node.proc.kill()
                node.proc.wait()
            if node.reader is not None:
                node.reader.join(timeout=10)
            if node.proc.stderr is not None:
                node.proc.stderr.close()


def _read_log(node: Node) -> None:
    assert node.proc.stderr is not None
    for line in node.proc.stderr:
        node.log.append(line)


@contextlib.contextmanager
def cluster(database: str, root: Path) -> Generator[Cluster]:
    blobs = root / "blobs"
    blobs.mkdir(parents=True)
    running = Cluster(database, blobs, root, free_port())
    try:
        yield running
    finally:
        running.stop_all()


async def until(check: Callable[[], Awaitable[bool]] | Callable[[], bool], what: str, seconds: float = 120) -> None:
    """Poll `check` (a condition on the cluster's state) until it holds; fail naming `what` after `seconds`."""
    try:
        with anyio.fail_after(seconds):
            while True:
                outcome = check()
                if not isinstance(outcome, bool):
                    outcome = await outcome
                if outcome:
                    return
                await anyio.sleep(0.1)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for: {what}") from None


def logged(node: Node, event: str) -> bool:
    return any(f'"{event}"' in line for line in list(node.log))


async def api_up(port: int) -> bool:
    try:
        async with httpx2.AsyncClient(timeout=2) as http:
            await http.get(f"http://127.0.0.1:{port}/openapi.json")
    except httpx2.HTTPError:
        return False
    return True


def talking_video(avatar_id: str, voice_id: str, text: str, webhook: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "width": 3840,
        "height": 2160,
        "avatar_from": 2,
        "elements": [
            {"type": "image", "url": "#1E90FF", "width": 3840, "height": 2160, "scale_x": 1, "scale_y": 1,
             "offset_x": 1920, "offset_y": 1080},
            {"type": "avatar", "avatar_id": avatar_id, "width": 1200, "height": 1200, "scale_x": 1, "scale_y": 1,
             "offset_x": 1920, "offset_y": 1080},
            {"type": "audio", "input_text": text, "voice_id": voice_id},
        ],
    }  # fmt: skip
    if webhook:
        body["webhookUrl"] = webhook
    return body


async def choices(http: httpx2.AsyncClient) -> tuple[str, str]:
    """An official avatar_id and an English voice_id from the cluster's API."""
    avatars = (await http.get("/api/open/v3/avatar/list", params={"from": 2}, headers=KEY)).json()
    voices = (await http.get("/api/open/v4/voice/list", headers=KEY)).json()
    voice = next(v for v in voices["data"]["result"] if v["locale"].startswith("en"))
    return avatars["data"]["result"][0]["avatar_id"], voice["voice_id"]


async def create(http: httpx2.AsyncClient, body: dict[str, Any]) -> str:
    answer = (await http.post("/api/open/v3/talkingavatar/create", json=body, headers=KEY)).json()
    assert answer["code"] == 1000, answer
    return str(answer["data"]["_id"])


def json_lines(node: Node) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for line in list(node.log):
        with contextlib.suppress(ValueError):
            found.append(json.loads(line))
    return found
