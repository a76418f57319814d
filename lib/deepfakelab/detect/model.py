"""The deepfake detectors: CNNs with two logits, ``(real, fake)``.

Two families. :class:`MobileNetDetector` (``arch="mobilenet_v2"``, the shipped default) is
torchvision's MobileNetV2 fine-tuned from ImageNet weights read offline
(:mod:`.backbone`): pretrained features are what lets a detector trained on a few hundred
real faces hold on real footage. :class:`FaceForensicNet` (``kitnet``), the network students
train, learns from scratch on the kit's own data in minutes on a CPU: a small plain CNN (0.15 M
parameters at the default width 16). It keeps a 16 x 16 feature map at its last convolution, the layer Grad-CAM reads,
so maps are four times finer than a ResNet's 4 x 4 at the same 128-pixel input: blending
boundaries and warped mouths are a few pixels wide. Torchvision architectures (always with
``weights=None``) can be chosen for comparison; ``bench/detect.py`` measures them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
import torchvision.models as tvm
from torch import nn

from ..errors import ConfigError

ARCHITECTURES = ("kitnet", "mobilenet_v2", "resnet18", "mobilenet_v3_small", "efficientnet_b0")

#: Per-channel mean/std used to normalise crops; fixed (not ImageNet's) so that every network
#: takes the same tensors; a pretrained one converts to its own statistics inside (see
#: :class:`MobileNetDetector`).
MEAN = (0.5, 0.5, 0.5)
STD = (0.25, 0.25, 0.25)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass
class DetectorConfig:
    """Everything needed to rebuild the network from a checkpoint."""

    arch: str = "kitnet"
    size: int = 128  # input side in pixels (square face crops)
    width: int = 16  # channels of the first block (kitnet only); 16 learnt faster than 32 per CPU minute
    #: logits are divided by this (temperature scaling, fitted on a validation split after training)
    temperature: float = 1.0

    def as_dict(self) -> dict:
        return asdict(self)


def _block(c_in: int, c_out: int, stride: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
        nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


class FaceForensicNet(nn.Module):
    """Four conv blocks and a two-logit head. Shapes for ``size=128``, width ``w`` (default 16):

    input ``(N, 3, 128, 128)`` normalised RGB, ->
    block0 ``(N, w, 64, 64)`` -> block1 ``(N, 2w, 32, 32)`` -> block2 ``(N, 4w, 16, 16)`` ->
    block3 ``(N, 4w, 16, 16)`` (Grad-CAM's layer) -> pooled ``(N, 4w)`` -> logits ``(N, 2)``;
    in training also -> change-mask logits ``(N, 1, 16, 16)``.
    """

    def __init__(self, width: int = 32, temperature: float = 1.0):
        super().__init__()
        self.temperature = temperature  # a plain attribute, so old checkpoints load unchanged
        w = width
        self.features = nn.Sequential(
            _block(3, w, 2),  # (w) x 64 x 64
            _block(w, 2 * w, 2),  # (2w) x 32 x 32
            _block(2 * w, 4 * w, 2),  # (4w) x 16 x 16
            _block(4 * w, 4 * w, 1),  # (4w) x 16 x 16: kept fine for the maps
        )
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2), nn.Linear(4 * w, 2))
        # Auxiliary training-only output (Face X-ray, Li et al. 2020): where in the 16 x 16 grid
        # the face was changed. Dense supervision from the kit's change masks makes a net trained
        # from scratch learn in a few epochs what a single label per crop teaches slowly.
        self.mask_head = nn.Conv2d(4 * w, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x)) / self.temperature

    def forward_with_mask(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits ``(N, 2)`` and change-mask logits ``(N, 1, S/8, S/8)``."""
        features = self.features(x)
        return self.head(features), self.mask_head(features)

    def depth_features(self, x: torch.Tensor) -> torch.Tensor:
        """Pooled outputs of the four blocks ``(N, w + 2w + 4w + 4w)`` (see :mod:`.domain`)."""
        out = []
        for block in self.features:
            x = block(x)
            out.append(x.mean(dim=(2, 3)))
        return torch.cat(out, dim=1)

    @property
    def cam_layer(self) -> nn.Module:
        return self.features[-1]


class MobileNetDetector(nn.Module):
    """torchvision's MobileNetV2 features, a two-logit head and a change-mask head.

    Shapes for ``size=128``: input ``(N, 3, 128, 128)`` in the kit's normalisation, converted to
    ImageNet's -> ``features[:14]`` ``(N, 96, 8, 8)`` (where the change-mask head reads) ->
    block 14's expansion (1x1 conv, ReLU6) ``(N, 576, 8, 8)`` (the CAM layer) -> the rest of the
    network ``(N, 1280, 4, 4)`` -> pooled ``(N, 1280)`` -> logits ``(N, 2)`` divided by
    ``temperature``; in training also change-mask logits ``(N, 1, 8, 8)``, the Face X-ray-style
    auxiliary loss kitnet has too.

    Why these layers: a 4 x 4 grid (the last stage) over a 128 px crop cannot point at a blending
    boundary, its cells being a quarter of the face wide; and the stride-16 blocks' own outputs
    are linear bottlenecks, signed, which CAMs (built for post-ReLU activations) misread. The
    expansion is the last stride-16, non-negative activation. In two-epoch trial runs, the mask
    head on the expansion itself made every CAM point outside the changed region; on the block
    before it, LayerCAM pointed inside for 0.76 of self-blends (Grad-CAM 0.17).
    """

    #: ``features[CAM_BLOCK]`` is the first stride-32 block; its expansion (the CAM layer) still
    #: runs at stride 16
    CAM_BLOCK = 14

    def __init__(self, temperature: float = 1.0):
        super().__init__()
        self.temperature = temperature
        self.features = tvm.mobilenet_v2(weights=None).features
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2), nn.Linear(1280, 2))
        self.mask_head = nn.Conv2d(96, 1, 1)
        # kit normalisation (x - m) / s  ->  ImageNet's (x - M) / S:  x' = x * s / S + (m - M) / S
        scale = torch.tensor(STD) / torch.tensor(IMAGENET_STD)
        shift = (torch.tensor(MEAN) - torch.tensor(IMAGENET_MEAN)) / torch.tensor(IMAGENET_STD)
        self.register_buffer("_scale", scale.view(1, 3, 1, 1), persistent=False)
        self.register_buffer("_shift", shift.view(1, 3, 1, 1), persistent=False)

    def load_imagenet(self, state: dict[str, torch.Tensor]) -> "MobileNetDetector":
        """Copy torchvision's ImageNet ``features.*`` weights in (the classifier is not used)."""
        features = {k[len("features.") :]: v for k, v in state.items() if k.startswith("features.")}
        self.features.load_state_dict(features)
        return self

    def _stages(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(stride-16 features (N, 96, S/16, S/16), last stage (N, 1280, S/32, S/32))``."""
        middle = self.features[: self.CAM_BLOCK](x * self._scale + self._shift)
        return middle, self.features[self.CAM_BLOCK :](middle)

    #: ``features[:n]`` for these ``n``: the depths whose pooled outputs :meth:`depth_features` joins
    DOMAIN_CUTS = (4, 7, 14)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Pooled features ``(N, 1280)``: what the head sees (the linear probe reads them)."""
        return self._pooled(self._stages(x)[1])

    @staticmethod
    def _pooled(last: torch.Tensor) -> torch.Tensor:
        return last.mean(dim=(2, 3))

    def depth_features(self, x: torch.Tensor) -> torch.Tensor:
        """Pooled outputs of blocks 4, 7 and 14 (strides 4, 8, 16), ``(N, 24 + 32 + 96)``: the
        texture and colour of a crop more than its verdict, which is what tells a painting from
        footage (see :mod:`.domain`: the last stage, trained to see blending traces, put the
        Mona Lisa nearer the training faces than real test videos)."""
        h, start, out = x * self._scale + self._shift, 0, []
        for cut in self.DOMAIN_CUTS:
            h = self.features[start:cut](h)
            out.append(h.mean(dim=(2, 3)))
            start = cut
        return torch.cat(out, dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self._stages(x)[1]) / self.temperature

    def forward_with_mask(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.forward_with_mask_and_embedding(x)[:2]

    #: width of :meth:`embed`'s pooled features
    EMBEDDING = 1280

    def forward_with_mask_and_embedding(
        self, x: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Training's view: logits, change-mask logits and the pooled features (what the identity
        adversary of :mod:`.train` reads), from one pass."""
        middle, last = self._stages(x)
        return self.head(last), self.mask_head(middle), self._pooled(last)

    @property
    def cam_layer(self) -> nn.Module:
        return self.features[self.CAM_BLOCK].conv[0]


def build_detector(config: DetectorConfig) -> nn.Module:
    """A freshly initialised detector for ``config`` (never downloads weights; MobileNetV2's
    ImageNet start is loaded by training, see :meth:`MobileNetDetector.load_imagenet`)."""
    if config.arch == "kitnet":
        return FaceForensicNet(config.width, config.temperature)
    if config.arch == "mobilenet_v2":
        return MobileNetDetector(config.temperature)
    if config.arch == "resnet18":
        return tvm.resnet18(weights=None, num_classes=2)
    if config.arch == "mobilenet_v3_small":
        return tvm.mobilenet_v3_small(weights=None, num_classes=2)
    if config.arch == "efficientnet_b0":
        return tvm.efficientnet_b0(weights=None, num_classes=2)
    raise ConfigError(f"arch={config.arch!r} is not one of {', '.join(ARCHITECTURES)}")


def cam_layer(model: nn.Module) -> nn.Module:
    """The last convolutional stage, where Grad-CAM reads activations and gradients."""
    if isinstance(model, (FaceForensicNet, MobileNetDetector)):
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
