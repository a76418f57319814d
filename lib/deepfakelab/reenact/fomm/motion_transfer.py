"""How the driving video's keypoints become the keypoints the source is animated to.

*Absolute* motion uses the driving keypoints as they are: the source takes on the driving face's
shape and position, which looks wrong when the two faces differ (a narrow face driven by a wide
one). *Relative* motion (the published demo's default, and this kit's) moves each source keypoint
by the driving keypoint's displacement since an initial driving frame, and composes the local
affine maps the same way, so only the *motion* is transferred. With ``adapt_movement_scale``
the displacement is scaled by sqrt(area ratio) of the keypoints' convex hulls, so a face filling
half the frame moves half as far as one filling all of it.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.spatial import ConvexHull, QhullError

from .keypoints import Keypoints


def convex_hull_area(points: torch.Tensor) -> float:
    """Area of the convex hull of ``(K, 2)`` points (normalised units squared)."""
    try:
        return float(ConvexHull(points.detach().cpu().double().numpy()).volume)
    except QhullError:  # all keypoints on a line: no area, so no scale to adapt
        return 0.0


def movement_scale(kp_source: Keypoints, kp_driving_initial: Keypoints) -> float:
    """``sqrt(hull area of source keypoints / hull area of initial driving keypoints)``; 1 if degenerate.

    Uses the first item of each batch, as the published demo does.
    """
    source_area = convex_hull_area(kp_source.value[0])
    driving_area = convex_hull_area(kp_driving_initial.value[0])
    if source_area <= 0 or driving_area <= 0:
        return 1.0
    return float(np.sqrt(source_area) / np.sqrt(driving_area))


def transfer_motion(
    kp_source: Keypoints,
    kp_driving: Keypoints,
    kp_driving_initial: Keypoints | None = None,
    relative: bool = True,
    adapt_movement_scale: bool = True,
    relative_jacobian: bool | None = None,
) -> Keypoints:
    """The keypoints to animate the source to, for a batch of ``B`` driving frames.

    kp_source: ``(1, K, 2)`` (and jacobians). kp_driving: ``(B, K, 2)``. kp_driving_initial:
    ``(1, K, 2)``, the frame whose pose corresponds to the source's (required when relative).
    Relative motion (the published ``normalize_kp``)::

        value    = kp_source + scale * (kp_driving - kp_driving_initial)
        jacobian = (J_driving @ inverse(J_driving_initial)) @ J_source

    Absolute motion returns ``kp_driving`` unchanged (``adapt_movement_scale`` has no effect).
    """
    if not relative:
        return kp_driving
    if kp_driving_initial is None:
        raise ValueError(
            "relative motion needs kp_driving_initial (the driving frame matching the source's pose)"
        )
    relative_jacobian = relative if relative_jacobian is None else relative_jacobian
    scale = movement_scale(kp_source, kp_driving_initial) if adapt_movement_scale else 1.0
    value = (kp_driving.value - kp_driving_initial.value) * scale + kp_source.value
    jacobian = kp_driving.jacobian
    if relative_jacobian and jacobian is not None:
        jacobian_diff = torch.matmul(kp_driving.jacobian, torch.inverse(kp_driving_initial.jacobian))
        jacobian = torch.matmul(jacobian_diff, kp_source.jacobian)
    return Keypoints(value, jacobian)
