"""Start-up cost: spawn -> answered initialize + tools/list over stdio, akool-mcp beside a minimal MCPServer.

akool-mcp is measured with the local engine (the default without credentials) and against Akool's cloud,
interleaved with the minimal server in one run so that drift hits all alike. Wall time is the figure;
the server process's CPU time (user + sys) is printed too, as it moves less when the machine is busy.
Our own modules are byte-compiled first, as an installed package's are (PYTHONDONTWRITEBYTECODE may be
set). With --instructions, each server's instruction count under valgrind is reported too: it does not
move when other work shares the machine. Also the in-process cost of one list_avatars call against a
MockTransport. Prints figures and writes them to benchmarks/results/startup.json. Figures, never
pass/fail.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import anyio
import httpx2
from mcp import Client
from mcp.client.stdio import StdioServerParameters

import akool_mcp
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


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def runtime_python() -> str:
    """A Python with the locked runtime set only (what `pip install akool-mcp` gives a user: no dev tools).

    The dev tools can change start-up on their own (a library that imports an optional one when it is
    installed). Built with the project's pinned uv into .venv-runtime.
    """
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(root / ".venv-runtime")}
    subprocess.run(
        [str(root / "scripts" / "uv"), "sync", "--locked", "--no-dev", "--quiet", "--compile-bytecode"],
        cwd=root,
        env=env,
        check=True,
    )
    return str(root / ".venv-runtime" / "bin" / "python")


async def time_spawn(python: str, args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds to an answered tools/list, and the CPU seconds the server process used in all."""
    cpu = _children_cpu()
    start = time.perf_counter()
    async with Client(StdioServerParameters(command=python, args=args, env=env)) as client:
        await client.list_tools()
        wall = time.perf_counter() - start
    return wall, _children_cpu() - cpu


async def count_instructions(python: str, args: list[str], env: dict[str, str]) -> int:
    """Instructions the server process executes, spawn to answered tools/list (valgrind's callgrind).

    Unlike wall or CPU time, the count does not move when other work shares the machine; string hashing is
    fixed (PYTHONHASHSEED=0) so that it repeats to within a few parts in a thousand.
    """
    with tempfile.NamedTemporaryFile("r", suffix=".log") as log:
        wrapped = ["--tool=callgrind", "--callgrind-out-file=/dev/null", f"--log-file={log.name}", python, *args]
        async with Client(
            StdioServerParameters(command="valgrind", args=wrapped, env={**env, "PYTHONHASHSEED": "0"})
        ) as client:
            await client.list_tools()
        found = re.search(r"Collected : (\d+)", log.read())
    if found is None:
        raise RuntimeError("valgrind reported no instruction count")
    return int(found.group(1))


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


async def main(runs: int, calls: int, python: str, instructions: bool) -> dict[str, float]:
    compileall.compile_dir(Path(akool_mcp.__file__).parent, quiet=1)
    with tempfile.TemporaryDirectory() as data_dir:
        local = {**os.environ, "AKOOL_DATA_DIR": data_dir, "AKOOL_BACKEND": "local"}
        cloud = {**local, "AKOOL_BACKEND": "akool", "AKOOL_API_KEY": "k" * 24}
        script = Path(data_dir) / "minimal_server.py"
        script.write_text(MINIMAL)
        variants = {
            "akool_mcp_local": (["-m", "akool_mcp"], local),
            "akool_mcp_cloud": (["-m", "akool_mcp"], cloud),
            "minimal": ([str(script)], local),
        }
        samples: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
        for args, env in variants.values():  # warm the OS file cache for all
            await time_spawn(python, args, env)
        for _ in range(runs):  # interleaved, so drift hits all alike
            for name, (args, env) in variants.items():
                samples[name].append(await time_spawn(python, args, env))
        counts: dict[str, int] = {}
        for name, (args, env) in variants.items() if instructions else ():
            counts[name] = await count_instructions(python, args, env)
    call = await per_call_cost(calls)
    result: dict[str, float] = {"runs": runs, "list_avatars_per_call_ms": call * 1000}
    for name, count in counts.items():
        result[f"{name}_instructions"] = count
        if name != "minimal":
            result[f"{name}_instruction_ratio"] = count / counts["minimal"]
    for name, values in samples.items():
        result[f"{name}_median_s"] = statistics.median(wall for wall, _ in values)
        result[f"{name}_cpu_median_s"] = statistics.median(cpu for _, cpu in values)
    for name in ("akool_mcp_local", "akool_mcp_cloud"):
        result[f"{name}_ratio"] = result[f"{name}_median_s"] / result["minimal_median_s"]
        result[f"{name}_cpu_ratio"] = result[f"{name}_cpu_median_s"] / result["minimal_cpu_median_s"]
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument(
        "--dev-env", action="store_true", help="spawn the servers with this (dev) Python instead of the runtime set"
    )
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="also count each server's instructions once under valgrind (steady while the machine is busy)",
    )
    ns = parser.parse_args()
    python = sys.executable if ns.dev_env else runtime_python()
    print(f"servers run with {python}")
    result = anyio.run(main, ns.runs, ns.calls, python, ns.instructions)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "startup.json").write_text(json.dumps(result, indent=2))
    for name in ("akool_mcp_local", "akool_mcp_cloud", "minimal"):
        wall, cpu = result[f"{name}_median_s"] * 1000, result[f"{name}_cpu_median_s"] * 1000
        print(f"{name:16} spawn->tools/list median {wall:5.0f} ms, process CPU {cpu:5.0f} ms")
    for name in ("akool_mcp_local", "akool_mcp_cloud"):
        print(f"{name:16} ratio to minimal: {result[f'{name}_ratio']:.3f} (CPU {result[f'{name}_cpu_ratio']:.3f})")
    for name in ("akool_mcp_local", "akool_mcp_cloud"):
        if f"{name}_instruction_ratio" in result:
            count = result[f"{name}_instructions"] / 1e6
            print(f"{name:16} instructions {count:6.0f} M, ratio to minimal: {result[f'{name}_instruction_ratio']:.3f}")
    print(f"list_avatars in process (MockTransport): {result['list_avatars_per_call_ms']:.2f} ms/call")
