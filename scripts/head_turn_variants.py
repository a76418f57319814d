"""Why the mesh warp misses the seam target on turning heads: five variants of its support, measured.

    .venv/bin/python scripts/head_turn_variants.py        # about 1 minute on 2 cores

A one-off experiment (issue 29), not a bench: the Results page's "Head turns" section quotes it.
Each variant runs :func:`deepfakelab.reenact.evaluation.evaluate_head_turns`, the protocol of
``bench/mesh_warp_turns.py`` (4 synthetic heads, yaw +-10, 20, 30 and 35 degrees), with one part of
:mod:`deepfakelab.reenact.mesh_warp` changed for the run:

- ``shipped``: as the kit ships it;
- ``up-vector roll`` / ``no roll``: the rings' in-plane rotation read off the head's up vector, or
  none (is the roll the mesh reads on a turning head the error?);
- ``neck still``: ring points below the face follow neither the head nor the chin;
- ``face over head``: the face (inside the moved oval) warped over everything else moved rigidly
  by the head's translation, with the head centre at the ears' depth;
- ``face over still``: the same with everything else held still. That knows the answer, since
  these heads turn without moving; a real head moves.

First prints what the mesh reads on each turn (the rigid fit's yaw, pitch, roll and scale, and how
far the head centre the rings follow moves; the true heads turn about a still centre with no
pitch, roll or scale), then each variant's seam L1 and its ratio to the 5-point warp's (issue 29's
target: 0.5).
"""

from __future__ import annotations

import contextlib

import cv2
import numpy as np

from deepfakelab.faces.mesh import FaceMesh
from deepfakelab.faces.regions import FACE_OVAL
from deepfakelab.reenact import evaluation
from deepfakelab.reenact import mesh_warp as mw
from deepfakelab.threads import prepare_process


def _rotation(angle: float) -> np.ndarray:
    return np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])


def _up_vector_roll(scale, rotation):
    up = rotation[:, 1]
    return scale * _rotation(np.arctan2(-up[0], up[1]))


def _remap(image, mapping):
    return cv2.remap(image, mapping[..., 0], mapping[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


class _NeckStill(mw.MeshWarper):
    """The kit's support motion, scaled down for ring points below the face's centre: the lower
    they lie, the less they move; straight below it, not at all."""

    def control_targets(self, targets, pose):
        unfold, self.unfold = self.unfold, False
        control = super().control_targets(targets, pose)
        self.unfold = unfold
        rings = self._control[self._rings_at]
        away = rings - self.points[list(FACE_OVAL)].mean(axis=0)
        weight = 1 - np.clip(away[:, 1] / np.linalg.norm(away, axis=1), 0, 1)[:, None]
        control[self._rings_at] = rings + weight * (control[self._rings_at] - rings)
        return self._unfold(control, np.asarray(targets, np.float64)[:, :2]) if unfold else control


class _FaceOverHead(mw.MeshWarper):
    """The face from the mesh warp; around it the photo moved by the head's translation only
    (``still``: not moved), over the still background plate."""

    still = False

    def warp(self, targets, pose, depth=None, head=None, driving=None, driving_points=None):
        head = pose if head is None else head
        targets = np.asarray(targets)[:, :2]
        face_map = self.backward_map(self.control_targets(targets, head), depth)
        face = self._over_background(_remap(self.source, face_map), face_map)
        centre = self.points[list(FACE_OVAL)].mean(axis=0)
        shift = np.zeros(2) if self.still else mw._apply(head, centre[None])[0] - centre
        around = self._grid[..., :2] - shift.astype(np.float32)
        rest = self._over_background(_remap(self.source, around), around)
        mask = np.zeros(face.shape[:2], np.float32)
        cv2.fillPoly(mask, [np.round(targets[list(FACE_OVAL)] * 16).astype(np.int32)], 1.0, shift=4)
        mask = cv2.GaussianBlur(mask, (0, 0), 1.0)[..., None]
        out = np.clip(mask * face + (1 - mask) * rest + 0.5, 0, 255).astype(np.uint8)
        return self._fill_mouth(out, targets, pose, driving, driving_points)


class _FaceOverStill(_FaceOverHead):
    still = True


@contextlib.contextmanager
def _patched(module, **values):
    before = {name: getattr(module, name) for name in values}
    for name, value in values.items():
        setattr(module, name, value)
    try:
        yield
    finally:
        for name, value in before.items():
            setattr(module, name, value)


VARIANTS = {
    "shipped": {},
    "up-vector roll": {"_roll_similarity": _up_vector_roll},
    "no roll": {"_roll_similarity": lambda scale, rotation: scale * np.eye(2)},
    "neck still": {"MeshWarper": _NeckStill},
    "face over head": {"MeshWarper": _FaceOverHead, "HEAD_CENTRE_DEPTH": 0.0},
    "face over still": {"MeshWarper": _FaceOverStill},
}


def print_pose_bias(face_mesh: FaceMesh, identities=(1, 2, 3, 4)) -> None:
    """The head pose the mesh reads on each synthetic turn, against the truth (yaw only)."""
    from scipy.spatial.transform import Rotation

    rigid = list(mw.RIGID_POINTS)
    for seed in identities:
        _, meshes = evaluation._render_turns(seed, evaluation.TURN_YAWS, 256, face_mesh)
        motion = mw.transfer_motion(meshes[0], meshes)
        centre = mw.head_centre(meshes[0])[:2]
        for t, yaw in enumerate(evaluation.TURN_YAWS, start=1):
            scale, rotation, _ = mw._rigid_fit_3d(meshes[0][rigid], meshes[t][rigid])
            pitch, read_yaw, roll = Rotation.from_matrix(rotation).as_euler("xyz", degrees=True)
            moved = np.linalg.norm(mw._apply(motion.head[t], centre[None])[0] - centre)
            print(
                f"head {seed}, yaw {yaw:+4.0f}: read yaw {-read_yaw:+5.1f}, pitch {pitch:+4.1f}, "
                f"roll {roll:+4.1f}, scale {scale:.3f}; head centre moved {moved:4.1f} px"
            )


def main() -> None:
    prepare_process()
    face_mesh = FaceMesh()
    print_pose_bias(face_mesh)
    for name, changes in VARIANTS.items():
        warper = changes.get("MeshWarper", mw.MeshWarper)
        module_changes = {k: v for k, v in changes.items() if k != "MeshWarper"}
        with _patched(mw, **module_changes), _patched(evaluation, MeshWarper=warper):
            scores = evaluation.evaluate_head_turns(face_mesh=face_mesh)
        seam, baseline = scores["mesh-warp"]["seam_l1"], scores["landmark-warp"]["seam_l1"]
        print(f"{name:<16} seam L1 {seam:.4f}  {seam / baseline:.2f}x the 5-point warp's", flush=True)


if __name__ == "__main__":
    main()
