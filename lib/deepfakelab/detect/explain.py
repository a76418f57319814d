"""Explainability maps for the "fake" logit, and checks that the maps mean something.

Maps come from pytorch-grad-cam, always for ``ClassifierOutputTarget(1)`` (the fake logit):
"which pixels made the network say fake". Every method returns ``(N, S, S)`` float32 maps
min-max scaled to [0, 1] per image (pytorch-grad-cam's own scaling).

Because the kit's fakes know the region they changed, two faithfulness numbers are possible
that no public detector can report:

- **pointing game** (Zhang et al., 2016): a hit when the map's maximum falls inside the
  manipulation mask; the score is the share of hits.
- **energy in mask**: the share of the map's total value that lies inside the mask
  (1 = all attention on the changed pixels; the mask's area share is what chance gives).

And one sanity check (Adebayo et al., "Sanity checks for saliency maps", 2018): maps of the
same model with its weights randomly re-initialised must look clearly different; a method
whose maps survive randomisation is showing edges of the input, not the model's reasons.
"""

from __future__ import annotations

import copy
import warnings
from contextlib import contextmanager

import numpy as np
import pytorch_grad_cam as pgc
import torch
from pytorch_grad_cam.utils.image import show_cam_on_image
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
from scipy.stats import spearmanr
from torch import nn

from ..errors import ConfigError
from .model import cam_layer

#: Methods offered, by the name used in reports and on the command line.
CAM_METHODS = ("gradcam", "gradcam++", "layercam", "eigencam")
DEFAULT_METHOD = "gradcam"


def _cam_class(method: str):
    classes = {
        "gradcam": pgc.GradCAM,
        "gradcam++": pgc.GradCAMPlusPlus,
        "layercam": pgc.LayerCAM,
        "eigencam": pgc.EigenCAM,
    }
    if method not in classes:
        raise ConfigError(f"CAM method {method!r} is not one of {', '.join(CAM_METHODS)}")
    return classes[method]


@contextmanager
def gradients_from(model: nn.Module, layer: nn.Module):
    """Within the block, only ``layer``'s parameters require gradients.

    A CAM needs the gradient of the fake logit at ``layer``'s output, nothing before it; with
    every earlier parameter frozen, the backward pass stops at ``layer`` instead of running
    through the whole network (for MobileNetV2 at 128 px about a third of the cost of a map).
    The maps are the same. A layer without parameters leaves everything as it is.
    """
    keep = {id(p) for p in layer.parameters()}
    saved = [(p, p.requires_grad) for p in model.parameters()]
    if keep:
        for p, _ in saved:
            p.requires_grad_(id(p) in keep)
    try:
        yield
    finally:
        for p, flag in saved:
            p.requires_grad_(flag)


def fake_maps(
    model: nn.Module, inputs: torch.Tensor, method: str = DEFAULT_METHOD
) -> tuple[np.ndarray, np.ndarray]:
    """Maps for the fake logit and the fake probabilities, from one forward/backward pass.

    ``inputs``: ``(N, 3, S, S)`` normalised crops. Returns ``maps`` ``(N, S, S)`` in [0, 1] and
    ``p_fake`` ``(N,)`` in [0, 1].
    """
    model.eval()
    layer = cam_layer(model)
    with gradients_from(model, layer), _cam_class(method)(model=model, target_layers=[layer]) as cam:
        maps = cam(input_tensor=inputs, targets=[ClassifierOutputTarget(1)] * len(inputs))
        p_fake = torch.softmax(cam.outputs.detach(), dim=1)[:, 1].cpu().numpy()
    return maps.astype(np.float32), p_fake


def pointing_hits(maps: np.ndarray, masks: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """``(N,)`` bools: does each map's maximum fall inside its mask (``mask > threshold``)?

    ``maps`` and ``masks`` are ``(N, H, W)``. When a few pixels tie for the maximum, the hit
    counts if any of them is inside; a flat map (all values equal, e.g. all zero when no pixel
    pushes towards "fake") points nowhere and is a miss.
    """
    maps, masks = np.asarray(maps), np.asarray(masks) > threshold
    if maps.shape != masks.shape:
        raise ValueError(f"maps {maps.shape} and masks {masks.shape} differ in shape")
    flat = maps.reshape(len(maps), -1)
    top = flat.max(axis=1, keepdims=True)
    at_max = flat >= top
    return (at_max & masks.reshape(len(masks), -1)).any(axis=1) & (top[:, 0] > flat.min(axis=1))


def energy_in_mask(maps: np.ndarray, masks: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """``(N,)`` share of each map's total value inside its mask; NaN for an all-zero map."""
    maps = np.asarray(maps, dtype=np.float64)
    inside = (maps * (np.asarray(masks) > threshold)).reshape(len(maps), -1).sum(axis=1)
    total = maps.reshape(len(maps), -1).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, inside / total, np.nan)


def randomised_copy(model: nn.Module, seed: int = 0) -> nn.Module:
    """A copy of ``model`` with every layer's parameters re-initialised (Adebayo's cascading check, full depth)."""
    clone = copy.deepcopy(model)
    torch.manual_seed(seed)
    for module in clone.modules():
        if hasattr(module, "reset_parameters"):
            module.reset_parameters()
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.reset_running_stats()
    return clone


def rank_correlation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Spearman rank correlation between paired maps: ``(N,)`` in [-1, 1]."""
    out = []
    for x, y in zip(a, b):
        with warnings.catch_warnings():  # a flat map has no ranking: counted as 0 below
            warnings.simplefilter("ignore")
            rho = spearmanr(x.ravel(), y.ravel()).statistic
        out.append(0.0 if np.isnan(rho) else rho)
    return np.array(out)


def overlay(face: np.ndarray, cam: np.ndarray, weight: float = 0.5) -> np.ndarray:
    """Heat map over a face: ``face`` ``(H, W, 3)`` uint8, ``cam`` ``(H, W)`` in [0, 1] -> uint8 RGB."""
    return show_cam_on_image(
        face.astype(np.float32) / 255.0, np.clip(cam, 0, 1), use_rgb=True, image_weight=1.0 - weight
    )
