"""The avatar layer in motion: the animator for a built-in, a photo or a video.

The static canvas is composited once; each animator owns a canvas rectangle around the head,
prepares what it can once (mouth shapes and eye states are drawn or warped once per state) and
each frame pastes the right states into that rectangle, moves the head and writes it as YUV.
"""

from __future__ import annotations

from akool_mcp.render.builtin.animator import BuiltinAnimator
from akool_mcp.render.composition import AvatarLayer, Cancelled, RenderError
from akool_mcp.render.face.photo import PhotoAnimator
from akool_mcp.render.face.video import VideoAnimator
from akool_mcp.render.region import Animator
from akool_mcp.speech import MouthTracks

__all__ = ["Animator", "make_animator"]


def make_animator(
    layer: AvatarLayer, canvas: tuple[int, int], fps: int, tracks: MouthTracks, cancelled: Cancelled | None = None
) -> Animator:
    sources = [s for s in (layer.builtin_id, layer.image_path, layer.video_path) if s is not None]
    if len(sources) != 1:
        raise RenderError("an avatar layer needs exactly one of builtin_id, image_path or video_path")
    if layer.box.width < 16 or layer.box.height < 16:
        raise RenderError(f"the avatar box must be at least 16x16 pixels; got {layer.box.width}x{layer.box.height}")
    if layer.builtin_id is not None:
        return BuiltinAnimator(layer.builtin_id, layer.box, canvas, fps, tracks)
    if layer.image_path is not None:
        return PhotoAnimator(layer.image_path, layer.box, canvas, fps, tracks)
    assert layer.video_path is not None
    return VideoAnimator(layer.video_path, layer.box, canvas, fps, tracks, cancelled)
