"""The tool surface as a model sees it: compact schemas, dedented descriptions, strict arguments.

Unknown arguments are refused before anything is sent (on Akool a silently dropped `background_color`
is a billed, wrong video), and out-of-range values are explained in the tool's own words.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, cast

from mcp.server.context import ServerRequestContext
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.tools.base import Tool
from mcp.types import CallToolResult, Icon, ListResourcesResult, PaginatedRequestParams, Resource, ToolAnnotations
from mcp.types import Tool as MCPTool
from mcp_types import InputRequiredResult
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from akool_mcp.errors import AkoolError
from akool_mcp.server.toolcache import DeferredTools, Registration, ToolListCache, fingerprint
from akool_mcp.tools.resources import LISTED_AVATARS, LISTED_VIDEOS, avatar_resources, video_resources
from akool_mcp.tools.results import AvatarInfo
from akool_mcp.tools.state import AppState

_SHOWN = 60


def compact_schema(schema: Any, *, output: bool = False) -> Any:
    """The same JSON schema with less text: no generated titles, `null` unions folded, no null defaults.

    Output schemas also lose descriptions, defaults and `required` (every field of a result is always
    present): they check results, and the model reads the values. Optional inputs are typed without
    their `null`: leaving one out is how a model says "none".
    """
    if isinstance(schema, list):
        return [compact_schema(item, output=output) for item in cast(list[Any], schema)]
    if not isinstance(schema, dict):
        return schema
    source = cast(dict[str, Any], schema)
    out: dict[str, Any] = {}
    for key, value in source.items():
        if key == "title" and isinstance(value, str):
            continue
        if key == "default" and (value is None or output):
            continue
        if key in ("description", "required") and output:
            continue
        if key == "type" and value == "string" and "enum" in source:
            continue  # the enum says it
        if key in ("properties", "$defs") and isinstance(value, dict):
            out[key] = {name: compact_schema(sub, output=output) for name, sub in cast(dict[str, Any], value).items()}
        else:
            out[key] = compact_schema(value, output=output)
    options = out.get("anyOf")
    if isinstance(options, list) and len(cast(list[Any], options)) == 2:
        first, second = cast(list[dict[str, Any]], options)
        if second == {"type": "null"} and isinstance(first.get("type"), str):
            del out["anyOf"]
            out = {**first, **out, "type": [first["type"], "null"] if output else first["type"]}
    return out


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."


def explain(tool: str, error: ErrorDetails, properties: dict[str, Any]) -> str:
    """One validation error in the tool's words: the parameter, what was wrong, what it accepts."""
    loc = [str(part) for part in error["loc"]]
    name = loc[0] if loc else "arguments"
    where = ".".join(loc) or name
    schema = cast(dict[str, Any], properties.get(name, {}))
    about = schema.get("description")
    hint = f" ({about.rstrip('.')})" if isinstance(about, str) and len(loc) == 1 else ""
    kind = error["type"]
    ctx = error.get("ctx") or {}
    value = error.get("input")
    if kind == "missing":
        return f"{where} is required{hint}."
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        return f"{where} is {_shown(value)}; it must be {_limits(schema, ctx)}{hint}."
    if kind in ("string_too_long", "too_long"):
        if isinstance(value, str):
            return f"{where} is {len(value)} characters long; it may be at most {ctx.get('max_length')}{hint}."
        return f"{where} has too many items; it may have at most {ctx.get('max_length')}{hint}."
    if kind in ("string_too_short", "too_short"):
        return f"{where} is empty or too short; give at least {ctx.get('min_length')}{hint}."
    if kind == "literal_error":
        return f"{where} is {_shown(value)}; it must be one of {ctx.get('expected')}."
    expected = {"string_type": "text", "int_parsing": "a whole number", "float_parsing": "a number"}
    wanted = expected.get(kind, kind.replace("_", " "))
    return f"{where} is {_shown(value)}; it must be {wanted}{hint}."


def _limits(schema: dict[str, Any], ctx: dict[str, Any]) -> str:
    """The whole allowed range, from the schema (both ends) or the failed constraint (one end)."""
    words = {
        "minimum": "at least",
        "exclusiveMinimum": "more than",
        "maximum": "at most",
        "exclusiveMaximum": "less than",
    }
    parts = [f"{word} {schema[key]}" for key, word in words.items() if key in schema]
    if not parts:
        words_ctx = {"ge": "at least", "gt": "more than", "le": "at most", "lt": "less than"}
        parts = [f"{word} {ctx[key]}" for key, word in words_ctx.items() if key in ctx]
    return " and ".join(parts)


