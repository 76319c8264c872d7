"""The tool surface as a model sees it: compact schemas, dedented descriptions, strict arguments.

Unknown arguments are refused before anything is sent (on Akool a silently dropped `background_color`
is a billed, wrong video), and out-of-range values are explained in the tool's own words.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from typing import Any, cast

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, Icon, Resource, ToolAnnotations
from mcp.types import Tool as MCPTool
from mcp_types import InputRequiredResult
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from akool_mcp.errors import AkoolError
from akool_mcp.tools.resources import LISTED_AVATARS, LISTED_VIDEOS, avatar_resources, video_resources
from akool_mcp.tools.results import AvatarInfo
from akool_mcp.tools.state import AppState

_SHOWN = 60
_UNKNOWN_NAMED = 5  # unknown arguments named in a refusal; the rest are counted (a request may send thousands)


def compact_schema(schema: Any, *, output: bool = False) -> Any:
    """The same JSON schema with less text: no generated titles, `null` unions folded, no null defaults.

    Output schemas also lose descriptions, defaults and `required`: they check results, and the model reads
    the values. Optional inputs are typed without their `null`: leaving one out is how a model says "none";
    an output field without a value is left out of the result likewise.
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
        # An optional input is left out to say "none"; an output field with no value is left out of the result
        # (see tools.results.Result): neither needs `null`, and one `type` per field is what every client reads.
        if second == {"type": "null"} and (isinstance(first.get("type"), str) or (output and "type" not in first)):
            del out["anyOf"]
            out = {**first, **out}
    return out


def inline_single_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """An output schema with each `$defs` entry used once written in place: shorter, and easier on clients."""
    defs = cast(dict[str, Any], schema.get("$defs") or {})
    text = json.dumps(schema)
    once = {name for name in defs if text.count(f'"#/$defs/{name}"') == 1}
    if not once:
        return schema

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            mapping = cast(dict[str, Any], node)
            ref = mapping.get("$ref")
            if isinstance(ref, str) and ref.removeprefix("#/$defs/") in once and len(mapping) == 1:
                return walk(defs[ref.removeprefix("#/$defs/")])
            return {key: walk(value) for key, value in mapping.items() if not (key == "$defs" and node is schema)}
        if isinstance(node, list):
            return [walk(item) for item in cast(list[Any], node)]
        return node

    inlined = cast(dict[str, Any], walk(schema))
    rest = {name: walk(value) for name, value in defs.items() if name not in once}
    return {**inlined, "$defs": rest} if rest else inlined


