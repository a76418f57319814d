"""The training-domain check (:mod:`deepfakelab.detect.domain` and, at training time,
:mod:`deepfakelab.detect.domain_stats`): prototypes, the held-out null,
and that it fires on inputs unlike the training faces and not on new faces like them."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from deepfakelab.detect.domain import distances, has_stats, unlike_training
from deepfakelab.detect.domain_stats import choose_prototypes, domain_stats, held_out_null
from deepfakelab.detect.evaluation import refresh_domain_stats
from deepfakelab.detect.model import DetectorConfig, FaceForensicNet, to_tensor
from deepfakelab.fakes.faceset import FaceSet


def _faces(groups: list[str], per_group: int, seed: int) -> FaceSet:
    """Smooth "faces": a skin-coloured disc on a grey background, jittered per group and crop."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:32, :32]
    images = []
    for g in range(len(groups)):
        tone = np.array([200, 150, 120]) + rng.normal(0, 10, 3)
        for _ in range(per_group):
            cx, cy, r = 16 + rng.normal(0, 1.5), 16 + rng.normal(0, 1.5), 10 + rng.normal(0, 1)
            image = np.full((32, 32, 3), 110.0) + rng.normal(0, 3, 3)
            image[(xx - cx) ** 2 + (yy - cy) ** 2 < r * r] = tone
            images.append(np.clip(image + rng.normal(0, 4, image.shape), 0, 255).astype(np.uint8))
    n = len(images)
    group = np.repeat(np.array(groups), per_group)
    return FaceSet(
        np.stack(images),
        np.arange(n) % 2,
        np.zeros((n, 32, 32), np.uint8),
        np.zeros(n, bool),
        np.where(np.arange(n) % 2, "self_blend", "real"),
        np.array([f"{g}/v" for g in group]),
        group,
        np.array([f"{g}#{i}" for i, g in enumerate(group)]),
    )


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return FaceForensicNet(width=8).eval()


def test_prototypes_represent_every_group():
    groups = np.array(["big"] * 200 + ["photo"] * 5 + ["other"] * 40)
    picked = choose_prototypes(groups, 12)
    assert len(picked) == len(set(picked.tolist())) == 12
    assert {"big", "photo", "other"} == set(groups[picked].tolist())
    assert len(choose_prototypes(groups[:5], 12)) == 5  # never more than there are


def test_held_out_null_ignores_the_rows_own_group():
    prototypes = np.array([[1.0, 0.0], [0.0, 1.0]])
    features = np.array([[1.0, 0.0], [1.0, 0.0]])
    own = held_out_null(features, np.array(["a", "b"]), prototypes, np.array(["a", "b"]))
    # row 0 sits on prototype "a" but may only use "b"; row 1 may use "a"
    assert own[0] == pytest.approx(1.0) and own[1] == pytest.approx(0.0)
    assert distances(features, prototypes) == pytest.approx([0.0, 0.0])


def test_the_check_fires_on_an_unlike_input_and_not_on_new_faces_like_the_training_ones(model):
    train = _faces([f"p{i}" for i in range(6)], 12, seed=0)
    val = _faces(["v0", "v1"], 12, seed=1)
    stats = domain_stats(model, train, val, count=24)
    assert has_stats(stats) and stats["prototypes"].dtype == torch.float16 and len(stats["prototypes"]) == 24
    new_people = _faces(["n0", "n1", "n2"], 8, seed=2)
    for g in ("n0", "n1", "n2"):
        flagged, d = unlike_training(model, to_tensor(new_people.images[new_people.group == g]), stats)
        assert not flagged, (g, d, stats["threshold"])
    rng = np.random.default_rng(3)
    noise = rng.integers(0, 256, (8, 32, 32, 3), dtype=np.uint8)  # no face at all
    stripes = np.zeros((8, 32, 32, 3), np.uint8)
    stripes[:, :, ::4] = (30, 220, 40)  # a green bar code
    for name, crops in (("noise", noise), ("stripes", stripes)):
        flagged, d = unlike_training(model, to_tensor(crops), stats)
        assert flagged and d > stats["threshold"], (name, d, stats["threshold"])


def test_refresh_rewrites_only_the_domain_entry(model, tmp_path):
    from deepfakelab.detect.inference import read_card
    from deepfakelab.detect.train import save_weights

    path = save_weights(
        model,
        DetectorConfig(arch="kitnet", size=32, width=8),
        tmp_path / "d.pt",
        extra={"name": "tiny", "domain": {"trained_on": "x", "feature_mean": [0.0]}},
    )
    assert read_card(path).domain is None  # the old mean/std entry cannot test inputs
    before = torch.load(path, weights_only=True)
    faces = _faces([f"head{i:03d}" for i in range(10)], 6, seed=4)  # split 70/15/15 by identity
    stats = refresh_domain_stats(path, faces)
    after = torch.load(path, weights_only=True)
    assert after["info"]["name"] == "tiny" and after["config"] == before["config"]
    assert all(torch.equal(after["state_dict"][k], v) for k, v in before["state_dict"].items())
    card = read_card(path)
    assert card.domain is not None and card.domain["threshold"] == pytest.approx(stats["threshold"])


@pytest.mark.parametrize(
    "name, unlike", [("s9.jpg", False), ("retalk_1.mp4", False), ("retalk_5.mp4", False)]
)
def test_shipped_detector_keeps_held_out_people_and_no_longer_flags_the_mona_lisa(real_data, name, unlike):
    """The shipped weights' stats on the shared files, as the weights README's table says
    (retalk_1, retalk_5: persons M and P, never trained on). Trained on over a thousand people's
    photos, these weights flag no painting, the Mona Lisa (s9) included; the previous ones
    flagged her. A test that she is kept fails when a detector's features set her apart again."""
    from deepfakelab.detect.inference import DeepfakeDetector

    result = DeepfakeDetector(methods=()).analyse(real_data / name, count=8, keep_frames=False)
    assert result.frames and result.unlike_training is unlike, (name, result.domain_distance)


def test_both_shipped_networks_say_what_they_were_trained_on():
    """``detect`` prints the card first: kitnet's once said "unknown data"."""
    from deepfakelab.detect.inference import DEFAULT_WEIGHTS, KITNET_WEIGHTS, read_card

    kitnet, default = read_card(KITNET_WEIGHTS), read_card(DEFAULT_WEIGHTS)
    assert "synthetic talking heads only" in kitnet.trained_on and kitnet.name.startswith("kitnet (synthetic")
    assert "real talking-head videos of 10 people" in default.trained_on
    assert kitnet.domain is None and default.domain is not None  # kitnet's notes say it cannot tell
