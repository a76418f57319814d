"""CAM shapes and ranges, the pointing game and energy computations, the randomisation check."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from deepfakelab.detect.explain import (
    CAM_METHODS,
    energy_in_mask,
    fake_maps,
    overlay,
    pointing_hits,
    randomised_copy,
    rank_correlation,
)
from deepfakelab.detect.model import DetectorConfig, build_detector


def test_pointing_game_by_hand():
    maps = np.zeros((3, 4, 4))
    masks = np.zeros((3, 4, 4))
    masks[:, :2, :2] = 1  # top-left quarter changed
    maps[0, 0, 1] = 1.0  # maximum inside -> hit
    maps[1, 3, 3] = 1.0  # maximum outside -> miss
    maps[2, 0, 0] = maps[2, 3, 3] = 1.0  # tie, one inside -> hit
    assert pointing_hits(maps, masks).tolist() == [True, False, True]
    assert pointing_hits(np.zeros((1, 4, 4)), masks[:1]).tolist() == [False]  # a flat map points nowhere


def test_energy_in_mask_by_hand():
    maps = np.zeros((2, 4, 4))
    masks = np.zeros((2, 4, 4))
    masks[:, :2, :2] = 1
    maps[0, 0, 0], maps[0, 3, 3] = 3.0, 1.0  # 3 of 4 inside
    assert energy_in_mask(maps, masks)[0] == pytest.approx(0.75)
    assert np.isnan(energy_in_mask(maps, masks)[1])  # an all-zero map has no energy to place


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match="differ"):
        pointing_hits(np.zeros((1, 4, 4)), np.zeros((1, 5, 5)))


@pytest.mark.parametrize("arch", ["kitnet", "resnet18"])
@pytest.mark.parametrize("method", CAM_METHODS)
def test_maps_have_the_crop_shape_and_unit_range(arch, method):
    torch.manual_seed(0)
    model = build_detector(DetectorConfig(arch=arch, width=8))
    maps, p_fake = fake_maps(model, torch.randn(2, 3, 64, 64), method)
    assert maps.shape == (2, 64, 64) and maps.dtype == np.float32
    assert maps.min() >= 0.0 and maps.max() <= 1.0 + 1e-6
    assert p_fake.shape == (2,) and ((0 <= p_fake) & (p_fake <= 1)).all()


def test_randomised_copy_changes_every_conv_and_keeps_the_original():
    torch.manual_seed(0)
    model = build_detector(DetectorConfig(width=8))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    clone = randomised_copy(model, seed=5)
    for (name, a), b in zip(model.state_dict().items(), clone.state_dict().values()):
        assert torch.equal(a, before[name])
        if name.endswith("conv.weight") or (a.ndim == 4):
            assert not torch.equal(a, b), name


def test_rank_correlation_by_hand():
    a = np.arange(16, dtype=float).reshape(1, 4, 4)
    assert rank_correlation(a, a) == pytest.approx([1.0])
    assert rank_correlation(a, -a) == pytest.approx([-1.0])


def test_overlay_is_rgb_uint8():
    face = np.full((32, 32, 3), 128, np.uint8)
    out = overlay(face, np.linspace(0, 1, 32 * 32).reshape(32, 32))
    assert out.shape == (32, 32, 3) and out.dtype == np.uint8
    assert not np.array_equal(out[0, 0], out[-1, -1])
