"""Speed of the whole ``deepfakelab reenact`` of a real photo: mesh warp against the 5-point warp, same run.

    python bench/reenact_speed.py                       # s1.jpg driven by hdtf_aoc.mp4, 100 frames, 2 threads
    python bench/reenact_speed.py --frames 200 --repeats 2

Each method runs :func:`deepfakelab.reenact.pipeline.reenact_files` end to end at 256 px, as the
command does: read the photo, find its face, decode the driving video, track the face (mesh warp:
the 468-point mesh, MTCNN on the first frame only; 5-point warp: MTCNN on every frame), warp,
write the labelled mp4 with its audio (and the strip picture). Frames per second are the driving
frames over that wall time; the best of ``--repeats`` runs is kept (the machine is shared: the
best run is the least disturbed). The ratio of the two methods is measured in the same run.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import cv2
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "lib"))

from deepfakelab.reenact.pipeline import ReenactOptions, reenact_files  # noqa: E402

TARGET_FPS = 25.0


def time_method(photo: Path, video: Path, method: str, frames: int, out: Path) -> tuple[float, int]:
    """Seconds for one whole reenactment, and the frames written."""
    options = ReenactOptions(method=method, size=256, max_frames=frames, progress=False)
    start = time.perf_counter()
    result = reenact_files(photo, video, out / f"{method}.mp4", options)
    return time.perf_counter() - start, result.frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    data = REPO.parent / "shared" / "data" / "real"
    parser.add_argument("--photo", type=Path, default=data / "s1.jpg")
    parser.add_argument("--video", type=Path, default=data / "hdtf_aoc.mp4")
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    best: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(args.repeats):
            for method in ("landmark-warp", "mesh-warp"):
                seconds, written = time_method(args.photo, args.video, method, args.frames, Path(folder))
                best[method] = min(best.get(method, float("inf")), seconds)
    print(f"whole reenact of {args.photo.name} driven by {args.video.name}, {written} frames at 256 px, "
          f"{args.threads} threads, best of {args.repeats}:")
    for method, seconds in best.items():
        fps = written / seconds
        print(f"  {method:<14} {seconds:6.1f} s  {fps:5.1f} frames/s  ({'meets' if fps >= TARGET_FPS else 'below'} "
              f"the {TARGET_FPS:g} frames/s target)")
    print(f"  mesh-warp / landmark-warp frame rate: {best['landmark-warp'] / best['mesh-warp']:.2f}x")


if __name__ == "__main__":
    main()
