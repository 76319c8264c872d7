"""Where a video frame's mouth is really open: the dark gap between the lips, read from its pixels.

The face mesh places the inner lips well on a closed or slightly parted mouth, but on a mouth
open wide it puts the lower inner lip part way down the dark inside (seen on the engine's own
render of the astronaut talking: a third of the gap lay below the points). Settling such a frame
on the points alone leaves that part of the inside below the closed lips, a dark line with a
drop under it. So along each inner-lip column the dark run around the mesh's lower lip point is
measured, and the rig takes its top as the upper teeth's (or lip's) edge and its bottom as the
lower lip's inner edge.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import cv2
import numpy as np
import numpy.typing as npt

from akool_mcp.render.face import landmarks as lm
from akool_mcp.render.layers import Rect, even_rect
from akool_mcp.render.pixels import Image
from akool_mcp.render.yuv import I420

Floats = npt.NDArray[np.float32]

# A pixel this much darker than the lips' outline (their median brightness) is inside the mouth:
# well below lips and skin (seen 150-230 on the astronaut) and above the inside (20-75). The
# inside's soft edge reaches up to the second level, where it touches the dark (hysteresis):
# the first alone leaves a darker rim, the second alone takes a lip's or tooth's shading for an
# opening.
_DARK = 0.5
_EDGE = 0.7
_STEP_PX = 0.25  # sampling step along a column
# A dark run shorter than this (px, and eye widths) is the seam of closed lips or a shadow, not
# an opening: closed lips keep their own seam.
_MIN_RUN_PX = 1.0
_MIN_RUN = 0.03
_LOOK = 0.4  # how far around the lips' outline the pixels are read (eye widths)
_MIDDLE_COLUMNS = 3  # of the five middle inner-lip columns, this many must be dark: an opening
_REACH = 0.08  # the dark inside may reach this far beyond the lips' outline (eye widths)
_BAND_SOFT = 0.01  # the gap's soft edges, beyond the measured run (eye widths, plus a pixel)
_FOOT_REACH = 0.15  # how far under the gap the lower lip's lower edge is looked for (eye widths)
_FOOT_CONTRAST = 4.0  # lips this much redder (Cr) than the skin under them show their edge
_FOOT_EDGE_PX = 1.5  # the lip's edge is looked for as a fall in redness over this many pixels
# The lip's and the skin's redness are the medians of the first and the last _FOOT_ENDS-th of
# the samples under the gap (a column with fewer than _FOOT_ENDS edge lengths of them is left
# alone); the edge is where the redness falls by at least _FOOT_FALL of _FOOT_CONTRAST.
_FOOT_ENDS = 8
_FOOT_FALL = 0.5
# The search starts this far above the upper inner lip (px); the region the inside may cover
# reaches this far under the dark run found (px).
_ABOVE_LIP_PX = 1.0
_UNDER_RUN_PX = 2.0
_BRIDGED_COLUMNS = 2  # gaps of up to this many columns between measured ones are filled in


@dataclass(frozen=True)
class Opening:
    """The dark gap per inner-lip column (``INNER_LIP_LOWER[1:-1]``), in picture pixels along
    the face's downward axis: ``top`` and ``bottom`` offsets from the mesh's lower inner lip
    point (negative above it); NaN where the mesh's point is not on a dark gap."""

    top: Floats
    bottom: Floats
    dark: float  # brightness below which a pixel by the inside found belongs to it
    region: Floats  # (n, 2) outline around the lips (and the lower lip's edge below them), x y
    seeds: Floats  # (k, 2) the middles of the dark runs found, x y
    unit: float  # the face's eye distance (px)
    band: Floats  # (m, 2) outline of the gap as measured column by column, corner to corner, x y
    # Per inner-lip column, where the lower lip ends and the skin under it begins, as an offset
    # like ``bottom`` (NaN: not seen). The mesh's outer lip points trail a mouth open wide.
    foot: Floats

    @property
    def found(self) -> bool:
        return bool(np.any(~np.isnan(self.bottom)))


