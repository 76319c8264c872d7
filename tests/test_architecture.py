"""Imports point inward: the client, models, domain, media, rendering, speech and the local engine never import
the MCP SDK; only the server and the CLI know the engine; rendering and speech know nothing above them."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path


def test_the_domain_layers_do_not_import_mcp() -> None:
    code = (
        "import sys\n"
        "import akool_mcp.client, akool_mcp.models, akool_mcp.errors, akool_mcp.config\n"
        "import akool_mcp.domain.compose, akool_mcp.domain.follow, akool_mcp.domain.lookup\n"
        "import akool_mcp.domain.video_library, akool_mcp.domain.links, akool_mcp.domain.requests\n"
        "import akool_mcp.domain.keeping, akool_mcp.domain.poster, akool_mcp.domain.registry\n"
        "import akool_mcp.media.first_frame\n"
        "import akool_mcp.local.engine, akool_mcp.local.production, akool_mcp.media.elements\n"
        "print(sorted(m for m in sys.modules if m == 'mcp' or m.startswith('mcp.')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert result.stdout.strip() == "[]"


SRC = Path(__file__).resolve().parent.parent / "src" / "akool_mcp"
INNER_LAYERS = ("client", "models", "domain", "media", "render", "speech", "local")


def imported_modules(source: str, package: str) -> set[str]:
    """Every module a file imports, at the top or inside a function, relative imports resolved."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0]
                base = f"{parent}.{base}" if base else parent
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def imports_of(path: Path) -> set[str]:
    package = ".".join(path.relative_to(SRC.parent).parts[:-1])
    return imported_modules(path.read_text(), package)


def _within(module: str, root: str) -> bool:
    return module == root or module.startswith(root + ".")


def test_the_import_scan_sees_lazy_and_relative_imports() -> None:
    source = "def f():\n    from mcp.server import MCPServer\n    from ..server import app\n"
    found = imported_modules(source, "akool_mcp.local")
    assert {"mcp.server", "akool_mcp.server", "akool_mcp.server.app"} <= found


def test_nothing_but_the_cli_imports_the_server_package() -> None:
    offenders = [
        str(path.relative_to(SRC))
        for path in sorted(SRC.rglob("*.py"))
        if path != SRC / "cli.py" and SRC / "server" not in path.parents
        if any(_within(m, "akool_mcp.server") for m in imports_of(path))
    ]
    assert offenders == []


def test_the_inner_layers_never_import_mcp_even_lazily() -> None:
    files = sorted(p for layer in INNER_LAYERS for p in (SRC / layer).rglob("*.py"))
    assert len(files) > len(INNER_LAYERS), "the layers moved: update INNER_LAYERS"
    offenders = [str(p.relative_to(SRC)) for p in files if any(_within(m, "mcp") for m in imports_of(p))]
    assert offenders == []


def _offenders(layers: tuple[str, ...], forbidden: tuple[str, ...]) -> list[str]:
    files = sorted(p for layer in layers for p in (SRC / layer).rglob("*.py"))
    assert files, f"no files under {layers}: update the test"
    return [
        f"{p.relative_to(SRC)} imports {m}"
        for p in files
        for m in sorted(imports_of(p))
        if any(_within(m, f"akool_mcp.{name}") for name in forbidden)
    ]


def test_only_the_server_and_the_cli_know_the_local_engine() -> None:
    layers = ("client", "models", "domain", "media", "render", "speech", "tools")
    assert _offenders(layers, ("local",)) == []


def test_rendering_and_speech_know_nothing_above_them() -> None:
    above = ("local", "media", "domain", "tools", "client", "server")
    assert _offenders(("render", "speech"), above) == []


def test_speech_never_imports_rendering() -> None:
    assert _offenders(("speech",), ("render",)) == []


def test_no_two_modules_share_a_name() -> None:
    names: dict[str, list[str]] = {}
    for path in SRC.rglob("*.py"):
        if path.name not in ("__init__.py", "__main__.py"):
            names.setdefault(path.stem, []).append(str(path.relative_to(SRC)))
    assert {name: paths for name, paths in names.items() if len(paths) > 1} == {}


def test_the_single_user_server_starts_without_the_cluster_libraries() -> None:
    code = (
        "import sys\n"
        "from akool_mcp.config import Settings\n"
        "from akool_mcp.server import build_server\n"
        "build_server(Settings.from_environ({}))\n"
        "import akool_mcp.local.engine\n"
        "heavy = ('psycopg', 'psycopg_pool', 'procrastinate', 'boto3', 'botocore')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert result.stdout.strip() == "[]"
