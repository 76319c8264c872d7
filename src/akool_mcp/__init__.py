"""akool-mcp: an MCP server for Akool talking-avatar videos, with an offline local engine."""

from importlib.metadata import PackageNotFoundError, version

try:
    # The one place the version is written is pyproject.toml; everything else reads it from here.
    __version__ = version("akool-mcp")
except PackageNotFoundError:  # a source tree on sys.path that was never installed
    __version__ = "0+unknown"


def user_agent(component: str | None = None) -> str:
    """The User-Agent of every request akool-mcp makes: `akool-mcp/<version>`, plus the part sending it."""
    return f"akool-mcp/{__version__}" + (f" ({component})" if component else "")


__all__ = ["__version__", "user_agent"]
