"""Why the mesh warp misses the seam target on turning heads: six variants of its support, measured.

    .venv/bin/python scripts/head_turn_variants.py        # about 1 minute on 2 cores
    .venv/bin/python scripts/head_turn_variants.py --real ../shared/data/real   # + about 5 minutes

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
- ``face over registered``: the same with everything else moved by the similarity the driver's own
  hair, ears and neck moved by (Lucas-Kanade on the person matte around the face, RANSAC), not by
  the mesh's head pose. ``--real`` also runs it against the shipped warp on real videos, each
  reenacting its own frame 0 as ``reenact-eval`` does (30 frames).

First prints what the mesh reads on each turn (the rigid fit's yaw, pitch, roll and scale, and how
far the head centre the rings follow moves; the true heads turn about a still centre with no
pitch, roll or scale), then each variant's seam L1 and its ratio to the 5-point warp's (issue 29's
target: 0.5).
"""

from __future__ import annotations

import argparse
import contextlib

import cv2
import numpy as np

from deepfakelab.faces.mesh import FaceMesh
from deepfakelab.faces.regions import FACE_OVAL
from deepfakelab.media.video import iter_frames
from deepfakelab.reenact import evaluation, methods, real_evaluation
from deepfakelab.reenact import mesh_warp as mw
from deepfakelab.reenact.background import person_matte
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

    def _around(self, head: np.ndarray) -> np.ndarray:
        """Where each pixel around the face is read in the photo."""
        centre = self.points[list(FACE_OVAL)].mean(axis=0)
        shift = np.zeros(2) if self.still else mw._apply(head, centre[None])[0] - centre
        return self._grid[..., :2] - shift.astype(np.float32)

    def warp(self, targets, pose, depth=None, head=None, driving=None, driving_points=None):
        head = pose if head is None else head
        targets = np.asarray(targets)[:, :2]
        face_map = self.backward_map(self.control_targets(targets, head), depth)
        face = self._over_background(_remap(self.source, face_map), face_map)
        around = self._around(head)
        rest = self._over_background(_remap(self.source, around), around)
        mask = np.zeros(face.shape[:2], np.float32)
        cv2.fillPoly(mask, [np.round(targets[list(FACE_OVAL)] * 16).astype(np.int32)], 1.0, shift=4)
        mask = cv2.GaussianBlur(mask, (0, 0), 1.0)[..., None]
        out = np.clip(mask * face + (1 - mask) * rest + 0.5, 0, 255).astype(np.uint8)
        return self._fill_mouth(out, targets, pose, driving, driving_points)


class _FaceOverStill(_FaceOverHead):
    still = True


class _FaceOverRegistered(_FaceOverHead):
    """Around the face, the photo moved by ``head`` whole (rotation and scale too): the similarity
    the driver's own hair, ears and neck moved by (:func:`registered_heads`)."""

    def _around(self, head: np.ndarray) -> np.ndarray:
        inverse = cv2.invertAffineTransform(np.asarray(head, np.float64)).astype(np.float32)
        return (self._grid @ inverse.T).astype(np.float32)


#: The person's pixels registered: between the face oval grown these many times about its centre.
REGISTER_BAND = (1.15, 2.2)


def _band_of_person(frame: np.ndarray, points: np.ndarray) -> np.ndarray:
    """``(H, W)`` uint8 mask: the driver's hair, ears and neck (the person matte inside
    :data:`REGISTER_BAND`; the whole band where GrabCut finds no person)."""
    oval = np.asarray(points)[list(FACE_OVAL), :2]
    centre = oval.mean(axis=0)
    inner, outer = (np.zeros(frame.shape[:2], np.uint8) for _ in range(2))
    cv2.fillPoly(inner, [np.round(centre + REGISTER_BAND[0] * (oval - centre)).astype(np.int32)], 1)
    cv2.fillPoly(outer, [np.round(centre + REGISTER_BAND[1] * (oval - centre)).astype(np.int32)], 1)
    band = (outer > 0) & (inner == 0)
    matte = person_matte(frame, points)
    return (band & (matte > 0.5) if matte is not None else band).astype(np.uint8) * 255


def _similarity_between(reference: np.ndarray, frame: np.ndarray, mask: np.ndarray) -> np.ndarray | None:
    """The 2x3 similarity moving ``mask``'s corners in ``reference`` to ``frame`` (pyramidal
    Lucas-Kanade, kept where the backward flow returns within a pixel; RANSAC), None with fewer
    than 12 tracked corners."""
    grey = [cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) for image in (reference, frame)]
    corners = cv2.goodFeaturesToTrack(grey[0], 400, 0.005, 4, mask=mask)
    if corners is None or len(corners) < 12:
        return None
    ahead, found, _ = cv2.calcOpticalFlowPyrLK(grey[0], grey[1], corners, None, winSize=(21, 21), maxLevel=3)
    back, returned, _ = cv2.calcOpticalFlowPyrLK(grey[1], grey[0], ahead, None, winSize=(21, 21), maxLevel=3)
    kept = (found[:, 0] == 1) & (returned[:, 0] == 1) & (np.linalg.norm(back - corners, axis=2)[:, 0] < 1.0)
    if kept.sum() < 12:
        return None
    similarity, _ = cv2.estimateAffinePartial2D(
        corners[kept], ahead[kept], method=cv2.RANSAC, ransacReprojThreshold=1.5
    )
    return similarity


