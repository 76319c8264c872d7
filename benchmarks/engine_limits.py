"""Memory of the real `akool-mcp local-api` process under hostile input: figures, not pass/fail.

1. A 1 GiB chunked body sent to the unauthenticated getToken: refused at the 1 MiB limit (413).
2. A 1.5 MB PNG that declares 20000x20000 pixels, given as an avatar upload: refused from its header.
3. An MP4 whose clock races (timescale 2^31-1), as an avatar upload and as a video's avatar: how long
   until each is failed, and why.
4. A Motion JPEG AVI whose frames declare 16000x16000 pixels, as an avatar upload: time and peak memory.
5. Webhooks: three receivers that take 30 s to answer, and a healthy one: how long after its video is
   finished the healthy receiver has its webhook.
6. A full queue (AKOOL_MAX_QUEUED_JOBS=5): what a client is answered.

Prints the process's resident memory (VmRSS) and its peak (VmHWM) before and after each, read from
/proc (Linux). Run: .venv/bin/python benchmarks/engine_limits.py
"""

from __future__ import annotations

import http.server
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2

SECRET = "bench-secret-0123456789abcdefghi"  # noqa: S105 - a throwaway engine's key, 32 bytes
KEY = {"x-api-key": SECRET}


def memory(pid: int) -> tuple[float, float]:
    """(current, peak) resident memory of the process, in MB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def bomb_png(width: int, height: int) -> bytes:
    """A real, valid PNG of black pixels: tiny on disk, 1.2 GB once decoded."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    squeeze = zlib.compressobj(9)
    row = b"\0" * (1 + 3 * width)  # filter byte + RGB
    data = b"".join(squeeze.compress(row) for _ in range(height)) + squeeze.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


def serve_file(content: bytes, kind: str = "image/png") -> tuple[http.server.ThreadingHTTPServer, int]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, int(server.server_address[1])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def gigabyte() -> Iterator[bytes]:
    block = b"{" * (1 << 20)
    for _ in range(1024):
        yield block


class Receivers:
    """Webhook receivers on this machine: paths starting /slow answer after 30 s, the others at once."""

    def __init__(self) -> None:
        self.arrived: dict[str, list[float]] = {}
        receivers = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receivers.arrived.setdefault(self.path, []).append(time.perf_counter())
                if self.path.startswith("/slow"):
                    time.sleep(30)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                return

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.server.server_address[1])
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def wait_final(base: str, path: str, params: dict[str, str], status_key: str) -> tuple[dict[str, Any], float]:
    started = time.perf_counter()
    for _ in range(6000):
        found = httpx2.get(f"{base}{path}", params=params, headers=KEY).json()["data"]
        if found[status_key] in (3, 4):
            return found, time.perf_counter() - started
        time.sleep(0.05)
    raise TimeoutError(path)


def talking(avatar: dict[str, Any], text: str, webhook: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "width": 3840,
        "height": 2160,
        "avatar_from": 3 if "url" in avatar else 2,
        "elements": [
            {"type": "avatar", "width": 1000, "height": 1000, "scale_x": 1, "scale_y": 1, "offset_x": 1920,
             "offset_y": 1080, **avatar},
            {"type": "audio", "input_text": text, "voice_id": "en-US-female-1"},
        ],
    }  # fmt: skip
    if webhook:
        body["webhookUrl"] = webhook
    return body


def hostile_media(base: str, pid: int) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the hostile files the tests make
    from tests.fakes.media import oversized_mjpeg_avi, racing_clock_mp4

    racing, racing_port = serve_file(racing_clock_mp4(), "video/mp4")
    created = httpx2.post(
        f"{base}/api/open/v3/avatar/create",
        json={"url": f"http://127.0.0.1:{racing_port}/racing.mp4", "avatar_id": "Racing1"},
        headers=KEY,
    ).json()
    avatar, took = wait_final(base, "/api/open/v3/avatar/detail", {"id": created["data"]["_id"]}, "status")
    print(f"racing clock upload:  status {avatar['status']} in {took:.2f} s ({avatar.get('error_reason', '')[:90]})")
    created = httpx2.post(
        f"{base}/api/open/v3/talkingavatar/create",
        json=talking({"url": f"http://127.0.0.1:{racing_port}/racing.mp4"}, "Hello there, this is a test."),
        headers=KEY,
    ).json()
    video, took = wait_final(
        base, "/api/open/v3/content/video/infobymodelid", {"video_model_id": created["data"]["_id"]}, "video_status"
    )
    print(f"racing clock avatar:  video status {video['video_status']} in {took:.2f} s "
          f"({video.get('error_reason', '')[:90]})")  # fmt: skip
    racing.shutdown()

    avi = oversized_mjpeg_avi()
    huge, huge_port = serve_file(avi, "video/x-msvideo")
    created = httpx2.post(
        f"{base}/api/open/v3/avatar/create",
        json={"url": f"http://127.0.0.1:{huge_port}/huge.avi", "avatar_id": "Huge1"},
        headers=KEY,
    ).json()
    avatar, took = wait_final(base, "/api/open/v3/avatar/detail", {"id": created["data"]["_id"]}, "status")
    rss, peak = memory(pid)
    print(f"16000x16000 MJPEG ({len(avi) / 1e3:.0f} kB): status {avatar['status']} in {took:.2f} s; "
          f"rss {rss:7.0f} MB, peak {peak:7.0f} MB ({avatar.get('error_reason', '')[:70]})")  # fmt: skip
    huge.shutdown()


