"""The deepfake detector: a CNN with two logits, ``(real, fake)``, trained from scratch.

No ImageNet weights can be downloaded, so the network must learn from the kit's own data in
minutes on a CPU. The default, :class:`FaceForensicNet`, is a small plain CNN (0.15 M
parameters at the default width 16). It keeps a 16 x 16 feature map at its last convolution, the layer Grad-CAM reads,
so maps are four times finer than a ResNet's 4 x 4 at the same 128-pixel input: blending
boundaries and warped mouths are a few pixels wide. Torchvision architectures (always with
``weights=None``) can be chosen for comparison; ``bench/detect.py`` measures them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn

from ..errors import ConfigError

ARCHITECTURES = ("kitnet", "resnet18", "mobilenet_v3_small", "efficientnet_b0")

#: Per-channel mean/std used to normalise crops; fixed (not ImageNet's) so that nothing
#: depends on a pretrained model's statistics.
MEAN = (0.5, 0.5, 0.5)
STD = (0.25, 0.25, 0.25)


@dataclass
class DetectorConfig:
    """Everything needed to rebuild the network from a checkpoint."""

    arch: str = "kitnet"
    size: int = 128  # input side in pixels (square face crops)
    width: int = 16  # channels of the first block (kitnet only); 16 learnt faster than 32 per CPU minute

    def as_dict(self) -> dict:
        return asdict(self)


def _block(c_in: int, c_out: int, stride: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True),
        nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True),
    )


class FaceForensicNet(nn.Module):
    """Four conv blocks and a two-logit head. Shapes for ``size=128``, width ``w`` (default 16):

    input ``(N, 3, 128, 128)`` normalised RGB, ->
    block0 ``(N, w, 64, 64)`` -> block1 ``(N, 2w, 32, 32)`` -> block2 ``(N, 4w, 16, 16)`` ->
    block3 ``(N, 4w, 16, 16)`` (Grad-CAM's layer) -> pooled ``(N, 4w)`` -> logits ``(N, 2)``;
    in training also -> change-mask logits ``(N, 1, 16, 16)``.
    """

    def __init__(self, width: int = 32):
        super().__init__()
        w = width
        self.features = nn.Sequential(
            _block(3, w, 2),          # (w) x 64 x 64
            _block(w, 2 * w, 2),      # (2w) x 32 x 32
            _block(2 * w, 4 * w, 2),  # (4w) x 16 x 16
            _block(4 * w, 4 * w, 1),  # (4w) x 16 x 16: kept fine for the maps
        )
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2),
                                  nn.Linear(4 * w, 2))
        # Auxiliary training-only output (Face X-ray, Li et al. 2020): where in the 16 x 16 grid
        # the face was changed. Dense supervision from the kit's change masks makes a net trained
        # from scratch learn in a few epochs what a single label per crop teaches slowly.
        self.mask_head = nn.Conv2d(4 * w, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))

    def forward_with_mask(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits ``(N, 2)`` and change-mask logits ``(N, 1, S/8, S/8)``."""
        features = self.features(x)
        return self.head(features), self.mask_head(features)

    @property
    def cam_layer(self) -> nn.Module:
        return self.features[-1]


def build_detector(config: DetectorConfig) -> nn.Module:
    """A freshly initialised detector for ``config`` (never downloads weights)."""
    import torchvision.models as tvm

    if config.arch == "kitnet":
        return FaceForensicNet(config.width)
    if config.arch == "resnet18":
        return tvm.resnet18(weights=None, num_classes=2)
    if config.arch == "mobilenet_v3_small":
        return tvm.mobilenet_v3_small(weights=None, num_classes=2)
    if config.arch == "efficientnet_b0":
        return tvm.efficientnet_b0(weights=None, num_classes=2)
    raise ConfigError(f"arch={config.arch!r} is not one of {', '.join(ARCHITECTURES)}")


def cam_layer(model: nn.Module) -> nn.Module:
    """The last convolutional stage, where Grad-CAM reads activations and gradients."""
    if isinstance(model, FaceForensicNet):
        return model.cam_layer
    for name in ("layer4", "features"):  # resnet / mobilenet and efficientnet
        if hasattr(model, name):
            layer = getattr(model, name)
            return layer[-1] if name == "features" else layer
    raise ConfigError(f"do not know the Grad-CAM layer of {type(model).__name__}")


def normalise(crops: torch.Tensor) -> torch.Tensor:
    """``(N, 3, S, S)`` floats in [0, 1] to the network's input scale."""
    mean = torch.tensor(MEAN, device=crops.device).view(1, 3, 1, 1)
    std = torch.tensor(STD, device=crops.device).view(1, 3, 1, 1)
    return (crops - mean) / std


def to_tensor(images) -> torch.Tensor:
    """``(N, S, S, 3)`` uint8 RGB (array or list) to a normalised ``(N, 3, S, S)`` float tensor."""
    batch = torch.from_numpy(np.ascontiguousarray(np.stack(list(images)))).permute(0, 3, 1, 2)
    return normalise(batch.float() / 255.0)
