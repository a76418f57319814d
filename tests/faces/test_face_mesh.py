"""The dense face mesh: agreement with MediaPipe, ROI, tracking, smoothing, bad input.

The fixture ``fixtures/face_mesh_reference.npz`` (made by ``scripts/record_face_mesh_reference.py``)
holds, for photos and video frames of ``../shared/data/real/``, the kit's ROI and the points
MediaPipe 0.10.21 itself computed: once through its landmark subgraph given that ROI, once
through its whole pipeline (own detector, own tracking). The tests rebuild the crops from
``../shared``, so no pixels of those people live in the repository.
"""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest
import skimage.data
import torch

from deepfakelab.media.video import iter_frames
from deepfakelab.faces.mesh import FaceMesh, Mesh, Roi, mesh_sequence_points
from deepfakelab.faces.mesh_model import INPUT_SIZE, NUM_POINTS, load_face_mesh_net, run_face_mesh
from deepfakelab.faces.smoothing import OneEuroFilter
from deepfakelab.faces.detection import NoFaceError
from deepfakelab.media.photo import read_photo
from helpers import FIXTURES

FIXTURE = FIXTURES / "face_mesh_reference.npz"
TRACKED_FRAMES = 24  # the fixture's videos were tracked over their first 24 frames


@pytest.fixture(scope="module")
def reference():
    with np.load(FIXTURE) as data:
        return {key: data[key] for key in data.files}


@pytest.fixture(scope="module")
def face_mesh():
    return FaceMesh()


@pytest.fixture(scope="module")
def astronaut():
    return np.ascontiguousarray(skimage.data.astronaut())


def _image(real_data: Path, source: str, frame: int, cache: dict) -> np.ndarray:
    if source.endswith(".jpg"):
        return read_photo(real_data / source)[0]
    if source not in cache:
        cache[source] = [f for _, f in iter_frames(real_data / source, set(range(TRACKED_FRAMES)))]
    return cache[source][frame]


def _distance_at_input(points: np.ndarray, other: np.ndarray, roi_size: float) -> np.ndarray:
    """Per-point distance in pixels of the network's 192 px input."""
    return np.linalg.norm(points[:, :2] - other[:, :2], axis=1) * INPUT_SIZE / roi_size


def test_torch_mesh_reproduces_mediapipe_on_the_same_roi(real_data, reference, face_mesh):
    cache: dict = {}
    means = []
    for source, frame, roi, expected in zip(
        reference["source"], reference["frame"], reference["roi"], reference["given_roi"]
    ):
        roi = Roi((roi[0], roi[1]), roi[2], roi[3])
        mesh = face_mesh.mesh_in(_image(real_data, str(source), int(frame), cache), roi)
        distance = _distance_at_input(mesh.points, expected, roi.size)
        assert distance.mean() <= 0.5, f"{source} frame {frame}: {distance.mean():.3f} px from mediapipe"
        depth = np.abs(mesh.points[:, 2] - expected[:, 2]).mean() * INPUT_SIZE / roi.size
        assert depth <= 0.5, f"{source} frame {frame}: depth {depth:.3f} px from mediapipe"
        assert mesh.score > 0.9
        means.append(distance.mean())
    # measured: 0.001-0.006 px (the same float16 weights; only float rounding differs)
    assert len(means) == 25 and np.mean(means) < 0.05


def test_photo_mesh_is_close_to_mediapipes_whole_pipeline(real_data, reference, face_mesh):
    """MediaPipe frames a photo by its own face detector in one pass; the kit by MTCNN and a second
    pass from the first mesh. The two land within a few pixels (measured 0.7-2.5 px at 192 px)."""
    for index in np.flatnonzero(np.char.endswith(reference["source"].astype(str), ".jpg"))[:4]:
        name = str(reference["source"][index])
        mesh = face_mesh.detect(read_photo(real_data / name)[0], name)
        distance = _distance_at_input(mesh.points, reference["pipeline"][index], mesh.roi.size)
        assert distance.mean() <= 3.0, f"{name}: {distance.mean():.2f} px from mediapipe's pipeline"
        np.testing.assert_allclose(mesh.roi.size, reference["roi"][index][2], rtol=1e-3)


@pytest.mark.parametrize("video", ["d18.mp4", "retalk_5.mp4"])
def test_tracking_converges_to_mediapipes_tracking(real_data, reference, face_mesh, video):
    frames = [f for _, f in iter_frames(real_data / video, set(range(TRACKED_FRAMES)))]
    meshes = face_mesh.track(frames, smooth=False)
    assert all(mesh is not None and mesh.score > 0.9 for mesh in meshes)
    rows = np.flatnonzero(reference["source"].astype(str) == video)
    for row in rows:
        frame = int(reference["frame"][row])
        mesh = meshes[frame]
        distance = _distance_at_input(mesh.points, reference["pipeline"][row], mesh.roi.size).mean()
        # Both track the same way (ROI from the last mesh); from frame 3 on they agree (measured <= 0.4 px).
        limit = 3.0 if frame == 0 else 0.5
        assert distance <= limit, f"{video} frame {frame}: {distance:.2f} px from mediapipe's tracking"


def test_network_shapes_and_presence(astronaut, face_mesh):
    mesh = face_mesh.detect(astronaut, "astronaut")
    assert mesh.points.shape == (NUM_POINTS, 3) and mesh.score > 0.99
    # The crop of a face gives presence near 1; a crop of the sky behind the shuttle near 0.
    sky = Roi((440.0, 60.0), 100.0, 0.0)
    assert face_mesh.mesh_in(astronaut, sky).score < 0.5
    # uint8 HWC and float CHW inputs give the same points
    crop = mesh.roi.crop(astronaut)
    as_uint8 = run_face_mesh(torch.from_numpy(crop)[None])
    as_float = run_face_mesh(torch.from_numpy(crop).permute(2, 0, 1)[None].float() / 255)
    torch.testing.assert_close(as_uint8.points, as_float.points)


