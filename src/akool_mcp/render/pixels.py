# OpenCV's stubs return untyped arrays: relax the unknown-type checks here only.
# pyright: reportUnknownArgumentType=false
"""Pixels as the renderer keeps them: premultiplied BGRA (or BGR canvases) uint8, and compositing them."""

from __future__ import annotations

from typing import Any, cast

import cv2
import numpy as np
import numpy.typing as npt

Image = npt.NDArray[np.uint8]
Mask = npt.NDArray[np.floating[Any]]


def downsample(image: Image, factor: int) -> Image:
    if factor == 1:
        return image
    h, w = image.shape[:2]
    return cast(Image, cv2.resize(image, (w // factor, h // factor), interpolation=cv2.INTER_AREA))


def over(dst: Image, src: Image) -> None:
    """Premultiplied ``src`` over premultiplied ``dst`` (same size; dst BGR or BGRA), in place."""
    inv = np.ascontiguousarray(255 - src[..., 3])
    channels = dst.shape[2]
    kept = cv2.multiply(np.ascontiguousarray(dst), cv2.merge([inv] * channels), scale=1 / 255)
    dst[...] = cv2.add(np.ascontiguousarray(src[..., :channels]), kept)


def unpremultiply(image: Image) -> Image:
    """Premultiplied BGRA to straight-alpha BGRA (for PNG export)."""
    alpha = image[..., 3:4].astype(np.float32)
    safe = np.where(alpha > 0, alpha, 1.0)
    rgb = np.clip(image[..., :3].astype(np.float32) * 255.0 / safe + 0.5, 0, 255)
    return np.concatenate([rgb.astype(np.uint8), image[..., 3:4]], axis=2)
