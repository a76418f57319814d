"""Training data with change masks, a tiny training run, and resuming after a kill."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import deepfakelab.media.h264 as h264
from deepfakelab.detect.dataset import FaceTensors, augment
from deepfakelab.detect.inference import load_detector
from deepfakelab.detect.model import DetectorConfig
from deepfakelab.detect.train import TrainConfig, train_detector
from deepfakelab.errors import ConfigError, DataError
from deepfakelab.fakes.faceset import FaceSet
from deepfakelab.fakes.roster import split_groups
from deepfakelab.fakes.synthetic import build_faceset

from helpers import toy_sources

KINDS = ["self_blend", "face_swap", "landmark_warp"]


@pytest.fixture(scope="module")
def faces() -> FaceSet:
    return build_faceset(toy_sources(identities=4, videos=1, frames=3), KINDS, size=48, progress=False)


def test_every_fake_has_a_nonempty_mask_and_its_own_video(faces):
    fakes = faces.labels == 1
    assert set(faces.kind[fakes]) <= set(KINDS) and "self_blend" in set(faces.kind[fakes])
    assert (faces.masks[fakes].reshape(fakes.sum(), -1).max(1) >= 128).all()
    assert (faces.masks[~fakes] == 0).all()
    assert set(faces.video[fakes]).isdisjoint(faces.video[~fakes])
    # a fake differs from its real frame inside the mask, hardly outside it
    real = faces.images[(faces.video == "id0_v0")][0].astype(int)
    first = np.flatnonzero(faces.video == "id0_v0/self_blend")[0]
    diff = np.abs(faces.images[first].astype(int) - real).max(-1)
    inside = faces.masks[first] > 127
    assert diff[inside].mean() > 3 * max(diff[~inside].mean(), 0.5)


def test_splits_never_share_a_group():
    groups = np.array([f"id{i % 7}" for i in range(70)])
    splits = split_groups(groups, seed=1)
    seen = [set(groups[m]) for m in splits.values()]
    assert sum(len(s) for s in seen) == 7 and all(seen)
    assert sum(m.sum() for m in splits.values()) == 70
    with pytest.raises(DataError):
        split_groups(["a", "a", "b"])


def test_augment_keeps_shapes_and_flips_mask_with_image():
    image = np.zeros((32, 32, 3), np.uint8)
    image[:, :8] = 255
    mask = np.zeros((32, 32), np.uint8)
    mask[:, :8] = 255
    flipped = 0
    for seed in range(12):
        out, out_mask = augment(image, mask, np.random.default_rng(seed))
        assert out.shape == image.shape and out.dtype == np.uint8 and out_mask.shape == mask.shape
        if out_mask[:, -1].all():
            flipped += 1
            assert out[:, -4:].mean() > out[:, :4].mean()
    assert 0 < flipped < 12


def test_tiny_training_run_writes_loadable_weights(faces, tmp_path):
    cfg = TrainConfig(detector=DetectorConfig(size=48, width=8), epochs=2, batch_size=16, device="cpu")
    result = train_detector(faces, faces, tmp_path, cfg, progress=False)
    assert len(result["history"]) == 2
    assert all(np.isfinite(h["loss"]) for h in result["history"])
    assert 0.0 <= result["history"][-1]["val_video_auc"] <= 1.0
    model, config = load_detector(result["weights"])
    assert config.size == 48
    x = next(iter(torch.utils.data.DataLoader(FaceTensors(faces, train=False), batch_size=4)))[0]
    assert model(x).shape == (4, 2)


def test_resume_after_a_kill_gives_the_same_weights(faces, tmp_path, monkeypatch):
    cfg = TrainConfig(detector=DetectorConfig(size=48, width=8), epochs=2, batch_size=16, device="cpu")
    straight = train_detector(faces, faces, tmp_path / "straight", cfg, progress=False)

    original = FaceTensors.__getitem__

    def killed_in_epoch_two(self, i):
        if self.epoch == 1:
            raise KeyboardInterrupt
        return original(self, i)

    monkeypatch.setattr(FaceTensors, "__getitem__", killed_in_epoch_two)
    with pytest.raises(KeyboardInterrupt):
        train_detector(faces, faces, tmp_path / "killed", cfg, progress=False)
    monkeypatch.setattr(FaceTensors, "__getitem__", original)
    resumed = train_detector(faces, faces, tmp_path / "killed", cfg, progress=False)

    assert [h["epoch"] for h in resumed["history"]] == [1, 2]
    a = torch.load(tmp_path / "straight" / "checkpoint.pt", weights_only=False)["model"]
    b = torch.load(tmp_path / "killed" / "checkpoint.pt", weights_only=False)["model"]
    assert all(torch.allclose(a[k].float(), b[k].float(), atol=1e-6) for k in a)
    assert straight["history"][-1]["loss"] == pytest.approx(resumed["history"][-1]["loss"])


def test_missing_weights_say_how_to_train(tmp_path):
    with pytest.raises(DataError, match="no such weights"):
        load_detector(tmp_path / "none.pt")


def test_paired_batches_keep_a_frame_with_its_fakes():
    from deepfakelab.detect.dataset import PairedBatches

    sources = np.array([f"v#{i // 4}" for i in range(40)] + ["lone#0", "lone#1"])
    sampler = PairedBatches(sources, batch_size=8, generator=torch.Generator().manual_seed(0))
    batches = list(sampler)
    assert batches != list(PairedBatches(sources, 8, torch.Generator().manual_seed(1)))  # shuffled
    assert sorted(i for b in batches for i in b) == list(range(42))
    for batch in batches:
        for key in set(sources[batch]):
            assert (sources[batch] == key).sum() == (sources == key).sum()  # whole families only
    assert len(sampler) == len(batches)
    assert list(PairedBatches(sources, 8, torch.Generator().manual_seed(0))) == batches  # reproducible


def test_fomm_fakes_blend_a_reenacted_face_into_the_frame():
    """The FOMM manipulation runs any FOMM (here an untrained small one) on frame pairs."""
    from deepfakelab.fakes.synthetic import fomm_reenactor
    from deepfakelab.reenact.fomm.model import build_model

    torch.manual_seed(0)
    reenact = fomm_reenactor(build_model("fomm-small-64").eval())
    sources = toy_sources(identities=2, videos=1, frames=2)
    faces = build_faceset(sources, ["fomm"], size=48, reenactors={"fomm": reenact}, progress=False)
    fakes = faces.labels == 1
    assert fakes.sum() == 4 and set(faces.kind[fakes]) == {"fomm"}
    generated = reenact(sources[0].frames[0], sources[1].frames[:1]).frames[0]
    assert generated.shape == sources[0].frames[0].shape and generated.dtype == np.uint8


def test_h264_without_pyav_or_outside_0_to_1_stops_before_any_work(faces, tmp_path, monkeypatch):
    monkeypatch.setattr(h264, "h264_available", lambda: False)
    with pytest.raises(ConfigError, match="pip install av"):
        train_detector(faces, faces, tmp_path / "run", TrainConfig(h264=0.3))
    with pytest.raises(ConfigError, match="0 to 1"):
        train_detector(faces, faces, tmp_path / "run", TrainConfig(h264=1.5))
    assert not (tmp_path / "run").exists()
