"""A real face made to talk and blink: its landmarks moved, the picture warped with them.

The mouth mesh covers the lower face from under the nose to below the chin. The jaw (lower lip,
chin and the cheeks below the lips) drops, the upper lip lifts a little, the corners spread or
draw in; the upper teeth stay with the upper lip (a smiling photo's own teeth are reused) and
the gap that opens between them and the lower lip is painted as the inside of the mouth. The
eye mesh closes each upper lid onto its lower lid. Distances are in eye widths (the outer eye
corners' distance), so the same shapes fit any photo size.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import cast

import cv2
import numpy as np
import numpy.typing as npt

from akool_mcp.local.render import landmarks as lm
from akool_mcp.local.render.draw import Image
from akool_mcp.local.render.warp import (
    Mesh,
    Points,
    border_anchors,
    inside_polygon,
    polygon_mask,
    remap,
    triangulate,
)

Rect = tuple[int, int, int, int]
Floats = npt.NDArray[np.float32]

MAX_GAP = 0.3  # lip gap of a wide-open mouth, in eye widths
_VIRTUAL_OPEN = 0.15  # how far the jaw is opened to lay out the triangles (in eye widths)
# BGR. A mouth's inside is a deep, warm red-brown (blue about equal to green), never violet.
_INSIDE = np.array([30, 30, 74], np.float32)
_THROAT = np.array([14, 14, 32], np.float32)
_TONGUE = np.array([88, 92, 168], np.float32)
_TEETH = np.array([214, 222, 228], np.float32)


@dataclass(frozen=True)
class MouthPose:
    open: float  # 0 lips at rest .. 1 wide open; below 0 pressed shut (p b m)
    width: float  # -1 rounded .. +1 spread
    bite: float  # 0..1 lower lip under the upper teeth


def _clip_rect(rect: Rect, width: int, height: int) -> Rect:
    """``rect`` inside the picture; at least 1x1 (a face off the picture gets a token patch)."""
    x0, y0, x1, y1 = rect
    x0, y0 = min(max(0, x0), width - 1), min(max(0, y0), height - 1)
    return x0, y0, max(x0 + 1, min(width, x1)), max(y0 + 1, min(height, y1))


class FaceFrame:
    """A face's own axes: origin between the inner lips, x along the eyes, y down the face."""

    def __init__(self, face: lm.Face) -> None:
        p = face.points
        self.origin = (p[lm.LIP_UPPER_INNER] + p[lm.LIP_LOWER_INNER]) / 2
        across = p[lm.EYE_LEFT_OUTER] - p[lm.EYE_RIGHT_OUTER]
        self.unit = float(np.linalg.norm(across))
        self.ex = across / max(self.unit, 1e-6)
        self.ey = np.array([-self.ex[1], self.ex[0]], np.float32)

    def to_face(self, points: Points) -> Points:
        rel = points - self.origin
        return (np.column_stack([rel @ self.ex, rel @ self.ey]) / self.unit).astype(np.float32)

    def to_picture(self, uv: Points) -> Points:
        scaled = uv * self.unit
        return (self.origin + scaled[:, :1] * self.ex + scaled[:, 1:] * self.ey).astype(np.float32)


