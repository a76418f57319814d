"""How well does a reenactment reproduce motion? The reconstruction protocol on synthetic heads.

For each held-out synthetic video, frame 0 is the source and every frame drives it (the paper's
reconstruction protocol: the right answer is the driving frame itself). Two numbers per method:

- **L1**: mean absolute pixel difference to the driving frame, in [0, 1].
- **Keypoint distance**: where each of the source's 68 ground-truth landmarks ends up in the
  result, against where it really is in the driving frame, in pixels (visible landmarks only).
  Where a landmark ends up is read off the method's own backward map (each result pixel says which
  source position it shows): the result position whose source position is nearest the landmark.
  So no landmark detector, and no detector's error, enters the number.

Methods: ``fomm`` (a trained checkpoint, absolute motion as in the paper's protocol),
``zero-motion`` (the result is the source) and ``landmark-warp`` (MTCNN five points and the
thin-plate-spline warp of :mod:`deepfakelab.reenact.landmark_warp`).

``blurred-truth`` is a yardstick, not a method: the driving frames themselves blurred with a
Gaussian of :data:`BLUR_SIGMA` pixels. Its L1 is what a result with perfect motion loses by being
that much blurrier than the truth (0.0107 on the default held-out set, exactly the issue's L1
target of half zero motion's).

With a checkpoint there is also ``fomm-self``: each frame drives *itself* (source = driving), so
the motion is known to be nil and the L1 that remains is what the generator loses redrawing a
face it was given. In practice it is a floor for ``fomm``'s L1: when it is already above zero
motion's, better motion cannot help and only a sharper generator (more training) can.

:func:`evaluate_head_turns` asks what the reconstruction protocol's random motion rarely does: a
head turning far. A frontal synthetic head is the photo; the same head rendered turned (yaw
:data:`TURN_YAWS`, up to 35 degrees either way) is the truth and drives it. Two numbers: the
**seam L1** (L1 in the band around the true frame's face oval,
:func:`~deepfakelab.reenact.real_evaluation.seam_band`, where a warp that tears shows it) and the
mesh warp's **flipped triangles** (support triangles folded over their neighbours,
:meth:`~deepfakelab.reenact.mesh_warp.MeshWarper.flipped`; zero is the goal).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch
from tqdm.auto import tqdm

from ..faces.detection import detect_faces_in_frames
from ..faces.mesh import FaceMesh
from ..heads import FaceState, Identity, render_frame
from .landmark_warp import fill_missing, target_landmarks, warp_map
from .mesh_warp import MeshWarper, transfer_motion
from .real_evaluation import seam_band


#: Standard deviation, in pixels, of the blur of the ``blurred-truth`` yardstick.
BLUR_SIGMA = 0.7


@dataclass
class MethodScore:
    l1: float
    keypoint_distance: float
    frames: int
    note: str = ""


def landmarks_through_map(backward_map: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """Where source ``landmarks (P, 2)`` pixels appear in a result whose pixel ``(y, x)`` shows source
    position ``backward_map[y, x]`` (``(H, W, 2)`` pixels): the nearest match for each landmark."""
    height, width = backward_map.shape[:2]
    flat = backward_map.reshape(-1, 2)
    distances = ((flat[None, :, :] - landmarks[:, None, :]) ** 2).sum(-1)  # (P, H*W)
    index = distances.argmin(axis=1)
    return np.stack([index % width, index // width], axis=1).astype(np.float64)


def _keypoint_distance(predicted: np.ndarray, truth: np.ndarray, visible: np.ndarray) -> float:
    mask = visible.astype(bool)
    return float(np.linalg.norm(predicted[mask] - truth[mask], axis=1).mean()) if mask.any() else float("nan")


def fomm_backward_map(deformation: torch.Tensor, size: int) -> np.ndarray:
    """FOMM's ``grid_sample`` grid ``(h, w, 2)`` in [-1, 1] (align_corners=False) -> ``(S, S, 2)`` source pixels."""
    grid = deformation.permute(2, 0, 1).unsqueeze(0)
    grid = torch.nn.functional.interpolate(grid, size=(size, size), mode="bilinear", align_corners=False)[0]
    return ((grid.permute(1, 2, 0).cpu().numpy() + 1) * size - 1) / 2


