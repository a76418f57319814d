"""Device choice and seeding, shared by every training and inference entry point."""

from __future__ import annotations

import os
import random

import numpy as np
import torch

from .errors import ConfigError


def resolve_device(requested: str | None = "auto") -> torch.device:
    """Return the torch device to use.

    ``"auto"`` (or ``None``) picks CUDA when a GPU is visible and the CPU otherwise, so the same
    notebook runs in a laptop class and on a GPU cluster. Asking for ``"cuda"`` on a machine
    without a GPU is an error that says so, rather than torch's deep traceback.
    """
    if requested in (None, "", "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(requested)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(
            f"device={requested!r} was asked for, but no CUDA GPU is visible to torch on this "
            "machine; use device='cpu' or 'auto'."
        )
    return device


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch; return a CPU generator seeded the same way.

    Passing the returned generator explicitly to samplers keeps data order reproducible even
    when other code draws random numbers in between.
    """
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)
    os.environ.setdefault("PYTHONHASHSEED", str(seed))
    generator = torch.Generator()
    generator.manual_seed(seed)
    return generator
