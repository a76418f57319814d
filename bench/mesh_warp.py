"""Mesh warp against zero motion and the 5-point landmark warp, on real talking-head videos.

    OMP_NUM_THREADS=2 python bench/mesh_warp.py                 # every video in ../shared/data/real
    python bench/mesh_warp.py --videos d18.mp4 d20.mp4 --frames 100

The reconstruction protocol of the FOMM paper, as ``deepfakelab reenact-eval --real-videos``
runs it (its one home is :mod:`deepfakelab.reenact.real_evaluation`: crops, L1 and AKD are
defined there). This bench adds the per-frame time of each method's own work on the 256-px crops
(landmark warp: MTCNN and the thin-plate spline; mesh warp: mesh tracking and the piecewise-affine
warp), same run; decoding and encoding are not included (``bench/reenact_speed.py`` times the
whole command).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]

from deepfakelab.faces.mesh import FaceMesh  # noqa: E402
from deepfakelab.media.video import iter_frames  # noqa: E402
from deepfakelab.reenact.real_evaluation import (  # noqa: E402
    CROP_SIZE,
    crop_clip,
    reenact_clip,
    score_outputs,
)
from deepfakelab.threads import prepare_process  # noqa: E402

METHODS = ("zero-motion", "landmark-warp", "mesh-warp")


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
    rows, timing, counted = [], {method: 0.0 for method in METHODS[1:]}, 0
    print(f"{'video':<16}{'zero L1':>9}{'AKD':>7}{'5-pt L1':>9}{'AKD':>7}{'mesh L1':>9}{'AKD':>7}")
    for name in names:
        frames = [f for _, f in iter_frames(args.data / name, set(range(args.frames)))]
        clip, why = crop_clip(name, frames, face_mesh)
        if clip is None:
            print(f"{name:<16} skipped: {why}")
            continue
        row = []
        for method in METHODS:
            start = time.perf_counter()
            outputs = reenact_clip(clip, method, face_mesh)
            if method in timing:
                timing[method] += time.perf_counter() - start
            score = score_outputs(outputs, clip, face_mesh, None, None)
            row += [score["l1"], score["akd_px"]]
        counted += len(clip.crops)
        rows.append(row)
        print(f"{name:<16}" + "".join(f"{v:>9.4f}{a:>7.2f}" for v, a in zip(row[::2], row[1::2])))
    mean = np.mean(rows, axis=0)
    print(f"{'mean':<16}" + "".join(f"{v:>9.4f}{a:>7.2f}" for v, a in zip(mean[::2], mean[1::2])))
    print(
        f"mesh-warp AKD / zero motion's: {mean[5] / mean[1]:.2f}; / 5-point warp's: {mean[5] / mean[3]:.2f}"
    )
    for method, seconds in timing.items():
        print(
            f"speed, {method}: {1000 * seconds / counted:.1f} ms/frame at {CROP_SIZE} px ({args.threads} threads)"
        )


if __name__ == "__main__":
    prepare_process()  # sleeping OpenMP threads, before any work (deepfakelab/threads.py)
    main()
