"""Reading and writing FOMM checkpoints, safely.

A published checkpoint (``vox-cpk.pth.tar``) is a dict with the state dicts ``generator`` and
``kp_detector`` (and the discriminator's and optimisers'). It is read with
``torch.load(..., weights_only=True)``: tensors and plain containers only, so a tampered file
cannot run code on a student's machine. A wrong, truncated or incompatible file gets a message
saying what was expected. The kit's own checkpoints use the same layout and add ``config``
(the ``model_params`` block) and the training state, so they are self-describing.
"""

from __future__ import annotations

import os
import pickle
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any

import torch

from ...errors import DataError
from .config import ModelConfig, model_config_from_dict
from .model import FirstOrderModel, build_model

REQUIRED_KEYS = ("generator", "kp_detector")
#: Where the kit's trained small FOMM ships (made by ``deepfakelab reenact-train fomm-small-64``).
SHIPPED_WEIGHTS = "assets/fomm-small-64.pth.tar"


class CheckpointError(DataError):
    """A checkpoint file that cannot be used, with the file and the reason."""


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load a checkpoint dict with ``weights_only=True`` on the CPU; errors name the file."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} not found")
    if path.stat().st_size == 0:
        raise CheckpointError(f"checkpoint {path} is empty (0 bytes); was the download interrupted?")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise CheckpointError(
            f"checkpoint {path} holds objects other than tensors and plain containers, so it was not "
            f"loaded (loading it could run arbitrary code). Expected a FOMM checkpoint: a dict with "
            f"'generator' and 'kp_detector' state dicts. Detail: {str(exc).splitlines()[0]}"
        ) from None
    except (RuntimeError, EOFError, OSError, ValueError, KeyError) as exc:
        raise CheckpointError(
            f"checkpoint {path} could not be read ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else 'no detail'}); "
            "the file is truncated or not a PyTorch checkpoint. Expected a FOMM checkpoint such as "
            "vox-cpk.pth.tar (a dict with 'generator' and 'kp_detector')."
        ) from None
    if not isinstance(data, dict) or not all(key in data for key in REQUIRED_KEYS):
        found = sorted(map(str, data)) if isinstance(data, dict) else type(data).__name__
        raise CheckpointError(
            f"checkpoint {path} is not a FOMM checkpoint: expected a dict with keys {list(REQUIRED_KEYS)}, found {found}"
        )
    return data


def _strip_wrapper_prefix(state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Drop the ``module.`` prefix that (Distributed)DataParallel adds when a wrapped model is saved."""
    if state_dict and all(key.startswith("module.") for key in state_dict):
        return {key[len("module.") :]: value for key, value in state_dict.items()}
    return state_dict


def load_weights(
    model: FirstOrderModel, checkpoint: dict[str, Any], source: str = "checkpoint"
) -> FirstOrderModel:
    """Copy the checkpoint's ``generator`` and ``kp_detector`` weights into ``model`` (strict)."""
    for name in REQUIRED_KEYS:
        module = getattr(model, name)
        state_dict = _strip_wrapper_prefix(dict(checkpoint[name]))
        expected = module.state_dict()
        missing = sorted(set(expected) - set(state_dict))
        unexpected = sorted(set(state_dict) - set(expected))
        mismatched = [
            f"{key}: file {tuple(state_dict[key].shape)} vs model {tuple(expected[key].shape)}"
            for key in expected
            if key in state_dict and tuple(state_dict[key].shape) != tuple(expected[key].shape)
        ]
        if missing or unexpected or mismatched:
            details = []
            if missing:
                details.append(f"{len(missing)} missing (e.g. {missing[:3]})")
            if unexpected:
                details.append(f"{len(unexpected)} unexpected (e.g. {unexpected[:3]})")
            if mismatched:
                details.append(f"{len(mismatched)} with other shapes (e.g. {mismatched[:2]})")
            raise CheckpointError(
                f"{source}: the '{name}' weights do not fit the model built from the config: "
                + "; ".join(details)
                + ". Use the config the checkpoint was trained with (e.g. --config vox-256 for vox-cpk.pth.tar)."
            )
        module.load_state_dict(state_dict, strict=True)
    return model


def load_model(
    checkpoint_path: str | Path, config: ModelConfig | str | Path | None = None
) -> FirstOrderModel:
    """Build a model and load a checkpoint into it, in eval mode.

    ``config`` defaults to the one stored in a kit checkpoint, else the published vox-256 config.
    """
    checkpoint = read_checkpoint(checkpoint_path)
    if config is None:
        config = (
            model_config_from_dict(checkpoint["config"], f"{checkpoint_path}: config")
            if "config" in checkpoint
            else "vox-256"
        )
    model = build_model(config)
    model.checkpoint_path = Path(checkpoint_path)
    return load_weights(model, checkpoint, source=str(checkpoint_path)).eval()


def shipped_model() -> FirstOrderModel | None:
    """The kit's trained small FOMM (:data:`SHIPPED_WEIGHTS`), or None when none ships with this version."""
    path = resources.files("deepfakelab").joinpath(SHIPPED_WEIGHTS)
    if not path.is_file():
        return None
    return load_model(Path(str(path)))


def save_checkpoint(path: str | Path, model: FirstOrderModel, **extra: Any) -> Path:
    """Write ``{generator, kp_detector, config, **extra}`` atomically (a kill never leaves half a file).

    ``extra`` should hold only tensors, numbers, strings and containers of them (optimiser state
    dicts qualify), so the file loads with ``weights_only=True``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "generator": model.generator.state_dict(),
        "kp_detector": model.kp_detector.state_dict(),
        "config": model.config.to_dict(),
        **extra,
    }
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    os.close(handle)
    try:
        torch.save(payload, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def export_weights(checkpoint_path: str | Path, out: str | Path, half: bool = True) -> Path:
    """Write a training checkpoint's weights alone (no optimiser state) to ``out``, for shipping.

    ``half`` stores them as float16, half the size; :func:`load_model` copies them into a
    float32 model (outputs move by about 1e-3, far below what a viewer or the detector notices).
    The step the weights were trained to is kept.
    """
    checkpoint = read_checkpoint(checkpoint_path)
    model = load_model(checkpoint_path)
    if half:
        model = model.half()
    path = save_checkpoint(out, model, step=int(checkpoint.get("step", 0)))
    os.chmod(path, 0o644)
    return path
