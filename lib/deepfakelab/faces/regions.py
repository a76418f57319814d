"""Regions of the face from its 468-point mesh: polygons and masks.

Face oval, eyes, eyebrows, lips and the inner mouth, each an ordered loop of mesh point indices,
so any mesh (a photo's, a tracked frame's, a warped one) gives the region's polygon by indexing.
The loops are MediaPipe's own (``mediapipe/python/solutions/face_mesh_connections.py``,
Apache-2.0), chained from its edge lists into closed loops.

"Left" and "right" are as seen in the image, like the kit's MTCNN landmarks: the left eye is
the person's right eye (MediaPipe's ``RIGHT_EYE``).
"""

from __future__ import annotations

import cv2
import numpy as np

FACE_OVAL = (
    10,
    338,
    297,
    332,
    284,
    251,
    389,
    356,
    454,
    323,
    361,
    288,
    397,
    365,
    379,
    378,
    400,
    377,
    152,
    148,
    176,
    149,
    150,
    136,
    172,
    58,
    132,
    93,
    234,
    127,
    162,
    21,
    54,
    103,
    67,
    109,
)
OUTER_LIPS = (0, 267, 269, 270, 409, 291, 375, 321, 405, 314, 17, 84, 181, 91, 146, 61, 185, 40, 39, 37)
#: The inner edge of the lips: the opening of the mouth (13 the upper lip's middle, 14 the lower's).
INNER_LIPS = (13, 312, 311, 310, 415, 308, 324, 318, 402, 317, 14, 87, 178, 88, 95, 78, 191, 80, 81, 82)
LEFT_EYE = (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246)
RIGHT_EYE = (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466)
#: Eyebrows: the lower edge from the inner end outwards, then the upper edge back.
LEFT_BROW = (55, 65, 52, 53, 46, 70, 63, 105, 66, 107)
RIGHT_BROW = (285, 295, 282, 283, 276, 300, 293, 334, 296, 336)

#: Middle of the upper and lower lip's inner edges: their distance is how far the mouth is open.
UPPER_LIP_INNER, LOWER_LIP_INNER = 13, 14
#: Eyelid middles (upper, lower) and corners (outer, inner) of each eye, as seen in the image.
LEFT_EYELIDS, LEFT_EYE_CORNERS = (159, 145), (33, 133)
RIGHT_EYELIDS, RIGHT_EYE_CORNERS = (386, 374), (263, 362)

#: Every region: a loop of point indices. ``lips`` is the ring between the outer and inner loops.
REGIONS: dict[str, tuple[int, ...]] = {
    "face_oval": FACE_OVAL,
    "left_eye": LEFT_EYE,
    "right_eye": RIGHT_EYE,
    "left_brow": LEFT_BROW,
    "right_brow": RIGHT_BROW,
    "lips": OUTER_LIPS,
    "inner_mouth": INNER_LIPS,
}

_SUBPIXEL_BITS = 4  # cv2.fillPoly draws at 1/16 px, so small regions keep their shape


def region_polygon(points: np.ndarray, name: str) -> np.ndarray:
    """``(K, 2)`` polygon of region ``name`` from ``points (468, 2 or 3)``, in the points' pixels."""
    if name not in REGIONS:
        raise KeyError(f"unknown face region {name!r}; choose from {', '.join(REGIONS)}")
    return np.asarray(points, np.float64)[list(REGIONS[name]), :2]


def _fill(mask: np.ndarray, polygon: np.ndarray, value: float) -> None:
    scaled = np.round(polygon * (1 << _SUBPIXEL_BITS)).astype(np.int32)
    cv2.fillPoly(mask, [scaled], value, lineType=cv2.LINE_AA, shift=_SUBPIXEL_BITS)


def region_mask(points: np.ndarray, name: str, shape: tuple[int, int], feather: float = 0.0) -> np.ndarray:
    """``(H, W)`` float32 mask in [0, 1] of region ``name``: 1 inside, 0 outside, anti-aliased.

    ``shape`` is ``(H, W)`` of the image the points are in. ``lips`` excludes the inner mouth.
    ``feather`` (pixels) blurs the edge with a Gaussian of that sigma, for soft blending.
    """
    mask = np.zeros(shape[:2], np.float32)
    _fill(mask, region_polygon(points, name), 1.0)
    if name == "lips":
        _fill(mask, region_polygon(points, "inner_mouth"), 0.0)
    if feather > 0:
        mask = cv2.GaussianBlur(mask, (0, 0), feather)
    return mask


def region_masks(points: np.ndarray, shape: tuple[int, int], feather: float = 0.0) -> dict[str, np.ndarray]:
    """:func:`region_mask` of every region in :data:`REGIONS`."""
    return {name: region_mask(points, name, shape, feather) for name in REGIONS}


def mouth_opening(points: np.ndarray) -> float:
    """How open the mouth is: the inner lips' gap over the mouth's width (0 closed, ~0.5 wide open)."""
    points = np.asarray(points, np.float64)[:, :2]
    gap = np.linalg.norm(points[UPPER_LIP_INNER] - points[LOWER_LIP_INNER])
    width = np.linalg.norm(points[61] - points[291])  # mouth corners
    return float(gap / max(width, 1e-6))


def eye_opening(points: np.ndarray) -> tuple[float, float]:
    """How open each eye is (left, right as seen): eyelid gap over eye width (about 0.3 open, 0 shut)."""
    points = np.asarray(points, np.float64)[:, :2]

    def ratio(lids, corners):
        gap = np.linalg.norm(points[lids[0]] - points[lids[1]])
        return float(gap / max(np.linalg.norm(points[corners[0]] - points[corners[1]]), 1e-6))

    return ratio(LEFT_EYELIDS, LEFT_EYE_CORNERS), ratio(RIGHT_EYELIDS, RIGHT_EYE_CORNERS)
