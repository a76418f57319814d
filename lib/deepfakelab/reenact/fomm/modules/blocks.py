"""Building blocks shared by the First Order Motion Model's networks.

The keypoint detector and the dense motion network are both *hourglass* networks (an encoder of
down-sampling blocks and a decoder of up-sampling blocks joined by skip connections); the
generator is a Johnson-style encoder, residual bottleneck and decoder. Coordinates everywhere are
normalised to ``[-1, 1]`` with ``x`` first, as ``torch.nn.functional.grid_sample`` expects.

Attribute names (``conv``, ``norm``, ``down_blocks``, ``up_blocks``, ``weight``) are those of the
published code (Siarohin et al., NeurIPS 2019), so that its checkpoints load with ``strict=True``.
Batch normalisation is plain :class:`torch.nn.BatchNorm2d`: the published synchronised
batch-norm computes the same thing in eval mode, and DistributedDataParallel users can convert
with :func:`torch.nn.SyncBatchNorm.convert_sync_batchnorm`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def make_coordinate_grid(height: int, width: int, like: torch.Tensor | None = None) -> torch.Tensor:
    """Return a ``(height, width, 2)`` grid of pixel-centre coordinates in ``[-1, 1]``.

    ``grid[i, j] == (x_j, y_i)`` with ``x_0 = -1`` and ``x_{w-1} = 1``: the first and last pixel
    *centres* sit exactly at -1 and 1 (the published model's convention; note that
    ``grid_sample(align_corners=False)``, which the model uses for warping, puts -1 on the pixel
    *edge*, a half-pixel difference the trained weights have absorbed).
    """
    dtype = like.dtype if like is not None else torch.float32
    device = like.device if like is not None else None
    x = torch.arange(width, dtype=dtype, device=device)
    y = torch.arange(height, dtype=dtype, device=device)
    x = 2 * (x / (width - 1)) - 1
    y = 2 * (y / (height - 1)) - 1
    yy = y.view(-1, 1).expand(height, width)
    xx = x.view(1, -1).expand(height, width)
    return torch.stack([xx, yy], dim=2)


def kp2gaussian(kp_value: torch.Tensor, spatial_size: tuple[int, int], kp_variance: float) -> torch.Tensor:
    """Render keypoints as isotropic Gaussian blobs (the paper's heatmap representation).

    kp_value: ``(..., K, 2)`` keypoints in ``[-1, 1]``. Returns ``(..., K, H, W)`` with values in
    ``(0, 1]``, equal to 1 at each keypoint; ``kp_variance`` is in normalised units squared
    (0.01 in the published configs, a standard deviation of 5 % of the image side).
    """
    grid = make_coordinate_grid(*spatial_size, like=kp_value)  # (H, W, 2)
    mean = kp_value.unsqueeze(-2).unsqueeze(-2)  # (..., K, 1, 1, 2)
    squared_distance = ((grid - mean) ** 2).sum(-1)  # (..., K, H, W)
    return torch.exp(-0.5 * squared_distance / kp_variance)


class ResBlock2d(nn.Module):
    """Pre-activation residual block (BN, ReLU, conv, BN, ReLU, conv, plus input); keeps shape."""

    def __init__(self, in_features: int, kernel_size=3, padding=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_features, in_features, kernel_size=kernel_size, padding=padding)
        self.conv2 = nn.Conv2d(in_features, in_features, kernel_size=kernel_size, padding=padding)
        self.norm1 = nn.BatchNorm2d(in_features, affine=True)
        self.norm2 = nn.BatchNorm2d(in_features, affine=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv1(F.relu(self.norm1(x)))
        out = self.conv2(F.relu(self.norm2(out)))
        return out + x


class UpBlock2d(nn.Module):
    """Nearest-neighbour 2x up-sampling, then conv, BN, ReLU: ``(B, C_in, H, W) -> (B, C_out, 2H, 2W)``.

    Inside :class:`fast_upsampling` the same function is computed as one stride-2 transposed
    convolution (:func:`transposed_kernel`), 2.25x fewer multiplications, on inputs of at least
    :data:`FAST_UPSAMPLING_MIN_AREA` pixels (below that, oneDNN's transposed convolution is slower).
    """

    def __init__(self, in_features: int, out_features: int, kernel_size=3, padding=1, groups: int = 1):
        super().__init__()
        self.conv = nn.Conv2d(
            in_features, out_features, kernel_size=kernel_size, padding=padding, groups=groups
        )
        self.norm = nn.BatchNorm2d(out_features, affine=True)
        self.fast_upsampling = False
        self._transposed_kernel: torch.Tensor | None = None  # set by fast_upsampling, never saved

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        kernel = self._transposed_kernel
        if (
            self.fast_upsampling
            and kernel is not None
            and x.shape[-2] * x.shape[-1] >= FAST_UPSAMPLING_MIN_AREA
        ):
            out = F.conv_transpose2d(x, kernel, self.conv.bias, stride=2, padding=1)
        else:
            out = self.conv(F.interpolate(x, scale_factor=2))
        return F.relu(self.norm(out))


def _transposable(conv: nn.Conv2d) -> bool:
    return (
        conv.kernel_size == (3, 3) and conv.padding == (1, 1) and conv.groups == 1 and conv.stride == (1, 1)
    )


#: Smallest input (height x width) on which the transposed convolution beats up-sampling + conv on
#: CPU (measured on vox-256's shapes: slower at 2x2 and 4x4 with 1024+ channels, faster from 8x8).
FAST_UPSAMPLING_MIN_AREA = 64
#: Which rows (columns) of a 3x3 kernel feed each of the 4 taps of the equivalent transposed kernel.
_TAPS = ((2,), (1, 2), (0, 1), (0,))


def transposed_kernel(weight: torch.Tensor) -> torch.Tensor:
    """The ``(I, O, 4, 4)`` stride-2 transposed-convolution kernel equal to up-sampling then ``weight``.

    Output row ``2i`` of "nearest 2x up-sampling, then 3x3 conv with padding 1" reads input rows
    ``(i-1, i, i)`` through kernel rows ``(0, 1, 2)``; row ``2i+1`` reads ``(i, i, i+1)``. So each
    output depends on 2x2 input pixels with summed weights: a transposed convolution with
    stride 2, padding 1 and a 4x4 kernel whose tap ``t`` sums the kernel rows ``_TAPS[t]``.
    """
    rows = torch.stack([sum(weight[:, :, r] for r in taps) for taps in _TAPS], dim=2)  # (O, I, 4, 3)
    kernel = torch.stack([sum(rows[..., c] for c in taps) for taps in _TAPS], dim=3)  # (O, I, 4, 4)
    return kernel.transpose(0, 1)


def upsample_nearest2x_conv3x3(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None
) -> torch.Tensor:
    """``conv3x3(interpolate(x, scale_factor=2), padding=1)`` as one transposed convolution.

    ``(B, I, H, W) -> (B, O, 2H, 2W)``; 16 instead of 36 multiply-adds per output pixel and
    input channel, and no up-sampled copy of ``x``.
    """
    return F.conv_transpose2d(x, transposed_kernel(weight), bias, stride=2, padding=1)


class fast_upsampling:  # noqa: N801 (used like a function: ``with fast_upsampling(model):``)
    """Context manager: run every :class:`UpBlock2d` in ``module`` as a transposed convolution.

    The transposed kernels are computed once on entry (weights must not change inside) and
    dropped on exit. Same outputs up to float rounding (about 1e-6); used by animation, not by
    training (the published computation is kept for gradients and the reference loop).
    """

    def __init__(self, module: nn.Module, enabled: bool = True):
        self.blocks = [m for m in module.modules() if isinstance(m, UpBlock2d)]
        self.enabled = enabled

    def __enter__(self):
        self.previous = [(block.fast_upsampling, block._transposed_kernel) for block in self.blocks]
        for block in self.blocks:
            block.fast_upsampling = self.enabled
            if self.enabled and _transposable(block.conv):
                with torch.no_grad():
                    block._transposed_kernel = transposed_kernel(block.conv.weight).contiguous()
        return self

    def __exit__(self, *exc):
        for block, (flag, kernel) in zip(self.blocks, self.previous):
            block.fast_upsampling, block._transposed_kernel = flag, kernel


class DownBlock2d(nn.Module):
    """Conv, BN, ReLU, then 2x2 average pooling: ``(B, C_in, H, W) -> (B, C_out, H/2, W/2)``."""

    def __init__(self, in_features: int, out_features: int, kernel_size=3, padding=1, groups: int = 1):
        super().__init__()
        self.conv = nn.Conv2d(
            in_features, out_features, kernel_size=kernel_size, padding=padding, groups=groups
        )
        self.norm = nn.BatchNorm2d(out_features, affine=True)
        self.pool = nn.AvgPool2d(kernel_size=(2, 2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(F.relu(self.norm(self.conv(x))))


class SameBlock2d(nn.Module):
    """Conv, BN, ReLU at the same resolution: ``(B, C_in, H, W) -> (B, C_out, H, W)``."""

    def __init__(self, in_features: int, out_features: int, groups: int = 1, kernel_size=3, padding=1):
        super().__init__()
        self.conv = nn.Conv2d(
            in_features, out_features, kernel_size=kernel_size, padding=padding, groups=groups
        )
        self.norm = nn.BatchNorm2d(out_features, affine=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.norm(self.conv(x)))


def _features(block_expansion: int, level: int, max_features: int) -> int:
    """Channels at hourglass ``level``: doubling from ``block_expansion``, capped at ``max_features``."""
    return min(max_features, block_expansion * (2**level))


class Encoder(nn.Module):
    """Hourglass encoder: ``num_blocks`` down blocks; returns the input and every block's output."""

    def __init__(self, block_expansion: int, in_features: int, num_blocks: int = 3, max_features: int = 256):
        super().__init__()
        self.down_blocks = nn.ModuleList(
            DownBlock2d(
                in_features if i == 0 else _features(block_expansion, i, max_features),
                _features(block_expansion, i + 1, max_features),
            )
            for i in range(num_blocks)
        )

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        outs = [x]  # resolutions H, H/2, ..., H/2**num_blocks
        for down_block in self.down_blocks:
            outs.append(down_block(outs[-1]))
        return outs


class Decoder(nn.Module):
    """Hourglass decoder: up blocks, each followed by concatenation with the matching skip."""

    def __init__(self, block_expansion: int, in_features: int, num_blocks: int = 3, max_features: int = 256):
        super().__init__()
        up_blocks = []
        for i in reversed(range(num_blocks)):
            # Every block but the deepest also receives the skip connection, doubling its input.
            in_filters = (1 if i == num_blocks - 1 else 2) * _features(block_expansion, i + 1, max_features)
            up_blocks.append(UpBlock2d(in_filters, _features(block_expansion, i, max_features)))
        self.up_blocks = nn.ModuleList(up_blocks)
        self.out_filters = block_expansion + in_features

    def forward(self, skips: list[torch.Tensor]) -> torch.Tensor:
        skips = list(skips)
        out = skips.pop()
        for up_block in self.up_blocks:
            out = torch.cat([up_block(out), skips.pop()], dim=1)
        return out  # (B, block_expansion + in_features, H, W)


class Hourglass(nn.Module):
    """U-Net-like hourglass: ``(B, in_features, H, W) -> (B, out_filters, H, W)``.

    ``H`` and ``W`` must be divisible by ``2**num_blocks``.
    """

    def __init__(self, block_expansion: int, in_features: int, num_blocks: int = 3, max_features: int = 256):
        super().__init__()
        self.encoder = Encoder(block_expansion, in_features, num_blocks, max_features)
        self.decoder = Decoder(block_expansion, in_features, num_blocks, max_features)
        self.out_filters = self.decoder.out_filters

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


class AntiAliasInterpolation2d(nn.Module):
    """Gaussian blur, then nearest-neighbour down-sampling by ``scale`` (band-limited resizing).

    The blur's standard deviation is ``(1/scale - 1) / 2`` pixels, so aliasing does not turn fine
    texture into false motion cues. ``(B, C, H, W) -> (B, C, H*scale, W*scale)``; a scale of 1
    is the identity. The kernel is a buffer named ``weight``, as in the published checkpoints.
    """

    def __init__(self, channels: int, scale: float):
        super().__init__()
        sigma = (1 / scale - 1) / 2
        kernel_size = 2 * round(sigma * 4) + 1
        self.ka = kernel_size // 2
        self.kb = self.ka - 1 if kernel_size % 2 == 0 else self.ka
        coords = torch.arange(kernel_size, dtype=torch.float32) - (kernel_size - 1) / 2
        profile = torch.exp(-(coords**2) / (2 * sigma**2)) if sigma > 0 else torch.ones(1)
        kernel = profile.view(-1, 1) * profile.view(1, -1)
        kernel = kernel / kernel.sum()
        self.register_buffer("weight", kernel.view(1, 1, kernel_size, kernel_size).repeat(channels, 1, 1, 1))
        self.groups = channels
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.scale == 1.0:
            return x
        out = F.pad(x, (self.ka, self.kb, self.ka, self.kb))
        out = F.conv2d(out, weight=self.weight, groups=self.groups)
        return F.interpolate(out, scale_factor=(self.scale, self.scale))
