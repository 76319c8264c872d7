"""Start-up cost: spawn -> answered initialize + tools/list over stdio, akool-mcp beside a minimal MCPServer.

Also the in-process cost of one list_avatars call against a MockTransport. Prints figures and writes
them to benchmarks/results/startup.json. Figures, never pass/fail.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import anyio
import httpx2
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from akool_mcp.config import Settings
from akool_mcp.server import build_server

MINIMAL = """
from mcp.server import MCPServer
server = MCPServer("minimal")

@server.tool()
def ping(x: int) -> int:
    return x

server.run("stdio")
"""

RESULTS = Path(__file__).parent / "results"


async def time_spawn(args: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    async with Client(StdioServerParameters(command=sys.executable, args=args, env=env)) as client:
        await client.list_tools()
        return time.perf_counter() - start


async def per_call_cost(calls: int) -> float:
    body = {"code": 1000, "msg": "OK", "data": {"count": 1, "result": [{"_id": "a" * 24, "avatar_id": "A1"}]}}
    transport = httpx2.MockTransport(lambda request: httpx2.Response(200, json=body))
    settings = Settings.model_validate({"api_key": "k" * 16, "backend": "akool"})
    server = build_server(settings, transport=transport)
    async with Client(server) as client:
        await client.call_tool("list_avatars", {})
        start = time.perf_counter()
        for _ in range(calls):
            await client.call_tool("list_avatars", {})
        return (time.perf_counter() - start) / calls


async def main(runs: int, calls: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as data_dir:
        env = {**os.environ, "AKOOL_DATA_DIR": data_dir, "AKOOL_BACKEND": "local"}
        script = Path(data_dir) / "minimal_server.py"
        script.write_text(MINIMAL)
        ours: list[float] = []
        minimal: list[float] = []
        await time_spawn(["-m", "akool_mcp"], env)  # warm the OS file cache for both
        await time_spawn([str(script)], env)
        for _ in range(runs):  # interleaved, so drift hits both alike
            ours.append(await time_spawn(["-m", "akool_mcp"], env))
            minimal.append(await time_spawn([str(script)], env))
    call = await per_call_cost(calls)
    return {
        "akool_mcp_median_s": statistics.median(ours),
        "minimal_median_s": statistics.median(minimal),
        "ratio": statistics.median(ours) / statistics.median(minimal),
        "runs": runs,
        "list_avatars_per_call_ms": call * 1000,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--calls", type=int, default=200)
    ns = parser.parse_args()
    result = anyio.run(main, ns.runs, ns.calls)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "startup.json").write_text(json.dumps(result, indent=2))
    print(f"akool-mcp spawn->tools/list median: {result['akool_mcp_median_s'] * 1000:.0f} ms")
    print(f"minimal MCPServer median:         {result['minimal_median_s'] * 1000:.0f} ms")
    print(f"ratio:                            {result['ratio']:.3f}")
    print(f"list_avatars in process (MockTransport): {result['list_avatars_per_call_ms']:.2f} ms/call")
