"""3x3 convolutions with 4x fewer multiplications: Winograd's minimal filtering F(4x4, 3x3).

Why this exists: torch's CPU convolutions (oneDNN) compute 3x3 convolutions directly, and torch
offers no way to ask for a cheaper algorithm. Animating with the vox-256 model spends most of its
time in the generator's bottleneck of 3x3 convolutions, the same work the published per-frame
loop does, so caching alone cannot make animation much faster (``bench/reenact.py --macs``).

Winograd's algorithm (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", CVPR
2016) computes each 4x4 block of outputs from a 6x6 block of inputs with 36 products per pair of
channels instead of 144. In matrix form, for input tile ``d`` and kernel ``g``::

    output tile = A^T [ (G g G^T) * (B^T d B) ] A        (* element-wise)

With ``B^T d B`` flattened to 36 values per tile and channel, the element-wise products summed
over input channels become 36 independent matrix products ``(tiles, C_in) @ (C_in, C_out)``: one
batched GEMM (MKL). The two tile transforms are small GEMMs with the Kronecker products
``B^T (x) B^T`` (36 x 36) and ``A^T (x) A^T`` (16 x 36). Tiles are processed a few rows at a time
so that the transformed tiles (2.25x the input's size) stay in cache.

The price is float32 rounding: a few 1e-6 of the output's scale per convolution (the transforms
mix values with weights up to 25) instead of about 1e-7. Animation accepts that (its outputs stay
within 1e-4 of the published loop's); training and the reference loop never use this path.
"""

from __future__ import annotations

import torch
from torch import nn

from .modules.blocks import UpBlock2d

# Lavin & Gray's F(4x4, 3x3) matrices, interpolation points 0, 1, -1, 2, -2 and infinity.
_BT = torch.tensor([
    [4, 0, -5, 0, 1, 0],
    [0, -4, -4, 1, 1, 0],
    [0, 4, -4, -1, 1, 0],
    [0, -2, -1, 2, 1, 0],
    [0, 2, -1, -2, 1, 0],
    [0, 4, 0, -5, 0, 1],
], dtype=torch.float64)
_G = torch.tensor([
    [1 / 4, 0, 0],
    [-1 / 6, -1 / 6, -1 / 6],
    [-1 / 6, 1 / 6, -1 / 6],
    [1 / 24, 1 / 12, 1 / 6],
    [1 / 24, -1 / 12, 1 / 6],
    [0, 0, 1],
], dtype=torch.float64)
_AT = torch.tensor([
    [1, 1, 1, 1, 1, 0],
    [0, 1, -1, 2, -2, 0],
    [0, 1, 1, 4, 4, 0],
    [0, 1, -1, 8, -8, 1],
], dtype=torch.float64)
_INPUT_TRANSFORM = torch.kron(_BT, _BT).float()  # (36, 36): 6x6 input tile -> 36 Winograd values
_OUTPUT_TRANSFORM = torch.kron(_AT, _AT).float()  # (16, 36): 36 products -> 4x4 output tile
_KERNEL_TRANSFORM = torch.kron(_G, _G)  # (36, 9), float64: kernels are transformed once, exactly

#: Tiles (4x4 outputs each) transformed and multiplied at a time: 256 tiles of 256 channels keep
#: the 36 transformed planes (9 MB) in cache. On one thread that was 1.3x faster than a batch of
#: four 64x64 maps at once; on two threads chunk sizes from 64 to 1024 tiles ran alike.
TILES_PER_CHUNK = 256
# Where it pays, measured per convolution on 2 CPU threads (batch 4, channels-last): 256 -> 256
# channels 1.28x faster at 64x64 and 1.11x at 32x32 but 0.95x at 16x16; 512 -> 512 1.23x at 16x16;
# 1024 -> 1024 0.95x at 8x8; 128 -> 256 slower at every size (the transforms cost what the
# products save).
#: Smallest ``C_in * C_out``.
MIN_CHANNEL_PRODUCT = 256 * 256
#: Smallest feature map side.
MIN_SIDE = 16
#: Smallest ``C_in * C_out * H * W`` (256 x 256 channels at 32 x 32).
MIN_WORK = 256 * 256 * 32 * 32


def winograd_kernel(weight: torch.Tensor) -> torch.Tensor:
    """``(C_out, C_in, 3, 3)`` kernel -> ``(36, C_in, C_out)`` Winograd-domain kernel ``G g G^T``."""
    c_out, c_in = weight.shape[:2]
    transformed = _KERNEL_TRANSFORM.to(weight.device) @ weight.detach().double().reshape(c_out * c_in, 9).T
    return transformed.reshape(36, c_out, c_in).transpose(1, 2).to(weight.dtype).contiguous()


