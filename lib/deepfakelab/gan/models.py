"""The DCGAN's two networks, built block by block from a :class:`~.config.GANConfig`.

Generator: noise ``z`` of shape (N, z_dim) -> image (N, C, H, W) in [-1, 1] (tanh) or [0, 1]
(sigmoid). Discriminator: image -> one logit per image, shape (N,). The discriminator returns
logits, not probabilities: the loss is ``BCEWithLogits``, which is the numerically stable form
of ``sigmoid`` followed by binary cross-entropy.
"""

from __future__ import annotations

import torch
from torch import nn

from .config import BlockSpec, GANConfig


def generator_block(in_channels: int, spec: BlockSpec) -> nn.Sequential:
    """Transposed convolution -> [batch norm] -> ReLU -> [dropout]: upsamples by ``stride``."""
    layers: list[nn.Module] = [
        nn.ConvTranspose2d(
            in_channels, spec.channels, spec.kernel, spec.stride, spec.padding, bias=not spec.batch_norm
        )
    ]
    if spec.batch_norm:
        layers.append(nn.BatchNorm2d(spec.channels))
    layers.append(nn.ReLU(inplace=True))
    if spec.dropout > 0:
        layers.append(nn.Dropout2d(spec.dropout))
    return nn.Sequential(*layers)


def discriminator_block(in_channels: int, spec: BlockSpec, leaky_slope: float) -> nn.Sequential:
    """Convolution -> [batch norm] -> LeakyReLU -> [dropout]: downsamples by ``stride``.

    LeakyReLU (not ReLU) keeps a gradient for negative inputs, so the generator still learns
    from images the discriminator rejects firmly.
    """
    layers: list[nn.Module] = [
        nn.Conv2d(
            in_channels, spec.channels, spec.kernel, spec.stride, spec.padding, bias=not spec.batch_norm
        )
    ]
    if spec.batch_norm:
        layers.append(nn.BatchNorm2d(spec.channels))
    layers.append(nn.LeakyReLU(leaky_slope, inplace=True))
    if spec.dropout > 0:
        layers.append(nn.Dropout2d(spec.dropout))
    return nn.Sequential(*layers)


def _size_preserving(spec: BlockSpec) -> BlockSpec:
    """A 3x3, stride-1, padding-1 block with the same channels: adds depth, keeps the size."""
    return BlockSpec(
        spec.channels, kernel=3, stride=1, padding=1, batch_norm=spec.batch_norm, dropout=spec.dropout
    )


class Generator(nn.Module):
    """Maps noise vectors to images through the configured blocks."""

    def __init__(self, config: GANConfig):
        super().__init__()
        config.validate()
        g = config.generator
        self.z_dim = g.z_dim
        blocks, channels = [], g.z_dim
        specs = list(g.blocks) + [_size_preserving(g.blocks[-1])] * g.extra_blocks
        for spec in specs:
            blocks.append(generator_block(channels, spec))
            channels = spec.channels
        f = g.final
        blocks.append(nn.ConvTranspose2d(channels, config.channels, f.kernel, f.stride, f.padding))
        blocks.append(nn.Tanh() if g.output_activation == "tanh" else nn.Sigmoid())
        self.net = nn.Sequential(*blocks)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """(N, z_dim) noise -> (N, C, H, W) images."""
        return self.net(z.view(z.shape[0], self.z_dim, 1, 1))


class Discriminator(nn.Module):
    """Maps images to one realness logit each (positive: "looks real")."""

    def __init__(self, config: GANConfig):
        super().__init__()
        config.validate()
        d = config.discriminator
        blocks, channels = [], config.channels
        specs = list(d.blocks) + [_size_preserving(d.blocks[-1])] * d.extra_blocks
        for spec in specs:
            blocks.append(discriminator_block(channels, spec, d.leaky_slope))
            channels = spec.channels
        f = d.final
        blocks.append(nn.Conv2d(channels, 1, f.kernel, f.stride, f.padding))
        self.net = nn.Sequential(*blocks)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """(N, C, H, W) images -> (N,) logits."""
        return self.net(images).view(images.shape[0])


def init_weights(module: nn.Module, bn_weight_mean: float = 0.0) -> None:
    """DCGAN initialisation: conv weights ~ N(0, 0.02), biases 0; batch-norm scale
    ~ N(bn_weight_mean, 0.02), shift 0.

    Radford et al. found this small, centred start keeps early training stable. pytorch/examples
    (and both our presets) start batch-norm scales near 1; the C1W2 recipe starts them near 0,
    which leaves the generator's first samples almost independent of the noise.
    """
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, bn_weight_mean, 0.02)
        nn.init.zeros_(module.bias)


def build_models(config: GANConfig) -> tuple[Generator, Discriminator]:
    """Both networks, initialised the DCGAN way (seed torch first for reproducibility)."""
    generator, discriminator = Generator(config), Discriminator(config)
    for net in (generator, discriminator):
        net.apply(lambda m: init_weights(m, config.bn_weight_mean))
    return generator, discriminator
