"""Checkpoints load safely (weights_only) and bad files get messages that say what was expected."""

from __future__ import annotations

import collections
import pickle

import pytest
import torch

from deepfakelab.errors import DeepfakeLabError
from deepfakelab.reenact.fomm.checkpoint import CheckpointError, load_model, read_checkpoint, save_checkpoint
from deepfakelab.reenact.fomm.config import model_config_from_dict
from deepfakelab.reenact.fomm.model import build_model

TINY = {
    "common_params": {"num_kp": 10, "num_channels": 3, "estimate_jacobian": True},
    "kp_detector_params": {
        "temperature": 0.1,
        "block_expansion": 8,
        "max_features": 64,
        "scale_factor": 0.25,
        "num_blocks": 5,
    },
    "generator_params": {
        "block_expansion": 8,
        "max_features": 32,
        "num_down_blocks": 2,
        "num_bottleneck_blocks": 2,
        "estimate_occlusion_map": True,
        "dense_motion_params": {
            "block_expansion": 8,
            "max_features": 64,
            "num_blocks": 5,
            "scale_factor": 0.25,
        },
    },
}


class Payload:
    """Stands for an arbitrary object a malicious pickle could carry."""


@pytest.fixture()
def tiny_model():
    torch.manual_seed(0)
    return build_model(model_config_from_dict(TINY))


def test_round_trip_keeps_weights_and_config(tmp_path, tiny_model):
    path = save_checkpoint(tmp_path / "tiny.pth.tar", tiny_model, step=7)
    assert read_checkpoint(path)["step"] == 7
    loaded = load_model(path)  # config comes from the file
    for name in ("generator", "kp_detector"):
        ours, theirs = getattr(tiny_model, name).state_dict(), getattr(loaded, name).state_dict()
        assert all(torch.equal(ours[key], theirs[key]) for key in ours)


def test_published_layout_with_dataparallel_prefix_loads(tmp_path, tiny_model):
    checkpoint = {
        "generator": {f"module.{k}": v for k, v in tiny_model.generator.state_dict().items()},
        "kp_detector": tiny_model.kp_detector.state_dict(),
        "discriminator": {},
        "optimizer_generator": {},
        "epoch": 99,
    }
    torch.save(checkpoint, tmp_path / "vox-like.pth.tar")
    loaded = load_model(tmp_path / "vox-like.pth.tar", config=model_config_from_dict(TINY))
    assert torch.equal(loaded.generator.final.weight, tiny_model.generator.final.weight)


def test_arbitrary_objects_are_refused_not_unpickled(tmp_path):
    path = tmp_path / "evil.pth.tar"
    torch.save({"generator": Payload(), "kp_detector": {}}, path)
    with pytest.raises(CheckpointError, match="evil.pth.tar.*arbitrary code"):
        read_checkpoint(path)


def test_truncated_file(tmp_path, tiny_model):
    path = save_checkpoint(tmp_path / "full.pth.tar", tiny_model)
    cut = tmp_path / "cut.pth.tar"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(CheckpointError, match="cut.pth.tar.*truncated or not a PyTorch checkpoint"):
        read_checkpoint(cut)


def test_empty_and_missing_files(tmp_path):
    (tmp_path / "empty.pth").write_bytes(b"")
    with pytest.raises(CheckpointError, match="empty"):
        read_checkpoint(tmp_path / "empty.pth")
    with pytest.raises(CheckpointError, match="not found"):
        read_checkpoint(tmp_path / "nothing.pth")


def test_wrong_dict_names_the_expected_keys(tmp_path):
    torch.save({"state_dict": collections.OrderedDict()}, tmp_path / "classifier.pth")
    with pytest.raises(
        CheckpointError,
        match=r"expected a dict with keys \['generator', 'kp_detector'\], found \['state_dict'\]",
    ):
        read_checkpoint(tmp_path / "classifier.pth")


def test_weights_for_another_config_say_which_config(tmp_path, tiny_model):
    path = save_checkpoint(tmp_path / "tiny.pth.tar", tiny_model)
    with pytest.raises(CheckpointError, match="do not fit the model.*other shapes") as info:
        load_model(path, config="vox-256")
    assert isinstance(info.value, DeepfakeLabError)


def test_plain_pickle_file_is_not_a_checkpoint(tmp_path):
    path = tmp_path / "data.pkl"
    path.write_bytes(pickle.dumps([1, 2, 3]))
    with pytest.raises(CheckpointError):
        read_checkpoint(path)


def test_export_drops_the_optimiser_halves_the_size_and_still_animates(tmp_path, tiny_model):
    from deepfakelab.reenact.fomm.checkpoint import export_weights

    optimiser = torch.optim.Adam(tiny_model.parameters())
    tiny_model(torch.rand(1, 3, 128, 128), torch.rand(1, 3, 128, 128)).prediction.mean().backward()
    optimiser.step()  # an optimiser state as big as the weights, twice
    trained = save_checkpoint(
        tmp_path / "last.pth.tar", tiny_model, step=42, optimizer=optimiser.state_dict()
    )
    shipped = export_weights(trained, tmp_path / "shipped.pth.tar")
    assert shipped.stat().st_size < trained.stat().st_size / 4
    payload = read_checkpoint(shipped)
    assert payload["step"] == 42 and "optimizer" not in payload
    full, half = load_model(trained), load_model(shipped)
    assert all(p.dtype == torch.float32 for p in half.parameters())
    source, driving = torch.rand(1, 3, 128, 128), torch.rand(1, 3, 128, 128)
    with torch.no_grad():
        difference = (full(source, driving).prediction - half(source, driving).prediction).abs().max()
    assert 0 < difference < 1e-2
