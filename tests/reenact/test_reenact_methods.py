"""One interface for every reenactment method (:mod:`deepfakelab.reenact.methods`).

Each caller used to call the methods its own way; the ``old_*`` functions below are those calls,
as they were written before the interface (``pipeline.reenact_faces`` / ``mesh_warp_faces``,
``real_evaluation.reenact_clip``, ``lab1.reenact_photo`` / ``lab1_media.reenact``, the fakes'
warps and FOMM). The callers now go through the interface and must give the very same frames, on
small synthetic heads. Then the lookup's rules and the checks of the inputs.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from deepfakelab.labs.lab1 import notebook as lab1
from deepfakelab.errors import ConfigError
from deepfakelab.faces.detection import detect_faces_in_frames
from deepfakelab.faces.mesh import FaceMesh
from deepfakelab.fakes.manipulations import _kit_warp
from deepfakelab.fakes.mesh_fakes import MeshFace, mesh_warp_fake
from deepfakelab.fakes.synthetic import fomm_reenactor, reenactment_fake
from deepfakelab.heads import FaceState, Identity, render_frame
from deepfakelab.media.video import Video
from deepfakelab.reenact.fomm.animate import animate, animate_with_keypoints, to_uint8_frames
from deepfakelab.reenact.fomm.checkpoint import shipped_model
from deepfakelab.reenact.fomm.model import build_model
from deepfakelab.reenact.fomm.motion_transfer import transfer_motion
from deepfakelab.reenact.landmark_warp import fill_missing, landmark_reenact, warp_to_landmarks
from deepfakelab.reenact.mesh_warp import mesh_reenact, reenact_photo
from deepfakelab.reenact.methods import (
    FOMM,
    METHODS,
    LandmarkWarp,
    MeshWarp,
    Reenactor,
    best_frame_by_landmarks,
    reenactor,
)
from deepfakelab.reenact.pipeline import ReenactOptions, prepare_driving, prepare_source, reenact_faces
from deepfakelab.reenact.real_evaluation import RealClip, reenact_clip
from deepfakelab.reenact.views import keypoints_to_pixels

SIZE = 128
#: The driver's frames: still, mouth open, head turned and smiling, eyes shut.
DRIVING = ({}, {"mouth_open": 1.0}, {"yaw": 15.0, "smile": 0.8}, {"blink": 1.0, "tx": 0.03})


@pytest.fixture(scope="module")
def face_mesh():
    return FaceMesh()


@pytest.fixture(scope="module")
def source():
    return render_frame(Identity.sample(1, accessory_rate=0.0), FaceState(), size=SIZE).image


@pytest.fixture(scope="module")
def driving():
    driver = Identity.sample(2, accessory_rate=0.0)
    return np.stack([render_frame(driver, FaceState(**state), size=SIZE).image for state in DRIVING])


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    found = shipped_model()
    return (found if found is not None else build_model("fomm-small-64")).eval()


@pytest.fixture(scope="module")
def faces(source, driving):
    """What ``deepfakelab reenact`` gives the landmark warp and FOMM: MTCNN crops and landmarks (64 px)."""
    return (
        prepare_source(source, "source", 64, 1.8),
        prepare_driving(Video(driving, 25.0), "driving", 64, 1.8),
    )


def same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b)


# --- the mesh warp ------------------------------------------------------------------------------


@pytest.mark.parametrize("initial", [None, "auto", 2])
def test_mesh_warp_finding_its_own_points_is_the_photo_path(face_mesh, source, driving, initial):
    """``mesh_warp_faces`` (the CLI) and ``lab1_media.reenact`` called ``reenact_photo``."""
    old = reenact_photo(
        source, driving, 25.0, face_mesh, name="source", driving_name="driving", best_frame=initial
    )
    new = MeshWarp(face_mesh)(
        source, driving, initial=initial, fps=25.0, source_name="source", driving_name="driving"
    )
    same(new.frames, old.frames)
    same(new.moved_points, old.moved_points)
    same(new.driving_points, old.driving_points)
    assert new.initial == old.initial and new.notes == old.notes


def old_reenact_clip_mesh(crops, face_mesh):
    driving = fill_missing([m.points if m is not None else None for m in face_mesh.track(crops)])
    return mesh_reenact(crops[0], driving[0], driving, driving_frames=crops)[0]


def test_the_real_video_evaluation_gives_the_same_mesh_warp(face_mesh, driving):
    clip = RealClip("clip", driving, [])
    same(reenact_clip(clip, "mesh-warp", face_mesh), old_reenact_clip_mesh(driving, face_mesh))


def test_the_mesh_warp_fake_is_the_same(face_mesh, source, driving):
    face = MeshFace(source, face_mesh.detect(source).points[:, :2])
    meshes = [face_mesh.detect(frame).points for frame in driving[1:3]]
    new = mesh_warp_fake(face, *meshes, np.random.default_rng(3))
    rng = np.random.default_rng(3)  # the old mesh_warp_fake, to its one random draw
    start = np.asarray(meshes[0], np.float64)[:, :2]
    end = start + rng.uniform(1.0, 2.5) * (np.asarray(meshes[1], np.float64)[:, :2] - start)
    same(new.image, mesh_reenact(face.image, face.points[:, :2], np.stack([start, end]))[0][1])


# --- the landmark warp --------------------------------------------------------------------------


@pytest.mark.parametrize("best_frame", [None, "auto", 1])
def test_the_cli_gives_the_same_landmark_warp(faces, best_frame):
    source, driving = faces
    options = ReenactOptions(best_frame=best_frame, adapt_movement_scale=best_frame != 1)
    initial = {None: 0, 1: 1, "auto": old_best_frame_by_landmarks(source, driving)}[best_frame]
    old, moved = landmark_reenact(
        source.crop, source.landmarks, driving.landmarks, initial, options.adapt_movement_scale
    )
    warp = reenactor("landmark-warp", adapt_movement_scale=options.adapt_movement_scale)
    new = reenact_faces(source, driving, options, warp)
    same(new.frames, old)
    same(new.moved_points, moved)
    assert new.initial == initial


def old_best_frame_by_landmarks(source, driving):
    from deepfakelab.faces import normalized_landmarks

    reference = normalized_landmarks(source.landmarks)
    return int(
        np.argmin(
            [
                float(((normalized_landmarks(m) - reference) ** 2).sum()) if f else np.inf
                for m, f in zip(driving.landmarks, driving.found)
            ]
        )
    )


def test_the_best_frame_by_landmarks_is_the_clis(faces):
    source, driving = faces
    found = driving.found.copy()
    assert best_frame_by_landmarks(source.landmarks, driving.landmarks, found) == old_best_frame_by_landmarks(
        source, driving
    )


def old_reenact_clip_landmarks(crops):
    faces = detect_faces_in_frames(list(crops))
    if not faces[0]:
        return np.repeat(crops[:1], len(crops), axis=0)
    marks = fill_missing([f[0].landmarks if f else None for f in faces])
    return landmark_reenact(crops[0], marks[0], marks)[0]


def test_the_real_video_evaluation_gives_the_same_landmark_warp(face_mesh, driving):
    new = reenact_clip(RealClip("clip", driving, []), "landmark-warp", face_mesh)
    same(new, old_reenact_clip_landmarks(driving))


def test_the_fakes_landmark_warp_is_the_same(source):
    """The fakes' thin-plate warp (five points or the dense set) moved points to targets in one call."""
    rng = np.random.default_rng(0)
    for count in (5, 40, 5, 40):
        points = rng.uniform(10, SIZE - 10, (count, 2))
        targets = points + rng.normal(0, 3, (count, 2))
        old = np.asarray(warp_to_landmarks(source, points, targets)).astype(np.uint8)
        same(_kit_warp(source, points, targets), old)