class MouthRig:
    """The lower face of one photo, ready to be posed; positions are in the picture's pixels."""

    def __init__(self, face: lm.Face, width: int, height: int) -> None:
        frame = FaceFrame(face)
        self.frame = frame
        uv_all = frame.to_face(face.points)
        nose_v = float(uv_all[lm.NOSE_TIP, 1])
        chin_v = float(uv_all[lm.CHIN, 1])
        chosen = np.flatnonzero(uv_all[:, 1] > nose_v + 0.04)
        self.index = {int(k): i for i, k in enumerate(chosen)}
        uv = uv_all[chosen]
        # The seam between the lips across the mouth, and flat beyond the corners.
        upper = uv_all[list(lm.INNER_LIP_UPPER)]
        lower = uv_all[list(lm.INNER_LIP_LOWER)]
        self.seam_u = ((upper[:, 0] + lower[:, 0]) / 2).astype(np.float32)
        self.seam_v = ((upper[:, 1] + lower[:, 1]) / 2).astype(np.float32)
        order = np.argsort(self.seam_u)
        self.seam_u, self.seam_v = self.seam_u[order], self.seam_v[order]
        self.half_width = float(abs(uv_all[lm.LIP_CORNER_LEFT, 0] - uv_all[lm.LIP_CORNER_RIGHT, 0])) / 2
        self.jaw_half = float(abs(uv_all[lm.CHEEK_LEFT, 0] - uv_all[lm.CHEEK_RIGHT, 0])) / 2
        below = uv[:, 1] - np.interp(uv[:, 0], self.seam_u, self.seam_v)
        lower_set = below > 0
        for k in lm.INNER_LIP_LOWER[1:-1] + lm.OUTER_LIP_LOWER[1:-1]:
            lower_set[self.index[k]] = True
        for k in lm.INNER_LIP_UPPER + lm.OUTER_LIP_UPPER:
            lower_set[self.index[k]] = False
        self.below = below.astype(np.float32)
        self.lower = lower_set
        self.rest_gap = float(np.mean(lower[1:-1, 1] - upper[1:-1, 1]))

        # Teeth edge: copies of the lower inner lip that stay with the upper jaw.
        teeth_keys = list(lm.INNER_LIP_LOWER[1:-1])
        teeth_uv = uv_all[teeth_keys]
        # The patch: the chosen points with room below the chin for the neck to give.
        points = frame.to_picture(np.vstack([uv, teeth_uv]))
        pad = 0.18 * frame.unit
        x0, y0 = points.min(axis=0) - pad
        x1, y1 = points.max(axis=0) + pad
        y1 = max(float(y1), float(frame.to_picture(np.array([[0.0, chin_v + 0.45]], np.float32))[0, 1]))
        self.rect = _clip_rect((math.floor(x0), math.floor(y0), math.ceil(x1), math.ceil(y1)), width, height)
        rx0, ry0, rx1, ry1 = self.rect
        pw, ph = rx1 - rx0, ry1 - ry0
        anchors = border_anchors(pw, ph, 8)
        local = points - np.array([rx0, ry0], np.float32)
        inside = (local[:, 0] > 1) & (local[:, 0] < pw - 2) & (local[:, 1] > 1) & (local[:, 1] < ph - 2)
        self.n_face = len(uv)
        self.n_teeth = len(teeth_uv)
        self.keep = inside
        self.rest = np.vstack([local, anchors]).astype(np.float32)
        self.uv = np.vstack([uv, teeth_uv]).astype(np.float32)
        self.teeth_rows = np.arange(self.n_face, self.n_face + self.n_teeth)
        self.upper_inner = np.array([self.index[k] for k in lm.INNER_LIP_UPPER])
        self.lower_inner = np.array([self.index[k] for k in lm.INNER_LIP_LOWER])

        # Lay the triangles out with the mouth opened, so the teeth and the gap get their own.
        opened = self._pose_points(MouthPose(_VIRTUAL_OPEN / MAX_GAP, 0.0, 0.0))
        usable = np.concatenate([inside, np.ones(len(anchors), bool)])
        subset = np.flatnonzero(usable)
        tri = subset[triangulate(opened[subset], pw, ph)]
        gap_polygon = np.vstack([opened[self._teeth_edge()], opened[self.lower_inner[1:-1]][::-1]])
        centres = opened[tri].mean(axis=1)
        hole = inside_polygon(centres.astype(np.float32), gap_polygon.astype(np.float32))
        teeth_polygon = np.vstack([opened[self.upper_inner], opened[self.teeth_rows][::-1]])
        teeth = inside_polygon(centres.astype(np.float32), teeth_polygon.astype(np.float32))
        # Later triangles are drawn over earlier ones: the teeth go first, so lips pressed or
        # tucked over them cover them.
        order = np.argsort(~teeth, kind="stable")
        self.mesh = Mesh(pw, ph, tri[order].astype(np.int32), hole[order])

    def moved_to(self, face: lm.Face, width: int, height: int) -> MouthRig:
        """This rig on the same face seen in another video frame.

        The triangles and the mouth's shape at rest stay those of this rig; the points the warp
        starts from are where ``face`` has them now. Posing therefore also settles whatever the
        video's own mouth was doing into this rig's rest shape.
        """
        other = copy.copy(self)
        frame = FaceFrame(face)
        other.frame = frame
        teeth_keys = list(lm.INNER_LIP_LOWER[1:-1])
        face_keys = sorted(self.index, key=self.index.__getitem__)
        points = np.vstack([face.points[face_keys], face.points[teeth_keys]])
        pad = 0.18 * frame.unit
        x0, y0 = points.min(axis=0) - pad
        x1, y1 = points.max(axis=0) + pad
        chin = frame.to_picture(np.array([[0.0, float(self.uv[self.index[lm.CHIN], 1]) + 0.45]], np.float32))
        y1 = max(float(y1), float(chin[0, 1]))
        other.rect = _clip_rect((math.floor(x0), math.floor(y0), math.ceil(x1), math.ceil(y1)), width, height)
        rx0, ry0, rx1, ry1 = other.rect
        pw, ph = max(1, rx1 - rx0), max(1, ry1 - ry0)
        local = points - np.array([rx0, ry0], np.float32)
        other.rest = np.vstack([local, border_anchors(pw, ph, 8)]).astype(np.float32)
        other.mesh = Mesh(pw, ph, self.mesh.triangles, self.mesh.hole)
        return other

    def _teeth_edge(self) -> npt.NDArray[np.int64]:
        """Rows of the teeth-edge copies, corner to corner (the corners are the lips' own)."""
        return np.concatenate([[self.upper_inner[0]], self.teeth_rows, [self.upper_inner[-1]]])

    def _pose_points(self, pose: MouthPose) -> Points:
        """Where every mesh point goes for ``pose``, in patch pixels."""
        uv = self.uv.copy()
        u, v = uv[:, 0], uv[:, 1]
        hw = self.half_width
        drop = MAX_GAP * max(pose.open, 0.0)
        rounded, spread = max(-pose.width, 0.0), max(pose.width, 0.0)
        lips = np.clip(1 - (u / (1.25 * hw)) ** 2, 0, 1)
        # A rounded mouth opens in the middle; a spread one opens flatter across.
        across = lips ** (0.6 + 1.6 * rounded)
        lateral = np.clip(1 - (np.abs(u) / max(self.jaw_half, hw * 1.2)) ** 2, 0, 1)
        below = np.concatenate([self.below, np.zeros(self.n_teeth, np.float32)])
        lower = np.concatenate([self.lower, np.zeros(self.n_teeth, bool)])
        near_lips = np.clip(1 - np.abs(below) / 0.3, 0, 1)
        # The jaw swings down: the lips follow the mouth's shape, the chin (further from the
        # hinge) a little more, and the jaw's sides less towards the ears.
        shape = near_lips * across + (1 - near_lips) * lateral * (1 + 0.2 * np.clip(below / 0.5, 0, 1))
        dv = np.where(lower, drop * shape, 0.0)
        upper_fade = np.clip(1 + below / 0.3, 0, 1)
        lift = (0.12 * drop + 0.06 * pose.bite) * lips * upper_fade
        dv = dv - np.where(lower, 0.0, lift)
        # Teeth edge rides with the upper lip.
        dv[self.teeth_rows] = -lift[self.teeth_rows]
        # f, v: the lower lip comes up against the upper teeth.
        if pose.bite > 0:
            tuck = pose.bite * max(self.rest_gap, 0.0) * lips * near_lips
            dv = dv - np.where(lower, tuck, 0.0)
        # p, b, m: the lips press together over the teeth, closing any gap the photo had.
        if pose.open < 0:
            press = -pose.open * max(self.rest_gap, 0.0) * lips * near_lips
            dv = dv + np.where(lower, -0.7 * press, 0.7 * press)  # overlap: the middle gap is the widest
            dv[self.teeth_rows] = -lift[self.teeth_rows]
        # Corners spread (i, e) or draw in and the lips push out (o, u, w).
        # The pull fades slowly across the cheeks: a steep fade pinches the skin into creases.
        # It must also be gone before the jaw's outline, which would otherwise narrow.
        reach = max(min(0.9 * hw, 0.75 * self.jaw_half - hw), 0.2 * hw)
        beside = np.clip((np.abs(u) - hw) / reach, 0, 1)
        across_cheek = 1 - beside * beside * (3 - 2 * beside)
        mouth_zone = np.clip(1 - np.abs(below) / 0.4, 0, 1) ** 1.5 * across_cheek
        du = u * mouth_zone * (0.14 * spread - 0.24 * rounded)
        dv = dv - 0.04 * spread * mouth_zone * (np.abs(u) / hw).clip(0, 1)  # corners rise in a smile
        # Pushed-out lips look fuller top to bottom; spread ones are stretched thinner.
        pout = (0.05 * rounded - 0.02 * spread) * lips * np.clip(1 - np.abs(below) / 0.25, 0, 1)
        dv = dv + np.where(lower, pout, -pout) * (np.abs(below) > 0.03)
        uv[:, 0] = u + du
        uv[:, 1] = v + dv
        moved = self.frame.to_picture(uv) - np.array(self.rect[:2], np.float32)
        anchors = self.rest[len(self.uv) :]
        return np.vstack([moved, anchors]).astype(np.float32)

    def render(self, patch: Image, pose: MouthPose, light: float, coarse: bool = False) -> Image:
        """The patch (BGR, ``self.rect`` of the picture) with the mouth in ``pose``.

        ``coarse``: faster warp tables, for a video frame seen once (see :meth:`Mesh.maps`).
        """
        moved = self._pose_points(pose)
        out = remap(patch, self.mesh.maps(self.rest, moved, coarse))
        gap_polygon = np.vstack([moved[self._teeth_edge()], moved[self.lower_inner[1:-1]][::-1]])
        unit = self.frame.unit
        gap = float(np.max(moved[self.lower_inner, 1] - moved[self._teeth_edge(), 1]))
        if gap < 0.15:
            return out
        feather = max(0.8, unit / 140)
        # Paint only over the gap's own box: a small part of the patch.
        margin = 2 * feather + 2
        bx0, by0 = np.floor(gap_polygon.min(axis=0) - margin).astype(int).clip(0)
        bx1 = min(self.mesh.width, int(np.ceil(gap_polygon[:, 0].max() + margin)))
        by1 = min(self.mesh.height, int(np.ceil(gap_polygon[:, 1].max() + margin)))
        if bx1 <= bx0 or by1 <= by0:
            return out
        shift = np.array([bx0, by0], np.float32)
        size = (by1 - by0, bx1 - bx0)
        edge, lower = moved[self._teeth_edge()] - shift, moved[self.lower_inner] - shift
        alpha = polygon_mask((gap_polygon - shift).astype(np.float32), size[1], size[0], feather)
        inside = _inside_colours(edge, lower, size, gap / unit, light)
        # Synthetic upper teeth only where the photo showed none of its own.
        if self.rest_gap < 0.05 or pose.bite > 0.3:
            teeth = _teeth_band(edge, size, min(0.09 * unit, 0.45 * gap + pose.bite * gap))
            inside = inside * (1 - teeth[..., None]) + _TEETH * light * teeth[..., None]
        a = alpha[..., None]
        region = out[by0:by1, bx0:bx1, :3]
        blended = region.astype(np.float32) * (1 - a) + inside * a
        region[...] = np.clip(blended + 0.5, 0, 255).astype(np.uint8)
        return out


