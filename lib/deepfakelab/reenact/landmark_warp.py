"""A training-free reenactment baseline: move the source's landmarks, warp the photo along.

Each driving frame's facial landmarks are compared with those of the initial driving frame; the
source's landmarks are moved by the same displacement (scaled by the ratio of the faces' sizes,
as FOMM's relative motion does), and the source photo is warped so that its landmarks land on the
moved positions: a thin-plate spline through the landmarks plus fixed anchors on the image border,
so the background stays put. With MTCNN's five points (eyes, nose, mouth corners) it follows head
motion and coarse expression but cannot open a mouth or close an eye: what FOMM's occlusion-aware
generator adds. It works on any photo without trained weights, so the kit uses it on real photos
when no published FOMM checkpoint is given (and says so).
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy.interpolate import RBFInterpolator
from scipy.ndimage import zoom

#: Fixed points per image side that pin the border in place.
ANCHORS_PER_SIDE = 5
#: The warp is evaluated on a grid this many pixels apart, then interpolated (it is smooth).
GRID_STEP = 4


def _border_anchors(size: int) -> np.ndarray:
    ticks = np.linspace(0, size - 1, ANCHORS_PER_SIDE)
    edges = (
        [(t, 0) for t in ticks]
        + [(t, size - 1) for t in ticks]
        + [(0, t) for t in ticks[1:-1]]
        + [(size - 1, t) for t in ticks[1:-1]]
    )
    return np.array(edges, dtype=np.float64)


def face_scale(landmarks: np.ndarray) -> float:
    """A face's size in pixels: the distance between the eye centre and the mouth centre plus the eye distance."""
    eyes, mouth = landmarks[:2].mean(axis=0), landmarks[3:5].mean(axis=0)
    return float(np.linalg.norm(eyes - mouth) + np.linalg.norm(landmarks[0] - landmarks[1]))


def target_landmarks(
    source_landmarks: np.ndarray,
    driving_landmarks: np.ndarray,
    initial: int = 0,
    adapt_movement_scale: bool = True,
) -> np.ndarray:
    """Where the source's landmarks go in each frame: ``source + scale * (driving_t - driving_initial)``.

    source_landmarks: ``(P, 2)`` pixels; driving_landmarks: ``(N, P, 2)`` pixels. Returns ``(N, P, 2)``.
    """
    scale = (
        face_scale(source_landmarks) / max(face_scale(driving_landmarks[initial]), 1e-6)
        if adapt_movement_scale
        else 1.0
    )
    return source_landmarks[None] + scale * (driving_landmarks - driving_landmarks[initial][None])


def warp_map(height: int, width: int, source_points: np.ndarray, target_points: np.ndarray) -> np.ndarray:
    """The backward map ``(H, W, 2)``: for each output pixel, the source pixel ``(x, y)`` it shows.

    A thin-plate spline through ``target_points -> source_points`` (``(P, 2)`` pixels) plus
    fixed border anchors, so the image border does not move.
    """
    anchors = _border_anchors(max(height, width))
    anchors = np.clip(anchors, 0, [width - 1, height - 1])
    spline = RBFInterpolator(
        np.vstack([target_points, anchors]),
        np.vstack([source_points, anchors]),
        kernel="thin_plate_spline",
        smoothing=1e-3,
    )
    # Evaluate on a coarse grid whose first and last nodes sit on the border pixels, then
    # interpolate linearly with corners aligned (scipy's zoom with grid_mode=False does exactly that).
    rows, cols = -(-height // GRID_STEP) + 1, -(-width // GRID_STEP) + 1
    ys, xs = np.linspace(0, height - 1, rows), np.linspace(0, width - 1, cols)
    grid = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
    coarse = spline(grid).reshape(rows, cols, 2)
    return np.stack(
        [zoom(coarse[..., c], (height / rows, width / cols), order=1, grid_mode=False) for c in range(2)],
        axis=-1,
    )


def warp_to_landmarks(image: np.ndarray, source_points: np.ndarray, target_points: np.ndarray) -> np.ndarray:
    """Warp ``image (H, W, 3)`` so that ``source_points (P, 2)`` move to ``target_points (P, 2)``.

    Backward warping through :func:`warp_map` (every output pixel is looked up in ``image``, so
    there are no holes); the border does not move.
    """
    full = warp_map(image.shape[0], image.shape[1], source_points, target_points).astype(np.float32)
    return cv2.remap(
        image, full[..., 0], full[..., 1], interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )


def landmark_reenact(
    source_image: np.ndarray,
    source_landmarks: np.ndarray,
    driving_landmarks: np.ndarray,
    initial: int = 0,
    adapt_movement_scale: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Animate ``source_image (S, S, 3)`` uint8 with driving landmark motion.

    source_landmarks ``(P, 2)`` and driving_landmarks ``(N, P, 2)`` are pixels in the source and
    driving crops. Returns the frames ``(N, S, S, 3)`` uint8 and the moved landmarks ``(N, P, 2)``.
    """
    targets = target_landmarks(source_landmarks, driving_landmarks, initial, adapt_movement_scale)
    frames = np.stack([warp_to_landmarks(source_image, source_landmarks, target) for target in targets])
    return frames, targets


def fill_missing(landmarks: list[np.ndarray | None]) -> np.ndarray:
    """Linearly interpolate landmarks over frames where no face was found; ``(N, P, 2)``."""
    known = [i for i, value in enumerate(landmarks) if value is not None]
    if not known:
        raise ValueError("no landmarks in any frame")
    stacked = np.stack([landmarks[i] for i in known])
    index = np.arange(len(landmarks))
    flat = stacked.reshape(len(known), -1)
    filled = np.stack([np.interp(index, known, flat[:, j]) for j in range(flat.shape[1])], axis=1)
    return filled.reshape(len(landmarks), *stacked.shape[1:])
