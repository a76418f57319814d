"""Speed of the whole ``deepfakelab reenact`` of a real photo: mesh warp against the 5-point warp, same run.

    python bench/reenact_speed.py                       # s1.jpg driven by hdtf_aoc.mp4 (all 200 frames), 2 threads
    python bench/reenact_speed.py --frames 100 --repeats 2 --threads 1
    python bench/reenact_speed.py --repeats 2 --json site/data/reenact_speed.json   # the Results page

Each method runs :func:`deepfakelab.reenact.pipeline.reenact_files` end to end at 256 px, as the
command does: read the photo, find its face, decode the driving video, track the face (mesh warp:
the 468-point mesh, MTCNN on the first frame only; 5-point warp: MTCNN on every frame), warp,
write the labelled mp4 with its audio (and the strip picture). Frames per second are the driving
frames over that wall time, fixed costs included (the source's MTCNN, the first frame's
detection, the encoder's start, the strip). A 2-frame run of each method first pays the process's
one-time costs (imports, loading MTCNN's and the mesh's weights), which a single command also
pays once; they are not counted. The best of ``--repeats`` runs is kept (the machine is shared:
the best run is the least disturbed). The ratio of the two methods is measured in the same run.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

from deepfakelab.reenact.pipeline import ReenactOptions, reenact_files  # noqa: E402

import _kit  # noqa: E402
import cv2  # noqa: E402
import torch  # noqa: E402
from deepfakelab.measured import Measurement  # noqa: E402
from deepfakelab.threads import prepare_process  # noqa: E402

TARGET_FPS = 25.0


def time_method(photo: Path, video: Path, method: str, frames: int, out: Path) -> tuple[float, float, int]:
    """Wall seconds and CPU seconds (this process, every thread) for one whole reenactment, and the
    frames written. On a shared machine the CPU seconds say what the work costs when the wall
    clock also counts waiting for other jobs."""
    options = ReenactOptions(method=method, size=256, max_frames=frames, progress=False)
    start, cpu = time.perf_counter(), time.process_time()
    result = reenact_files(photo, video, out / f"{method}.mp4", options)
    return time.perf_counter() - start, time.process_time() - cpu, result.frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    data = REPO.parent / "shared" / "data" / "real"
    parser.add_argument("--photo", type=Path, default=data / "s1.jpg")
    parser.add_argument("--video", type=Path, default=data / "hdtf_aoc.mp4")
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the numbers here (the Results page reads them)")
    args = parser.parse_args()
    _kit.check_outputs(parser, json=(args.json, ".json"))
    measurement = Measurement(threads=args.threads)
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    best: dict[str, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for method in ("landmark-warp", "mesh-warp"):  # warm-up: imports and weights, once per process
            time_method(args.photo, args.video, method, 2, Path(folder))
        for _ in range(args.repeats):
            for method in ("landmark-warp", "mesh-warp"):
                seconds, cpu, written = time_method(args.photo, args.video, method, args.frames, Path(folder))
                if seconds < best.get(method, (float("inf"), 0.0))[0]:
                    best[method] = (seconds, cpu)
    print(
        f"whole reenact of {args.photo.name} driven by {args.video.name}, {written} frames at 256 px, "
        f"{args.threads} threads, best of {args.repeats}:"
    )
    for method, (seconds, cpu) in best.items():
        fps = written / seconds
        print(
            f"  {method:<14} {seconds:6.1f} s  {fps:5.1f} frames/s  ({'meets' if fps >= TARGET_FPS else 'below'} "
            f"the {TARGET_FPS:g} frames/s target); {cpu:6.1f} CPU s, {written / cpu:5.1f} frames per CPU second"
        )
    ratio = best["landmark-warp"][0] / best["mesh-warp"][0]
    print(f"  mesh-warp / landmark-warp frame rate: {ratio:.2f}x")
    if args.json:
        methods = {
            method: {
                "wall_s": round(seconds, 3),
                "cpu_s": round(cpu, 3),
                "fps": round(written / seconds, 2),
                "frames_per_cpu_s": round(written / cpu, 2),
            }
            for method, (seconds, cpu) in best.items()
        }
        numbers = {
            "photo": args.photo.name,
            "video": args.video.name,
            "frames": written,
            "size": 256,
            "repeats": args.repeats,
            "target_fps": TARGET_FPS,
            "methods": methods,
            "mesh_over_landmark": round(ratio, 3),
        }
        _kit.write_json(args.json, numbers, measurement)


if __name__ == "__main__":
    prepare_process()  # sleeping OpenMP threads, before any work (deepfakelab/threads.py)
    main()