def _rows_between(top: Points, bottom: Points, shape: tuple[int, ...]) -> tuple[Floats, Floats]:
    """Per pixel column: the y of two contours, interpolated across the patch."""
    xs = np.arange(shape[1], dtype=np.float32)
    order_t, order_b = np.argsort(top[:, 0]), np.argsort(bottom[:, 0])
    y_top = np.interp(xs, top[order_t, 0], top[order_t, 1]).astype(np.float32)
    y_bottom = np.interp(xs, bottom[order_b, 0], bottom[order_b, 1]).astype(np.float32)
    return y_top, y_bottom


def _inside_colours(top: Points, bottom: Points, shape: tuple[int, ...], gap: float, light: float) -> Floats:
    """The inside of the mouth: darker deep in, the tongue low down when it is wide open.

    ``gap`` is the lips' distance in eye widths.
    """
    y_top, y_bottom = _rows_between(top, bottom, shape)
    ys = np.arange(shape[0], dtype=np.float32)[:, None]
    depth = np.clip((ys - y_top) / np.maximum(y_bottom - y_top, 1e-3), 0, 1)
    left, right = float(top[:, 0].min()), float(top[:, 0].max())
    across = np.clip(1 - (np.abs(np.arange(shape[1]) - (left + right) / 2) / max((right - left) / 2, 1)) ** 4, 0, 1)
    colour = _INSIDE + (_THROAT - _INSIDE) * (np.sin(depth * np.pi) * across)[..., None]
    tongue = np.clip((depth - 0.6) / 0.3, 0, 1) * across * min(1.0, gap / 0.2)
    return cast(Floats, colour + (_TONGUE * light - colour) * tongue[..., None])


