"""Animation: the fast path equals the published per-frame loop; relative/absolute motion semantics."""

from __future__ import annotations

import pytest
import torch

from deepfakelab.reenact.fomm.animate import animate, animate_per_frame, animate_with_keypoints
from deepfakelab.reenact.fomm.keypoints import Keypoints
from deepfakelab.reenact.fomm.modules.blocks import UpBlock2d, fast_upsampling, upsample_nearest2x_conv3x3
from deepfakelab.reenact.fomm.motion_transfer import movement_scale, transfer_motion
from helpers import conformance_model


def perturb(model: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Random weights *and* BatchNorm statistics, so no layer is close to the identity by accident."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if tensor.dtype.is_floating_point:
                if name.endswith("running_var"):
                    tensor.copy_(0.5 + torch.rand(tensor.shape, generator=generator))
                else:
                    tensor.add_(0.05 * torch.randn(tensor.shape, generator=generator))
    return model


@pytest.fixture(scope="module")
def vectors(conformance_vectors):
    return conformance_vectors


@pytest.fixture(scope="module")
def model(vectors):
    """The conformance model: its weights make the output depend visibly on the motion."""
    return conformance_model(vectors)


@pytest.fixture(scope="module")
def frames(vectors):
    """A real photo as source; real driving frames plus shifted copies (5 frames)."""
    driving = vectors["driving"]
    shifted = torch.roll(driving[:2], shifts=(6, -4), dims=(2, 3))
    return vectors["source"], torch.cat([driving, shifted])


def test_fast_path_equals_published_per_frame_loop(model, frames):
    source, driving = frames
    reference = animate_per_frame(source, driving, model)
    ours = animate(source, driving, model, batch_size=2, progress=False)
    assert ours.shape == (5, 3, 128, 128)
    # The channels-last layout used while animating is undone afterwards.
    assert all(p.is_contiguous() for p in model.parameters())
    assert (reference - ours).abs().max().item() < 1e-4
    # The comparison can fail: different motion settings give visibly different frames.
    absolute = animate(source, driving, model, relative=False, progress=False)
    assert (reference - absolute).abs().max().item() > 1e-2


def test_transposed_convolution_upsampling_is_the_same_function():
    torch.manual_seed(0)
    block = perturb(UpBlock2d(6, 4)).eval()
    x = torch.randn(2, 6, 9, 11)  # 99 pixels: above FAST_UPSAMPLING_MIN_AREA, so the fast path runs
    with torch.no_grad():
        plain = block(x)
        with fast_upsampling(block):
            assert block.fast_upsampling and block._transposed_kernel is not None
            fast = block(x)
    assert not block.fast_upsampling and block._transposed_kernel is None  # restored on exit
    assert fast.shape == plain.shape == (2, 4, 18, 22)
    assert (fast - plain).abs().max().item() < 1e-5
    # The kernel identity itself, on a small odd-sized input.
    y = torch.randn(1, 6, 3, 5)
    direct = block.conv(torch.nn.functional.interpolate(y, scale_factor=2))
    transposed = upsample_nearest2x_conv3x3(y, block.conv.weight, block.conv.bias)
    assert (direct - transposed).abs().max().item() < 1e-5


def test_best_frame_is_the_initial_frame_of_relative_motion(model, frames):
    source, driving = frames
    animation = animate_with_keypoints(source, driving, model, best_frame=3, progress=False)
    assert animation.initial_frame == 3
    # At the initial frame the source keypoints do not move, so the source is redrawn as it is posed.
    assert torch.allclose(animation.kp_transferred[3], animation.kp_source, atol=1e-6)
    with torch.no_grad():
        kp_source = model.kp_detector(source)
        still = model.generator(source, kp_driving=kp_source, kp_source=kp_source).prediction
    assert (animation.frames[3] - still[0]).abs().max().item() < 1e-4
    from_zero = animate(source, driving, model, progress=False)
    assert (from_zero[3] - animation.frames[3]).abs().max().item() > 1e-3


def test_bad_arguments(model, frames):
    source, driving = frames
    with pytest.raises(ValueError, match="best_frame=9"):
        animate(source, driving, model, best_frame=9, progress=False)
    with pytest.raises(ValueError, match="empty"):
        animate(source, driving[:0], model, progress=False)
    with pytest.raises(ValueError, match=r"\(3, H, W\)"):
        animate(source[:, :2], driving, model, progress=False)


def _kp(value, jacobian=None):
    value = torch.tensor(value, dtype=torch.float32).unsqueeze(0)
    if jacobian is None:
        jacobian = torch.eye(2).expand(1, value.shape[1], 2, 2).clone()
    return Keypoints(value, jacobian)


SQUARE = [[-0.2, -0.2], [0.2, -0.2], [0.2, 0.2], [-0.2, 0.2]]


def test_relative_motion_moves_source_by_driving_displacement():
    source = _kp([[x + 0.1, y] for x, y in SQUARE])
    initial = _kp(SQUARE)
    moved = _kp([[x + 0.05, y - 0.03] for x, y in SQUARE])
    out = transfer_motion(source, moved, initial, relative=True, adapt_movement_scale=False)
    assert torch.allclose(out.value, source.value + torch.tensor([0.05, -0.03]), atol=1e-6)
    same = transfer_motion(source, initial, initial, relative=True, adapt_movement_scale=True)
    assert torch.allclose(same.value, source.value) and torch.allclose(same.jacobian, source.jacobian)


def test_adapt_movement_scale_uses_the_hull_area_ratio():
    source = _kp([[2 * x, 2 * y] for x, y in SQUARE])  # twice as large: 4x the area
    initial = _kp(SQUARE)
    assert movement_scale(source, initial) == pytest.approx(2.0)
    moved = _kp([[x + 0.1, y] for x, y in SQUARE])
    out = transfer_motion(source, moved, initial, relative=True, adapt_movement_scale=True)
    assert torch.allclose(out.value - source.value, torch.tensor([0.2, 0.0]).expand(1, 4, 2), atol=1e-6)


def test_relative_jacobian_composes_the_driving_change_with_the_source():
    rotation = torch.tensor([[0.0, -1.0], [1.0, 0.0]])
    source = _kp(SQUARE, torch.diag(torch.tensor([2.0, 1.0])).expand(1, 4, 2, 2).clone())
    initial = _kp(SQUARE)
    turned = _kp(SQUARE, rotation.expand(1, 4, 2, 2).clone())
    out = transfer_motion(source, turned, initial, relative=True)
    assert torch.allclose(out.jacobian[0, 0], rotation @ torch.diag(torch.tensor([2.0, 1.0])))


def test_absolute_motion_returns_driving_keypoints_unchanged():
    source, driving = _kp([[x * 2, y * 2] for x, y in SQUARE]), _kp([[x + 0.3, y] for x, y in SQUARE])
    assert transfer_motion(source, driving, None, relative=False, adapt_movement_scale=True) is driving
    with pytest.raises(ValueError, match="kp_driving_initial"):
        transfer_motion(source, driving, None, relative=True)


def test_collinear_keypoints_do_not_crash_scale_adaptation():
    line = _kp([[0.0, 0.0], [0.1, 0.1], [0.2, 0.2]])
    assert movement_scale(line, line) == 1.0
