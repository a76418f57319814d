"""Occlusion-aware generator (Sec. 3.2 of the paper).

The source image is encoded into a feature map; the dense motion network's deformation warps the
features to the driving pose, the occlusion map dims what the source cannot show, and a decoder
paints the result. Encoding depends only on the source, so :meth:`OcclusionAwareGenerator.encode`
is separate: animation encodes the source once and decodes every driving frame from the cache.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .blocks import DownBlock2d, ResBlock2d, SameBlock2d, UpBlock2d
from .dense_motion import DenseMotion, DenseMotionNetwork
from ..keypoints import Keypoints


@dataclass
class SourceEncoding:
    """Everything the generator needs from the source image, computed once per source.

    image: ``(1 or B, C, H, W)`` in [0, 1]; small: the same at the dense motion network's
    resolution; features: ``(1 or B, F, H/2**num_down_blocks, W/2**num_down_blocks)``.
    """

    image: torch.Tensor
    small: torch.Tensor | None
    features: torch.Tensor


@dataclass
class Generated:
    """The generator's outputs.

    prediction: ``(B, C, H, W)`` in [0, 1], the animated frame. occlusion_map: ``(B, 1, h, w)`` in
    [0, 1] or None. deformed: ``(B, C, H, W)`` the source warped by the dense motion (for
    visualisation; None unless asked for). motion: the dense motion network's full output.
    """

    prediction: torch.Tensor
    occlusion_map: torch.Tensor | None
    deformed: torch.Tensor | None
    motion: DenseMotion | None


def deform_input(inp: torch.Tensor, deformation: torch.Tensor) -> torch.Tensor:
    """Warp ``inp (B, C, H, W)`` by a ``grid_sample`` grid ``(B, h, w, 2)``, resized bilinearly to H x W."""
    _, h_old, w_old, _ = deformation.shape
    _, _, height, width = inp.shape
    if (h_old, w_old) != (height, width):
        deformation = deformation.permute(0, 3, 1, 2)
        deformation = F.interpolate(deformation, size=(height, width), mode="bilinear", align_corners=False)
        deformation = deformation.permute(0, 2, 3, 1)
    if inp.shape[0] != deformation.shape[0]:
        inp = inp.expand(deformation.shape[0], *inp.shape[1:])
    return F.grid_sample(inp, deformation, align_corners=False)


class OcclusionAwareGenerator(nn.Module):
    """``(source (B, C, H, W) in [0, 1], kp_driving, kp_source) -> Generated``.

    Johnson-style: a 7x7 conv, ``num_down_blocks`` down blocks, the warp, ``num_bottleneck_blocks``
    residual blocks, as many up blocks, a 7x7 conv and a sigmoid.
    """

    def __init__(
        self,
        num_channels: int,
        num_kp: int,
        block_expansion: int,
        max_features: int,
        num_down_blocks: int,
        num_bottleneck_blocks: int,
        estimate_occlusion_map: bool = False,
        dense_motion_params: dict | None = None,
        estimate_jacobian: bool = False,
    ):
        super().__init__()
        if dense_motion_params is not None:
            self.dense_motion_network = DenseMotionNetwork(
                num_kp=num_kp,
                num_channels=num_channels,
                estimate_occlusion_map=estimate_occlusion_map,
                **dense_motion_params,
            )
        else:
            self.dense_motion_network = None

        def features(level: int) -> int:
            return min(max_features, block_expansion * (2**level))

        self.first = SameBlock2d(num_channels, block_expansion, kernel_size=(7, 7), padding=(3, 3))
        self.down_blocks = nn.ModuleList(
            DownBlock2d(features(i), features(i + 1), kernel_size=(3, 3), padding=(1, 1))
            for i in range(num_down_blocks)
        )
        self.up_blocks = nn.ModuleList(
            UpBlock2d(
                features(num_down_blocks - i),
                features(num_down_blocks - i - 1),
                kernel_size=(3, 3),
                padding=(1, 1),
            )
            for i in range(num_down_blocks)
        )
        self.bottleneck = nn.Sequential()
        for i in range(num_bottleneck_blocks):
            self.bottleneck.add_module(
                f"r{i}", ResBlock2d(features(num_down_blocks), kernel_size=(3, 3), padding=(1, 1))
            )
        self.final = nn.Conv2d(block_expansion, num_channels, kernel_size=(7, 7), padding=(3, 3))
        self.estimate_occlusion_map = estimate_occlusion_map
        self.num_channels = num_channels

    def encode(self, source_image: torch.Tensor) -> SourceEncoding:
        """Encode the source: ``(B, C, H, W) -> features (B, F, H/4, W/4)`` for two down blocks."""
        out = self.first(source_image)  # (B, block_expansion, H, W)
        for down_block in self.down_blocks:
            out = down_block(out)  # channels double, side halves
        small = (
            self.dense_motion_network.downsample(source_image)
            if self.dense_motion_network is not None
            else None
        )
        return SourceEncoding(image=source_image, small=small, features=out)

    def decode(
        self, source: SourceEncoding, kp_driving: Keypoints, kp_source: Keypoints, with_deformed: bool = False
    ) -> Generated:
        """Warp the encoded source to the driving keypoints and decode ``B`` frames.

        ``source`` and ``kp_source`` may have batch 1 and broadcast against ``B`` driving frames.
        """
        out = source.features
        occlusion_map = deformed = motion = None
        if self.dense_motion_network is not None:
            motion = self.dense_motion_network.motion(
                source.small, kp_driving=kp_driving, kp_source=kp_source
            )
            out = deform_input(out, motion.deformation)
            occlusion_map = motion.occlusion_map
            if occlusion_map is not None:
                if out.shape[2:] != occlusion_map.shape[2:]:
                    occlusion_map_resized = F.interpolate(
                        occlusion_map, size=out.shape[2:], mode="bilinear", align_corners=False
                    )
                else:
                    occlusion_map_resized = occlusion_map
                out = out * occlusion_map_resized
            if with_deformed:
                deformed = deform_input(source.image, motion.deformation)

        out = self.bottleneck(out)
        for up_block in self.up_blocks:
            out = up_block(out)
        prediction = torch.sigmoid(self.final(out))  # (B, C, H, W) in [0, 1]
        return Generated(prediction=prediction, occlusion_map=occlusion_map, deformed=deformed, motion=motion)

    def forward(self, source_image: torch.Tensor, kp_driving: Keypoints, kp_source: Keypoints) -> Generated:
        return self.decode(self.encode(source_image), kp_driving, kp_source, with_deformed=True)
