"""Winograd F(4x4, 3x3) convolution: the same function as direct convolution, used only where it pays."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from deepfakelab.reenact.animate import animate, animate_per_frame
from deepfakelab.reenact.modules.blocks import ResBlock2d, UpBlock2d
from deepfakelab.reenact.model import build_model, calibrate_batchnorm
from deepfakelab.reenact.winograd import (
    WinogradConv2d,
    conv3x3_winograd,
    eligible,
    winograd_convolutions,
    winograd_kernel,
)


@pytest.mark.parametrize(
    "batch, c_in, c_out, height, width, channels_last",
    [
        (2, 8, 5, 13, 10, False),  # sides not multiples of 4: padded last tiles
        (3, 16, 7, 9, 70, True),  # more tiles in a row than fit one chunk
        (1, 32, 32, 4, 4, False),  # a single tile
        (2, 128, 96, 16, 16, True),
    ],
)
def test_equals_direct_convolution(batch, c_in, c_out, height, width, channels_last):
    generator = torch.Generator().manual_seed(c_in + width)
    x = torch.randn(batch, c_in, height, width, generator=generator)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    weight = torch.randn(c_out, c_in, 3, 3, generator=generator) / (9 * c_in) ** 0.5
    bias = torch.randn(c_out, generator=generator)
    exact = F.conv2d(x.double(), weight.double(), bias.double(), padding=1)
    ours = conv3x3_winograd(x, winograd_kernel(weight), bias)
    assert ours.shape == exact.shape
    scale = exact.abs().max().item()
    assert (ours.double() - exact).abs().max().item() < 1e-5 * scale
    # The comparison can fail: a kernel rotated by 180 degrees (convolution, not correlation) is far off.
    flipped = conv3x3_winograd(x, winograd_kernel(weight.flip(-1, -2)), bias)
    assert (flipped.double() - exact).abs().max().item() > 1e-2 * scale


def test_only_dense_3x3_convolutions_with_enough_channels_are_eligible():
    assert eligible(nn.Conv2d(256, 256, 3, padding=1))
    assert not eligible(nn.Conv2d(128, 256, 3, padding=1))  # too few channels to gain
    assert not eligible(nn.Conv2d(256, 256, 7, padding=3))
    assert not eligible(nn.Conv2d(256, 256, 3, padding=1, stride=2))
    assert not eligible(nn.Conv2d(256, 256, 3, padding=1, groups=2))
    assert not eligible(nn.Conv2d(256, 256, 3, padding=1, dilation=2))
    with pytest.raises(ValueError, match="3x3"):
        WinogradConv2d(nn.Conv2d(256, 256, 5, padding=2))


def test_context_swaps_convolutions_and_puts_them_back():
    torch.manual_seed(0)
    model = nn.Sequential(ResBlock2d(256), UpBlock2d(256, 256)).eval()
    originals = [model[0].conv1, model[0].conv2, model[1].conv]
    state = {k: v.clone() for k, v in model.state_dict().items()}
    x = torch.randn(2, 256, 32, 32)
    with torch.inference_mode():
        direct = model(x)
        with winograd_convolutions(model) as swapped:
            assert isinstance(model[0].conv1, WinogradConv2d) and isinstance(model[0].conv2, WinogradConv2d)
            assert model[1].conv is originals[2]  # up-sampling blocks are fast_upsampling's business
            assert len(swapped.swaps) == 2
            small = model(torch.randn(1, 256, 8, 8))  # below MIN_SIDE: direct convolution inside
            assert model[0].conv1.kernel is None  # the Winograd kernel is made only when first needed
            fast = model(x)
            assert model[0].conv1.kernel is not None
    assert small.shape == (1, 256, 16, 16)
    assert [model[0].conv1, model[0].conv2, model[1].conv] == originals
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())
    assert 0 < (fast - direct).abs().max().item() < 1e-4  # a different computation, the same function
    with winograd_convolutions(model, enabled=False) as disabled:
        assert disabled.swaps == [] and model[0].conv1 is originals[0]


def test_gradients_bypass_winograd():
    conv = nn.Conv2d(256, 256, 3, padding=1)
    wrapped = WinogradConv2d(conv)
    x = torch.randn(1, 256, 32, 32, requires_grad=True)
    wrapped(x).sum().backward()  # training never sees the Winograd path
    assert wrapped.kernel is None
    assert conv.weight.grad is not None and x.grad is not None


def test_vox256_animation_with_winograd_agrees_with_the_published_loop():
    """The published vox-256 architecture at 128 px, random weights with BatchNorm statistics taken
    from the frames (so the output is a picture, not a flat grey): Winograd runs in the bottleneck."""
    torch.manual_seed(0)
    model = build_model("vox-256")
    generator = torch.Generator().manual_seed(1)
    source = F.avg_pool2d(torch.rand(1, 3, 128, 128, generator=generator), 9, stride=1, padding=4)
    driving = torch.stack([torch.roll(source[0], shifts=(3, -2), dims=(1, 2)), torch.roll(source[0], shifts=(-4, 5), dims=(1, 2))])
    calibrate_batchnorm(model, source, driving)
    assert len(winograd_convolutions(model.generator.bottleneck).swaps) == 12  # 6 residual blocks x 2
    reference = animate_per_frame(source, driving, model)
    fast = animate(source, driving, model, batch_size=2, progress=False)
    direct = animate(source, driving, model, batch_size=2, progress=False, winograd=False)
    assert reference.std().item() > 0.05  # a picture
    # Float32 rounding of any reordering (channels-last, batching) moves this random model's output by
    # up to ~2e-4; Winograd adds a few 1e-6 to that.
    assert (reference - fast).abs().max().item() < 5e-4
    assert 1e-7 < (fast - direct).abs().max().item() < 5e-5  # the Winograd path ran, and changed little
    assert not any(isinstance(m, WinogradConv2d) for m in model.modules())  # put back after animating