def find_opening(picture: Image | I420, face: lm.Face) -> Opening:
    """The dark inside of the mouth around the mesh's lower inner lip, column by column."""
    p = face.points
    across = p[lm.EYE_LEFT_OUTER] - p[lm.EYE_RIGHT_OUTER]
    ex = across / max(float(np.linalg.norm(across)), 1e-6)
    down = np.array([-ex[1], ex[0]], np.float32)
    outline = p[list(lm.OUTER_LIP_UPPER + lm.OUTER_LIP_LOWER)]
    # Only the mouth's surroundings are looked at (a 4K frame's grey copy would cost more than
    # all the rest); every search below stays well inside this margin.
    margin = _LOOK * float(np.linalg.norm(across))
    x0, y0 = (np.floor(outline.min(axis=0) - margin).astype(int)).clip(0)
    height, width = (picture.height, picture.width) if isinstance(picture, I420) else picture.shape[:2]
    x1 = max(x0 + 1, min(width, int(np.ceil(outline[:, 0].max() + margin))))
    y1 = max(y0 + 1, min(height, int(np.ceil(outline[:, 1].max() + margin))))
    gray, red = _gray_and_red(picture, (int(x0), int(y0), x1, y1))
    corner = np.array([x0, y0], np.float32)
    reference = float(np.median(_sample(gray, outline - corner)))
    dark, edge = _DARK * reference, _EDGE * reference
    lower = p[list(lm.INNER_LIP_LOWER[1:-1])]
    upper = p[list(lm.INNER_LIP_UPPER[1:-1])]
    outer = p[list(lm.OUTER_LIP_LOWER[1:-1])]
    # Search from the upper inner lip down to a lip's thickness below the lower lip's outline.
    above = np.maximum((lower - upper) @ down, 0.0) + _ABOVE_LIP_PX
    thick = np.maximum((outer - lower) @ down, 1.0)
    below = (outer - lower) @ down + thick
    top = np.full(len(lower), np.nan, np.float32)
    bottom = np.full(len(lower), np.nan, np.float32)
    unit = float(np.linalg.norm(across))
    shortest = max(_MIN_RUN_PX, _MIN_RUN * unit)
    for i in range(len(lower)):
        offsets = np.arange(-float(above[i]), float(below[i]) + _STEP_PX, _STEP_PX, dtype=np.float32)
        luma = _sample(gray, lower[i] + offsets[:, None] * down - corner)
        found = _nearest_run(offsets, luma, dark, edge)
        if found is not None and found[1] - found[0] >= shortest:
            top[i], bottom[i] = found
    # Neighbouring columns agree unless the pixels mislead one (a tooth's gap, a highlight):
    # a median of three keeps the edges smooth across the mouth.
    top, bottom = _bridged(_median3(top)), _bridged(_median3(bottom))
    # An open mouth is dark in its middle; dark at the corners alone is a smile's shadow.
    middle_found = int(np.count_nonzero(~np.isnan(bottom[2:-2])))
    if middle_found < _MIDDLE_COLUMNS:
        top[:], bottom[:] = np.nan, np.nan
    # The region the inside may cover: the outer upper lip, and below it the outer lower lip
    # moved down by the search's reach, or to just under the dark run found.
    reach = np.maximum(below, np.nan_to_num(bottom, nan=0.0) + _UNDER_RUN_PX)
    lowest = p[list(lm.OUTER_LIP_LOWER)].copy()
    lowest[1:-1] = lower + reach[:, None] * down[None, :]
    # Its top: a little above the upper lip's outline (the mesh's points trail a moving mouth).
    # Only the dark blob holding the runs found is filled, so the lip's own shadows stay.
    highest = p[list(lm.OUTER_LIP_UPPER)] - _REACH * unit * down[None, :]
    region = np.vstack([highest, lowest[::-1]]).astype(np.float32)
    middle = np.nan_to_num((top + bottom) / 2)[:, None] * down[None, :]
    seeds = (lower + middle)[~np.isnan(bottom)].astype(np.float32)
    foot = _lip_foot(red, lower - corner, bottom, below.astype(np.float32), down, unit)
    return Opening(top, bottom, edge, region, seeds, unit, _band(p, lower, top, lowest, down, unit), foot)