def _mtcnn_landmarks(frames: np.ndarray, detect_side: int = 256) -> list[np.ndarray | None]:
    """MTCNN five points per frame; small frames are enlarged for detection (MTCNN's minimum face is ~20 px)."""
    size = frames.shape[1]
    factor = max(detect_side / size, 1.0)
    big = [cv2.resize(f, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC) for f in frames]
    return [faces[0].landmarks / factor if faces else None for faces in detect_faces_in_frames(big)]


def evaluate_video(
    video: np.ndarray,
    landmarks: np.ndarray,
    visible: np.ndarray,
    model=None,
    methods=("zero-motion", "landmark-warp", "fomm"),
) -> dict[str, MethodScore]:
    """Scores of each method on one video: ``(T, S, S, 3)`` uint8 frames, ``(T, 68, 2)`` landmarks, ``(T, 68)`` visibility."""
    truth = video.astype(np.float32) / 255
    scores: dict[str, MethodScore] = {}
    zero_motion = _zero_motion_score(truth, landmarks, visible)
    if "zero-motion" in methods:
        scores["zero-motion"] = zero_motion
    if "blurred-truth" in methods:
        blurred = np.stack([cv2.GaussianBlur(frame, (0, 0), BLUR_SIGMA) for frame in truth])
        scores["blurred-truth"] = MethodScore(float(np.abs(blurred - truth).mean()), float("nan"), len(video))
    if "landmark-warp" in methods:
        warped = _landmark_warp_score(video, truth, landmarks, visible)
        if warped is None:
            warped = MethodScore(
                zero_motion.l1,
                zero_motion.keypoint_distance,
                len(video),
                "no face found by MTCNN: fell back to zero motion",
            )
        scores["landmark-warp"] = warped
    if "fomm" in methods and model is not None:
        scores["fomm"], scores["fomm-self"] = _fomm_scores(model, truth, landmarks, visible)
    return scores


def _zero_motion_score(truth: np.ndarray, landmarks: np.ndarray, visible: np.ndarray) -> MethodScore:
    """The score of leaving the source (frame 0) as it is: the floor every method must beat, and
    what the landmark warp falls back to when MTCNN finds no face."""
    size = truth.shape[1]
    identity = np.stack(np.meshgrid(np.arange(size), np.arange(size)), axis=-1).astype(np.float64)
    moved = landmarks_through_map(identity, landmarks[0])
    return MethodScore(
        float(np.abs(truth - truth[0:1]).mean()),
        float(
            np.nanmean(
                [_keypoint_distance(moved, landmarks[t], visible[t] & visible[0]) for t in range(len(truth))]
            )
        ),
        len(truth),
    )


def _moved_distance(backward: np.ndarray, landmarks: np.ndarray, visible: np.ndarray, t: int) -> float:
    """The keypoint distance in frame ``t`` of a result that shows the source (frame 0) through
    ``backward`` (see :func:`landmarks_through_map`)."""
    moved = landmarks_through_map(backward, landmarks[0])
    return _keypoint_distance(moved, landmarks[t], visible[t] & visible[0])


def _landmark_warp_score(
    video: np.ndarray, truth: np.ndarray, landmarks: np.ndarray, visible: np.ndarray
) -> MethodScore | None:
    """The landmark warp's score (MTCNN's five points, thin-plate spline); None when MTCNN finds no
    face in the source or in no frame at all."""
    detected = _mtcnn_landmarks(video)
    if detected[0] is None or all(d is None for d in detected):
        return None
    source, size = video[0], video.shape[1]
    five = fill_missing(detected)
    targets = target_landmarks(five[0], five, initial=0, adapt_movement_scale=False)
    l1, distances = [], []
    for t in range(len(video)):
        backward = warp_map(size, size, five[0], targets[t])
        result = cv2.remap(
            source,
            backward[..., 0].astype(np.float32),
            backward[..., 1].astype(np.float32),
            cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )
        l1.append(np.abs(result.astype(np.float32) / 255 - truth[t]).mean())
        distances.append(_moved_distance(backward, landmarks, visible, t))
    return MethodScore(float(np.mean(l1)), float(np.nanmean(distances)), len(video))