def _teeth_band(edge: Points, shape: tuple[int, ...], height: float) -> Floats:
    y_top, _ = _rows_between(edge, edge, shape)
    ys = np.arange(shape[0], dtype=np.float32)[:, None]
    left, right = float(edge[:, 0].min()), float(edge[:, 0].max())
    u = (np.arange(shape[1]) - (left + right) / 2) / max((right - left) / 2, 1)
    taper = np.clip(1 - (np.abs(u) / 0.8) ** 4, 0, 1) ** 0.5
    band = np.clip((y_top + height * taper - ys) + 0.5, 0, 1) * (taper > 0)
    return band.astype(np.float32)


class EyesRig:
    """Both eyes of one photo: each upper lid closes onto its lower lid."""

    def __init__(self, face: lm.Face, width: int, height: int, bottom: int | None = None) -> None:
        """``bottom``: a row the eye patch must stay above (where the mouth's patch begins)."""
        frame = FaceFrame(face)
        p = face.points
        eye_points = list(lm.EYE_RIGHT_UPPER + lm.EYE_RIGHT_LOWER + lm.EYE_LEFT_UPPER + lm.EYE_LEFT_LOWER)
        eye_v = frame.to_face(p[eye_points])[:, 1]
        uv_all = frame.to_face(p)
        band_top, band_bottom = float(eye_v.min()) - 0.28, float(eye_v.max()) + 0.16
        chosen = np.flatnonzero((uv_all[:, 1] > band_top) & (uv_all[:, 1] < band_bottom))
        self.index = {int(k): i for i, k in enumerate(chosen)}
        pts = p[chosen]
        pad = 0.12 * frame.unit
        x0, y0 = pts.min(axis=0) - pad
        x1, y1 = pts.max(axis=0) + pad
        limit = height if bottom is None else bottom
        self.rect = _clip_rect(
            (math.floor(x0), math.floor(y0), math.ceil(x1), min(math.ceil(y1), limit)), width, height
        )
        rx0, ry0, rx1, ry1 = self.rect
        pw, ph = rx1 - rx0, ry1 - ry0
        local = pts - np.array([rx0, ry0], np.float32)
        anchors = border_anchors(pw, ph, 6)
        inside = (local[:, 0] > 1) & (local[:, 0] < pw - 2) & (local[:, 1] > 1) & (local[:, 1] < ph - 2)
        self.rest = np.vstack([local, anchors]).astype(np.float32)
        subset = np.flatnonzero(np.concatenate([inside, np.ones(len(anchors), bool)]))
        tri = subset[triangulate(self.rest[subset], pw, ph)]
        self.mesh = Mesh(pw, ph, tri.astype(np.int32), np.zeros(len(tri), bool))
        self.unit = frame.unit
        self.lids = [
            (np.array([self.index[k] for k in up]), np.array([self.index[k] for k in down]))
            for up, down in ((lm.EYE_RIGHT_UPPER, lm.EYE_RIGHT_LOWER), (lm.EYE_LEFT_UPPER, lm.EYE_LEFT_LOWER))
        ]

    def render(self, patch: Image, lid: float) -> Image:
        """The patch (``self.rect`` of the picture) with both eyes ``lid`` closed (0 open, 1 shut)."""
        if lid <= 0:
            return patch
        moved = self.rest.copy()
        for upper, lower in self.lids:
            up, down = self.rest[upper], self.rest[lower]
            # In a blink the upper lid does most of the travel and the lower lid rises to meet it.
            drop = (down[:, 1] - up[:, 1]) * lid * 0.88
            moved[lower, 1] -= (down[:, 1] - up[:, 1]) * lid * 0.12
            # The skin between lid and brow stretches down with the lid, less further up.
            left, right = float(up[:, 0].min()), float(up[:, 0].max())
            xs = self.rest[:, 0]
            lid_y = np.interp(xs, up[np.argsort(up[:, 0]), 0], up[np.argsort(up[:, 0]), 1])
            lid_drop = np.interp(xs, up[np.argsort(up[:, 0]), 0], drop[np.argsort(up[:, 0])])
            above = lid_y - self.rest[:, 1]
            within = (xs > left) & (xs < right) & (above > 0.5)
            fall = np.clip(1 - above / (0.2 * self.unit), 0, 1) * within
            moved[:, 1] += lid_drop * fall * 0.6
            moved[upper, 1] = up[:, 1] + drop
        n_anchor = len(self.rest) - len(self.index)
        moved[len(self.rest) - n_anchor :] = self.rest[len(self.rest) - n_anchor :]
        return remap(patch, self.mesh.maps(self.rest, moved))


def skin_light(picture: Image, face: lm.Face) -> float:
    """How bright the face is, 0.6..1: teeth in a dim photo are not white."""
    x, y, w, h = face.box
    patch = np.ascontiguousarray(
        picture[max(0, y + h // 4) : max(1, y + h // 2), max(0, x + w // 4) : x + 3 * w // 4, :3]
    )
    if patch.size == 0:
        return 1.0
    return float(np.clip(np.mean(cv2.mean(patch)[:3]) / 170.0, 0.6, 1.0))