def webhooks_beside_slow_receivers(base: str) -> None:
    receivers = Receivers()
    hook = f"http://127.0.0.1:{receivers.port}"
    builtin = httpx2.get(f"{base}/api/open/v3/avatar/list", params={"from": 2}, headers=KEY).json()
    avatar = {"avatar_id": builtin["data"]["result"][0]["avatar_id"]}
    slow = [
        httpx2.post(f"{base}/api/open/v3/talkingavatar/create", json=talking(avatar, "Hi.", f"{hook}/slow{n}"),
                    headers=KEY).json()["data"]["_id"]
        for n in range(3)
    ]  # fmt: skip
    healthy = httpx2.post(
        f"{base}/api/open/v3/talkingavatar/create", json=talking(avatar, "Hi.", f"{hook}/healthy"), headers=KEY
    ).json()["data"]["_id"]
    for video_id in slow:
        wait_final(base, "/api/open/v3/content/video/infobymodelid", {"video_model_id": video_id}, "video_status")
    wait_final(base, "/api/open/v3/content/video/infobymodelid", {"video_model_id": healthy}, "video_status")
    finished = time.perf_counter()
    for _ in range(1200):
        if len(receivers.arrived.get("/healthy", [])) >= 2:  # processing, then completed
            break
        time.sleep(0.05)
    got = receivers.arrived.get("/healthy", [])
    latency = got[-1] - finished if len(got) >= 2 else float("nan")
    print(f"healthy webhook beside three 30 s receivers: {len(got)} received; the last {latency:.2f} s after "
          "its video was seen finished")  # fmt: skip
    receivers.server.shutdown()


def full_queue(base: str) -> None:
    builtin = httpx2.get(f"{base}/api/open/v3/avatar/list", params={"from": 2}, headers=KEY).json()
    avatar = {"avatar_id": builtin["data"]["result"][0]["avatar_id"]}
    text = "A long sentence so that the queue stays busy while the next requests arrive. " * 5
    answers = [httpx2.post(f"{base}/api/open/v3/talkingavatar/create", json=talking(avatar, text), headers=KEY)
               for _ in range(7)]  # fmt: skip
    last = answers[-1]
    print(f"full queue (limit 5): codes {[a.json()['code'] for a in answers]}; the last answered "
          f"Retry-After {last.headers.get('retry-after')} with: {last.json()['msg']}")  # fmt: skip


def main() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="akool-limits-"))
    port = free_port()
    env = {
        **os.environ,
        "AKOOL_DATA_DIR": str(data_dir),
        "AKOOL_LOCAL_CLIENT_SECRET": SECRET,
        "AKOOL_ALLOW_PRIVATE_URLS": "true",  # the media and receivers are served from this machine
        "AKOOL_LOG_LEVEL": "ERROR",
        "AKOOL_RENDER_PRESET": "ultrafast",
        "AKOOL_MAX_QUEUED_JOBS": "5",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "akool_mcp", "local-api", "--port", str(port)], env=env, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx2.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx2.TransportError:
                time.sleep(0.1)
        print(f"started:            rss {memory(proc.pid)[0]:7.0f} MB, peak {memory(proc.pid)[1]:7.0f} MB")

        started = time.perf_counter()
        try:
            answer = httpx2.post(f"{base}/api/open/v3/getToken", content=gigabyte(), timeout=120)
            outcome = f"HTTP {answer.status_code}"
        except httpx2.TransportError as exc:  # the server may close the connection after answering
            outcome = f"connection closed ({type(exc).__name__})"
        rss, peak = memory(proc.pid)
        took = time.perf_counter() - started
        print(f"1 GiB body:         {outcome} in {took:.2f} s; rss {rss:7.0f} MB, peak {peak:7.0f} MB")

        png = bomb_png(20_000, 20_000)
        server, png_port = serve_file(png)
        created = httpx2.post(
            f"{base}/api/open/v3/avatar/create",
            json={"url": f"http://127.0.0.1:{png_port}/bomb.png", "avatar_id": "Bomb1"},
            headers=KEY,
        ).json()
        record_id = created["data"]["_id"]
        detail: dict[str, Any] = {}
        for _ in range(600):
            detail = httpx2.get(f"{base}/api/open/v3/avatar/detail", params={"id": record_id}, headers=KEY).json()
            if detail["data"]["status"] in (3, 4):
                break
            time.sleep(0.1)
        server.shutdown()
        rss, peak = memory(proc.pid)
        print(
            f"20000x20000 PNG ({len(png) / 1e6:.1f} MB): status {detail['data']['status']} "
            f"({detail['data'].get('error_reason', '')[:80]}); rss {rss:7.0f} MB, peak {peak:7.0f} MB"
        )
        hostile_media(base, proc.pid)
        webhooks_beside_slow_receivers(base)
        full_queue(base)
    finally:
        proc.terminate()
        proc.wait(timeout=20)


if __name__ == "__main__":
    main()
