"""Finding, cropping and pasting back faces for reenactment.

FOMM's published demo expects faces already cropped like its training data: a square, loosely
framed face, resized to 256 px. Here MTCNN (facenet-pytorch; its weights ship in the wheel, so
nothing is downloaded) finds the faces. The source photo gets a square crop around its largest
face. The driving video gets **one** crop box for all its frames, built from per-frame
detections that are median-filtered over time, so a head moving inside a fixed window drives the
animation and detector jitter does not. Results can be pasted back into the full-size frame.

Coordinates are pixels, ``(x, y)`` with the origin at the top-left; boxes are ``(x0, y0, x1, y1)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import cv2
import numpy as np
from scipy.ndimage import median_filter
from scipy.spatial import ConvexHull, QhullError

from ..errors import DataError

#: The crop side is this many times the larger side of MTCNN's face box: roughly the framing
#: of the VoxCeleb crops FOMM was trained on (forehead to chin fills about half the crop).
DEFAULT_CROP_SCALE = 1.8
#: Faces MTCNN scores below this are ignored.
MIN_FACE_SCORE = 0.9
#: Frames run through MTCNN together.
DETECT_BATCH = 8


class NoFaceError(DataError):
    """An image or video in which no face was found."""


@dataclass(frozen=True)
class Face:
    """One detected face: ``box (4,)`` pixels, ``score`` in [0, 1], ``landmarks (5, 2)`` pixels
    (left eye, right eye, nose tip, left and right mouth corners, as seen in the image)."""

    box: np.ndarray
    score: float
    landmarks: np.ndarray

    @property
    def area(self) -> float:
        x0, y0, x1, y1 = self.box
        return float(max(x1 - x0, 0) * max(y1 - y0, 0))


@lru_cache(maxsize=1)
def _mtcnn():
    from facenet_pytorch import MTCNN

    return MTCNN(keep_all=True, device="cpu")


def _faces_from(boxes, probs, landmarks) -> list[Face]:
    if boxes is None:
        return []
    faces = [
        Face(np.asarray(box, dtype=np.float64), float(prob), np.asarray(marks, dtype=np.float64))
        for box, prob, marks in zip(boxes, probs, landmarks)
        if prob is not None and float(prob) >= MIN_FACE_SCORE
    ]
    return sorted(faces, key=lambda face: face.area, reverse=True)


def detect_faces(image: np.ndarray) -> list[Face]:
    """Faces in an ``(H, W, 3)`` uint8 RGB image, largest first (an empty list if none)."""
    boxes, probs, landmarks = _mtcnn().detect(np.ascontiguousarray(image), landmarks=True)
    return _faces_from(boxes, probs, landmarks)


def detect_faces_in_frames(frames: Sequence[np.ndarray], progress: bool = False) -> list[list[Face]]:
    """:func:`detect_faces` for each of the same-size frames, run in batches."""
    from tqdm.auto import tqdm

    results: list[list[Face]] = []
    starts = range(0, len(frames), DETECT_BATCH)
    for start in tqdm(starts, desc="finding faces", unit="batch", disable=not progress):
        batch = np.stack(frames[start : start + DETECT_BATCH])
        boxes, probs, landmarks = _mtcnn().detect(batch, landmarks=True)
        results.extend(_faces_from(b, p, l) for b, p, l in zip(boxes, probs, landmarks))
    return results


def largest_face(image: np.ndarray, name: str) -> tuple[Face, str | None]:
    """The largest face in ``image``; a note when there were several; :class:`NoFaceError` if none.

    ``name`` (usually the file name) goes into the messages.
    """
    faces = detect_faces(image)
    if not faces:
        raise NoFaceError(
            f"{name}: no face found. Use a photo with a clearly visible human face "
            "(frontal or three-quarter view, at least about 40 pixels wide)."
        )
    note = f"{name}: {len(faces)} faces found; using the largest" if len(faces) > 1 else None
    return faces[0], note


def square_box(face_box: np.ndarray, scale: float = DEFAULT_CROP_SCALE) -> np.ndarray:
    """A square box ``scale`` times the larger side of ``face_box``, centred on it (may leave the image)."""
    x0, y0, x1, y1 = face_box
    side = scale * max(x1 - x0, y1 - y0)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return np.array([cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2])


def stable_box(per_frame: Sequence[list[Face]], scale: float = DEFAULT_CROP_SCALE, window: int = 5,
               name: str = "driving video") -> np.ndarray:
    """One square crop box for a whole video, from the largest face of each frame.

    The face boxes are median-filtered over ``window`` frames (one spurious detection cannot
    stretch the box), their union is taken, and the union's square, enlarged by ``scale``, is the
    box. Frames without a face are skipped; a video with no face at all raises :class:`NoFaceError`.
    """
    boxes = np.array([faces[0].box for faces in per_frame if faces])
    if len(boxes) == 0:
        raise NoFaceError(f"{name}: no face found in any of its {len(per_frame)} frames")
    if len(boxes) >= window:
        boxes = median_filter(boxes, size=(window, 1), mode="nearest")
    union = np.array([boxes[:, 0].min(), boxes[:, 1].min(), boxes[:, 2].max(), boxes[:, 3].max()])
    return square_box(union, scale)


def crop(image: np.ndarray, box: np.ndarray, size: int) -> np.ndarray:
    """Cut ``box`` out of ``image`` and resize it to ``(size, size, 3)``.

    Parts of the box outside the image are filled by replicating the border, so faces near the
    edge still get a full crop.
    """
    matrix = _box_to_crop(box, size)
    interpolation = cv2.INTER_AREA if (box[2] - box[0]) > size else cv2.INTER_LINEAR
    return cv2.warpAffine(image, matrix, (size, size), flags=interpolation, borderMode=cv2.BORDER_REPLICATE)


def paste_back(frame: np.ndarray, crop_image: np.ndarray, box: np.ndarray, feather: float = 0.08,
               mask: np.ndarray | None = None) -> np.ndarray:
    """Paste ``crop_image (S, S, 3)`` into a copy of ``frame`` at ``box``, with feathered edges.

    ``feather`` is the width of the soft edge as a fraction of the crop side; the blend hides
    the seam between the generated face and the original surroundings. ``mask`` (``(S, S)`` in
    [0, 1], e.g. :func:`face_ellipse`) pastes only part of the crop instead of all of it.
    """
    height, width = frame.shape[:2]
    size = crop_image.shape[0]
    inverse = cv2.invertAffineTransform(_box_to_crop(box, size))
    warped = cv2.warpAffine(crop_image, inverse, (width, height), flags=cv2.INTER_LINEAR)
    if mask is None:
        ramp = max(int(feather * size), 1)
        mask = np.zeros((size, size), np.float32)
        mask[ramp:-ramp, ramp:-ramp] = 1
        mask = cv2.GaussianBlur(mask, (0, 0), ramp / 2)
    alpha = cv2.warpAffine(mask, inverse, (width, height), flags=cv2.INTER_LINEAR)[..., None]
    blended = alpha * warped.astype(np.float32) + (1 - alpha) * frame.astype(np.float32)
    return np.clip(blended + 0.5, 0, 255).astype(np.uint8)


def face_ellipse(face_box: np.ndarray, box: np.ndarray, size: int, grow: float = 1.15, feather: float = 0.06) -> np.ndarray:
    """A soft ellipse over the face ``face_box`` (image pixels), in the ``size`` crop of ``box``.

    Pasting through it replaces the face and keeps the photo's own hair and background: a
    generated crop is blurrier than the photo, and a whole pasted square shows it everywhere.
    """
    corners = to_crop_coordinates(np.asarray(face_box, np.float64).reshape(2, 2), box, size)
    centre = corners.mean(axis=0)
    axes = grow * (corners[1] - corners[0]) / 2
    mask = np.zeros((size, size), np.float32)
    cv2.ellipse(mask, (int(round(centre[0])), int(round(centre[1]))),
                (max(int(round(axes[0])), 1), max(int(round(axes[1])), 1)), 0, 0, 360, 1.0, -1)
    return cv2.GaussianBlur(mask, (0, 0), max(feather * size, 0.5))


def _box_to_crop(box: np.ndarray, size: int) -> np.ndarray:
    """The 2x3 affine matrix taking ``box`` in the image to ``[0, size]^2``."""
    x0, y0, x1, y1 = (float(v) for v in box)
    sx, sy = size / (x1 - x0), size / (y1 - y0)
    return np.array([[sx, 0, -x0 * sx], [0, sy, -y0 * sy]], dtype=np.float64)


def to_crop_coordinates(points: np.ndarray, box: np.ndarray, size: int) -> np.ndarray:
    """``(N, 2)`` image pixels -> pixels of the ``size`` crop of ``box``."""
    matrix = _box_to_crop(box, size)
    return points @ matrix[:, :2].T + matrix[:, 2]


def normalized_landmarks(landmarks: np.ndarray) -> np.ndarray:
    """Landmarks centred on their mean and divided by sqrt(convex hull area): pose, not size or place."""
    centred = landmarks - landmarks.mean(axis=0, keepdims=True)
    try:
        area = ConvexHull(centred).volume
    except QhullError:
        area = 0.0
    return centred / np.sqrt(area) if area > 0 else centred


def find_best_frame(source: np.ndarray, driving: Sequence[np.ndarray]) -> int:
    """The driving frame whose face pose is most like the source's (FOMM demo's ``find_best_frame``).

    Compares MTCNN's five landmarks after :func:`normalized_landmarks` (sum of squared
    differences); frames without a face are skipped. Returns 0 if no face is found anywhere.
    """
    source_faces = detect_faces(source)
    if not source_faces:
        return 0
    reference = normalized_landmarks(source_faces[0].landmarks)
    best, best_distance = 0, np.inf
    for index, faces in enumerate(detect_faces_in_frames(list(driving))):
        if faces:
            distance = float(((normalized_landmarks(faces[0].landmarks) - reference) ** 2).sum())
            if distance < best_distance:
                best, best_distance = index, distance
    return best
