"""MTCNN's five landmarks (eyes, nose tip, mouth corners): comparing poses across faces.

FOMM's published demo picks the initial driving frame whose face is posed most like the source's
(``find_best_frame``); the comparison is made on landmarks with position and size removed.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from scipy.spatial import ConvexHull, QhullError

from .detection import detect_faces, detect_faces_in_frames


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
    source_faces = detect_faces(source, "source")
    if not source_faces:
        return 0
    reference = normalized_landmarks(source_faces[0].landmarks)
    best, best_distance = 0, np.inf
    for index, faces in enumerate(detect_faces_in_frames(list(driving), name="driving frames")):
        if faces:
            distance = float(((normalized_landmarks(faces[0].landmarks) - reference) ** 2).sum())
            if distance < best_distance:
                best, best_distance = index, distance
    return best
