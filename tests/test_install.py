"""The built wheel, installed into a fresh virtual environment, runs: `--version` and one stdio tools/list.

What this proves: the wheel carries every module of the package (compared with the source tree), its
entry point works, its metadata version is pyproject's, and every dependency it declares is satisfied
by the locked set. What it does not: that those dependencies download from PyPI. The fresh environment
sees the locked set's site-packages through a .pth file instead, so the test needs no network beyond
building the wheel; CI's clean `uv sync --locked` is what shows the locked set installs from PyPI.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from email.parser import Parser
from importlib.metadata import version
from pathlib import Path

import anyio
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "akool_mcp"


def _run(*args: str | Path) -> str:
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, f"{args}: {result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    _run(ROOT / "scripts" / "uv", "build", "--wheel", "--quiet", "--out-dir", out, ROOT)
    (built,) = out.glob("akool_mcp-*.whl")
    return built


@pytest.fixture(scope="module")
def fresh_venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    venv = tmp_path_factory.mktemp("venv") / "venv"
    uv = ROOT / "scripts" / "uv"
    _run(uv, "venv", "--quiet", "--python", sys.executable, venv)
    python = venv / "bin" / "python"
    site = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").strip())
    # The locked dependencies, seen from after the fresh site-packages; the .pth files there (our
    # editable install among them) are not processed, so akool_mcp can only come from the wheel.
    (site / "zz_locked_set.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run(uv, "pip", "install", "--quiet", "--offline", "--no-deps", "--python", python, wheel)
    return venv


def test_the_wheel_carries_every_module_and_the_pyproject_version(wheel: Path) -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = Parser().parsestr(archive.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode())
    sources = {
        "akool_mcp/" + p.relative_to(PACKAGE).as_posix()
        for p in PACKAGE.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }
    assert sources - names == set()
    assert metadata["Version"] == pyproject["version"]
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)


def test_every_declared_dependency_is_satisfied_by_the_locked_set(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        meta = archive.read(next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))).decode()
    requirements = [Requirement(r) for r in Parser().parsestr(meta).get_all("Requires-Dist") or []]
    runtime = [r for r in requirements if r.marker is None or r.marker.evaluate({"extra": ""})]
    assert {r.name for r in runtime} >= {"mcp", "httpx2", "av", "numpy"}
    unsatisfied = [str(r) for r in runtime if not r.specifier.contains(version(r.name), prereleases=True)]
    assert unsatisfied == []


def test_the_installed_command_prints_the_version(fresh_venv: Path, wheel: Path) -> None:
    out = _run(fresh_venv / "bin" / "akool-mcp", "--version")
    assert out.strip() == f"akool-mcp {wheel.name.split('-')[1]}"
    where = _run(
        fresh_venv / "bin" / "python", "-c", "import akool_mcp.local.engine, akool_mcp; print(akool_mcp.__file__)"
    )
    assert Path(where.strip()).is_relative_to(fresh_venv)


@pytest.mark.anyio
async def test_the_installed_server_answers_tools_list_over_stdio(fresh_venv: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AKOOL_")}
    env.update({"AKOOL_DATA_DIR": str(tmp_path / "data"), "AKOOL_BACKEND": "local"})
    params = StdioServerParameters(command=str(fresh_venv / "bin" / "akool-mcp"), env=env)
    with anyio.fail_after(60):
        async with Client(params) as client:
            tools = {t.name for t in (await client.list_tools()).tools}
            voices = await client.call_tool("list_voices", {"language": "en"})
    assert {"list_avatars", "create_talking_video", "get_video_status", "list_voices"} <= tools
    assert not voices.is_error
