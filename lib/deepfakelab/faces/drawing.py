"""The face mesh drawn on a frame: small dots for the points, lines for the regions' outlines.

For ``--side-by-side`` views and figures: with 468 points, per-point coloured dots (as the
5-point and FOMM keypoint views draw them) hide the face, so the mesh is drawn thin.
"""

from __future__ import annotations

import cv2
import numpy as np

from .regions import REGIONS

#: Outline colour per region (RGB); the points are drawn in :data:`POINT_COLOUR`.
OUTLINE_COLOURS = {
    "face_oval": (255, 255, 255),
    "left_eye": (80, 200, 255),
    "right_eye": (80, 200, 255),
    "left_brow": (255, 210, 80),
    "right_brow": (255, 210, 80),
    "lips": (255, 90, 140),
    "inner_mouth": (255, 90, 140),
}
POINT_COLOUR = (90, 255, 120)


def draw_mesh(image: np.ndarray, points: np.ndarray | None, outlines: bool = True) -> np.ndarray:
    """A copy of ``image (H, W, 3)`` uint8 RGB with the mesh ``points (468, 2+)`` (pixels) drawn."""
    out = image.copy()
    if points is None:
        return out
    xy = np.asarray(points, np.float64)[:, :2]
    shift = 4
    scaled = np.round(xy * (1 << shift)).astype(np.int32)
    thickness = max(1, image.shape[0] // 400)
    for x, y in scaled:
        cv2.circle(out, (int(x), int(y)), thickness << shift, POINT_COLOUR, -1, cv2.LINE_AA, shift)
    if outlines:
        for name, loop in REGIONS.items():
            cv2.polylines(
                out, [scaled[list(loop)]], True, OUTLINE_COLOURS[name], thickness, cv2.LINE_AA, shift
            )
    return out
