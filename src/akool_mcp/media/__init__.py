"""Untrusted media, handled the same way by both backends: the guarded transport, fetching, image headers,
and the first frame of a layout (no MCP here)."""