class AkoolServer(MCPServer[AppState]):
    """The SDK's server with our tool surface: tools built on first use, and a kept `tools/list` answer.

    `tool_cache` keeps that answer between starts (see `toolcache`); without it tools are listed by
    building them, as the SDK does.
    """

    def __init__(self, *args: Any, tool_cache: ToolListCache | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deferred = DeferredTools(self._finish)
        self._tool_manager = self._deferred
        self._tool_cache = tool_cache
        self._descriptions: dict[str, str] = {}
        self._ui: dict[str, str] = {}
        self._listed: list[MCPTool] | None = None  # this process's answer, until a tool or its finishing changes

    def add_tool(
        self,
        fn: Callable[..., Any],
        name: str | None = None,
        title: str | None = None,
        description: str | None = None,
        annotations: ToolAnnotations | None = None,
        icons: list[Icon] | None = None,
        meta: dict[str, Any] | None = None,
        structured_output: bool | None = None,
    ) -> None:
        self._deferred.defer(
            Registration(fn, name or fn.__name__, title, description, annotations, icons, meta, structured_output)
        )
        self._listed = None

    def finish_tools(self, descriptions: dict[str, str] | None = None) -> None:
        """Every tool gets compact schemas and a dedented description when it is built.

        `descriptions` rewrites parameter descriptions that depend on how the server runs (by name).
        """
        self._descriptions = dict(descriptions or {})
        self._listed = None

    def bind_ui(self, names: tuple[str, ...], resource_uri: str) -> None:
        """Point these tools at an MCP Apps view (`_meta.ui.resourceUri`); their results stay as they are."""
        registered = {registration.name for registration in self._deferred.registrations}
        for name in names:
            if name not in registered:
                raise ValueError(f"no tool {name!r} to bind to {resource_uri}")
            self._ui[name] = resource_uri
        self._listed = None

    def _finish(self, tool: Tool) -> None:
        properties = cast(dict[str, Any], tool.parameters.get("properties", {}))
        for name, text in self._descriptions.items():
            if name in properties:
                properties[name]["description"] = text
        tool.parameters = compact_schema(tool.parameters)
        metadata = tool.fn_metadata
        if metadata.output_schema is not None:
            metadata.output_schema = compact_schema(metadata.output_schema, output=True)
        if tool.description:
            tool.description = inspect.cleandoc(tool.description)
        if tool.name in self._ui:
            tool.meta = {**(tool.meta or {}), "ui": {"resourceUri": self._ui[tool.name]}}

    def remove_tool(self, name: str) -> None:
        super().remove_tool(name)
        self._listed = None

    async def list_tools(self) -> list[MCPTool]:
        if self._tool_cache is None:
            return await super().list_tools()
        if self._listed is None:  # the kept file is read (and the fingerprint taken) once per process
            finishing = [sorted(self._descriptions.items()), sorted(self._ui.items())]
            key = fingerprint(self._deferred.registrations, finishing)
            self._listed = self._tool_cache.load(key)
            if self._listed is None:
                self._listed = await super().list_tools()
                self._tool_cache.store(key, self._listed)
        return list(self._listed)

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[AppState, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        tool = self._tool_manager.get_tool(name)
        if tool is not None:
            properties = cast(dict[str, Any], tool.parameters.get("properties", {}))
            unknown = sorted(set(arguments) - set(properties))
            if unknown:
                valid = ", ".join(properties) or "none"
                raise ToolError(
                    f"{name} does not take {', '.join(unknown)}; nothing was sent. Its parameters are: {valid}."
                )
            try:
                tool.fn_metadata.validate_arguments(arguments)
            except ValidationError as exc:
                reasons = [explain(name, error, properties) for error in exc.errors()[:3]]
                raise ToolError(" ".join(reasons) + " Nothing was sent.") from None
        return await super().call_tool(name, arguments, context)

    async def _handle_list_resources(
        self, ctx: ServerRequestContext[AppState], params: PaginatedRequestParams | None
    ) -> ListResourcesResult:
        """The videos made here (newest first) and the first avatars, then the static ones (the player)."""
        listed = await super()._handle_list_resources(ctx, params)
        state = ctx.lifespan_context
        extra: list[Resource] = []
        if state.library is not None:
            extra += video_resources(state.library.registry.newest(limit=LISTED_VIDEOS))
        try:
            page = await (await state.client()).list_avatars(page=1, size=LISTED_AVATARS)
        except AkoolError:
            page = None  # the videos are still worth listing when the backend is down
        if page is not None:
            extra += avatar_resources([AvatarInfo.from_wire(a) for a in page.result])
        return ListResourcesResult(resources=[*extra, *listed.resources])
