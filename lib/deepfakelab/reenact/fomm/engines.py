"""Where animation's two networks run: torch, or an inference engine on their exported graphs.

An :class:`Engine` does the per-frame work of :func:`~deepfakelab.reenact.fomm.animate.animate`:
the keypoints of driving frames and the generator's decoding of a batch of them. ``torch`` runs
the kit's modules; ``onnxruntime`` (PyPI ``onnxruntime``, its MLAS kernels) and ``openvino``
(PyPI ``openvino``, its CPU plugin) run the graphs of :mod:`~deepfakelab.reenact.fomm.onnx_export`.
The engines are optional extras (``pip install 'deepfakelab[onnxruntime]'``); ``auto`` times
every installed one on the first batch and keeps the fastest of those that agree with torch
there, so no CPU-specific tuning lives in the kit and no CPU's lower-precision kernels slip in.
Engines compute in float32 on the CPU; a model on CUDA stays on torch.
"""

from __future__ import annotations

import importlib
import importlib.util
import time
import warnings
import weakref
from typing import Callable

import torch

from ...errors import DeepfakeLabError
from .engine_base import Engine
from .modules.generator import SourceEncoding
from .keypoints import Keypoints
from .model import FirstOrderModel
from .onnx_export import export_graphs, weights_digest

#: Every engine name ``animate(engine=...)`` accepts besides ``"auto"``.
ENGINES = ("torch", "onnxruntime", "openvino")
#: The module that implements each graph engine, and the PyPI package (= extra) it needs.
_GRAPH_ENGINES = {"onnxruntime": ".onnxruntime_engine", "openvino": ".openvino_engine"}


class EngineError(DeepfakeLabError, ValueError):
    """An engine that cannot run this model here: not installed, or not for this device or dtype."""


class TorchEngine(Engine):
    """The kit's modules in torch, on the model's device."""

    name = "torch"

    def __init__(self, model: FirstOrderModel, batch_size: int):
        self.model = model
        self.batch_size = batch_size

    def keypoints(self, frames: torch.Tensor) -> Keypoints:
        device = next(self.model.parameters()).device
        # The detector is cheap per frame, so larger batches than the generator's pay.
        batches = frames.split(max(self.batch_size, 8))
        return Keypoints.cat([self.model.kp_detector(batch.to(device)) for batch in batches])

    def decode(self, encoding: SourceEncoding, kp_source: Keypoints, kp_driving: Keypoints) -> torch.Tensor:
        return self.model.generator.decode(encoding, kp_driving=kp_driving, kp_source=kp_source).prediction


def installed_engines() -> list[str]:
    """The engines that can run here: torch, and every graph engine whose package is installed with ``onnx``
    (which torch's exporter needs to write the graphs)."""
    if importlib.util.find_spec("onnx") is None:
        return ["torch"]
    return ["torch"] + [name for name in _GRAPH_ENGINES if importlib.util.find_spec(name) is not None]


# Loaded engines per model (a session holds a copy of the weights: vox-256's is 240 MB) and the
# choices ``auto`` made, so a second animation with the same weights and shapes starts at once.
_LOADED: "weakref.WeakKeyDictionary[FirstOrderModel, dict]" = weakref.WeakKeyDictionary()
_CHOSEN: "weakref.WeakKeyDictionary[FirstOrderModel, dict]" = weakref.WeakKeyDictionary()


def get_engine(name: str, model: FirstOrderModel, size: int, batch_size: int) -> Engine:
    """The engine ``name`` for this model, frame size and batch; graphs exported or loaded as needed.

    Raises :class:`EngineError` (one line saying what to do) for an unknown or missing engine, a
    model on CUDA or one that is not float32.
    """
    if name not in ENGINES:
        raise EngineError(f"engine={name!r}: choose one of {', '.join(map(repr, ENGINES))} or 'auto'")
    if name == "torch":
        return TorchEngine(model, batch_size)
    parameter = next(model.parameters())
    if parameter.device.type != "cpu":
        raise EngineError(
            f"engine={name!r} runs on the CPU, and the model is on {parameter.device}: "
            "use engine='torch' (or 'auto', which keeps CUDA on torch)"
        )
    if parameter.dtype != torch.float32:
        raise EngineError(
            f"engine={name!r} runs float32 models, and this one is {parameter.dtype}: use engine='torch'"
        )
    if name not in installed_engines():
        raise EngineError(
            f"engine={name!r} is not installed: pip install 'deepfakelab[{name}]' "
            f"(installed: {', '.join(installed_engines())})"
        )
    digest = weights_digest(model)
    threads = torch.get_num_threads()
    loaded = _LOADED.setdefault(model, {})
    key = (name, digest, size, batch_size, threads)
    if key not in loaded:
        for stale in [k for k in loaded if k[0] == name and k[1] != digest]:
            del loaded[stale]  # the weights changed: free the old session
        module = importlib.import_module(_GRAPH_ENGINES[name], __package__)
        graphs = export_graphs(model, size, batch_size, digest, module.ENGINE.transposed_upsampling)
        loaded[key] = module.ENGINE(graphs, threads)
    return loaded[key]


#: ``auto`` passes over a graph engine whose first batch differs from torch's by more than this
#: (max abs, frames in [0, 1]): float32 rounding stays far below it (6.4e-4 at worst, measured on an
#: ill-conditioned vox-256), lower-precision kernels do not (bfloat16 moved vox-256 by 0.2).
AUTO_AGREEMENT = 1e-3


def fastest_engine(
    model: FirstOrderModel, size: int, batch_size: int, trial: Callable[[Engine], object]
) -> Engine:
    """``auto``: the installed engine that runs ``trial(engine)`` (the first batch) fastest; torch on CUDA.

    Each candidate runs the trial twice (the first run builds the engine's kernels) and is timed
    on the second; the choice is remembered for these weights, sizes and thread count. A graph
    engine whose result differs from torch's by more than :data:`AUTO_AGREEMENT` is not chosen,
    with a one-line warning: an engine is only a faster way to the same frames.
    """
    parameter = next(model.parameters())
    if parameter.device.type != "cpu" or parameter.dtype != torch.float32 or len(installed_engines()) == 1:
        return TorchEngine(model, batch_size)
    key = (weights_digest(model), size, batch_size, torch.get_num_threads())
    chosen = _CHOSEN.setdefault(model, {})
    if key not in chosen:
        seconds, reference = {}, None
        for name in installed_engines():  # torch first: the reference
            engine = get_engine(name, model, size, batch_size)
            result = trial(engine)
            start = time.perf_counter()
            trial(engine)
            elapsed = time.perf_counter() - start
            if reference is None:
                reference = result
            elif (difference := (result - reference).abs().max().item()) > AUTO_AGREEMENT:
                warnings.warn(
                    f"engine='auto' passed over {name}: its frames differ from torch's by {difference:.1e} "
                    f"here (more than {AUTO_AGREEMENT:g})",
                    stacklevel=3,
                )
                continue
            seconds[name] = elapsed
        chosen.clear()
        chosen[key] = min(seconds, key=seconds.get)
    return get_engine(chosen[key], model, size, batch_size)
