"""Manipulations that turn real frames into training fakes, each with the mask of what changed.

Public detectors are trained on fakes whose changed region nobody recorded; here every fake
carries ``mask``, so the explainability maps can be checked against the truth (pointing game,
energy inside the mask: see :mod:`deepfakelab.detect.explain`).

Each manipulation is a small function with the same shape of result (:class:`Fake`), so a new
one (for example the FOMM reenactment, when its model is available) is added by writing one
function and listing it in :data:`MANIPULATIONS`.

- :func:`self_blend` -- self-blended images (Shiohara & Yamasaki, CVPR 2022): a frame blended
  with a slightly recoloured, resharpened, shifted copy of itself inside a deformed face mask.
  The only trace is the blending boundary and the statistics mismatch, which is what every
  face swap leaves too; that is why SBI-trained detectors generalise.
- :func:`face_swap` -- the inner face of another identity, aligned, colour-matched and blended
  (feathered alpha or Poisson), the classic FaceSwap / DeepFakes pipeline without the autoencoder.
- :func:`landmark_warp` -- the expression of another frame imposed by warping the face along its
  landmarks: the kit's training-free reenactment warp (thin-plate spline,
  :class:`deepfakelab.reenact.methods.LandmarkWarp`), or a piecewise-affine warp for a frame that
  is not square.

All images are ``(H, W, 3)`` uint8 RGB; face masks are ``(H, W)`` float32 in [0, 1]; the change
mask of a :class:`Fake` is binary (0 or 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from skimage.transform import PiecewiseAffineTransform

from ..reenact.methods import LandmarkWarp


@dataclass
class Fake:
    """A manipulated frame: ``image`` (H, W, 3) uint8, ``mask`` (H, W) float32, 1 where it changed."""

    image: np.ndarray
    mask: np.ndarray
    kind: str


def _odd(n: float) -> int:
    n = max(1, int(n))
    return n if n % 2 else n + 1


def deformed_mask(mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Face mask grown or shrunk, wobbled and feathered: blending boundaries vary as in the wild."""
    h, w = mask.shape
    hard = (mask > 0.5).astype(np.uint8)
    k = _odd(rng.uniform(0.01, 0.06) * h)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    hard = cv2.erode(hard, kernel) if rng.random() < 0.5 else cv2.dilate(hard, kernel)
    # smooth random displacement field (elastic wobble of the outline)
    grid = rng.normal(0, 0.03 * h, size=(2, 4, 4)).astype(np.float32)
    dx, dy = (cv2.resize(g, (w, h), interpolation=cv2.INTER_CUBIC) for g in grid)
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    hard = cv2.remap(hard.astype(np.float32), xs + dx, ys + dy, cv2.INTER_LINEAR)
    blur = _odd(rng.uniform(0.02, 0.12) * h)
    soft = cv2.GaussianBlur(hard, (blur, blur), 0)
    soft = soft / max(float(soft.max()), 1e-6)
    return (soft * rng.choice([0.5, 0.75, 1.0, 1.0, 1.0])).astype(np.float32)


