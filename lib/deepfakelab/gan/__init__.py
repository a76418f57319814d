"""Lab 2: a DCGAN that makes bags for an online shop.

Public API:

- :class:`GANConfig`, :class:`BlockSpec`, :class:`LayerSpec`, :func:`classic28`, :func:`classic64`
  -- one validated config for both networks and the recipe.
- :class:`Generator`, :class:`Discriminator`, :func:`build_models` -- the networks.
- :func:`load_bags` -- Fashion-MNIST bags, a folder of photos, or procedural bags.
- :func:`train` -- a resumable training run that writes history, curves, samples, checkpoints.
- :func:`run_sweep` -- several runs compared in one table and figure.
- :class:`BagQuality` -- the offline quality score (domain FD, KID, coverage, copy check).
"""

from .config import BlockSpec, GANConfig, LayerSpec, classic28, classic64, default_config
from .data import BagData, load_bags, procedural_bags
from .models import Discriminator, Generator, build_models
from .train import TrainResult, generate, load_run, read_history, train

__all__ = [
    "BagData",
    "BlockSpec",
    "Discriminator",
    "GANConfig",
    "Generator",
    "LayerSpec",
    "TrainResult",
    "build_models",
    "classic28",
    "classic64",
    "default_config",
    "generate",
    "load_bags",
    "load_run",
    "procedural_bags",
    "read_history",
    "train",
    "run_sweep",
    "BagQuality",
]


def __getattr__(name):  # the quality score and sweeps import scipy/matplotlib: load them on use
    if name == "run_sweep":
        from .sweep import run_sweep  # deferred: --help loads the gan package; sweep +3 s

        return run_sweep
    if name == "BagQuality":
        from .quality import BagQuality  # deferred: --help loads the gan package; quality +1.5 s

        return BagQuality
    raise AttributeError(name)