def _fomm_scores(
    model, truth: np.ndarray, landmarks: np.ndarray, visible: np.ndarray
) -> tuple[MethodScore, MethodScore]:
    """The FOMM's score (absolute motion, as in the paper's protocol), and ``fomm-self``'s: each
    frame driving itself, the generator's floor (module docstring)."""
    size = truth.shape[1]
    frames = torch.from_numpy(truth).permute(0, 3, 1, 2)
    with torch.inference_mode():
        kp = model.kp_detector(frames)
        kp_source = kp.take(0)
        l1, distances = [], []
        for t in range(len(truth)):
            generated = model.generator(frames[:1], kp_driving=kp.take(t), kp_source=kp_source)
            l1.append((generated.prediction[0] - frames[t]).abs().mean().item())
            backward = fomm_backward_map(generated.motion.deformation[0], size)
            distances.append(_moved_distance(backward, landmarks, visible, t))
        redrawn = [
            (
                model.generator(frames[t : t + 1], kp_driving=kp.take(t), kp_source=kp.take(t)).prediction[0]
                - frames[t]
            )
            .abs()
            .mean()
            .item()
            for t in range(len(truth))
        ]
    return (
        MethodScore(float(np.mean(l1)), float(np.nanmean(distances)), len(truth)),
        MethodScore(float(np.mean(redrawn)), float("nan"), len(truth)),
    )


def evaluate(
    dataset,
    model=None,
    videos: int | None = None,
    methods=("zero-motion", "landmark-warp", "fomm"),
    progress: bool = True,
) -> dict[str, dict]:
    """Average :func:`evaluate_video` over a :class:`~deepfakelab.heads.TalkingHeads` dataset (frame-weighted)."""
    totals: dict[str, list[MethodScore]] = {}
    count = len(dataset) if videos is None else min(videos, len(dataset))
    for index in tqdm(range(count), desc="evaluating", unit="video", disable=not progress):
        item = dataset[index]
        video = (item["video"].permute(0, 2, 3, 1).numpy() * 255 + 0.5).astype(np.uint8)
        for name, score in evaluate_video(
            video, item["landmarks"].numpy(), item["visible"].numpy(), model, methods
        ).items():
            totals.setdefault(name, []).append(score)
    summary = {}
    for name, scores in totals.items():
        frames = np.array([s.frames for s in scores], dtype=float)
        summary[name] = {
            "l1": float(np.average([s.l1 for s in scores], weights=frames)),
            # None for fomm-self and blurred-truth, which move nothing (valid JSON, unlike NaN)
            "keypoint_distance_px": _none_if_nan(
                np.average([s.keypoint_distance for s in scores], weights=frames)
            ),
            "videos": len(scores),
            "fallbacks": sum(bool(s.note) for s in scores),
        }
    return summary