def _recolour(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random hue/saturation/brightness/contrast shift and a blur or a sharpening."""
    hsv = cv2.cvtColor(image, cv2.COLOR_RGB2HSV).astype(np.float32)
    hsv[..., 0] = (hsv[..., 0] + rng.uniform(-8, 8)) % 180
    hsv[..., 1] = np.clip(hsv[..., 1] * rng.uniform(0.8, 1.25), 0, 255)
    hsv[..., 2] = np.clip(hsv[..., 2] * rng.uniform(0.85, 1.15) + rng.uniform(-12, 12), 0, 255)
    out = cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB).astype(np.float32)
    if rng.random() < 0.5:
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.6, 1.5))
    else:
        blurred = cv2.GaussianBlur(out, (0, 0), 1.0)
        out = out + rng.uniform(0.5, 1.5) * (out - blurred)
    return np.clip(out, 0, 255)


def blend(source: np.ndarray, target: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """``source`` over ``target`` (both (H, W, 3) uint8) with opacity ``alpha`` (H, W) in [0, 1]."""
    a = alpha[..., None]
    return np.clip(source.astype(np.float32) * a + target.astype(np.float32) * (1 - a), 0, 255).astype(
        np.uint8
    )


def change_mask(fake: np.ndarray, real: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Binary (0/1) region the manipulation changed: blended in (alpha > 0.1) and visibly
    different (some channel moved by 3 levels or more), with pinholes closed where a flat area
    happened to keep its colour."""
    diff = np.abs(fake.astype(np.int16) - real.astype(np.int16)).max(axis=-1)
    changed = ((diff >= 3) & (alpha > 0.1)).astype(np.uint8)
    k = _odd(0.02 * changed.shape[0])
    changed = cv2.morphologyEx(changed, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    return (changed & (alpha > 0.1)).astype(np.float32)


def self_blend(image: np.ndarray, face_mask: np.ndarray, rng: np.random.Generator) -> Fake:
    """A self-blended image (SBI) of ``image`` inside a deformed version of ``face_mask``."""
    h, w = face_mask.shape
    source = _recolour(image, rng)
    ys, xs = np.nonzero(face_mask > 0.5)
    cx, cy = (xs.mean(), ys.mean()) if len(xs) else (w / 2, h / 2)
    scale = rng.uniform(0.95, 1.05)
    matrix = cv2.getRotationMatrix2D((float(cx), float(cy)), 0.0, scale)
    matrix[:, 2] += rng.uniform(-0.03, 0.03, size=2) * (w, h)
    source = cv2.warpAffine(source, matrix, (w, h), borderMode=cv2.BORDER_REFLECT)
    alpha = deformed_mask(face_mask, rng)
    fake = blend(source, image, alpha)
    return Fake(fake, change_mask(fake, image, alpha), "self_blend")


def aligned_points(points: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``points`` (K, 2) moved by the similarity that best maps them onto ``reference`` (K, 2):
    another face's expression in this face's frame (keeps expression, drops pose and size)."""
    matrix, _ = cv2.estimateAffinePartial2D(points.astype(np.float32), reference.astype(np.float32))
    return points @ matrix[:, :2].T + matrix[:, 2]


def _align(donor_points: np.ndarray, target_points: np.ndarray) -> np.ndarray:
    matrix, _ = cv2.estimateAffinePartial2D(donor_points.astype(np.float32), target_points.astype(np.float32))
    return matrix


def _box_points(mask: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(mask > 0.5)
    return np.array(
        [[xs.min(), ys.min()], [xs.max(), ys.min()], [xs.min(), ys.max()], [xs.max(), ys.max()]], np.float32
    )


def _match_colours(donor: np.ndarray, target: np.ndarray, region: np.ndarray) -> np.ndarray:
    """Reinhard colour transfer in Lab, statistics taken inside ``region`` of both images."""
    sel = region > 0.5
    if sel.sum() < 16:
        return donor
    d = cv2.cvtColor(donor, cv2.COLOR_RGB2LAB).astype(np.float32)
    t = cv2.cvtColor(target, cv2.COLOR_RGB2LAB).astype(np.float32)
    d_mean, d_std = d[sel].mean(0), d[sel].std(0) + 1e-3
    t_mean, t_std = t[sel].mean(0), t[sel].std(0) + 1e-3
    out = np.clip((d - d_mean) / d_std * t_std + t_mean, 0, 255).astype(np.uint8)
    return cv2.cvtColor(out, cv2.COLOR_LAB2RGB)


def face_swap(
    target: np.ndarray,
    target_mask: np.ndarray,
    donor: np.ndarray,
    donor_mask: np.ndarray,
    rng: np.random.Generator,
    target_points: np.ndarray | None = None,
    donor_points: np.ndarray | None = None,
) -> Fake:
    """The donor's inner face on the target: aligned (landmarks if given, else mask boxes),
    colour-matched, then blended with a feathered mask or by Poisson blending (``seamlessClone``)."""
    h, w = target_mask.shape
    if target_points is None or donor_points is None:
        target_points, donor_points = _box_points(target_mask), _box_points(donor_mask)
    matrix = _align(donor_points, target_points)
    warped = cv2.warpAffine(donor, matrix, (w, h), borderMode=cv2.BORDER_REFLECT)
    warped_mask = cv2.warpAffine(donor_mask.astype(np.float32), matrix, (w, h))
    region = np.minimum(target_mask, warped_mask)
    warped = _match_colours(warped, target, region)
    alpha = deformed_mask(region, rng)
    if rng.random() < 0.3 and (alpha > 0.5).sum() > 64:
        ys, xs = np.nonzero(alpha > 0.5)
        centre = (int((xs.min() + xs.max()) / 2), int((ys.min() + ys.max()) / 2))
        try:
            fake = cv2.seamlessClone(
                warped, target, ((alpha > 0.5) * 255).astype(np.uint8), centre, cv2.NORMAL_CLONE
            )
            return Fake(fake, change_mask(fake, target, (alpha > 0.5).astype(np.float32)), "face_swap")
        except cv2.error:
            pass  # mask touching the border: fall back to alpha blending
    fake = blend(warped, target, alpha)
    return Fake(fake, change_mask(fake, target, alpha), "face_swap")


def _upsample_grid(coarse: np.ndarray, step: int) -> np.ndarray:
    """Bilinear upsampling of values at pixels ``0, step, 2 step, ...`` to every pixel (corners aligned)."""
    gh, gw = coarse.shape[:2]
    grid = torch.from_numpy(coarse).permute(2, 0, 1)[None]
    up = F.interpolate(
        grid, size=((gh - 1) * step + 1, (gw - 1) * step + 1), mode="bilinear", align_corners=True
    )
    return up[0].permute(1, 2, 0).numpy()


def landmark_warp(
    image: np.ndarray,
    face_mask: np.ndarray,
    points: np.ndarray,
    driving_points: np.ndarray,
    rng: np.random.Generator,
) -> Fake:
    """Move ``points`` (K, 2) of ``image`` to ``driving_points`` by warping the face along them.

    Used with another frame's landmarks (aligned to this face) this is the training-free
    "expression transfer" deepfake: the mouth and eyes move, the texture stays, and the warp
    leaves stretched pixels and a seam where the warped region meets the untouched frame.
    """
    h, w = face_mask.shape
    warped = _kit_warp(image, points, driving_points)
    if warped is None:
        warped = _piecewise_affine_warp(image, points, driving_points)
    if warped is None:
        return self_blend(image, face_mask, rng)
    alpha = deformed_mask(face_mask, rng)  # the warp is only kept inside the face
    fake = blend(warped, image, alpha)
    return Fake(fake, change_mask(fake, image, alpha), "landmark_warp")


def _kit_warp(image: np.ndarray, points: np.ndarray, driving_points: np.ndarray) -> np.ndarray | None:
    """The reenactment lab's thin-plate-spline warp (square images only; else ``None``): the landmark
    warp driven from ``points`` to ``driving_points``, unscaled."""
    if image.shape[0] != image.shape[1]:
        return None
    warp = LandmarkWarp(adapt_movement_scale=False)
    return warp(image, source_points=points, driving_points=np.stack([points, driving_points])).frames[1]


def _piecewise_affine_warp(
    image: np.ndarray, points: np.ndarray, driving_points: np.ndarray
) -> np.ndarray | None:
    """Fallback warp: piecewise-affine over the landmarks' triangulation plus border anchors."""
    h, w = image.shape[:2]
    border = np.array(
        [
            [0, 0],
            [w - 1, 0],
            [0, h - 1],
            [w - 1, h - 1],
            [w / 2, 0],
            [w / 2, h - 1],
            [0, h / 2],
            [w - 1, h / 2],
        ],
        np.float64,
    )
    # warp() needs the map from output to input coordinates: driving -> source
    tform = PiecewiseAffineTransform.from_estimate(
        np.vstack([driving_points, border]), np.vstack([points, border])
    )
    if not tform:
        return None
    # evaluate the map on a coarse grid and interpolate: the warp is smooth inside each triangle
    step = 4
    gx, gy = np.meshgrid(
        np.arange(0, w + step, step, dtype=np.float64), np.arange(0, h + step, step, dtype=np.float64)
    )
    coarse = tform(np.column_stack([gx.ravel(), gy.ravel()])).reshape(gx.shape + (2,)).astype(np.float32)
    full = _upsample_grid(coarse, step)[:h, :w]
    return cv2.remap(image, full[..., 0], full[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


#: Names of the manipulations the training-data builder knows, in the order of the tables.
MANIPULATIONS: tuple[str, ...] = ("self_blend", "face_swap", "landmark_warp", "fomm")

Manipulation = Callable[..., Fake]
