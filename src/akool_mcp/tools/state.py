"""What every tool call gets from the server's lifespan."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, ParamSpec, TypeVar

import httpx2
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.resolve import Resolve
from mcp.types import ToolAnnotations

from akool_mcp.blobs import BlobStore
from akool_mcp.client import AkoolClient
from akool_mcp.client.http import HttpSource
from akool_mcp.clock import Clock, SystemClock
from akool_mcp.domain.keeping import VideoKeeper
from akool_mcp.domain.ledger import PaidLedger
from akool_mcp.domain.links import Links
from akool_mcp.domain.registry import Registry
from akool_mcp.domain.requests import tool_words
from akool_mcp.domain.script_videos import ScriptBook, Scripts
from akool_mcp.domain.video_library import VideoLibrary
from akool_mcp.errors import AkoolError
from akool_mcp.log import get_logger
from akool_mcp.models import ContractViolation

log = get_logger(__name__)

# Reads change nothing and may be repeated; creates cost money and must not be repeated blindly.
READ_ONLY = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=True)
PAID_CREATE = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=True)
LOCAL_READ = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)
LOCAL_WRITE = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=False)
# Asks the backend, and keeps what is finished on this machine (the MP4 and its poster): not read-only.
READ_AND_KEEP = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=True
)
LOCAL_DELETE = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=False)


async def _no_client() -> AkoolClient:
    raise RuntimeError("no backend")


@dataclass
class AppState:
    backend: Literal["akool", "local"]
    # Resolves once the backend is open (it opens in the background so start-up does not wait for it).
    open_client: Callable[[], Awaitable[AkoolClient]] = _no_client
    allow_local_paths: bool = False
    clock: Clock = field(default_factory=SystemClock)
    library: VideoLibrary | None = None
    links: Links | None = None
    # Fetches media the server itself reads (a preview's background or avatar picture): guarded against
    # private addresses like the engine's own fetches, and never authenticated.
    preview_http: httpx2.AsyncClient | None = None
    allow_private_urls: bool = False
    # How long a status check may spend saving a finished video before answering (clients cut calls at ~60 s).
    save_budget: float = 55.0
    # Paid requests sent to Akool (none twice), and whether to ask the user first (AKOOL_CONFIRM_SPEND).
    ledger: PaidLedger | None = None
    confirm_spend: Literal["auto", "always", "never"] = "auto"
    # Scripts of scenes made into one video (see domain.scripts).
    scripts: Scripts | None = None

    async def client(self) -> AkoolClient:
        return await self.open_client()

    @property
    def poll_max(self) -> float:
        """A local render is a few seconds away and costs nothing to ask about; Akool's cloud is polled gently."""
        return 1.0 if self.backend == "local" else 5.0


AppContext = Context[AppState, Any]


def state_of(ctx: AppContext) -> AppState:
    return ctx.request_context.lifespan_context


# Collaborators handed to the tools by the SDK's dependency injection; they never reach the input schema.
def _state(ctx: AppContext) -> AppState:
    return state_of(ctx)


async def _client(state: Annotated[AppState, Resolve(_state)]) -> AkoolClient:
    try:
        return await state.client()
    except AkoolError as exc:  # resolvers run before the tool body and its error boundary
        raise ToolError(str(exc)) from exc


def _library(state: Annotated[AppState, Resolve(_state)]) -> VideoLibrary:
    if state.library is None:
        raise RuntimeError("the video library is not open")
    return state.library


def _links(state: Annotated[AppState, Resolve(_state)]) -> Links:
    if state.links is None:
        raise RuntimeError("no links")
    return state.links


StateDep = Annotated[AppState, Resolve(_state)]
ClientDep = Annotated[AkoolClient, Resolve(_client)]
LibraryDep = Annotated[VideoLibrary, Resolve(_library)]
LinksDep = Annotated[Links, Resolve(_links)]


def open_library(
    registry: Registry,
    links: Links,
    http: HttpSource,
    *,
    max_bytes: int,
    clock: Clock,
    shared: BlobStore | None = None,
) -> VideoLibrary:
    keeper = VideoKeeper(links.output_dir, http, max_bytes=max_bytes, sleep=clock.sleep)
    return VideoLibrary(registry, keeper, links.poster_dir, shared)


def open_scripts(library: VideoLibrary, book: ScriptBook, http: HttpSource, *, max_bytes: int, clock: Clock) -> Scripts:
    """Scripts kept in `book`; their scenes' files downloaded or linked into its scene store."""
    scenes = VideoKeeper(book.scenes, http, max_bytes=max_bytes, sleep=clock.sleep, private=True)
    return Scripts(book=book, library=library, keeper=scenes, clock=clock)


P = ParamSpec("P")
R = TypeVar("R")


def model_errors(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """The error boundary: what the model must act on becomes a ToolError with that message.

    Anything else is left to the SDK, which logs the traceback and shows the model a generic line.
    """

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await fn(*args, **kwargs)
        except AkoolError as exc:
            log.info("tool.error", tool=fn.__name__, error=type(exc).__name__, code=exc.code)
            raise ToolError(tool_words(str(exc))) from exc
        except ContractViolation as exc:
            raise ToolError(tool_words(str(exc))) from exc

    return wrapper
