"""Dense motion network (Sec. 3.2 of the paper): from K keypoint motions to one dense flow.

Around each keypoint the motion from driving frame D back to source S is approximated to first
order (Eq. 4): ``T_{S<-D}(z) ~ kp_source + J_k (z - kp_driving)`` with
``J_k = jacobian_source @ inverse(jacobian_driving)``. These K local motions plus the identity
(for the background) are the *sparse motions*. The network sees the source warped by each of
them and the keypoint heatmap differences, and predicts a soft mask that chooses, per pixel,
which local motion applies; the dense deformation is the mask-weighted sum. A second head
predicts the *occlusion map*: where the source has nothing to show (a mouth opening) it is near
0 and the generator must inpaint.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .blocks import AntiAliasInterpolation2d, Hourglass, kp2gaussian, make_coordinate_grid
from ..keypoints import Keypoints


@dataclass
class DenseMotion:
    """What the dense motion network predicts, at its working resolution ``h x w``.

    sparse_motion: ``(B, K+1, h, w, 2)`` the identity and the K local motions (source coordinates
    in [-1, 1] for each driving pixel). sparse_deformed: ``(B, K+1, C, h, w)`` the source warped by
    each. mask: ``(B, K+1, h, w)`` softmax weights over the motions. deformation: ``(B, h, w, 2)``
    the dense driving-to-source flow, a ``grid_sample`` grid. occlusion_map: ``(B, 1, h, w)`` in
    [0, 1] (1 = visible in the source), or None when the model does not estimate it.
    """

    sparse_motion: torch.Tensor
    sparse_deformed: torch.Tensor
    mask: torch.Tensor
    deformation: torch.Tensor
    occlusion_map: torch.Tensor | None


class DenseMotionNetwork(nn.Module):
    """``(source (B, C, H, W), kp_driving, kp_source) -> DenseMotion`` at ``H*scale_factor``."""

    def __init__(
        self,
        block_expansion: int,
        num_blocks: int,
        max_features: int,
        num_kp: int,
        num_channels: int,
        estimate_occlusion_map: bool = False,
        scale_factor: float = 1,
        kp_variance: float = 0.01,
    ):
        super().__init__()
        # Input per motion: the heatmap difference (1 channel) and the deformed source (C).
        self.hourglass = Hourglass(
            block_expansion=block_expansion,
            in_features=(num_kp + 1) * (num_channels + 1),
            max_features=max_features,
            num_blocks=num_blocks,
        )
        self.mask = nn.Conv2d(self.hourglass.out_filters, num_kp + 1, kernel_size=(7, 7), padding=(3, 3))
        self.occlusion = (
            nn.Conv2d(self.hourglass.out_filters, 1, kernel_size=(7, 7), padding=(3, 3))
            if estimate_occlusion_map
            else None
        )
        self.num_kp = num_kp
        self.scale_factor = scale_factor
        self.kp_variance = kp_variance
        if scale_factor != 1:
            self.down = AntiAliasInterpolation2d(num_channels, scale_factor)

    def downsample(self, source_image: torch.Tensor) -> torch.Tensor:
        """The source at the network's working resolution; animation computes it once per source."""
        return self.down(source_image) if self.scale_factor != 1 else source_image

    def create_heatmap_representations(
        self, spatial_size, kp_driving: Keypoints, kp_source: Keypoints
    ) -> torch.Tensor:
        """Eq. 6: ``H_k(z) = G(kp_driving_k) - G(kp_source_k)``, plus a zero map for the background.

        Returns ``(B, K+1, 1, h, w)``.
        """
        heatmap = kp2gaussian(kp_driving.value, spatial_size, self.kp_variance) - kp2gaussian(
            kp_source.value, spatial_size, self.kp_variance
        )
        zeros = heatmap.new_zeros(heatmap.shape[0], 1, *spatial_size)
        return torch.cat([zeros, heatmap], dim=1).unsqueeze(2)

    def create_sparse_motions(
        self, spatial_size, kp_driving: Keypoints, kp_source: Keypoints
    ) -> torch.Tensor:
        """Eq. 4: ``T_{S<-D}(z) = kp_source + J (z - kp_driving)`` for each keypoint, plus identity.

        Returns ``(B, K+1, h, w, 2)``.
        """
        # A single source (batch 1) broadcasts against a batch of driving frames.
        batch = max(kp_driving.value.shape[0], kp_source.value.shape[0])
        identity_grid = make_coordinate_grid(*spatial_size, like=kp_source.value)  # (h, w, 2)
        coordinate_grid = identity_grid - kp_driving.value[:, :, None, None, :]
        if kp_driving.jacobian is not None:
            jacobian = torch.matmul(kp_source.jacobian, torch.inverse(kp_driving.jacobian))  # (B, K, 2, 2)
            coordinate_grid = torch.einsum("bkij,bkhwj->bkhwi", jacobian, coordinate_grid)
        driving_to_source = coordinate_grid + kp_source.value[:, :, None, None, :]
        driving_to_source = driving_to_source.expand(batch, *driving_to_source.shape[1:])
        identity = identity_grid.expand(batch, 1, *identity_grid.shape)
        return torch.cat([identity, driving_to_source], dim=1)

    def create_deformed_source_image(
        self, source_image: torch.Tensor, sparse_motion: torch.Tensor
    ) -> torch.Tensor:
        """Eq. 7: the source warped by each sparse motion, ``(B, K+1, C, h, w)``."""
        _, channels, height, width = source_image.shape
        batch, motions = sparse_motion.shape[:2]
        source_repeat = source_image.unsqueeze(1).expand(batch, motions, channels, height, width)
        source_repeat = source_repeat.reshape(batch * motions, channels, height, width)
        grid = sparse_motion.reshape(batch * motions, height, width, 2)
        deformed = F.grid_sample(source_repeat, grid, align_corners=False)
        return deformed.view(batch, motions, channels, height, width)

    def motion(self, source_small: torch.Tensor, kp_driving: Keypoints, kp_source: Keypoints) -> DenseMotion:
        """Like :meth:`forward`, for a source already at the working resolution (see :meth:`downsample`)."""
        height, width = source_small.shape[2:]
        heatmap_representation = self.create_heatmap_representations((height, width), kp_driving, kp_source)
        sparse_motion = self.create_sparse_motions((height, width), kp_driving, kp_source)
        sparse_deformed = self.create_deformed_source_image(source_small, sparse_motion)

        batch = sparse_motion.shape[0]
        heatmap_representation = heatmap_representation.expand(batch, *heatmap_representation.shape[1:])
        hourglass_input = torch.cat([heatmap_representation, sparse_deformed], dim=2).view(
            batch, -1, height, width
        )
        prediction = self.hourglass(hourglass_input)  # (B, out_filters, h, w)

        mask = F.softmax(self.mask(prediction), dim=1)  # (B, K+1, h, w)
        deformation = torch.einsum("bkhwi,bkhw->bhwi", sparse_motion, mask)  # (B, h, w, 2)
        occlusion_map = torch.sigmoid(self.occlusion(prediction)) if self.occlusion is not None else None
        return DenseMotion(sparse_motion, sparse_deformed, mask, deformation, occlusion_map)

    def forward(self, source_image: torch.Tensor, kp_driving: Keypoints, kp_source: Keypoints) -> DenseMotion:
        return self.motion(self.downsample(source_image), kp_driving, kp_source)
