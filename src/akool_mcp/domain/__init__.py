"""What the tools do, in plain code: composing a video request, finding avatars, following a render.

No MCP imports here; the tools layer adapts these to the protocol.
"""
