"""The MCP server: build_server(), its lifespan, transports and HTTP auth."""

from akool_mcp.server.app import build_server

__all__ = ["build_server"]
