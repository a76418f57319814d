"""Fakes made from real faces with the face mesh: self-blends, face swaps, landmark reenactments.

Each function takes a :class:`MeshFace` (a square crop around a real face and its 468 mesh
points in the crop's pixels) and returns a :class:`~.manipulations.Fake` whose ``mask`` is
where the pixels changed, the ground truth for the pointing game. The blending itself is
:mod:`.manipulations`' (one home for SBI, swaps and warps); what this module adds is the
real-face geometry: masks from :mod:`deepfakelab.faces.regions` instead of a renderer's masks,
and landmarks from the mesh instead of a renderer's.

- :func:`mesh_self_blend`: Shiohara & Yamasaki's self-blended image (CVPR 2022). The face
  is blended onto itself after small colour, scale and shift changes, inside the mesh's face
  oval or its inner face (brows to lips), deformed and feathered: only the blending boundary
  and the statistics mismatch remain, the traces every pasted face leaves.
- :func:`mesh_face_swap`: another person's inner face aligned on the mesh, colour-matched,
  pasted back.
- :func:`mesh_reenact`: the kit's training-free reenactment (the thin-plate landmark warp,
  :class:`deepfakelab.reenact.methods.LandmarkWarp`) driven by another person's expression
  change, with the five MTCNN-like points or a denser set of mesh points, pasted back inside the
  face.
- :func:`mesh_warp_fake`: the kit's default reenactment of real photos
  (:class:`deepfakelab.reenact.methods.MeshWarp`), driven the same way, so the detector Lab 1
  uses has seen the fakes Lab 1 makes.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..faces.regions import REGIONS, region_mask
from ..reenact.methods import MeshWarp
from .manipulations import Fake, aligned_points, change_mask, face_swap, landmark_warp, self_blend

#: Mesh points standing in for MTCNN's five (eye centres are the eye loops' means).
NOSE_TIP, MOUTH_CORNERS = 1, (61, 291)
#: The denser warp's points: every other face-oval point, the eyes', brows' and lips' loops.
DENSE_POINTS = tuple(
    sorted(
        set(REGIONS["face_oval"][::2])
        | set(REGIONS["left_eye"][::2])
        | set(REGIONS["right_eye"][::2])
        | set(REGIONS["left_brow"])
        | set(REGIONS["right_brow"])
        | set(REGIONS["lips"][::2])
        | set(REGIONS["inner_mouth"][::2])
        | {NOSE_TIP}
    )
)


@dataclass
class MeshFace:
    """A real face ready to be manipulated: ``image`` (S, S, 3) uint8 RGB, ``points`` (468, 2)
    mesh points in its pixels."""

    image: np.ndarray
    points: np.ndarray


def oval_mask(face: MeshFace) -> np.ndarray:
    """``(S, S)`` float32 in [0, 1]: the mesh's face oval (forehead to chin)."""
    return region_mask(face.points, "face_oval", face.image.shape[:2])


def inner_face_mask(face: MeshFace) -> np.ndarray:
    """``(S, S)`` float32 in {0, 1}: convex hull of brows, eyes and lips (where swaps blend)."""
    names = ("left_brow", "right_brow", "left_eye", "right_eye", "lips")
    pts = np.concatenate([face.points[list(REGIONS[n]), :2] for n in names]).astype(np.float32)
    hull = cv2.convexHull(pts)
    mask = np.zeros(face.image.shape[:2], np.float32)
    cv2.fillConvexPoly(mask, np.round(hull).astype(np.int32), 1.0, lineType=cv2.LINE_AA)
    return mask


def five_points(points: np.ndarray) -> np.ndarray:
    """``(5, 2)``: left eye, right eye, nose tip, left and right mouth corners (as seen), from the mesh."""
    eyes = [points[list(REGIONS[n]), :2].mean(axis=0) for n in ("left_eye", "right_eye")]
    return np.stack(eyes + [points[NOSE_TIP, :2], points[MOUTH_CORNERS[0], :2], points[MOUTH_CORNERS[1], :2]])


def mesh_self_blend(face: MeshFace, rng: np.random.Generator) -> Fake:
    """A self-blended image of ``face``, masked by its face oval (p 0.6) or its inner face."""
    mask = oval_mask(face) if rng.random() < 0.6 else inner_face_mask(face)
    return self_blend(face.image, mask, rng)


def mesh_face_swap(target: MeshFace, donor: MeshFace, rng: np.random.Generator) -> Fake:
    """``donor``'s inner face on ``target``, aligned by a similarity fitted on all 468 points."""
    return face_swap(
        target.image,
        inner_face_mask(target),
        donor.image,
        inner_face_mask(donor),
        rng,
        target_points=target.points[:, :2],
        donor_points=donor.points[:, :2],
    )


def mesh_reenact(
    face: MeshFace, driving_from: np.ndarray, driving_to: np.ndarray, rng: np.random.Generator
) -> Fake:
    """``face`` moved by another face's change of expression ``driving_from -> driving_to`` (468, 2).

    The driving change is brought into this face's frame (similarity on the mesh), amplified
    1-2.5x (talking heads move little between two frames), added to this face's points, and
    the photo warped along them: five points (p 0.5, the kit's MTCNN warp) or the dense set.
    No point moves more than 6 % of the crop's side: a larger move folds the thin-plate warp.
    """
    start, end = (aligned_points(p[:, :2], face.points[:, :2]) for p in (driving_from, driving_to))
    delta = rng.uniform(1.0, 2.5) * (end - start)
    limit = 0.06 * face.image.shape[0]
    norm = np.linalg.norm(delta, axis=1, keepdims=True)
    moved = face.points[:, :2] + delta * np.minimum(1.0, limit / np.maximum(norm, 1e-6))
    if rng.random() < 0.5:
        src, dst = five_points(face.points), five_points(moved)
    else:
        src, dst = face.points[list(DENSE_POINTS), :2], moved[list(DENSE_POINTS)]
    fake = landmark_warp(face.image, oval_mask(face), src, dst, rng)
    return Fake(fake.image, fake.mask, "reenact" if fake.kind == "landmark_warp" else fake.kind)


def mesh_warp_fake(
    face: MeshFace, driving_from: np.ndarray, driving_to: np.ndarray, rng: np.random.Generator
) -> Fake:
    """``face`` reenacted by the kit's mesh warp with another face's change of expression and
    pose ``driving_from -> driving_to`` (468, 2), amplified 1-2.5x as in :func:`mesh_reenact`.

    The mask is every pixel the warp moved visibly (the face, and the hair and neck the rings
    around it drag along).
    """
    start = np.asarray(driving_from, np.float64)[:, :2]
    end = start + rng.uniform(1.0, 2.5) * (np.asarray(driving_to, np.float64)[:, :2] - start)
    warped = MeshWarp()(face.image, source_points=face.points[:, :2], driving_points=np.stack([start, end]))
    fake = warped.frames[1]
    return Fake(fake, change_mask(fake, face.image, np.ones(fake.shape[:2], np.float32)), "mesh_warp")
