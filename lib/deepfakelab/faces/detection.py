"""Finding faces with MTCNN (facenet-pytorch; its weights ship in the wheel, nothing is downloaded).

Every part of the kit that looks for faces comes here: the reenactment's source photo (its
largest face) and driving video (the faces of every frame, then :func:`stable_box`: **one**
crop box for the whole video, from detections median-filtered over time, so a head moving inside
a fixed window drives the animation and detector jitter does not), and the detector's crops
(:mod:`.cropper`). MTCNN searches an image pyramid down to 12-pixel windows, so an image under
:data:`MIN_IMAGE_SIDE` pixels is refused with a clear message instead of failing inside torch,
and a very large one is searched on a shrunk copy (:data:`MAX_DETECT_SIDE`).

Coordinates are pixels, ``(x, y)`` with the origin at the top-left; boxes are ``(x0, y0, x1, y1)``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Sequence

import cv2
import numpy as np
from facenet_pytorch import MTCNN
from scipy.ndimage import median_filter
from tqdm.auto import tqdm

from ..errors import DataError
from .boxes import crop_box, square_box

#: The crop side is this many times the larger side of MTCNN's face box: roughly the framing
#: of the VoxCeleb crops FOMM was trained on (forehead to chin fills about half the crop).
DEFAULT_CROP_SCALE = 1.8
#: Faces MTCNN scores below this are ignored.
MIN_FACE_SCORE = 0.9
#: Frames run through MTCNN together.
DETECT_BATCH = 8
#: Pictures whose shorter side is below this hold no face MTCNN can find (its smallest face is
#: 20 px; below that its pyramid is empty and torch fails with "expected a non-empty list").
MIN_IMAGE_SIDE = 32
#: Pictures with a longer side above this are searched on a copy shrunk to it (MTCNN's cost
#: and memory grow with the pixels); the boxes are scaled back. Larger than any photo in the
#: course's data, so their detections are unchanged.
MAX_DETECT_SIDE = 1600
#: A face narrower than this (pixels) is found but carries little detail: the user is told.
SMALL_FACE = 80


def check_image_size(width: int, height: int, name: str) -> None:
    """:class:`~deepfakelab.errors.DataError` naming ``name`` when a picture is too small for MTCNN."""
    if min(width, height) < MIN_IMAGE_SIDE:
        raise DataError(
            f"{name}: only {width}x{height} pixels, too small to find a face in "
            f"(at least {MIN_IMAGE_SIDE}x{MIN_IMAGE_SIDE})"
        )


def detection_scale(width: int, height: int) -> float:
    """The factor pictures of this size are shrunk by before MTCNN (1.0 for all but huge ones)."""
    return min(1.0, MAX_DETECT_SIDE / max(width, height))


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


@lru_cache(maxsize=4)
def mtcnn(keep_all: bool = True, device: str = "cpu", min_face_size: int = 20, select_largest: bool = True):
    """A shared MTCNN (built once per setting)."""
    return MTCNN(
        keep_all=keep_all,
        device=device,
        min_face_size=min_face_size,
        select_largest=select_largest,
        post_process=False,
    )


def _faces_from(boxes, probs, landmarks) -> list[Face]:
    if boxes is None:
        return []
    faces = [
        Face(np.asarray(box, dtype=np.float64), float(prob), np.asarray(marks, dtype=np.float64))
        for box, prob, marks in zip(boxes, probs, landmarks)
        if prob is not None and float(prob) >= MIN_FACE_SCORE
    ]
    return sorted(faces, key=lambda face: face.area, reverse=True)


def _scaled(face: Face, factor: float) -> Face:
    return face if factor == 1.0 else replace(face, box=face.box * factor, landmarks=face.landmarks * factor)


def shrunk(images: np.ndarray, scale: float) -> np.ndarray:
    """``(..., H, W, 3)`` pictures resized by ``scale`` (area averaging), as MTCNN searches them."""
    if scale == 1.0:
        return np.ascontiguousarray(images)
    height, width = images.shape[-3:-1]
    size = (max(round(width * scale), 1), max(round(height * scale), 1))
    small = [
        cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        for image in images.reshape(-1, height, width, 3)
    ]
    return np.stack(small).reshape(images.shape[:-3] + small[0].shape)


def detect_faces(image: np.ndarray, name: str = "image") -> list[Face]:
    """Faces in an ``(H, W, 3)`` uint8 RGB image, largest first (an empty list if none).

    ``name`` goes into the error for an image too small to search (:func:`check_image_size`).
    """
    height, width = image.shape[:2]
    check_image_size(width, height, name)
    scale = detection_scale(width, height)
    boxes, probs, landmarks = mtcnn().detect(shrunk(image, scale), landmarks=True)
    return [_scaled(face, 1 / scale) for face in _faces_from(boxes, probs, landmarks)]


def detect_faces_in_frames(
    frames: Sequence[np.ndarray], progress: bool = False, name: str = "video"
) -> list[list[Face]]:
    """:func:`detect_faces` for each of the same-size frames, run in batches."""
    if len(frames) == 0:
        raise DataError(f"{name}: no frames to find faces in")
    height, width = frames[0].shape[:2]
    check_image_size(width, height, name)
    scale = detection_scale(width, height)
    results: list[list[Face]] = []
    starts = range(0, len(frames), DETECT_BATCH)
    for start in tqdm(starts, desc="finding faces", unit="batch", disable=not progress):
        batch = shrunk(np.stack(frames[start : start + DETECT_BATCH]), scale)
        boxes, probs, landmarks = mtcnn().detect(batch, landmarks=True)
        results.extend(
            [_scaled(f, 1 / scale) for f in _faces_from(b, p, marks)]
            for b, p, marks in zip(boxes, probs, landmarks)
        )
    return results


def largest_face(image: np.ndarray, name: str) -> tuple[Face, str | None]:
    """The largest face in ``image``; a note when there were several; :class:`NoFaceError` if none.

    ``name`` (usually the file name) goes into the messages.
    """
    faces = detect_faces(image, name)
    if not faces:
        raise NoFaceError(
            f"{name}: no face found. Use a photo with a clearly visible human face "
            "(frontal or three-quarter view, at least about 40 pixels wide)."
        )
    note = f"{name}: {len(faces)} faces found; using the largest" if len(faces) > 1 else None
    return faces[0], note


def face_size_note(face_box, name: str) -> str | None:
    """A note when a face is under :data:`SMALL_FACE` pixels wide: a crop of it is mostly upscaling."""
    width = float(face_box[2] - face_box[0])
    if width >= SMALL_FACE:
        return None
    return (
        f"{name}: the face is small (about {width:.0f} px wide); its crop is enlarged and will be blurry. "
        "A closer framing of the face gives a sharper result"
    )


def stable_box(
    per_frame: Sequence[list[Face]],
    scale: float = DEFAULT_CROP_SCALE,
    window: int = 5,
    name: str = "driving video",
    image_shape: Sequence[int] | None = None,
) -> np.ndarray:
    """One square crop box for a whole video, from the largest face of each frame.

    The face boxes are median-filtered over ``window`` frames (one spurious detection cannot
    stretch the box), their union is taken, and the union's square, enlarged by ``scale``, is the
    box. With ``image_shape`` it is then fitted inside the frames (:func:`~.boxes.crop_box`,
    keeping the union whole). Frames without a face are skipped; a video with no face at all
    raises :class:`NoFaceError`.
    """
    boxes = np.array([faces[0].box for faces in per_frame if faces])
    if len(boxes) == 0:
        raise NoFaceError(f"{name}: no face found in any of its {len(per_frame)} frames")
    if len(boxes) >= window:
        boxes = median_filter(boxes, size=(window, 1), mode="nearest")
    union = np.array([boxes[:, 0].min(), boxes[:, 1].min(), boxes[:, 2].max(), boxes[:, 3].max()])
    box = square_box(union, scale)
    return box if image_shape is None else crop_box(box, image_shape, keep=union)