def registered_heads(frames, driving_points, source_points, initial: int, mesh_heads) -> np.ndarray:
    """``(N, 2, 3)``: each driving frame's hair-and-neck motion since frame ``initial``, brought
    into the source's pixels (``Q H Q^-1``, ``Q`` the similarity from the initial driving face to
    the source's); the mesh's head pose (``mesh_heads``) where too few corners track."""
    rigid = list(mw.RIGID_POINTS)
    to_source = mw.similarity_fit(
        np.asarray(driving_points)[initial][rigid, :2], np.asarray(source_points)[rigid, :2]
    )
    mask = _band_of_person(frames[initial], driving_points[initial])
    heads = []
    for frame, mesh_head in zip(frames, mesh_heads):
        moved = _similarity_between(frames[initial], frame, mask)
        heads.append(
            mesh_head if moved is None else mw._compose(to_source, mw._compose(moved, mw._invert(to_source)))
        )
    return np.stack(heads)


def registered_turns(face_mesh: FaceMesh) -> dict:
    """:func:`evaluation.evaluate_head_turns`' protocol with :class:`_FaceOverRegistered`, each
    turn's support moved as the head's own hair and neck moved between the frontal frame and it."""
    tally = evaluation._TurnTally(evaluation.TURN_YAWS)
    for seed in (1, 2, 3, 4):
        video, meshes = evaluation._render_turns(seed, evaluation.TURN_YAWS, 256, face_mesh)
        motion = mw.transfer_motion(meshes[0], meshes)
        heads = registered_heads(video, meshes, meshes[0], 0, motion.head)
        warper = _FaceOverRegistered(video[0], meshes[0])
        for t, (yaw, landmark_warp) in enumerate(
            zip(evaluation.TURN_YAWS, evaluation._landmark_warps(video)), 1
        ):
            out = warper.warp(motion.targets[t], motion.pose[t], motion.depth[t], heads[t])
            tally.add_errors(
                yaw,
                {"mesh-warp": out, "landmark-warp": landmark_warp, "zero-motion": video[0]},
                video[t],
                meshes[t],
            )
            control = warper.control_targets(motion.targets[t], heads[t])
            tally.flipped[yaw].append(int(warper.flipped(control).sum()))
            tally.uncovered[yaw].append(warper.uncovered(control, motion.depth[t]))
    return tally.summary()


def _registered_reenact(
    source, source_points, driving_points, initial=0, fill_mouth=True, driving_frames=None
):
    """:func:`mesh_warp.mesh_reenact` with :class:`_FaceOverRegistered` (as shipped without frames)."""
    if driving_frames is None:
        return mw.mesh_reenact(source, source_points, driving_points, initial, fill_mouth)
    motion = mw.transfer_motion(source_points, driving_points, initial)
    warper = _FaceOverRegistered(source, source_points, fill_mouth=fill_mouth)
    frames = list(driving_frames)
    heads = registered_heads(frames, driving_points, source_points, initial, motion.head)
    out = [
        warper.warp(*moved, frame, points)
        for *moved, frame, points in zip(
            motion.targets, motion.pose, motion.depth, heads, frames, driving_points
        )
    ]
    return np.stack(out), motion.targets


def compare_on_real_videos(folder: str, face_mesh: FaceMesh, frames: int = 30) -> None:
    """Each real video reenacting its own frame 0 (``reenact-eval``'s protocol), as shipped and with
    the face over the registered support: L1, AKD, seam and mouth L1 of both, and their means."""
    keys = ("l1", "akd_px", "seam_l1")
    rows = {"shipped": [], "registered": []}
    for path in real_evaluation.real_videos(folder):
        decoded = [frame for _, frame in iter_frames(path, set(range(frames)))]
        clip, _ = real_evaluation.crop_clip(path.name, decoded, face_mesh)
        if clip is None:
            continue
        for name, reenact in (("shipped", mw.mesh_reenact), ("registered", _registered_reenact)):
            with _patched(methods, mesh_reenact=reenact):
                scores = real_evaluation.evaluate_clip(clip, face_mesh, methods=("mesh-warp",))
            rows[name].append(scores.methods["mesh-warp"])
        shipped, registered = rows["shipped"][-1], rows["registered"][-1]
        print(
            f"{path.name:<14} " + "  ".join(f"{k} {shipped[k]:.4f} -> {registered[k]:.4f}" for k in keys),
            flush=True,
        )
    for name, scores in rows.items():
        print(f"mean, {name:<10} " + "  ".join(f"{k} {np.mean([s[k] for s in scores]):.4f}" for k in keys))


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


def main(real: str | None = None) -> None:
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
    scores = registered_turns(face_mesh)
    seam, baseline = scores["mesh-warp"]["seam_l1"], scores["landmark-warp"]["seam_l1"]
    print(
        f"{'face over registered':<16} seam L1 {seam:.4f}  {seam / baseline:.2f}x the 5-point warp's",
        flush=True,
    )
    if real:
        compare_on_real_videos(real, face_mesh)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--real", metavar="FOLDER", help="also compare on these real videos (../shared/data/real)"
    )
    main(parser.parse_args().real)
