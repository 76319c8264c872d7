"""Tools built when first used, and the `tools/list` answer kept between starts.

The SDK builds a tool when it is registered: an argument model, then the input and output JSON schemas
from pydantic. For our ten typed tools that is about a third of the time from spawn to an answered
`tools/list` beyond what the SDK itself needs (profiled with cProfile and `-X importtime`, 2026-11).
None of it is needed to answer `initialize`, and `tools/list` needs only the resulting JSON. So:

- `DeferredTools` records each registration and builds the SDK `Tool` when it is first looked up (a
  call, or a listing with no kept answer), then has the server finish it.
- `ToolListCache` keeps the finished `tools/list` answer in the data directory, under a fingerprint of
  everything it is made from: each registration's name, title, description, annotations and meta, how
  the server finishes tools, the Python version, the size and time of the SDK's and pydantic's package
  files, and of every source file of akool-mcp. Any change gives another fingerprint, so a kept answer
  is never stale: at worst it is not used and the tools are built as before.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mcp
import mcp_types
import pydantic
import pydantic_core
import structlog
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.tools.base import Tool
from mcp.server.mcpserver.tools.tool_manager import ToolManager
from mcp.types import Icon, ToolAnnotations
from mcp.types import Tool as MCPTool

log = structlog.get_logger(__name__)

KEPT_ANSWERS = 4  # one per way of running the server (local or Akool, stdio or HTTP) is plenty
_PACKAGE = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Registration:
    """What `MCPServer.add_tool` was given, kept until the tool is built."""

    fn: Callable[..., Any]
    name: str
    title: str | None = None
    description: str | None = None
    annotations: ToolAnnotations | None = None
    icons: list[Icon] | None = None
    meta: dict[str, Any] | None = None
    structured_output: bool | None = None

    def build(self) -> Tool:
        return Tool.from_function(
            self.fn,
            name=self.name,
            title=self.title,
            description=self.description,
            annotations=self.annotations,
            icons=self.icons,
            meta=self.meta,
            structured_output=self.structured_output,
        )

    def fingerprint_part(self) -> list[Any]:
        annotations = None if self.annotations is None else self.annotations.model_dump(mode="json")
        icons = [icon.model_dump(mode="json") for icon in self.icons or ()]
        return [self.name, self.title, self.description, annotations, icons, self.meta, self.structured_output]


class DeferredTools(ToolManager):
    """A ToolManager whose tools are built on first lookup (then finished by `finish`), listed in order."""

    def __init__(self, finish: Callable[[Tool], None]) -> None:
        super().__init__()
        self._finish = finish
        self._registrations: dict[str, Registration] = {}
        self._unbuilt: set[str] = set()

    def defer(self, registration: Registration) -> None:
        if registration.name in self._registrations:
            raise ValueError(f"tool {registration.name!r} is registered twice")
        self._registrations[registration.name] = registration
        self._unbuilt.add(registration.name)

    @property
    def registrations(self) -> list[Registration]:
        """Every registration, built or not, in order."""
        return list(self._registrations.values())

    def get_tool(self, name: str) -> Tool | None:
        if name in self._unbuilt:
            tool = self._registrations[name].build()
            self._finish(tool)
            self._tools[name] = tool
            self._unbuilt.discard(name)
        return self._tools.get(name)

    def list_tools(self) -> list[Tool]:
        return [tool for name in self._registrations if (tool := self.get_tool(name)) is not None]

    def remove_tool(self, name: str) -> None:
        if self._registrations.pop(name, None) is None:
            raise ToolError(f"Unknown tool: {name}")
        self._unbuilt.discard(name)
        self._tools.pop(name, None)


def fingerprint(registrations: list[Registration], finishing: Any) -> str:
    """A digest of everything a `tools/list` answer is made from (see the module's docstring).

    `finishing` is what the server does to each built tool, as JSON-able values.
    """
    digest = hashlib.sha256()
    parts: list[Any] = [
        list(sys.version_info[:3]),
        # The libraries that make the schemas, by their files: importlib.metadata's lookup costs more.
        [_stamp(Path(str(module.__file__))) for module in (mcp, mcp_types, pydantic, pydantic_core)],
        [registration.fingerprint_part() for registration in registrations],
        finishing,
    ]
    digest.update(json.dumps(parts, sort_keys=True, default=repr).encode())
    for path in sorted(_PACKAGE.rglob("*.py")):
        digest.update(f"{path.relative_to(_PACKAGE)}:{_stamp(path)}\n".encode())
    return digest.hexdigest()[:32]


def _stamp(path: Path) -> str:
    stat = path.stat()
    return f"{path}:{stat.st_size}:{stat.st_mtime_ns}"


class ToolListCache:
    """Kept `tools/list` answers in `folder`, one file per fingerprint; failures only cost speed."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, key: str) -> Path:
        return self.folder / f"tools-{key}.json"

    def load(self, key: str) -> list[MCPTool] | None:
        try:
            kept = json.loads(self._path(key).read_text(encoding="utf-8"))
            if kept.get("fingerprint") != key:
                return None
            return [MCPTool.model_validate(item) for item in kept["tools"]]
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None  # missing, unreadable or damaged: build the tools instead

    def store(self, key: str, tools: list[MCPTool]) -> None:
        body = {"fingerprint": key, "tools": [tool.model_dump(mode="json", by_alias=True) for tool in tools]}
        target = self._path(key)
        partial = target.with_name(f"{target.name}.{os.getpid()}.part")
        try:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            partial.write_text(json.dumps(body), encoding="utf-8")
            partial.replace(target)
            kept = sorted(self.folder.glob("tools-*.json"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
            for old in kept[KEPT_ANSWERS:]:
                old.unlink(missing_ok=True)
        except OSError as exc:
            with contextlib.suppress(OSError):
                partial.unlink(missing_ok=True)
            log.debug("tools.cache_not_written", folder=str(self.folder), error=exc.strerror)
