"""The photo's background, kept still behind a moving head (the mesh warp's third layer).

A warp that moves the head must move something around it: the mesh warp's support layer
(:mod:`.mesh_warp`) carries hair, ears and neck along, fading out to the image border. A smooth
warp cannot tell the head from the wall behind it, so the wall next to the head moves with the
head, and where the head turns away the wall is not uncovered but stretched. This module separates
the two once per photo:

- :func:`person_matte`: which of the photo's pixels are the person (face, hair, neck, body),
  ``(H, W)`` in [0, 1]. GrabCut (Rother et al. 2004; OpenCV's ``cv2.grabCut``) seeded by the face
  mesh: the face oval is the person for sure, the region around it (the oval grown
  :data:`PERSON_LIKELY` times, and the neck and body below the chin) probably the person, the
  rest probably background and, beyond the oval grown :data:`BACKGROUND_SURE` times above the
  chin, background for sure. Its edge is feathered by :data:`FEATHER` of the face's width.
- :func:`background_plate`: the photo with the person removed and filled from the background
  around it (OpenCV's ``cv2.inpaint``, Telea 2004), ``(H, W, 3)`` uint8: what the wall would show
  where the person is.

Each output frame is then the warped photo where the warped matte says person, the plate
elsewhere: the background stays still, and where the head moves off it, the plate's own
background fills in.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..faces.regions import FACE_OVAL

#: GrabCut's seeds, in face-oval radii about the oval's centre: inside the oval shrunk to the first
#: the person for sure; inside the oval grown to the second probably the person (hair, ears).
PERSON_SURE, PERSON_LIKELY = 0.9, 1.6
#: Beyond the oval grown this much, above the chin: background for sure.
BACKGROUND_SURE = 2.4
#: GrabCut's rounds.
GRABCUT_ROUNDS = 4
#: GrabCut and the inpainting run on the photo shrunk to at most this side (pixels), for speed.
WORK_SIDE = 256
#: The matte's edge is blurred by a Gaussian of this many face widths (about 1 px at 256 px).
FEATHER = 0.008
#: The person, grown by this many face widths, is inpainted (so no hair edge colours the plate).
PLATE_GROW = 0.03
#: With less than this share of the photo left as background, there is no background layer.
MIN_BACKGROUND = 0.05


def _oval_polygon(points: np.ndarray, scale: float, shape: tuple[int, int]) -> np.ndarray:
    oval = np.asarray(points, np.float64)[list(FACE_OVAL), :2]
    centre = oval.mean(axis=0)
    mask = np.zeros(shape, np.uint8)
    cv2.fillPoly(mask, [np.round((centre + scale * (oval - centre)) * 16).astype(np.int32)], 1, shift=4)
    return mask > 0


def person_matte(image: np.ndarray, points: np.ndarray) -> np.ndarray | None:
    """``(H, W)`` float32 in [0, 1]: the person in ``image (H, W, 3)`` uint8 RGB whose face mesh is
    ``points (468, 2+)`` pixels (module docstring); 1 inside the face oval. None where GrabCut
    leaves less than :data:`MIN_BACKGROUND` of the photo as background (a tight crop: nothing
    to keep still) or fails."""
    height, width = image.shape[:2]
    factor = min(WORK_SIDE / max(height, width), 1.0)
    small = (
        cv2.resize(image, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA) if factor < 1 else image
    )
    shape = small.shape[:2]
    scaled = np.asarray(points, np.float64)[:, :2] * factor
    oval = scaled[list(FACE_OVAL)]
    centre, half_width = oval.mean(axis=0), 0.5 * np.ptp(oval[:, 0])
    ys, xs = np.mgrid[0 : shape[0], 0 : shape[1]]
    below_chin = ys > oval[:, 1].max()
    seeds = np.full(shape, cv2.GC_PR_BGD, np.uint8)
    seeds[
        _oval_polygon(scaled, PERSON_LIKELY, shape) | (below_chin & (np.abs(xs - centre[0]) < half_width))
    ] = cv2.GC_PR_FGD
    seeds[~_oval_polygon(scaled, BACKGROUND_SURE, shape) & ~below_chin] = cv2.GC_BGD
    seeds[_oval_polygon(scaled, PERSON_SURE, shape)] = cv2.GC_FGD
    # GrabCut's colour models start from k-means on OpenCV's global generator: seeded, so the same
    # photo gives the same matte and a fake is the same every time it is made.
    cv2.setRNGSeed(0)
    try:
        cv2.grabCut(
            np.ascontiguousarray(small[..., ::-1]),
            seeds,
            None,
            np.zeros((1, 65)),
            np.zeros((1, 65)),
            GRABCUT_ROUNDS,
            cv2.GC_INIT_WITH_MASK,
        )
    except cv2.error:  # a seed class with too few pixels to fit its colour model
        return None
    person = ((seeds == cv2.GC_FGD) | (seeds == cv2.GC_PR_FGD)).astype(np.float32)
    if 1 - person.mean() < MIN_BACKGROUND:
        return None
    face_width = 2 * half_width / factor
    person = cv2.resize(person, (width, height), interpolation=cv2.INTER_LINEAR) if factor < 1 else person
    person = cv2.GaussianBlur(person, (0, 0), max(FEATHER * face_width, 0.5))
    person[_oval_polygon(points, 1.0, (height, width))] = 1.0
    return person


def background_plate(image: np.ndarray, matte: np.ndarray, points: np.ndarray) -> np.ndarray:
    """``(H, W, 3)`` uint8: ``image`` with the person (``matte`` above one half, grown
    :data:`PLATE_GROW` face widths) filled from the background around it by ``cv2.inpaint``
    (Telea), computed at most :data:`WORK_SIDE` px and enlarged; the photo's own pixels elsewhere."""
    height, width = image.shape[:2]
    oval = np.asarray(points, np.float64)[list(FACE_OVAL), :2]
    grow = max(int(round(PLATE_GROW * np.ptp(oval[:, 0]))), 1)
    hole = cv2.dilate((matte > 0.5).astype(np.uint8), np.ones((2 * grow + 1, 2 * grow + 1), np.uint8))
    factor = min(WORK_SIDE / max(height, width), 1.0)
    if factor < 1:
        small = cv2.resize(image, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
        small_hole = cv2.resize(hole, (small.shape[1], small.shape[0]), interpolation=cv2.INTER_NEAREST)
        filled = cv2.resize(
            cv2.inpaint(small, small_hole, 3, cv2.INPAINT_TELEA),
            (width, height),
            interpolation=cv2.INTER_LINEAR,
        )
    else:
        filled = cv2.inpaint(np.ascontiguousarray(image), hole, 3, cv2.INPAINT_TELEA)
    return np.where(hole[..., None] > 0, filled, image)