def _lip_foot(red: Image, lower: Floats, bottom: Floats, below: Floats, down: Floats, unit: float) -> Floats:
    """Per column with a gap, where the lower lip under it ends: going down from the gap, the
    steepest fall of the redness from the lip's to the skin's. (Not where it is halfway: the
    skin under a lip is often a little red itself, fading slowly over the chin.)"""
    foot = np.full(len(lower), np.nan, np.float32)
    near = max(1, round(_FOOT_EDGE_PX / _STEP_PX))
    for i in np.flatnonzero(~np.isnan(bottom)).tolist():
        start = float(bottom[i]) + 1.0
        offsets = np.arange(start, start + max(float(below[i]), _FOOT_REACH * unit), _STEP_PX, dtype=np.float32)
        if len(offsets) < _FOOT_ENDS * near:
            continue
        redness = np.convolve(_sample(red, lower[i] + offsets[:, None] * down), np.ones(near) / near, mode="same")
        k = max(2, len(offsets) // _FOOT_ENDS)
        if float(np.median(redness[:k])) - float(np.median(redness[-k:])) < _FOOT_CONTRAST:
            continue  # no lip red to tell from the skin's (a pale lip, a beard)
        # The edge lies within the first half of the reach, and falls by a good part of that.
        half = len(offsets) // 2
        fall = redness[: half - near] - redness[near:half]
        j = int(np.argmax(fall))
        if float(fall[j]) >= _FOOT_FALL * _FOOT_CONTRAST:
            foot[i] = float(offsets[j] + offsets[j + near]) / 2
    return _bridged(_median3(foot))


def _band(p: Floats, lower: Floats, top: Floats, lowest: Floats, down: Floats, unit: float) -> Floats:
    """Where the inside may be covered: under the gap's top as measured column by column (a
    little higher for its soft edge), running out to the lips' outer corners, down to the
    region's foot. A smile's shadow running on up past the corners is left alone."""
    found = ~np.isnan(top)
    if not found.any():
        return np.zeros((0, 2), np.float32)
    soft = _BAND_SOFT * unit + 1.0
    upper_edge = lower[found] + (top[found] - soft)[:, None] * down[None, :]
    left, right = p[lm.OUTER_LIP_LOWER[0]], p[lm.OUTER_LIP_LOWER[-1]]
    return np.vstack([[left], upper_edge, [right], lowest[::-1]]).astype(np.float32)


def _gray_and_red(picture: Image | I420, rect: Rect) -> tuple[Image, Image]:
    """The grey and the redness (Cr) of ``rect`` of a BGR or YUV picture (a YUV one is
    converted only there)."""
    x0, y0, x1, y1 = rect
    if isinstance(picture, I420):
        even = even_rect(rect, picture.width, picture.height)
        crop = picture.bgr(even)[y0 - even[1] : y1 - even[1], x0 - even[0] : x1 - even[0]]
    else:
        crop = picture[y0:y1, x0:x1, :3]
    crop = np.ascontiguousarray(crop)
    gray = cast(Image, cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY))
    red = cast(Image, np.ascontiguousarray(cv2.cvtColor(crop, cv2.COLOR_BGR2YCrCb)[..., 1]))
    return gray, red


def fill_opening(patch: Image, opening: Opening, origin: tuple[int, int]) -> None:
    """Cover the dark inside of an open mouth in ``patch`` (BGR, in place) with the lips' own
    pixels: in each column the upper half of the dark run is what lies just above it (the teeth
    or upper lip) mirrored, the lower half what lies just below it (the lower lip) mirrored.

    The settled warp shuts the gap, but a resampled pixel at the seam still reads a little of
    what was between the lips; this way what it reads is lip, not a dark line.
    ``origin``: the patch's top-left corner in the picture ``opening`` was measured on.
    """
    if not opening.found:
        return
    h, w = patch.shape[:2]
    region = opening.region - np.array(origin, np.float32)
    x0, y0 = np.floor(region.min(axis=0)).astype(int).clip(0)
    x1 = min(w, int(np.ceil(region[:, 0].max())) + 1)
    y1 = min(h, int(np.ceil(region[:, 1].max())) + 1)
    if x1 - x0 < 2 or y1 - y0 < 3:
        return
    box = patch[y0:y1, x0:x1]
    inside = np.zeros(box.shape[:2], np.uint8)
    shifted = np.round((region - np.array([x0, y0], np.float32)) * 16).astype(np.int32)
    cv2.fillPoly(inside, [shifted], 1, cv2.LINE_8, shift=4)
    # The inside reaches into the corners a little beyond the outline the mesh gives.
    grow = max(1, round(_REACH * opening.unit / 2))
    inside = cv2.dilate(inside, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1)))
    gray = cast(Image, cv2.cvtColor(np.ascontiguousarray(box[..., :3]), cv2.COLOR_BGR2GRAY))
    dark = ((gray < opening.dark) & (inside > 0)).astype(np.uint8)
    count, labels = cast(tuple[int, Image], cv2.connectedComponents(dark, connectivity=8))
    seeds = np.round(opening.seeds - np.array(origin, np.float32) - np.array([x0, y0], np.float32)).astype(int)
    seeds = seeds[(seeds[:, 0] >= 0) & (seeds[:, 0] < x1 - x0) & (seeds[:, 1] >= 0) & (seeds[:, 1] < y1 - y0)]
    keep = np.zeros(count, bool)
    keep[labels[seeds[:, 1], seeds[:, 0]]] = True
    keep[0] = False
    mask = keep[labels]
    # One pixel more above and below: the run's soft edges are half inside already.
    mask = cv2.dilate(mask.astype(np.uint8), np.ones((3, 1), np.uint8)).astype(bool)
    # Only the gap as measured: a smile's dark corners joined to it stay the photo's own
    # (mirrored lips there would show as pale outlines once the warp moves them).
    band = np.zeros(box.shape[:2], np.uint8)
    corner = np.array([x0, y0], np.float32) + np.array(origin, np.float32)
    cv2.fillPoly(band, [np.round((opening.band - corner) * 16).astype(np.int32)], 1, cv2.LINE_8, shift=4)
    mask &= band > 0
    for x in np.flatnonzero(mask.any(axis=0)):
        column = np.concatenate([[0], mask[:, x].astype(np.int8), [0]])
        starts = np.flatnonzero(np.diff(column) == 1)
        ends = np.flatnonzero(np.diff(column) == -1)
        # Each dark run on its own (the teeth between two runs stay): its upper half is what lies
        # above it mirrored down, its lower half what lies below it mirrored up. Mirrored, the
        # lips keep their own grain and shading; one edge pixel repeated down a column would
        # make streaks, which the warp then stretches over the lower lip.
        last = box.shape[0] - 1
        for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
            middle = (a + b) // 2
            rows = np.arange(a, b)
            mirrored = np.where(rows < middle, 2 * a - 1 - rows, 2 * b - 1 - rows).clip(0, last)
            box[a:b, x] = box[mirrored, x]


