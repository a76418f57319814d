"""Soft masks of face regions, in the pixels of a crop, for pasting only part of it back."""

from __future__ import annotations

import cv2
import numpy as np

from .boxes import to_crop_coordinates


def face_ellipse(
    face_box: np.ndarray, box: np.ndarray, size: int, grow: float = 1.15, feather: float = 0.06
) -> np.ndarray:
    """A soft ellipse ``(size, size)`` in [0, 1] over the face ``face_box`` (image pixels), in the crop of ``box``.

    Pasting through it replaces the face and keeps the photo's own hair and background: a
    generated crop is blurrier than the photo, and a whole pasted square shows it everywhere.
    """
    corners = to_crop_coordinates(np.asarray(face_box, np.float64).reshape(2, 2), box, size)
    centre = corners.mean(axis=0)
    axes = grow * (corners[1] - corners[0]) / 2
    mask = np.zeros((size, size), np.float32)
    cv2.ellipse(
        mask,
        (int(round(centre[0])), int(round(centre[1]))),
        (max(int(round(axes[0])), 1), max(int(round(axes[1])), 1)),
        0,
        0,
        360,
        1.0,
        -1,
    )
    return cv2.GaussianBlur(mask, (0, 0), max(feather * size, 0.5))
