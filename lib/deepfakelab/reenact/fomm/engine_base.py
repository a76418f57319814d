"""What an animation engine does, and the shared mechanism of the engines that run exported graphs.

:class:`Engine` is the interface :func:`~deepfakelab.reenact.fomm.animate.animate` drives;
:class:`GraphEngine` feeds the fixed-batch graphs of :mod:`~deepfakelab.reenact.fomm.onnx_export`
and leaves to each engine's module (``onnxruntime_engine``, ``openvino_engine``) only how to
load and run a graph. Choosing an engine is :mod:`~deepfakelab.reenact.fomm.engines`' business.
"""

from __future__ import annotations

import numpy as np
import torch

from .modules.generator import SourceEncoding
from .keypoints import Keypoints
from .onnx_export import ExportedGraphs


class Engine:
    """Runs the keypoint detector and the generator's decoder for
    :func:`~deepfakelab.reenact.fomm.animate.animate`."""

    name: str

    def keypoints(self, frames: torch.Tensor) -> Keypoints:
        """Keypoints of ``(N, C, H, W)`` frames, any ``N``."""
        raise NotImplementedError

    def decode(self, encoding: SourceEncoding, kp_source: Keypoints, kp_driving: Keypoints) -> torch.Tensor:
        """``(B, C, H, W)`` predictions in [0, 1] for ``B <= batch_size`` driving keypoints."""
        raise NotImplementedError


class GraphEngine(Engine):
    """Base of the engines that run the exported graphs: feeding, padding of the last batch, outputs.

    The graphs have a fixed batch (see :mod:`~deepfakelab.reenact.fomm.onnx_export`); a shorter last
    batch is padded with copies of its last frame and the padding dropped from the outputs.
    A subclass says how to load a graph and run it on named float32 arrays, and which form of
    up-sampling its graphs should have.
    """

    #: Export up-sampling plus convolution as one transposed convolution (see ``export_graphs``).
    transposed_upsampling = False

    def __init__(self, graphs: ExportedGraphs, threads: int):
        self.batch_size = graphs.batch_size
        self.kp_detector = self.load(graphs.kp_detector, threads)
        self.generator = self.load(graphs.generator, threads)

    def load(self, path, threads: int):
        raise NotImplementedError

    def input_names(self, graph) -> set[str]:
        raise NotImplementedError

    def run(self, graph, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def keypoints(self, frames: torch.Tensor) -> Keypoints:
        parts = []
        for batch in frames.split(self.batch_size):
            out = self.run(self.kp_detector, {"image": _padded(batch, self.batch_size)})
            jacobian = out.get("jacobian")
            parts.append(
                Keypoints(
                    torch.from_numpy(out["value"][: len(batch)]),
                    None if jacobian is None else torch.from_numpy(jacobian[: len(batch)]),
                )
            )
        return Keypoints.cat(parts)

    def decode(self, encoding: SourceEncoding, kp_source: Keypoints, kp_driving: Keypoints) -> torch.Tensor:
        count = kp_driving.batch_size
        tensors = {
            "features": encoding.features,
            "source_small": encoding.small,
            "kp_source_value": kp_source.value,
            "kp_source_jacobian": kp_source.jacobian,
            "kp_driving_value": _padded(kp_driving.value, self.batch_size),
            "kp_driving_jacobian": None
            if kp_driving.jacobian is None
            else _padded(kp_driving.jacobian, self.batch_size),
        }
        feeds = {name: _array(tensors[name]) for name in self.input_names(self.generator)}
        return torch.from_numpy(self.run(self.generator, feeds)["prediction"][:count])


def _padded(batch: torch.Tensor, size: int) -> np.ndarray:
    """``batch`` as a float32 array of ``size`` items, its last item repeated."""
    if len(batch) > size:
        raise ValueError(f"a batch of {len(batch)} for graphs exported at batch {size}")
    if len(batch) < size:
        batch = torch.cat([batch, batch[-1:].expand(size - len(batch), *batch.shape[1:])])
    return _array(batch)


def _array(tensor: torch.Tensor | np.ndarray) -> np.ndarray:
    if isinstance(tensor, np.ndarray):
        return tensor
    return np.ascontiguousarray(tensor.detach().cpu().float().contiguous().numpy())
