"""Mesh warp against zero motion and the 5-point landmark warp, on real talking-head videos.

    OMP_NUM_THREADS=2 python bench/mesh_warp.py                 # every video in ../shared/data/real
    python bench/mesh_warp.py --videos d18.mp4 d20.mp4 --frames 100

The reconstruction protocol of the FOMM paper: each video cropped square around its face (one
box for the whole clip, kept inside the frame) and resized to 256 px; frame 0 is the source
photo; the same video drives it; every output frame is compared with the true frame:

- L1: mean absolute difference in [0, 1] inside the true face (its mesh's face oval, grown 2 px);
- AKD: mean distance in pixels (at 256 px) between the 468 mesh points read off the output and
  those of the true frame (both by the kit's face mesh, from the true frame's ROI).

AKD with the mesh as its own yardstick favours the mesh warp (it moves exactly those points); the
L1 column has no such bias. Speed is the per-frame work of each method (landmark warp: MTCNN and
the thin-plate spline; mesh warp: mesh tracking and the piecewise-affine warp), same run.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "lib"))

from deepfakelab.media.video import iter_frames  # noqa: E402
from deepfakelab.faces.mesh import FaceMesh, Roi  # noqa: E402
from deepfakelab.faces.regions import region_mask  # noqa: E402
from deepfakelab.faces.detection import detect_faces_in_frames  # noqa: E402
from deepfakelab.reenact.landmark_warp import fill_missing, landmark_reenact  # noqa: E402
from deepfakelab.reenact.mesh_warp import mesh_reenact  # noqa: E402

SIZE = 256
CROP_SCALE = 1.6  # crop side over the largest mesh box side over the clip


def square_inside(box: np.ndarray, width: int, height: int, scale: float) -> tuple[int, int, int]:
    """``(x0, y0, side)`` of a square ``scale`` times ``box``'s longer side, moved (and shrunk if
    need be) to lie inside the frame, so no crop repeats edge pixels."""
    x0, y0, x1, y1 = box
    side = min(scale * max(x1 - x0, y1 - y0), width, height)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    left = int(round(np.clip(cx - side / 2, 0, width - side)))
    top = int(round(np.clip(cy - side / 2, 0, height - side)))
    return left, top, int(side)


def crop_clip(frames: list[np.ndarray], face_mesh: FaceMesh) -> np.ndarray | None:
    meshes = [m for m in face_mesh.track(frames) if m is not None]
    if len(meshes) < len(frames) // 2:
        return None
    xy = np.concatenate([m.xy for m in meshes])
    box = np.array([*xy.min(axis=0), *xy.max(axis=0)])
    height, width = frames[0].shape[:2]
    left, top, side = square_inside(box, width, height, CROP_SCALE)
    return np.stack([cv2.resize(f[top:top + side, left:left + side], (SIZE, SIZE), interpolation=cv2.INTER_AREA)
                     for f in frames])


def read_mesh(face_mesh: FaceMesh, image: np.ndarray, roi: Roi) -> np.ndarray:
    first = face_mesh.mesh_in(image, roi)
    return face_mesh.mesh_in(image, Roi.from_points(first.points)).points[:, :2]


def score(outputs: np.ndarray, truth: np.ndarray, truth_meshes, face_mesh: FaceMesh) -> tuple[float, float]:
    l1, akd = [], []
    grow = np.ones((5, 5), np.uint8)
    for output, frame, mesh in zip(outputs[1:], truth[1:], truth_meshes[1:]):
        face = cv2.dilate((region_mask(mesh.points, "face_oval", (SIZE, SIZE)) > 0.5).astype(np.uint8), grow) > 0
        l1.append(np.abs(output.astype(np.float64) - frame)[face].mean() / 255)
        akd.append(np.linalg.norm(read_mesh(face_mesh, output, mesh.roi) - mesh.xy, axis=1).mean())
    return float(np.mean(l1)), float(np.mean(akd))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "real")
    parser.add_argument("--videos", nargs="*", help="file names inside --data (default: every .mp4)")
    parser.add_argument("--frames", type=int, default=50)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    names = args.videos or sorted(p.name for p in args.data.glob("*.mp4"))
    face_mesh = FaceMesh()
    rows, timing = [], {"landmark-warp": 0.0, "mesh-warp": 0.0}
    counted = 0
    print(f"{'video':<16}{'zero L1':>9}{'AKD':>7}{'5-pt L1':>9}{'AKD':>7}{'mesh L1':>9}{'AKD':>7}")
    for name in names:
        frames = [f for _, f in iter_frames(args.data / name, set(range(args.frames)))]
        crops = crop_clip(frames, face_mesh)
        if crops is None:
            print(f"{name:<16} skipped: a face in fewer than half of its first {len(frames)} frames")
            continue
        truth = face_mesh.track(crops, smooth=False)
        if any(m is None for m in truth):
            print(f"{name:<16} skipped: a crop without a face")
            continue
        zero = np.repeat(crops[:1], len(crops), axis=0)

        start = time.perf_counter()
        faces = detect_faces_in_frames(list(crops))
        marks = fill_missing([f[0].landmarks if f else None for f in faces])
        five, _ = landmark_reenact(crops[0], marks[0], marks)
        timing["landmark-warp"] += time.perf_counter() - start

        start = time.perf_counter()
        driving = np.stack([m.points for m in face_mesh.track(crops)])
        mesh, _ = mesh_reenact(crops[0], driving[0], driving)
        timing["mesh-warp"] += time.perf_counter() - start
        counted += len(crops)

        row = [*score(zero, crops, truth, face_mesh), *score(five, crops, truth, face_mesh),
               *score(mesh, crops, truth, face_mesh)]
        rows.append(row)
        print(f"{name:<16}" + "".join(f"{v:>9.4f}{a:>7.2f}" for v, a in zip(row[::2], row[1::2])))
    mean = np.mean(rows, axis=0)
    print(f"{'mean':<16}" + "".join(f"{v:>9.4f}{a:>7.2f}" for v, a in zip(mean[::2], mean[1::2])))
    print(f"mesh-warp AKD / zero motion's: {mean[5] / mean[1]:.2f}; / 5-point warp's: {mean[5] / mean[3]:.2f}")
    for method, seconds in timing.items():
        print(f"speed, {method}: {1000 * seconds / counted:.1f} ms/frame at {SIZE} px ({args.threads} threads)")


if __name__ == "__main__":
    main()