def conv3x3_winograd(x: torch.Tensor, kernel: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    """``conv2d(x, weight, bias, padding=1)`` for ``x (N, C_in, H, W)``, given ``kernel = winograd_kernel(weight)``.

    Any ``H, W`` (the last tiles are padded); returns ``(N, C_out, H, W)`` in channels-last memory.
    """
    batch, c_in, height, width = x.shape
    c_out = kernel.shape[2]
    rows, cols = -(-height // 4), -(-width // 4)
    input_transform = _INPUT_TRANSFORM.to(x.device, x.dtype)
    output_transform = _OUTPUT_TRANSFORM.to(x.device, x.dtype)
    # Channels-last copy with zero padding: 1 pixel for the convolution, more at the bottom and
    # right to complete the last tiles.
    padded = x.new_zeros(batch, 4 * rows + 2, 4 * cols + 2, c_in)
    padded[:, 1:height + 1, 1:width + 1] = x.permute(0, 2, 3, 1)
    s_batch, s_row, s_col, s_channel = padded.stride()
    out = torch.empty(batch, rows, 4, cols, 4, c_out, dtype=x.dtype, device=x.device)
    rows_per_chunk = max(1, TILES_PER_CHUNK // cols)
    for image in range(batch):
        for top in range(0, rows, rows_per_chunk):
            n = min(rows_per_chunk, rows - top)
            # The overlapping 6x6 input tiles (stride 4) as a (6, 6, n, cols, C_in) view, gathered into (36, ...).
            tiles = padded.as_strided(
                (6, 6, n, cols, c_in), (s_row, s_col, 4 * s_row, 4 * s_col, s_channel), image * s_batch + 4 * top * s_row
            ).reshape(36, -1)
            products = torch.bmm((input_transform @ tiles).view(36, n * cols, c_in), kernel)  # (36, tiles, C_out)
            blocks = (output_transform @ products.view(36, -1)).view(4, 4, n, cols, c_out)
            out[image, top:top + n].copy_(blocks.permute(2, 0, 3, 1, 4))
    out = out.view(batch, 4 * rows, 4 * cols, c_out)[:, :height, :width]
    if bias is not None:
        out = out + bias
    return out.permute(0, 3, 1, 2)


class WinogradConv2d(nn.Module):
    """Inference-only stand-in for a 3x3, stride-1, padding-1 :class:`torch.nn.Conv2d`.

    Holds the convolution (``.conv``); its Winograd-domain kernel is computed on the first call
    that uses it (a 1024-channel kernel takes 0.3 s, wasted on feature maps too small to gain) and kept: the weights must not change while the wrapper is in use. Small feature maps,
    and anything that needs gradients, go to the convolution itself.
    """

    def __init__(self, conv: nn.Conv2d):
        super().__init__()
        if not eligible(conv):
            raise ValueError(f"not a dense 3x3 stride-1 padding-1 convolution: {conv}")
        self.conv = conv
        self.kernel: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        height, width = x.shape[-2:]
        work = self.conv.in_channels * self.conv.out_channels * height * width
        if min(height, width) < MIN_SIDE or work < MIN_WORK or torch.is_grad_enabled():
            return self.conv(x)
        if self.kernel is None:
            self.kernel = winograd_kernel(self.conv.weight)
        bias = None if self.conv.bias is None else self.conv.bias.detach()
        return conv3x3_winograd(x, self.kernel, bias)


def eligible(conv: nn.Module) -> bool:
    """A plain dense 3x3 convolution (stride 1, zero padding 1) with enough channels to gain."""
    return (
        type(conv) is nn.Conv2d
        and conv.kernel_size == (3, 3) and conv.stride == (1, 1) and conv.padding == (1, 1)
        and conv.dilation == (1, 1) and conv.groups == 1 and conv.padding_mode == "zeros"
        and conv.in_channels * conv.out_channels >= MIN_CHANNEL_PRODUCT
    )


class winograd_convolutions:  # noqa: N801 (used like a function: ``with winograd_convolutions(model):``)
    """Context manager: run the eligible 3x3 convolutions in ``module`` with :func:`conv3x3_winograd`.

    Swaps each eligible ``nn.Conv2d`` for a :class:`WinogradConv2d` wrapping it and puts the
    originals back on exit, so parameters, state dict and training are untouched. Only on the
    CPU (on CUDA, cuDNN already chooses Winograd or FFT where they pay); ``enabled=False`` keeps
    direct convolution. The convolutions of up-sampling blocks are left to
    :class:`~deepfakelab.reenact.modules.blocks.fast_upsampling`.
    """

    def __init__(self, module: nn.Module, enabled: bool = True):
        on_cpu = all(p.device.type == "cpu" for p in module.parameters())
        self.swaps: list[tuple[nn.Module, str, nn.Conv2d]] = []
        if enabled and on_cpu:
            for parent in module.modules():
                if isinstance(parent, (UpBlock2d, WinogradConv2d)):
                    continue
                for name, child in parent.named_children():
                    if eligible(child):
                        self.swaps.append((parent, name, child))

    def __enter__(self):
        for parent, name, conv in self.swaps:
            setattr(parent, name, WinogradConv2d(conv))
        return self

    def __exit__(self, *exc):
        for parent, name, conv in self.swaps:
            setattr(parent, name, conv)
