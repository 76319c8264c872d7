"""Imports point inward: the client, models, domain and local engine never import the MCP SDK."""

from __future__ import annotations

import subprocess
import sys


def test_the_domain_layers_do_not_import_mcp() -> None:
    code = (
        "import sys\n"
        "import akool_mcp.client, akool_mcp.models, akool_mcp.errors, akool_mcp.config\n"
        "import akool_mcp.domain.compose, akool_mcp.domain.follow, akool_mcp.domain.lookup\n"
        "import akool_mcp.local.engine, akool_mcp.local.production, akool_mcp.local.layout\n"
        "print(sorted(m for m in sys.modules if m == 'mcp' or m.startswith('mcp.')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert result.stdout.strip() == "[]"
