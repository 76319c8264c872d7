"""The local renderer: compositions of colour, image and avatar layers to 4K talking MP4s.

Built-in avatars are drawn by the package; users' photos and videos are animated by warping
the mouth of the face found in them. Speech comes from :mod:`akool_mcp.speech`.
"""

from akool_mcp.render.builtin.catalog import builtin_avatar_png, builtin_thumbnail_png, list_builtin_avatars
from akool_mcp.render.composition import (
    AvatarAnalysis,
    AvatarLayer,
    Box,
    BuiltinAvatar,
    ColorLayer,
    Composition,
    ImageLayer,
    Layer,
    RenderError,
    RenderResult,
)
from akool_mcp.render.face.check import analyze_avatar_source
from akool_mcp.render.renderer import render

__all__ = [
    "AvatarAnalysis",
    "AvatarLayer",
    "Box",
    "BuiltinAvatar",
    "ColorLayer",
    "Composition",
    "ImageLayer",
    "Layer",
    "RenderError",
    "RenderResult",
    "analyze_avatar_source",
    "builtin_avatar_png",
    "builtin_thumbnail_png",
    "list_builtin_avatars",
    "render",
]
