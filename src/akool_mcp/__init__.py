"""akool-mcp: an MCP server for Akool talking-avatar videos, with an offline local engine."""

__version__ = "0.1.0"
