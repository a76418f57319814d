"""Unsupervised keypoint detector (Sec. 3.1 of the paper).

An hourglass predicts one heatmap per keypoint; a softmax with a low temperature turns each into
a probability map, and its mean position (soft-argmax) is the keypoint, so the detector is
differentiable and needs no landmark labels. A second head predicts four maps per keypoint; their
heatmap-weighted averages are the entries of the keypoint's local affine map, the *jacobian*.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .blocks import AntiAliasInterpolation2d, Hourglass, make_coordinate_grid
from ..keypoints import Keypoints


class KPDetector(nn.Module):
    """``image (B, C, H, W) in [0, 1] -> Keypoints(value (B, K, 2), jacobian (B, K, 2, 2))``.

    The image is first blurred and down-sampled by ``scale_factor`` (0.25: 256 px -> 64 px);
    H*scale_factor must be divisible by ``2**num_blocks``.
    """

    def __init__(
        self,
        block_expansion: int,
        num_kp: int,
        num_channels: int,
        max_features: int,
        num_blocks: int,
        temperature: float,
        estimate_jacobian: bool = False,
        scale_factor: float = 1,
        single_jacobian_map: bool = False,
        pad: int = 0,
    ):
        super().__init__()
        self.predictor = Hourglass(
            block_expansion, in_features=num_channels, max_features=max_features, num_blocks=num_blocks
        )
        self.kp = nn.Conv2d(self.predictor.out_filters, num_kp, kernel_size=(7, 7), padding=pad)
        if estimate_jacobian:
            self.num_jacobian_maps = 1 if single_jacobian_map else num_kp
            self.jacobian = nn.Conv2d(
                self.predictor.out_filters, 4 * self.num_jacobian_maps, kernel_size=(7, 7), padding=pad
            )
            # Start from identity jacobians, so early training sees plain translations.
            self.jacobian.weight.data.zero_()
            self.jacobian.bias.data.copy_(torch.tensor([1.0, 0.0, 0.0, 1.0] * self.num_jacobian_maps))
        else:
            self.jacobian = None
        self.num_kp = num_kp
        self.temperature = temperature
        self.scale_factor = scale_factor
        if scale_factor != 1:
            self.down = AntiAliasInterpolation2d(num_channels, scale_factor)

    def forward(self, image: torch.Tensor) -> Keypoints:
        x = self.down(image) if self.scale_factor != 1 else image
        feature_map = self.predictor(x)  # (B, out_filters, h, w)
        prediction = self.kp(feature_map)  # (B, K, h', w'); h' = h - 6 with the default pad=0
        batch, num_kp, height, width = prediction.shape

        # Soft-argmax: the softmax temperature (0.1) sharpens each heatmap towards one peak.
        heatmap = F.softmax(prediction.view(batch, num_kp, -1) / self.temperature, dim=2)
        heatmap = heatmap.view(batch, num_kp, height, width)
        grid = make_coordinate_grid(height, width, like=heatmap)  # (h', w', 2)
        value = (heatmap.unsqueeze(-1) * grid).sum(dim=(2, 3))  # (B, K, 2)

        if self.jacobian is None:
            return Keypoints(value, None)
        jacobian_map = self.jacobian(feature_map).reshape(batch, self.num_jacobian_maps, 4, height, width)
        jacobian = (heatmap.unsqueeze(2) * jacobian_map).view(batch, num_kp, 4, -1).sum(dim=-1)
        return Keypoints(value, jacobian.view(batch, num_kp, 2, 2))
