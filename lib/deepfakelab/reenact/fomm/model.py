"""The First Order Motion Model: a keypoint detector and a generator, built from a config."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from .config import ModelConfig, load_model_config
from .modules.generator import Generated, OcclusionAwareGenerator
from .modules.keypoint_detector import KPDetector


class FirstOrderModel(nn.Module):
    """Holds ``kp_detector`` and ``generator`` (plain modules, published state-dict names).

    ``model(source, driving)`` reconstructs ``driving`` from ``source`` with the driving frame's
    own keypoints (absolute motion), as in training. Both images are ``(B, C, H, W)`` in [0, 1].
    """

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.kp_detector = KPDetector(**config.kp_detector_kwargs())
        self.generator = OcclusionAwareGenerator(**config.generator_kwargs())
        #: The file the weights were loaded from (set by ``load_model``): engine exports are cached beside it.
        self.checkpoint_path: Path | None = None

    def forward(self, source: torch.Tensor, driving: torch.Tensor) -> Generated:
        kp_source = self.kp_detector(source)
        kp_driving = self.kp_detector(driving)
        return self.generator(source, kp_driving=kp_driving, kp_source=kp_source)


def build_model(config: ModelConfig | str | Path = "vox-256") -> FirstOrderModel:
    """A randomly initialised model in eval mode, from a :class:`ModelConfig`, a YAML path or a built-in name."""
    if not isinstance(config, ModelConfig):
        config = load_model_config(config)
    return FirstOrderModel(config).eval()


def calibrate_batchnorm(
    model: FirstOrderModel, source: torch.Tensor, driving: torch.Tensor
) -> FirstOrderModel:
    """Set every BatchNorm's running mean and variance to those of one pass over these frames; eval mode.

    For benchmarks and tests of untrained models: a freshly initialised model paints a flat grey
    (its BatchNorm statistics are 0 and 1 whatever the input), so two ways of computing it agree
    trivially. Calibrated, every layer sees normalised inputs and the output is a picture.
    ``source (1, C, H, W)``, ``driving (N, C, H, W)``.
    """
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.reset_running_stats()
            module.momentum = None  # a plain average over the passes, here one
    model.train()
    with torch.no_grad():
        model(source.expand(len(driving), -1, -1, -1), driving)
    return model.eval()
