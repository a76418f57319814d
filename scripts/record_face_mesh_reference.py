"""Record MediaPipe's own face landmarks on the real photos and videos, as a test fixture.

    python3 -m venv /tmp/mpvenv
    /tmp/mpvenv/bin/pip install --no-deps mediapipe==0.10.21
    /tmp/mpvenv/bin/pip install "numpy<2" "protobuf>=4.25.3,<5" absl-py attrs flatbuffers \
        opencv-python-headless matplotlib
    PYTHONPATH=lib python scripts/record_face_mesh_reference.py --mediapipe-python /tmp/mpvenv/bin/python

The kit's side (this interpreter) decodes the photos and frames with the kit's own readers and
computes the kit's ROIs (:class:`deepfakelab.faces.mesh.FaceMesh`); the same script, run by the
throwaway venv's interpreter with ``--worker``, feeds those exact pixels to mediapipe twice:

1. ``FaceLandmarkCpu``, MediaPipe's own landmark subgraph, given the kit's ROI: MediaPipe crops,
   runs the .tflite model and projects the points back. ``tests/faces/test_face_mesh.py`` rebuilds
   the same crop from ``../shared`` and checks the torch module against these points.
2. ``mediapipe.solutions.face_mesh.FaceMesh``, the whole pipeline (its own face detector, its own
   tracking in video mode, over each video's first 24 frames), to compare the kit's ROI and
   tracking against.

Only ROIs and points are stored (``tests/fixtures/face_mesh_reference.npz``); no pixels of the
people in ``../shared/data/real/``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT.parent / "shared" / "data" / "real"
PHOTOS = ["s12.jpg", "s9.jpg", "d8.jpg", "d19.jpg", "d12-photo.jpg", "s1.jpg", "s11.jpg", "s4.jpg", "s8.jpg"]
VIDEOS = ["d18.mp4", "retalk_5.mp4"]
VIDEO_FRAMES = 24
#: Of each video's tracked frames, every third is stored (the fixture stays small).
KEEP_EVERY = 3
DEFAULT_OUT = ROOT / "tests" / "fixtures" / "face_mesh_reference.npz"

FACE_LANDMARK_GRAPH = """
input_stream: "image"
input_stream: "roi"
output_stream: "landmarks"
node {
  calculator: "FaceLandmarkCpu"
  input_stream: "IMAGE:image"
  input_stream: "ROI:roi"
  output_stream: "LANDMARKS:landmarks"
}
"""


def kit_side(mediapipe_python: str, out: Path) -> None:
    sys.path.insert(0, str(ROOT / "lib"))
    from deepfakelab.media.video import iter_frames
    from deepfakelab.faces.mesh import FaceMesh
    from deepfakelab.media.photo import read_photo

    mesh = FaceMesh()
    sources, frame_index, images, rois, is_video, keep = [], [], [], [], [], []
    for name in PHOTOS:
        photo, _ = read_photo(REAL / name)
        found = mesh.detect(photo, name)
        sources.append(name), frame_index.append(0), images.append(photo), is_video.append(False)
        keep.append(True)
        rois.append([*found.roi.center, found.roi.size, found.roi.rotation])
    for name in VIDEOS:
        frames = [frame for index, frame in iter_frames(REAL / name, set(range(VIDEO_FRAMES)))]
        for index, (frame, found) in enumerate(zip(frames, mesh.track(frames, smooth=False))):
            if found is None:
                raise SystemExit(f"{name}: no face in frame {index}; pick another video")
            sources.append(name), frame_index.append(index), images.append(frame), is_video.append(True)
            keep.append(index % KEEP_EVERY == 0)
            rois.append([*found.roi.center, found.roi.size, found.roi.rotation])
    with tempfile.TemporaryDirectory() as tmp:
        inputs, outputs = Path(tmp) / "inputs.npz", Path(tmp) / "outputs.npz"
        np.savez(
            inputs,
            rois=np.array(rois),
            is_video=np.array(is_video),
            sources=np.array(sources),
            keep=np.array(keep),
            **{f"image{i}": image for i, image in enumerate(images)},
        )
        subprocess.run([mediapipe_python, __file__, "--worker", str(inputs), str(outputs)], check=True)
        result = np.load(outputs)
        kept = np.flatnonzero(keep)
        sources, frame_index, rois = (np.array(values)[kept] for values in (sources, frame_index, rois))
        out.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(
            out,
            source=sources,
            frame=frame_index,
            roi=rois,
            # 1. MediaPipe's landmark subgraph on the kit's ROI: image pixels (x, y, z)
            given_roi=result["given_roi"].astype(np.float32),
            # 2. MediaPipe's whole pipeline (own detector; tracking over each video): (x, y)
            pipeline=result["pipeline"].astype(np.float32),
            mediapipe_version=np.array(str(result["version"])),
        )
    print(f"wrote {out} ({out.stat().st_size} bytes, {len(sources)} faces)")


def worker(inputs: Path, outputs: Path) -> None:
    """Runs in the throwaway venv: numpy, mediapipe; no torch, no kit."""
    import mediapipe as mp
    from google.protobuf import text_format
    from mediapipe.framework import calculator_pb2
    from mediapipe.framework.formats import rect_pb2
    from mediapipe.python.solution_base import SolutionBase

    data = np.load(inputs)
    rois, is_video, sources, keep = data["rois"], data["is_video"], data["sources"], data["keep"]
    graph = SolutionBase(
        graph_config=text_format.Parse(FACE_LANDMARK_GRAPH, calculator_pb2.CalculatorGraphConfig())
    )
    photo_mesh = mp.solutions.face_mesh.FaceMesh(
        static_image_mode=True, max_num_faces=1, refine_landmarks=False
    )
    video_mesh, last_video = None, None
    given, pipeline = [], []
    for i, (cx, cy, size, rotation) in enumerate(rois):
        image = data[f"image{i}"]
        height, width = image.shape[:2]
        if is_video[i]:  # the tracker sees every frame; only some are stored
            if sources[i] != last_video:  # a new video: a fresh tracker
                video_mesh = mp.solutions.face_mesh.FaceMesh(static_image_mode=False, max_num_faces=1)
                last_video = sources[i]
            found = video_mesh.process(image).multi_face_landmarks
        else:
            found = photo_mesh.process(image).multi_face_landmarks
        if not keep[i]:
            continue
        pipeline.append(_pixels(found[0], width, height)[:, :2] if found else np.full((468, 2), np.nan))
        roi = rect_pb2.NormalizedRect(
            x_center=cx / width,
            y_center=cy / height,
            width=size / width,
            height=size / height,
            rotation=rotation,
        )
        landmarks = graph.process({"image": image, "roi": roi}).landmarks
        given.append(
            _pixels(landmarks, width, height) if landmarks is not None else np.full((468, 3), np.nan)
        )
    np.savez(outputs, given_roi=np.array(given), pipeline=np.array(pipeline), version=mp.__version__)


def _pixels(landmarks, width: int, height: int) -> np.ndarray:
    return np.array([[p.x * width, p.y * height, p.z * width] for p in landmarks.landmark])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mediapipe-python", default="/tmp/mpvenv/bin/python")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--worker", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker)
    else:
        kit_side(args.mediapipe_python, args.out)