def _median3(values: Floats) -> Floats:
    """Each found value (not NaN) replaced by the median of it and its found neighbours."""
    out = values.copy()
    for i in np.flatnonzero(~np.isnan(values)):
        near = values[max(i - 1, 0) : i + 2]
        out[i] = float(np.median(near[~np.isnan(near)]))
    return out


def _bridged(values: Floats) -> Floats:
    """Short gaps (up to _BRIDGED_COLUMNS) between found values filled in along the row: a column
    the pixels missed inside an open mouth (a highlight on a tooth) would otherwise leave its
    lip point behind, a notch."""
    out = values.copy()
    found = np.flatnonzero(~np.isnan(values))
    for a, b in zip(found[:-1].tolist(), found[1:].tolist(), strict=True):
        if 1 < b - a <= _BRIDGED_COLUMNS + 1:
            share = (np.arange(a + 1, b, dtype=np.float32) - a) / (b - a)
            out[a + 1 : b] = values[a] + (values[b] - values[a]) * share
    return out


def _nearest_run(offsets: Floats, luma: Floats, dark: float, edge: float) -> tuple[float, float] | None:
    """(top, bottom) of the run of dark samples nearest offset 0 (the mesh's lower lip point),
    grown while the brightness stays under ``edge`` and ending where it crosses it; None if no
    sample is dark.

    Not only a run through the point: the mesh's points trail a mouth that opens fast (they are
    smoothed over frames) and may still sit on the teeth above the dark inside.
    """
    run = (luma < dark).astype(np.int8)
    edges = np.diff(np.concatenate([[0], run, [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    if len(starts) == 0:
        return None
    distance = np.maximum(offsets[starts], 0.0) + np.maximum(-offsets[ends], 0.0)
    k = int(np.argmin(distance))
    a, b = int(starts[k]), int(ends[k])
    while a > 0 and luma[a - 1] < edge:
        a -= 1
    while b < len(luma) - 1 and luma[b + 1] < edge:
        b += 1
    return _crossing(offsets, luma, a - 1, a, edge), _crossing(offsets, luma, b, b + 1, edge)


def _sample(gray: Image, points: Floats) -> Floats:
    """Bilinear brightness of ``gray`` at ``points`` (x, y), the edge repeated beyond it."""
    xy = points.reshape(1, -1, 2).astype(np.float32)
    xs, ys = np.ascontiguousarray(xy[..., 0]), np.ascontiguousarray(xy[..., 1])
    values = cast(Image, cv2.remap(gray, xs, ys, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE))
    return values.astype(np.float32).reshape(-1)


def _crossing(offsets: Floats, luma: Floats, i: int, j: int, level: float) -> float:
    """Where the brightness crosses ``level`` between samples ``i`` and ``j`` (clamped ends)."""
    if i < 0:
        return float(offsets[0])
    if j >= len(offsets):
        return float(offsets[-1])
    a, b = float(luma[i]), float(luma[j])
    share = 0.5 if a == b else (level - a) / (b - a)
    return float(offsets[i] + (offsets[j] - offsets[i]) * min(max(share, 0.0), 1.0))