def _none_if_nan(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


#: Head turns of :func:`evaluate_head_turns`: yaw in degrees, each side.
TURN_YAWS = (10, 20, 30, 35, -10, -20, -30, -35)
#: The band outside the face where :func:`evaluate_head_turns` also measures L1: between the true
#: face oval and the oval grown 1.35 times (the outer part of the seam band): hair, ears, neck and
#: the background a turning head uncovers.
OUTSIDE_BAND = (1.0, 1.35)


def evaluate_head_turns(
    identities=(1, 2, 3, 4),
    yaws=TURN_YAWS,
    size: int = 256,
    face_mesh=None,
    unfold: bool = True,
    background: bool = True,
) -> dict[str, dict]:
    """Seam L1 of ``zero-motion``, ``landmark-warp`` and ``mesh-warp`` on synthetic heads turning
    (module docstring), and the mesh warp's flipped triangles: ``{method: {"seam_l1", "frames",
    "per_yaw": {yaw: seam_l1}}}``, the mesh warp's also ``"flipped_max"``, ``"flipped_total"`` and
    ``"flipped_per_yaw"`` (most in one frame). Each identity (seed of
    :class:`~deepfakelab.heads.Identity`, no accessories) is rendered frontal as the photo and at
    each yaw as the truth; the meshes are read off the rendered frames by the kit's face mesh.
    ``unfold=False``: the mesh warp without unfolding (:class:`~deepfakelab.reenact.mesh_warp.MeshWarper`)."""
    face_mesh = face_mesh or FaceMesh()
    tally = _TurnTally(yaws)
    for seed in identities:
        video, meshes = _render_turns(seed, yaws, size, face_mesh)
        motion = transfer_motion(meshes[0], meshes)
        warper = MeshWarper(video[0], meshes[0], unfold=unfold, background=background)
        landmark_warped = _landmark_warps(video)
        for t, (yaw, landmark_warp) in enumerate(zip(yaws, landmark_warped), start=1):
            control = warper.control_targets(motion.targets[t], motion.head[t])
            tally.flipped[yaw].append(int(warper.flipped(control).sum()))
            tally.uncovered[yaw].append(warper.uncovered(control, motion.depth[t]))
            outputs = {
                "zero-motion": video[0],
                "mesh-warp": warper.warp(motion.targets[t], motion.pose[t], motion.depth[t], motion.head[t]),
                "landmark-warp": landmark_warp,
            }
            tally.add_errors(yaw, outputs, video[t], meshes[t])
    return tally.summary()


def _render_turns(seed: int, yaws, size: int, face_mesh: FaceMesh) -> tuple[np.ndarray, np.ndarray]:
    """The synthetic head ``seed`` (no accessories) rendered frontal and then at each yaw, and the
    kit's face mesh read off each rendered frame: ``(1 + Y, S, S, 3)`` frames, ``(1 + Y, 468, 3)``."""
    identity = Identity.sample(seed, accessory_rate=0.0)
    video = np.stack([render_frame(identity, FaceState(yaw=yaw), size=size).image for yaw in (0, *yaws)])
    meshes = np.stack(
        [face_mesh.detect(frame, f"head {seed}, yaw {yaw}").points for frame, yaw in zip(video, (0, *yaws))]
    )
    return video, meshes


def _landmark_warps(video: np.ndarray) -> list[np.ndarray]:
    """The frontal photo (frame 0) moved by the landmark warp to each later frame's MTCNN points,
    one result per later frame; the photo itself where MTCNN misses the photo (nothing moves)."""
    size = video.shape[1]
    detected = _mtcnn_landmarks(video)
    if detected[0] is None:
        return [video[0]] * (len(video) - 1)
    five = fill_missing(detected)
    moved = target_landmarks(five[0], five, 0, adapt_movement_scale=False)
    results = []
    for t in range(1, len(video)):
        backward = warp_map(size, size, five[0], moved[t]).astype(np.float32)
        results.append(
            cv2.remap(
                video[0],
                backward[..., 0],
                backward[..., 1],
                cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_REPLICATE,
            )
        )
    return results


class _TurnTally:
    """What :func:`evaluate_head_turns` gathers per yaw, and its summary: each method's L1 in the seam
    band and in the band outside it, the mesh warp's flipped triangles and uncovered pixels."""

    def __init__(self, yaws) -> None:
        self.errors: dict[str, dict[int, list[float]]] = {
            m: {y: [] for y in yaws} for m in ("zero-motion", "landmark-warp", "mesh-warp")
        }
        self.outside = {m: {y: [] for y in yaws} for m in self.errors}
        self.flipped: dict[int, list[int]] = {y: [] for y in yaws}
        self.uncovered: dict[int, list[int]] = {y: [] for y in yaws}

    def add_errors(
        self, yaw: int, outputs: dict[str, np.ndarray], truth: np.ndarray, mesh: np.ndarray
    ) -> None:
        """Each method's L1 to the ``truth`` frame in the seam band around its face oval (``mesh``),
        and in the band outside it (:data:`OUTSIDE_BAND`)."""
        size = truth.shape[0]
        band = seam_band(mesh, (size, size))
        beyond = seam_band(mesh, (size, size), OUTSIDE_BAND)
        for method, output in outputs.items():
            error = np.abs(output.astype(np.float64) - truth).mean(axis=2)
            self.errors[method][yaw].append(float(error[band].mean() / 255))
            self.outside[method][yaw].append(float(error[beyond].mean() / 255))

    def summary(self) -> dict[str, dict]:
        """:func:`evaluate_head_turns`' result (its docstring): the means over yaws and per yaw."""
        summary = {
            method: {
                "seam_l1": float(np.mean([e for values in per_yaw.values() for e in values])),
                "frames": sum(len(values) for values in per_yaw.values()),
                "per_yaw": {yaw: float(np.mean(values)) for yaw, values in per_yaw.items()},
                "outside_l1": float(np.mean([e for values in self.outside[method].values() for e in values])),
                "outside_per_yaw": {
                    yaw: float(np.mean(values)) for yaw, values in self.outside[method].items()
                },
            }
            for method, per_yaw in self.errors.items()
        }
        summary["mesh-warp"].update(
            flipped_max=max(max(v) for v in self.flipped.values()),
            flipped_total=sum(sum(v) for v in self.flipped.values()),
            flipped_per_yaw={yaw: max(v) for yaw, v in self.flipped.items()},
            uncovered_max=max(max(v) for v in self.uncovered.values()),
            uncovered_per_yaw={yaw: max(v) for yaw, v in self.uncovered.items()},
        )
        return summary
