"""From the contract's elements to the renderer's layers: boxes, layer order, sources."""

from __future__ import annotations

from pathlib import Path

from akool_mcp.models import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, Element, parse_hex_colour
from akool_mcp.render import AvatarLayer, Box, ColorLayer, ImageLayer, Layer


def element_box(el: Element, natural: tuple[int, int] | None = None) -> Box:
    """Offsets are the element's centre on the canvas (every Akool example reads so); scale multiplies size."""
    width = el.width if el.width is not None else (natural[0] if natural else 0)
    height = el.height if el.height is not None else (natural[1] if natural else 0)
    w = max(1, round(width * (el.scale_x or 1)))
    h = max(1, round(height * (el.scale_y or 1)))
    cx, cy = el.offset_x or 0, el.offset_y or 0
    return Box(left=round(cx - w / 2), top=round(cy - h / 2), width=w, height=h)


def draw_order(elements: list[Element]) -> list[int]:
    """Indices of the visual elements, bottom first: by layer_number, then list order."""
    visual = [i for i, el in enumerate(elements) if el.type in ("image", "avatar")]
    return sorted(visual, key=lambda i: (elements[i].layer_number or 0, i))


def image_size(path: Path) -> tuple[int, int]:
    import cv2

    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise ValueError(f"cannot read image {path.name}")
    return int(image.shape[1]), int(image.shape[0])


def build_layers(
    elements: list[Element], files: dict[int, Path], *, avatar_media: Path | None, builtin_id: str | None
) -> list[Layer]:
    """`files` maps element indices to fetched local files; the avatar comes from a URL, an upload or a built-in."""
    layers: list[Layer] = []
    for i in draw_order(elements):
        el = elements[i]
        if el.type == "image":
            assert el.url is not None
            if el.url.startswith("#"):
                layers.append(ColorLayer(rgba=parse_hex_colour(el.url), box=element_box(el)))
            else:
                path = files[i]
                natural = image_size(path) if el.width is None or el.height is None else None
                layers.append(ImageLayer(path=path, box=element_box(el, natural)))
            continue
        box = element_box(el)
        media = files.get(i, avatar_media)
        if media is None:
            layers.append(AvatarLayer(box=box, builtin_id=builtin_id))
        elif media.suffix.lower() in VIDEO_EXTENSIONS:
            layers.append(AvatarLayer(box=box, video_path=media))
        elif media.suffix.lower() in IMAGE_EXTENSIONS:
            layers.append(AvatarLayer(box=box, image_path=media))
        else:
            raise ValueError(f"unsupported avatar file {media.name}")
    return layers
