"""MediaPipe's face landmark network (468 points) as a plain torch module.

The network is the 2019 "Face Mesh" model of Kartynnik et al. (*Real-time Facial Surface Geometry
from Monocular Video on Mobile GPUs*), as shipped in the PyPI wheel ``mediapipe==0.10.21``
(``mediapipe/modules/face_landmark/face_landmark.tflite``, Apache-2.0). It is a BlazeFace-style
residual network: every block is a 3x3 depthwise convolution and a 1x1 convolution added to a
shortcut, then a PReLU; the shortcut of a stride-2 block is a 2x2 max-pool with the new channels
zero-padded. A shared trunk takes the 192 px crop down to 6x6; two heads then give the 468
points and the face-presence score.

``scripts/convert_face_mesh.py`` reads the ``.tflite`` file and writes the weights this module
loads (``assets/face_mesh.pth``); nothing of mediapipe is needed at run time.

TensorFlow Lite pads "SAME" convolutions of stride 2 only after the data (one row and column at
the bottom and right), unlike torch's symmetric padding: :class:`SamePad` reproduces that, since
a one-pixel shift of every feature map moves the landmarks.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import torch
import torch.nn.functional as F
from torch import nn

#: Side of the square crop the network reads, pixels.
INPUT_SIZE = 192
#: Mesh points the network outputs.
NUM_POINTS = 468
#: Name of the shipped weights inside ``deepfakelab/assets``.
WEIGHTS_FILE = "face_mesh.pth"


class SamePad(nn.Module):
    """TensorFlow's "SAME" padding for a ``kernel`` x ``kernel`` window of ``stride``: the
    total padding ``max(kernel - stride, 0)`` (for even inputs) split with the extra pixel after."""

    def __init__(self, kernel: int, stride: int):
        super().__init__()
        total = max(kernel - stride, 0)
        self.pad = (total // 2, total - total // 2, total // 2, total - total // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pad(x, self.pad)


class ResidualBlock(nn.Module):
    """``PReLU(shortcut(x) + conv1x1(depthwise3x3(x)))``; stride 2 halves the size.

    The shortcut is ``x`` itself at stride 1; at stride 2 it is a 2x2 max-pool, and channels the
    block adds are zeros (the model's ``channel_padding`` layers).
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1):
        super().__init__()
        self.stride = stride
        self.extra_channels = out_channels - in_channels
        self.pad = SamePad(3, stride)
        self.depthwise = nn.Conv2d(in_channels, in_channels, 3, stride, groups=in_channels)
        self.pointwise = nn.Conv2d(in_channels, out_channels, 1)
        self.act = nn.PReLU(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = self.pointwise(self.depthwise(self.pad(x)))
        shortcut = F.max_pool2d(x, 2) if self.stride == 2 else x
        if self.extra_channels:
            shortcut = F.pad(shortcut, (0, 0, 0, 0, 0, self.extra_channels))
        return self.act(shortcut + residual)


def _blocks(*spec: tuple[int, int, int]) -> nn.Sequential:
    return nn.Sequential(*(ResidualBlock(i, o, s) for i, o, s in spec))


class FaceMeshNet(nn.Module):
    """``(B, 3, 192, 192)`` RGB in [0, 1] -> points ``(B, 468, 3)`` and presence logits ``(B,)``.

    Points are ``(x, y, z)`` in pixels of the 192 px input; ``z`` is depth relative to the face's
    centre, in the same pixel units (smaller is nearer the camera). ``sigmoid(logit)`` is the
    probability that the crop holds a face: below 0.5 MediaPipe counts the face as lost.
    """

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(SamePad(3, 2), nn.Conv2d(3, 16, 3, 2), nn.PReLU(16))  # 16 x 96 x 96
        self.trunk = _blocks(
            (16, 16, 1),
            (16, 16, 1),
            (16, 32, 2),
            (32, 32, 1),
            (32, 32, 1),  # 32 x 48 x 48
            (32, 64, 2),
            (64, 64, 1),
            (64, 64, 1),  # 64 x 24 x 24
            (64, 128, 2),
            (128, 128, 1),
            (128, 128, 1),  # 128 x 12 x 12
            (128, 128, 2),
            (128, 128, 1),
            (128, 128, 1),  # 128 x 6 x 6
        )
        self.landmark_head = nn.Sequential(
            _blocks((128, 128, 2), (128, 128, 1), (128, 128, 1)),  # 128 x 3 x 3
            nn.Conv2d(128, 32, 1),
            nn.PReLU(32),  # 32 x 3 x 3
            _blocks((32, 32, 1)),
            nn.Conv2d(32, NUM_POINTS * 3, 3),  # 1404 x 1 x 1
        )
        self.presence_head = nn.Sequential(
            _blocks((128, 128, 2)),  # 128 x 3 x 3
            nn.Conv2d(128, 32, 1),
            nn.PReLU(32),
            _blocks((32, 32, 1)),
            nn.Conv2d(32, 1, 3),  # 1 x 1 x 1
        )

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.trunk(self.stem(image))
        points = self.landmark_head(features).reshape(-1, NUM_POINTS, 3)
        logits = self.presence_head(features).reshape(-1)
        return points, logits


@dataclass(frozen=True)
class MeshOutput:
    """What the network says about a batch of crops: ``points (B, 468, 3)`` in crop pixels and
    ``presence (B,)`` in [0, 1]."""

    points: torch.Tensor
    presence: torch.Tensor


@lru_cache(maxsize=1)
def load_face_mesh_net() -> FaceMeshNet:
    """The network with the shipped weights (float16 on disk, float32 here), in eval mode."""
    with (resources.files("deepfakelab") / "assets" / WEIGHTS_FILE).open("rb") as handle:
        state = torch.load(handle, map_location="cpu", weights_only=True)
    net = FaceMeshNet()
    net.load_state_dict({name: tensor.float() for name, tensor in state.items()})
    return net.eval()


@torch.inference_mode()
def run_face_mesh(crops: torch.Tensor, net: FaceMeshNet | None = None) -> MeshOutput:
    """Run the network on ``crops (B, 192, 192, 3)`` uint8 RGB (or float in [0, 1], channels first)."""
    net = net or load_face_mesh_net()
    if crops.dtype == torch.uint8:
        crops = crops.permute(0, 3, 1, 2).float() / 255
    points, logits = net(crops)
    return MeshOutput(points, torch.sigmoid(logits))