def test_the_landmark_warp_finds_its_own_points(source, driving):
    done = LandmarkWarp()(source, driving, initial="auto")
    assert done.frames.shape == driving.shape and done.source_points.shape == (5, 2)
    assert done.driving_points.shape == (len(driving), 5, 2) and 0 <= done.initial < len(driving)
    assert not np.array_equal(done.frames[1], done.frames[0])


# --- FOMM ---------------------------------------------------------------------------------------


def test_the_cli_gives_the_same_fomm(faces, model):
    source, driving = faces
    options = ReenactOptions(relative=True, adapt_movement_scale=False, batch_size=3, progress=False)
    old = animate_with_keypoints(
        source.crop,
        driving.crops,
        model,
        relative=True,
        adapt_movement_scale=False,
        best_frame=1,
        batch_size=3,
        progress=False,
        engine="torch",
    )
    fomm = reenactor("fomm", model=model, relative=True, adapt_movement_scale=False, batch_size=3)
    new = reenact_faces(source, driving, ReenactOptions(**{**options.__dict__, "best_frame": 1}), fomm)
    same(new.frames, to_uint8_frames(old.frames))
    same(new.source_points, keypoints_to_pixels(old.kp_source.numpy(), 64))
    same(new.moved_points, keypoints_to_pixels(old.kp_transferred.numpy(), 64))
    assert new.initial == 1


