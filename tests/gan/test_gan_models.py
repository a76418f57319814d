"""The DCGAN networks: shapes, output ranges, optional layers and the DCGAN initialisation."""

import pytest
import torch
from torch import nn

from deepfakelab.gan.config import classic28, classic64
from deepfakelab.gan.models import build_models


@pytest.mark.parametrize(
    "config", [classic28(), classic64(3), classic64(1)], ids=["28-grey", "64-colour", "64-grey"]
)
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
    convs = [
        m.weight
        for net in (generator, discriminator)
        for m in net.modules()
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))
    ]
    weights = torch.cat([w.flatten() for w in convs])
    assert abs(weights.mean().item()) < 1e-3
    assert weights.std().item() == pytest.approx(0.02, rel=0.02)
    scales = torch.cat(
        [
            m.weight
            for net in (generator, discriminator)
            for m in net.modules()
            if isinstance(m, nn.BatchNorm2d)
        ]
    )
    assert scales.mean().item() == pytest.approx(1.0, abs=0.005)  # pytorch/examples: N(1, 0.02)
    assert scales.std().item() == pytest.approx(0.02, rel=0.15)
    for bn_weight_mean in (1.0, 0.0):  # the 28 px preset's, and C1W2's N(0, 0.02) on request
        g28, d28 = build_models(classic28().replace(bn_weight_mean=bn_weight_mean))
        scales = torch.cat(
            [m.weight for net in (g28, d28) for m in net.modules() if isinstance(m, nn.BatchNorm2d)]
        )
        assert scales.mean().item() == pytest.approx(bn_weight_mean, abs=0.005)
        assert scales.std().item() == pytest.approx(0.02, rel=0.15)
    assert classic28().bn_weight_mean == 1.0


def _discriminator_verdicts(config, images):
    torch.manual_seed(0)
    _, discriminator = build_models(config)
    discriminator.train()  # as in training: each batch normalised by its own statistics
    with torch.no_grad():
        return discriminator(images), discriminator(0.5 * images - 0.3)


def test_default_discriminator_sees_brightness_and_contrast():
    """A batch and its faded, darkened copy must get different verdicts. With batch norm on the
    input block (C1W2) they cannot: BN(a * x + b) == BN(x) per batch (up to its eps), so the
    generator fooled it with near-blank grey images."""
    images = torch.rand(16, 1, 28, 28) * 2 - 1
    sharp, faded = _discriminator_verdicts(classic28(), images)
    assert (sharp - faded).abs().mean() > 0.05
    c1w2 = classic28()
    c1w2.discriminator.blocks[0].batch_norm = True
    sharp, faded = _discriminator_verdicts(c1w2, images)
    assert (sharp - faded).abs().mean() < 0.01  # the blindness the default avoids


@pytest.mark.parametrize("bn_weight_mean, varied", [(1.0, True), (0.0, False)])
def test_default_generator_starts_with_samples_that_depend_on_the_noise(bn_weight_mean, varied):
    """Batch-norm scales near 0 (C1W2) start the generator almost silent: its samples barely
    differ between noise vectors. The default's N(1, 0.02) scales start them clearly apart."""
    torch.manual_seed(0)
    generator, _ = build_models(classic28().replace(bn_weight_mean=bn_weight_mean))
    with torch.no_grad():
        spread = generator(torch.randn(64, 64)).std(0).mean().item()  # per-pixel std over z, in [-1, 1] units
    assert (spread > 0.05) is varied
