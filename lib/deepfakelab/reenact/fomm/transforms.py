"""Random thin-plate-spline warps for the equivariance constraints (Sec. 3.3 of the paper).

Keypoints must move with the image: if a frame is warped by a known transformation T, the
keypoints detected in the warped frame, mapped back through T, must equal those detected in the
original, and the jacobians must compose the same way. T is a random affine map plus a
thin-plate-spline perturbation through a ``points_tps x points_tps`` grid of control points, with
the published parametrisation (one spline weight per control point, applied to x and y alike; the
radial basis ``r^2 log r`` of the L1 distance).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .modules.blocks import make_coordinate_grid


class RandomTPS:
    """One random warp per batch item; coordinates are ``(B, P, 2)`` in [-1, 1].

    ``sigma_affine``: std of the affine matrix's deviation from the identity; ``sigma_tps``:
    std of the spline weights; ``points_tps``: control points per side (0 disables the spline).
    """

    def __init__(
        self,
        batch_size: int,
        sigma_affine: float = 0.05,
        sigma_tps: float = 0.005,
        points_tps: int = 5,
        generator: torch.Generator | None = None,
    ):
        noise = torch.randn(batch_size, 2, 3, generator=generator) * sigma_affine
        self.theta = noise + torch.eye(2, 3).view(1, 2, 3)
        self.batch_size = batch_size
        self.tps = points_tps > 0 and sigma_tps > 0
        if self.tps:
            self.control_points = make_coordinate_grid(points_tps, points_tps).view(
                1, 1, -1, 2
            )  # (1, 1, N, 2)
            self.control_params = torch.randn(batch_size, 1, points_tps**2, generator=generator) * sigma_tps

    def to(self, device: torch.device) -> "RandomTPS":
        self.theta = self.theta.to(device)
        if self.tps:
            self.control_points = self.control_points.to(device)
            self.control_params = self.control_params.to(device)
        return self

    def warp_coordinates(self, coordinates: torch.Tensor) -> torch.Tensor:
        """``T(z)`` for ``(B, P, 2)`` coordinates: ``A z + b`` plus the spline term."""
        theta = self.theta.to(coordinates.dtype)
        transformed = torch.einsum("bij,bpj->bpi", theta[:, :, :2], coordinates) + theta[:, None, :, 2]
        if self.tps:
            distances = (
                (coordinates.unsqueeze(2) - self.control_points.to(coordinates.dtype)).abs().sum(-1)
            )  # (B, P, N)
            basis = distances**2 * torch.log(distances + 1e-6)
            transformed = transformed + (basis * self.control_params).sum(dim=2, keepdim=True)
        return transformed

    def transform_frame(self, frame: torch.Tensor) -> torch.Tensor:
        """The frame warped by T: output pixel z shows input position ``T(z)`` (reflection padding)."""
        batch, _, height, width = frame.shape
        grid = make_coordinate_grid(height, width, like=frame).view(1, -1, 2).expand(batch, -1, -1)
        grid = self.warp_coordinates(grid).view(batch, height, width, 2)
        return F.grid_sample(frame, grid, padding_mode="reflection", align_corners=False)

    def jacobian(self, coordinates: torch.Tensor) -> torch.Tensor:
        """``dT/dz`` at ``(B, P, 2)`` coordinates, ``(B, P, 2, 2)``; differentiable w.r.t. the coordinates."""
        with torch.enable_grad():
            if not coordinates.requires_grad:
                coordinates = coordinates.detach().requires_grad_(True)
            warped = self.warp_coordinates(coordinates)
            # Each output point depends only on its own input point, so gradients of the sums are per-point rows.
            grad_x = torch.autograd.grad(warped[..., 0].sum(), coordinates, create_graph=True)[0]
            grad_y = torch.autograd.grad(warped[..., 1].sum(), coordinates, create_graph=True)[0]
        return torch.stack([grad_x, grad_y], dim=-2)
