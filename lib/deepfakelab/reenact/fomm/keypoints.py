"""The keypoints that carry motion from the driving video to the source image."""

from __future__ import annotations

from typing import NamedTuple

import torch


class Keypoints(NamedTuple):
    """Keypoints and their local affine transformations, as the keypoint detector predicts them.

    value: ``(B, K, 2)`` positions, ``(x, y)`` normalised to ``[-1, 1]`` (-1 = left/top pixel
    centre, 1 = right/bottom pixel centre).
    jacobian: ``(B, K, 2, 2)`` the local affine map (first-order Taylor term) around each
    keypoint, or ``None`` for a model configured with ``estimate_jacobian: false``.
    """

    value: torch.Tensor
    jacobian: torch.Tensor | None = None

    def detach(self) -> "Keypoints":
        return Keypoints(self.value.detach(), None if self.jacobian is None else self.jacobian.detach())

    def take(self, index) -> "Keypoints":
        """Select along the batch dimension (an int keeps the dimension: ``take(0)`` is ``(1, K, 2)``)."""
        if isinstance(index, int):
            index = slice(index, index + 1 if index != -1 else None)
        return Keypoints(self.value[index], None if self.jacobian is None else self.jacobian[index])

    @property
    def batch_size(self) -> int:
        return self.value.shape[0]

    @staticmethod
    def cat(parts: list["Keypoints"]) -> "Keypoints":
        """Concatenate along the batch dimension."""
        jacobian = None if parts[0].jacobian is None else torch.cat([p.jacobian for p in parts])
        return Keypoints(torch.cat([p.value for p in parts]), jacobian)

    def expand(self, batch_size: int) -> "Keypoints":
        """Repeat a single-image set of keypoints ``batch_size`` times (no copy)."""
        value = self.value.expand(batch_size, *self.value.shape[1:])
        jacobian = (
            None if self.jacobian is None else self.jacobian.expand(batch_size, *self.jacobian.shape[1:])
        )
        return Keypoints(value, jacobian)
