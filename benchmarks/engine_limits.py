"""Memory of the real `akool-mcp local-api` process under hostile input: figures, not pass/fail.

1. A 1 GiB chunked body sent to the unauthenticated getToken: refused at the 1 MiB limit (413).
2. A 1.5 MB PNG that declares 20000x20000 pixels, given as an avatar upload: refused from its header.

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


def serve_file(content: bytes) -> tuple[http.server.ThreadingHTTPServer, int]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
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


def main() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="akool-limits-"))
    port = free_port()
    env = {
        **os.environ,
        "AKOOL_DATA_DIR": str(data_dir),
        "AKOOL_LOCAL_CLIENT_SECRET": SECRET,
        "AKOOL_ALLOW_PRIVATE_URLS": "true",  # the PNG is served from this machine
        "AKOOL_LOG_LEVEL": "ERROR",
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
    finally:
        proc.terminate()
        proc.wait(timeout=20)


if __name__ == "__main__":
    main()
