"""The shared async client of Akool's API (no MCP imports here)."""

from akool_mcp.client.akool import AkoolClient
from akool_mcp.client.auth import ApiKey, ClientCredentials, Credentials, NoCredentials

__all__ = ["AkoolClient", "ApiKey", "ClientCredentials", "Credentials", "NoCredentials"]