def test_roi_follows_a_rotated_face(astronaut, face_mesh):
    """Rotating the photo by 30 degrees rotates the ROI and the mesh with it."""
    upright = face_mesh.detect(astronaut, "astronaut")
    angle = 30.0
    matrix = cv2.getRotationMatrix2D((256.0, 256.0), angle, 1.0)  # counter-clockwise on screen
    rotated = cv2.warpAffine(astronaut, matrix, (512, 512), flags=cv2.INTER_LINEAR)
    turned = face_mesh.detect(rotated, "rotated astronaut")
    # the ROI turns counter-clockwise too, i.e. its rotation (clockwise positive) drops by 30 degrees
    assert math.degrees(turned.roi.rotation - upright.roi.rotation) == pytest.approx(-angle, abs=3.0)
    expected = upright.xy @ matrix[:, :2].T + matrix[:, 2]
    assert _distance_at_input(turned.points, expected, turned.roi.size).mean() < 2.0


def test_roi_crop_and_projection_are_inverse():
    roi = Roi((210.5, 140.25), 173.0, 0.4)
    crop_points = np.array([[0.0, 0.0, 5.0], [192.0, 0.0, 0.0], [96.0, 96.0, -3.0], [10.0, 170.0, 1.0]])
    image_points = roi.to_image(crop_points)
    back = image_points[:, :2] @ roi.crop_matrix()[:, :2].T + roi.crop_matrix()[:, 2]
    np.testing.assert_allclose(back, crop_points[:, :2], atol=1e-9)
    np.testing.assert_allclose(image_points[2, :2], roi.center)
    # the crop's corners are the square's corners: its side is roi.size long
    assert np.linalg.norm(image_points[1, :2] - image_points[0, :2]) == pytest.approx(roi.size)


def test_track_redetects_after_the_face_is_lost(astronaut, face_mesh):
    gray = np.full_like(astronaut, 128)
    moved = np.roll(astronaut, (150, 220), axis=(0, 1))  # the face jumps far away
    meshes = face_mesh.track([astronaut, astronaut, gray, astronaut, moved], fps=25)
    assert [mesh is None for mesh in meshes] == [False, False, True, False, False]
    first = face_mesh.detect(astronaut)
    shifted = first.xy + np.array([220.0, 150.0])
    assert _distance_at_input(meshes[4].points, shifted, meshes[4].roi.size).mean() < 2.0
    points = mesh_sequence_points(meshes)
    assert points.shape == (5, NUM_POINTS, 3) and np.isnan(points[2]).all() and not np.isnan(points[4]).any()


def test_one_euro_filter_smooths_stillness_and_follows_motion():
    rng = np.random.default_rng(0)
    fps, steps, face = 25.0, 150, 250.0
    noise = rng.normal(0, 0.5, (steps, 10, 2))  # half a pixel of jitter on a 250 px face
    still = OneEuroFilter(fps)
    smoothed = np.array([still(sample, scale=face) for sample in noise])
    assert smoothed[30:].std() < 0.7 * noise[30:].std()  # measured 0.58
    # a face moving one face-width per second is followed within a few pixels
    ramp = np.arange(steps)[:, None, None] * (face / fps) * np.ones((1, 10, 2))
    moving = OneEuroFilter(fps)
    followed = np.array([moving(sample, scale=face) for sample in ramp + noise])
    assert np.abs(followed[50:] - ramp[50:]).mean() < 1.5  # measured 0.7 px; a fixed 1 Hz filter: 40 px
    moving.reset()
    np.testing.assert_array_equal(moving(ramp[0] + 7), ramp[0] + 7)


def test_track_smoothing_removes_jitter_on_a_real_video(real_data, face_mesh):
    frames = [f for _, f in iter_frames(real_data / "d18.mp4", set(range(TRACKED_FRAMES)))]
    raw = mesh_sequence_points(face_mesh.track(frames, smooth=False))[..., :2]
    smooth = mesh_sequence_points(face_mesh.track(frames, smooth=True))[..., :2]
    jitter = lambda p: np.linalg.norm(np.diff(p, n=2, axis=0), axis=-1).mean()  # noqa: E731
    assert jitter(smooth) < 0.7 * jitter(raw)
    assert np.linalg.norm(smooth - raw, axis=-1).mean() < 2.0  # and stays on the face (pixels at ~430 px ROI)


def test_bad_input_gets_one_clear_line(real_data, face_mesh):
    photo, _ = read_photo(real_data / "s33.jpg")  # a dog
    with pytest.raises(NoFaceError, match=r"^s33.jpg: no face found"):
        face_mesh.detect(photo, "s33.jpg")
    with pytest.raises(ValueError, match=r"frame 1: expected an \(H, W, 3\) uint8 RGB image"):
        face_mesh.track([photo, photo.astype(np.float32)])


def test_mesh_is_a_small_typed_result(astronaut, face_mesh):
    mesh = face_mesh.detect(astronaut)
    assert isinstance(mesh, Mesh) and isinstance(mesh.roi, Roi)
    assert mesh.xy.shape == (NUM_POINTS, 2)
    # eyes (outer corners) above the mouth (upper lip centre 13): the mesh is upright
    assert mesh.xy[[33, 263], 1].max() < mesh.xy[13, 1]
    assert load_face_mesh_net() is load_face_mesh_net()  # loaded once per process
