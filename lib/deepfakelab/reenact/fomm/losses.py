"""Training losses of the First Order Motion Model (Sec. 3.3 of the paper), without the GAN.

- Reconstruction over an image pyramid: the prediction and the driving frame are compared at
  several scales (1, 1/2, 1/4, 1/8 with anti-aliased down-sampling). The paper compares VGG-19
  features (perceptual loss); VGG-19's ImageNet weights cannot be downloaded here, so when the
  user supplies them (``vgg_weights``) the perceptual loss is used, and otherwise the mean
  absolute error of the pixels at each scale: it needs no pretrained network and still weighs
  coarse structure (low scales) and detail (full scale), at the price of blurrier textures.
- Equivariance of keypoint values and jacobians under a random thin-plate-spline warp
  (:mod:`deepfakelab.reenact.fomm.transforms`).

The published default gives the adversarial loss weight 0 for vox; it is left out.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn
from torchvision.models import vgg19

from ...errors import DataError
from .modules.blocks import AntiAliasInterpolation2d
from .keypoints import Keypoints
from .transforms import RandomTPS


class ImagePyramid(nn.Module):
    """``image (B, C, H, W) -> {scale: image at H*scale}`` with anti-aliased down-sampling."""

    def __init__(self, scales, num_channels: int):
        super().__init__()
        self.scales = list(scales)
        self.downs = nn.ModuleList(AntiAliasInterpolation2d(num_channels, scale) for scale in self.scales)

    def forward(self, image: torch.Tensor) -> dict[float, torch.Tensor]:
        return {scale: down(image) for scale, down in zip(self.scales, self.downs)}


class Vgg19Features(nn.Module):
    """The five ReLU outputs of VGG-19 used by the paper's perceptual loss (weights supplied by the user)."""

    SLICES = ((0, 2), (2, 7), (7, 12), (12, 21), (21, 30))

    def __init__(self, weights_path: str | Path):
        super().__init__()
        features = vgg19(weights=None).features
        path = Path(weights_path)
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # noqa: BLE001 - any failure is the same message to the user
            raise DataError(
                f"{path}: could not read VGG-19 weights ({type(exc).__name__}); expected torchvision's "
                "vgg19 state dict (vgg19-dcbb9e9d.pth)"
            ) from None
        state = {k[len("features.") :]: v for k, v in state.items() if k.startswith("features.")} or state
        try:
            features.load_state_dict(state)
        except RuntimeError:
            raise DataError(
                f"{path}: not a torchvision VGG-19 state dict (feature layers do not match)"
            ) from None
        self.slices = nn.ModuleList(nn.Sequential(*features[a:b]) for a, b in self.SLICES)
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))
        self.requires_grad_(False)

    def forward(self, image: torch.Tensor) -> list[torch.Tensor]:
        out, features = (image - self.mean) / self.std, []
        for block in self.slices:
            out = block(out)
            features.append(out)
        return features


def reconstruction_loss(
    pyramid: ImagePyramid,
    prediction: torch.Tensor,
    driving: torch.Tensor,
    weights,
    vgg: Vgg19Features | None = None,
) -> torch.Tensor:
    """Sum over scales of ``weight * mean |features(prediction) - features(driving)|``.

    Features are VGG-19 activations (``weights`` per layer) when ``vgg`` is given, else the
    pixels (``weights[0]`` per scale).
    """
    generated, real = pyramid(prediction), pyramid(driving)
    total = prediction.new_zeros(())
    for scale in pyramid.scales:
        if vgg is None:
            total = total + weights[0] * (generated[scale] - real[scale]).abs().mean()
        else:
            for weight, a, b in zip(weights, vgg(generated[scale]), vgg(real[scale])):
                total = total + weight * (a - b.detach()).abs().mean()
    return total


def equivariance_losses(
    kp_detector: nn.Module, driving: torch.Tensor, kp_driving: Keypoints, transform: RandomTPS
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Equivariance of keypoint values and jacobians under ``transform``.

    value:    ``mean |kp(D) - T(kp(T(D)))|``
    jacobian: ``mean |I - inverse(J(D)) @ (dT(kp(T(D))) @ J(T(D)))|``
    """
    transformed = kp_detector(transform.transform_frame(driving))
    value = (kp_driving.value - transform.warp_coordinates(transformed.value)).abs().mean()
    if kp_driving.jacobian is None:
        return value, None
    jacobian_transformed = torch.matmul(transform.jacobian(transformed.value), transformed.jacobian)
    product = torch.matmul(torch.inverse(kp_driving.jacobian), jacobian_transformed)
    eye = torch.eye(2, dtype=product.dtype, device=product.device)
    return value, (eye - product).abs().mean()
