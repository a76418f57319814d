"""Square face crops and pasting them back: the one crop and the one paste-back of the kit.

Every part that cuts a face out of a picture (the reenactment's source photo and driving video,
the detector's crops, its training set) goes through :func:`crop_box` and :func:`crop`, and
every part that puts something back (a generated face, an explanation map) through
:func:`uncrop` or :func:`paste_back`, so crops and paste-backs always agree.

A crop box that leaves the picture is **moved inside it**, or shrunk to the picture's shorter
side, never below the face itself. Filling the part outside by repeating the edge pixels (what
``BORDER_REPLICATE`` does) bakes vertical or horizontal streaks into the crop: a "tube neck", a
striped collar. Only where the picture is too small to hold a square around the whole face is
the crop padded, by reflection, and :func:`leaves_image` lets the caller say so.

Coordinates are pixels, ``(x, y)`` from the top-left; boxes are ``(x0, y0, x1, y1)``.
"""

from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np


def square_box(face_box, scale: float) -> np.ndarray:
    """A square ``(4,)`` float box, ``scale`` times the larger side of ``face_box``, centred on it.

    It may leave the picture; :func:`crop_box` fits it in.
    """
    x0, y0, x1, y1 = (float(v) for v in face_box)
    if x1 <= x0 or y1 <= y0:
        raise ValueError(f"degenerate face box {tuple(face_box)}")
    side = scale * max(x1 - x0, y1 - y0)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return np.array([cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2])


def crop_box(box, image_shape: Sequence[int], keep=None) -> np.ndarray:
    """``box`` (square) made whole pixels and moved inside an image of ``image_shape`` ``(H, W, ...)``.

    A box larger than the image's shorter side is shrunk to it, but never below the larger side
    of ``keep`` (the face box, which must stay whole); only then does it leave the image, covering
    it fully along that axis, and :func:`crop` pads by reflection. Returns ``(4,)`` int64.
    """
    height, width = int(image_shape[0]), int(image_shape[1])
    x0, y0, x1, y1 = (float(v) for v in box)
    side = max(x1 - x0, y1 - y0)
    floor = 0.0 if keep is None else max(float(keep[2]) - float(keep[0]), float(keep[3]) - float(keep[1]))
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    if side > min(height, width) and keep is not None:  # shrinking: keep the face in the middle
        cx, cy = (float(keep[0]) + float(keep[2])) / 2, (float(keep[1]) + float(keep[3])) / 2
    side = int(round(max(min(side, min(height, width)), floor, 1.0)))

    def place(centre: float, size: int) -> int:
        start = int(round(centre - side / 2))
        if side <= size:
            return min(max(start, 0), size - side)
        return min(max(start, size - side), 0)  # covers the whole axis, overhangs both ends as needed

    left, top = place(cx, width), place(cy, height)
    return np.array([left, top, left + side, top + side], dtype=np.int64)


def leaves_image(box, image_shape: Sequence[int]) -> bool:
    """Whether ``box`` reaches outside an image of ``image_shape``: the crop is padded there."""
    x0, y0, x1, y1 = (int(v) for v in box)
    return x0 < 0 or y0 < 0 or x1 > image_shape[1] or y1 > image_shape[0]


def crop(image: np.ndarray, box, size: int) -> np.ndarray:
    """Cut the whole-pixel ``box`` out of ``image`` (``(H, W)`` or ``(H, W, C)``), resize to ``size``.

    Parts of ``box`` outside the image (only where :func:`crop_box` could not avoid them) are
    filled by mirroring the image at its edge, which keeps texture instead of streaks.
    """
    x0, y0, x1, y1 = (int(v) for v in box)
    height, width = image.shape[:2]
    pads = (max(-y0, 0), max(y1 - height, 0)), (max(-x0, 0), max(x1 - width, 0))
    if any(p for pair in pads for p in pair):
        mode = "reflect" if min(height, width) > 1 else "edge"  # a 1-pixel image has nothing to mirror
        image = np.pad(image, pads + ((0, 0),) * (image.ndim - 2), mode=mode)
        x0, x1, y0, y1 = x0 + pads[1][0], x1 + pads[1][0], y0 + pads[0][0], y1 + pads[0][0]
    region = image[y0:y1, x0:x1]
    interpolation = cv2.INTER_AREA if region.shape[0] > size else cv2.INTER_LINEAR
    return cv2.resize(np.ascontiguousarray(region), (size, size), interpolation=interpolation)


def uncrop(crop_array: np.ndarray, box, frame_shape: Sequence[int]) -> np.ndarray:
    """Put a ``(S, S)`` or ``(S, S, C)`` array of the crop of ``box`` back into frame coordinates.

    Returns float32 ``(H, W)`` or ``(H, W, C)``, 0 outside the crop (and outside the frame).
    """
    x0, y0, x1, y1 = (int(v) for v in box)
    height, width = frame_shape[:2]
    resized = cv2.resize(
        np.asarray(crop_array, np.float32), (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR
    )
    out = np.zeros((height, width) + resized.shape[2:], np.float32)
    sx0, sy0, sx1, sy1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
    if sx1 > sx0 and sy1 > sy0:
        out[sy0:sy1, sx0:sx1] = resized[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0]
    return out


def feathered_square(size: int, feather: float = 0.08) -> np.ndarray:
    """A ``(size, size)`` float mask, 1 inside and soft over ``feather`` of the side at the edges."""
    ramp = max(int(feather * size), 1)
    mask = np.zeros((size, size), np.float32)
    mask[ramp:-ramp, ramp:-ramp] = 1
    return cv2.GaussianBlur(mask, (0, 0), ramp / 2)


def paste_back(
    frame: np.ndarray, crop_image: np.ndarray, box, feather: float = 0.08, mask: np.ndarray | None = None
) -> np.ndarray:
    """Blend ``crop_image (S, S, 3)`` uint8 into a copy of ``frame (H, W, 3)`` at ``box``.

    ``mask`` (``(S, S)`` in [0, 1], e.g. :func:`~deepfakelab.faces.masks.face_ellipse`) says
    how much of each crop pixel replaces the frame; by default the whole square with edges
    softened over ``feather`` of its side, which hides the seam between a generated face and the
    original surroundings.
    """
    if mask is None:
        mask = feathered_square(crop_image.shape[0], feather)
    alpha = uncrop(mask, box, frame.shape)[..., None]
    pasted = uncrop(crop_image, box, frame.shape)
    blended = alpha * pasted + (1 - alpha) * frame.astype(np.float32)
    return np.clip(blended + 0.5, 0, 255).astype(np.uint8)


def to_crop_coordinates(points: np.ndarray, box, size: int) -> np.ndarray:
    """``(N, 2)`` image pixels -> pixels of the ``size`` crop of ``box``."""
    x0, y0, x1, y1 = (float(v) for v in box)
    scale = np.array([size / (x1 - x0), size / (y1 - y0)])
    return (np.asarray(points, np.float64) - np.array([x0, y0])) * scale
