"""The DCGAN networks: shapes, output ranges, optional layers and the DCGAN initialisation."""

import pytest
import torch
from torch import nn

from deepfakelab.gan.config import classic28, classic64
from deepfakelab.gan.models import build_models


@pytest.mark.parametrize("config", [classic28(), classic64(3), classic64(1)], ids=["28-grey", "64-colour", "64-grey"])
def test_shapes(config):
    torch.manual_seed(0)
    generator, discriminator = build_models(config)
    images = generator(torch.randn(5, config.generator.z_dim))
    assert images.shape == (5, config.channels, config.image_size, config.image_size)
    assert discriminator(images).shape == (5,)


@pytest.mark.parametrize("activation, low, high", [("tanh", -1, 1), ("sigmoid", 0, 1)])
def test_output_activation_bounds_the_images(activation, low, high):
    torch.manual_seed(0)
    config = classic28().replace(**{"generator.output_activation": activation})
    generator, _ = build_models(config)
    images = generator(torch.randn(64, 64) * 10)
    assert images.min() >= low and images.max() <= high
    if activation == "sigmoid":
        assert images.min() >= 0  # tanh would go negative on this input
        assert isinstance(generator.net[-1], nn.Sigmoid)


def test_extra_blocks_add_depth_but_keep_sizes():
    config = classic28().replace(**{"generator.extra_blocks": 3, "discriminator.extra_blocks": 2})
    base_g, base_d = build_models(classic28())
    generator, discriminator = build_models(config)
    assert len(generator.net) == len(base_g.net) + 3
    assert len(discriminator.net) == len(base_d.net) + 2
    assert generator(torch.randn(2, 64)).shape == (2, 1, 28, 28)


def test_batch_norm_and_dropout_follow_the_config():
    config = classic28()
    for block in config.generator.blocks + config.discriminator.blocks:
        block.batch_norm = False
    config.discriminator.blocks[0].dropout = 0.3
    generator, discriminator = build_models(config)
    modules = list(generator.modules()) + list(discriminator.modules())
    assert not any(isinstance(m, nn.BatchNorm2d) for m in modules)
    dropouts = [m for m in discriminator.modules() if isinstance(m, nn.Dropout2d)]
    assert len(dropouts) == 1 and dropouts[0].p == 0.3


def test_dcgan_initialisation_statistics():
    torch.manual_seed(0)
    generator, discriminator = build_models(classic64(3))
    convs = [m.weight for net in (generator, discriminator) for m in net.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    weights = torch.cat([w.flatten() for w in convs])
    assert abs(weights.mean().item()) < 1e-3
    assert weights.std().item() == pytest.approx(0.02, rel=0.02)
    scales = torch.cat([m.weight for net in (generator, discriminator) for m in net.modules() if isinstance(m, nn.BatchNorm2d)])
    assert scales.mean().item() == pytest.approx(1.0, abs=0.005)  # pytorch/examples: N(1, 0.02)
    assert scales.std().item() == pytest.approx(0.02, rel=0.15)
    c1w2_g, c1w2_d = build_models(classic28())
    scales = torch.cat([m.weight for net in (c1w2_g, c1w2_d) for m in net.modules() if isinstance(m, nn.BatchNorm2d)])
    assert abs(scales.mean().item()) < 0.005  # C1W2: N(0, 0.02)
    assert scales.std().item() == pytest.approx(0.02, rel=0.15)