def test_the_real_video_evaluation_gives_the_same_fomm(face_mesh, driving, model):
    small = np.stack([cv2.resize(f, (64, 64), interpolation=cv2.INTER_AREA) for f in driving])
    frames = to_uint8_frames(animate(small[0], small, model, relative=False, progress=False))
    old = np.stack([cv2.resize(f, (SIZE, SIZE), interpolation=cv2.INTER_CUBIC) for f in frames])
    same(reenact_clip(RealClip("clip", driving, []), "fomm", face_mesh, model, fomm_size=64), old)


def test_lab1_gives_the_same_fomm(source, driving, model):
    def transfer(kp_source, kp_driving, kp_initial):  # a student's: relative, never rescaled
        return transfer_motion(kp_source, kp_driving, kp_initial, True, False)

    crops, pasted = lab1.reenact_photo(source, driving, model, transfer, "source", 64, 1.8)
    crop = prepare_source(source, "source", 64, 1.8).crop
    driving_crops = prepare_driving(Video(driving, lab1.FPS), "driving video", 64, 1.8).crops
    old = to_uint8_frames(
        animate(crop, driving_crops, model, best_frame=0, progress=False, transfer=transfer)
    )
    same(crops, old)
    assert pasted.shape == (len(driving), *source.shape)


def test_the_fomm_fake_is_the_same(source, driving, model):
    target, other = source, driving[1]
    small = [cv2.resize(f, (64, 64), interpolation=cv2.INTER_AREA) for f in (target, other)]
    with torch.inference_mode():
        frames = animate(small[0], small[1][None], model, relative=False, progress=False)
    old = cv2.resize(to_uint8_frames(frames)[0], (SIZE, SIZE), interpolation=cv2.INTER_CUBIC)
    same(fomm_reenactor(model)(target, other[None]).frames[0], old)
    mask = np.zeros((SIZE, SIZE), np.float32)
    mask[30:100, 30:100] = 1
    fake = reenactment_fake(fomm_reenactor(model), target, mask, other, np.random.default_rng(0), "fomm")
    assert fake.image.shape == target.shape and fake.kind == "fomm"


# --- the lookup and the checks ------------------------------------------------------------------


def test_the_lookup_names_defaults_and_settings(model, tmp_path):
    assert METHODS == ("mesh-warp", "landmark-warp", "fomm")
    assert isinstance(reenactor(), MeshWarp) and isinstance(reenactor("mesh_warp"), MeshWarp)
    assert isinstance(reenactor(model=model), FOMM) and isinstance(reenactor("landmark_warp"), LandmarkWarp)
    # one set of settings serves every method: each takes its own, ignores the others (a model too)
    settings = {"relative": False, "adapt_movement_scale": False, "fill_mouth": False, "side": 64}
    warp = reenactor("landmark-warp", model=model, **settings)
    assert warp.adapt_movement_scale is False and not hasattr(warp, "relative")
    fomm = reenactor("fomm", model=model, **settings)
    assert (fomm.relative, fomm.adapt_movement_scale, fomm.side) == (False, False, 64)
    assert reenactor("mesh-warp", **settings).fill_mouth is False
    with pytest.raises(TypeError, match="relatve"):
        reenactor("fomm", model=model, relatve=False)
    with pytest.raises(ConfigError, match="use one of mesh-warp, landmark-warp, fomm"):
        reenactor("deepfacelab")
    with pytest.raises(ConfigError, match="--method fomm needs --checkpoint"):
        reenactor("fomm")
    with pytest.raises(ConfigError, match="uses no checkpoint"):
        reenactor("mesh-warp", checkpoint=tmp_path / "vox-cpk.pth.tar")
    assert all(issubclass(cls, Reenactor) for cls in (MeshWarp, LandmarkWarp, FOMM))


def test_the_inputs_are_checked_before_any_work(source, driving, model):
    warp = LandmarkWarp()
    with pytest.raises(ValueError, match="uint8"):
        warp(source.astype(np.float32), driving)
    with pytest.raises(ValueError, match="no driving frames"):
        warp(source, driving[:0])
    with pytest.raises(ValueError, match="differ in size"):
        warp(source, [driving[0], driving[1, :64]])
    with pytest.raises(ValueError, match=r"0\.\.3"):
        warp(source, driving, initial=4)
    points = np.zeros((5, 2))
    with pytest.raises(ValueError, match="both"):
        warp(source, driving, source_points=points)
    with pytest.raises(ValueError, match="4 frames for 2"):
        warp(source, driving, source_points=points, driving_points=np.zeros((2, 5, 2)))
    with pytest.raises(ValueError, match="finds its own keypoints"):
        FOMM(model)(source, driving, source_points=points, driving_points=np.zeros((4, 5, 2)))
    with pytest.raises(ValueError, match="give the driving frames"):
        FOMM(model)(source)
