"""Face mesh speed on one thread: the network, and tracking a real video, against MTCNN.

    python bench/face_mesh.py                    # d18.mp4 from ../shared/data/real, 96 frames
    python bench/face_mesh.py --video my.mp4 --threads 2
    python bench/face_mesh.py --json site/data/face_mesh.json   # the Results page's numbers

Prints milliseconds per frame for: the mesh network alone on a 192 px crop (batch 1); the kit's
``FaceMesh.track`` (crop, network, ROI from the last mesh, one-euro smoothing; MTCNN only on the
first frame); and the baseline measured in the same run, MTCNN run on every frame (what
re-detecting each frame would cost instead of tracking).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]

import _kit  # noqa: E402
from deepfakelab.measured import Measurement  # noqa: E402
from deepfakelab.media.video import iter_frames  # noqa: E402
from deepfakelab.faces.mesh import FaceMesh  # noqa: E402
from deepfakelab.faces.mesh_model import load_face_mesh_net, run_face_mesh  # noqa: E402
from deepfakelab.faces.detection import detect_faces  # noqa: E402
from deepfakelab.threads import prepare_process  # noqa: E402


def per_frame_ms(function, count: int) -> float:
    start = time.perf_counter()
    function()
    return (time.perf_counter() - start) / count * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, default=REPO.parent / "shared" / "data" / "real" / "d18.mp4")
    parser.add_argument("--frames", type=int, default=96)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the numbers here (the Results page reads them)")
    args = parser.parse_args()
    _kit.check_outputs(parser, json=(args.json, ".json"))
    measurement = Measurement(threads=args.threads)
    torch.set_num_threads(args.threads)
    frames = [frame for _, frame in iter_frames(args.video, set(range(args.frames)))]
    height, width = frames[0].shape[:2]
    mesh = FaceMesh()
    crop = torch.from_numpy(mesh.detect(frames[0]).roi.crop(frames[0]))[None]
    net = load_face_mesh_net()
    run_face_mesh(crop, net)  # warm-up
    network = per_frame_ms(lambda: [run_face_mesh(crop, net) for _ in range(len(frames))], len(frames))
    tracked = per_frame_ms(lambda: mesh.track(frames), len(frames))
    detect_faces(frames[0])  # warm-up
    mtcnn = per_frame_ms(lambda: [detect_faces(frame) for frame in frames], len(frames))
    print(f"{args.video.name}: {len(frames)} frames of {width}x{height}, {args.threads} thread(s)")
    print(f"  mesh network, 192 px crop      {network:7.2f} ms/frame")
    print(f"  FaceMesh.track (whole loop)    {tracked:7.2f} ms/frame  ({1000 / tracked:5.1f} frames/s)")
    print(
        f"  baseline: MTCNN on every frame {mtcnn:7.2f} ms/frame  (tracking is {mtcnn / tracked:.1f}x faster)"
    )
    if args.json:
        numbers = {
            "video": args.video.name,
            "frames": len(frames),
            "frame_size": [width, height],
            "network_ms": round(network, 3),
            "track_ms": round(tracked, 3),
            "mtcnn_every_frame_ms": round(mtcnn, 3),
            "track_speedup": round(mtcnn / tracked, 2),
        }
        _kit.write_json(args.json, numbers, measurement)


if __name__ == "__main__":
    prepare_process()  # sleeping OpenMP threads, before any work (deepfakelab/threads.py)
    main()