# What the spec says an absent annotation means: the same said by leaving it out.
_ANNOTATION_DEFAULTS = {"read_only_hint": False, "destructive_hint": True, "idempotent_hint": False,
                        "open_world_hint": True}  # fmt: skip


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
    """The SDK's server with our tool surface, through its public methods only.

    `tools/list` gives each tool compact schemas, a dedented description, parameter descriptions that
    depend on how the server runs, and its MCP Apps view; the answer is worked out once per process (and
    again when a tool is added or removed). A call is refused before anything runs when it names an
    argument the tool does not take, and the SDK's own argument errors are told in the tool's words.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, middleware=[*kwargs.pop("middleware", ()), _list_made_resources], **kwargs)
        self._descriptions: dict[str, str] = {}
        self._omitted: dict[str, tuple[str, ...]] = {}
        self._ui: dict[str, str] = {}
        self._listed: dict[str, MCPTool] | None = None

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
        super().add_tool(fn, name, title, description, annotations, icons, meta, structured_output)
        self._listed = None

    def remove_tool(self, name: str) -> None:
        super().remove_tool(name)
        self._listed = None

    def describe_parameters(self, descriptions: dict[str, str]) -> None:
        """Rewrite parameter descriptions that depend on how the server runs (by parameter name)."""
        self._descriptions = dict(descriptions)
        self._listed = None

    def omit_parameters(self, omitted: dict[str, tuple[str, ...]]) -> None:
        """Leave these optional parameters out of these tools (what one backend has no use for); a call that sends
        one is then refused like any unknown argument."""
        self._omitted = dict(omitted)
        self._listed = None

    def bind_ui(self, names: tuple[str, ...], resource_uri: str) -> None:
        """Point these tools at an MCP Apps view (`_meta.ui.resourceUri`); their results stay as they are."""
        self._ui.update(dict.fromkeys(names, resource_uri))
        self._listed = None

    async def list_tools(self) -> list[MCPTool]:
        if self._listed is None:
            listed = {tool.name: self._finish(tool) for tool in await super().list_tools()}
            missing = set(self._ui) - set(listed)
            if missing:
                raise ValueError(f"no tool {sorted(missing)[0]!r} to bind to {self._ui[sorted(missing)[0]]}")
            self._listed = listed
        return list(self._listed.values())

    def _finish(self, tool: MCPTool) -> MCPTool:
        parameters = dict(tool.input_schema)
        properties = cast(dict[str, Any], parameters.get("properties", {}))
        omitted = self._omitted.get(tool.name, ())
        if omitted:
            properties = {name: schema for name, schema in properties.items() if name not in omitted}
            parameters["properties"] = properties
        rewritten = {name: text for name, text in self._descriptions.items() if name in properties}
        if rewritten:
            parameters["properties"] = {
                name: {**schema, "description": rewritten[name]} if name in rewritten else schema
                for name, schema in properties.items()
            }
        meta = tool.meta
        if tool.name in self._ui:
            meta = {**(meta or {}), "ui": {"resourceUri": self._ui[tool.name]}}
        output = tool.output_schema
        annotations = tool.annotations
        if annotations is not None:
            kept = {
                k: v for k, v in annotations.model_dump().items() if v is not None and _ANNOTATION_DEFAULTS.get(k) != v
            }
            annotations = ToolAnnotations.model_validate(kept)
        return tool.model_copy(
            update={
                "input_schema": compact_schema(parameters),
                "output_schema": None if output is None else inline_single_refs(compact_schema(output, output=True)),
                "description": inspect.cleandoc(tool.description) if tool.description else tool.description,
                "meta": meta,
                "annotations": annotations,
            }
        )

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[AppState, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        tool = next((listed for listed in await self.list_tools() if listed.name == name), None)
        properties = cast(dict[str, Any], tool.input_schema.get("properties", {})) if tool is not None else {}
        if tool is not None:
            unknown = sorted(set(arguments) - set(properties))
            if unknown:
                raise ToolError(refuse_unknown(name, unknown, list(properties)))
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            if isinstance(exc.__cause__, ValidationError):  # the SDK's check of the arguments, before the tool ran
                reasons = [explain(name, error, properties) for error in exc.__cause__.errors()[:3]]
                raise ToolError(" ".join(reasons) + " Nothing was sent.") from None
            raise


def refuse_unknown(tool: str, unknown: list[str], valid: list[str]) -> str:
    """Names the first few unknown arguments and counts the rest: the error stays short whatever was sent."""
    named = ", ".join(_shown_name(name) for name in unknown[:_UNKNOWN_NAMED])
    more = f" and {len(unknown) - _UNKNOWN_NAMED} more" if len(unknown) > _UNKNOWN_NAMED else ""
    return f"{tool} does not take {named}{more}; nothing was sent. Its parameters are: {', '.join(valid) or 'none'}."


def _shown_name(name: str) -> str:
    return name if len(name) <= _SHOWN else name[: _SHOWN - 3] + "..."


async def _list_made_resources(ctx: ServerRequestContext[AppState, Any], call_next: CallNext) -> HandlerResult:
    """`resources/list`: the videos made here (newest first) and the first avatars, then the static ones."""
    result = await call_next(ctx)
    if ctx.method != "resources/list" or not isinstance(result, dict):
        return result
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
    made = [resource.model_dump(mode="json", by_alias=True, exclude_none=True) for resource in extra]
    return {**result, "resources": [*made, *cast(list[Any], result.get("resources", []))]}
