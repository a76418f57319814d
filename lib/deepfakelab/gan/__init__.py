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

import lazy_loader

# Loaded on first use (scientific Python's lazy_loader, as scikit-image does): the gan package is
# imported by ``deepfakelab --help`` for its sub-commands, and its modules bring torch (about 2 s).
__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "config": ["BlockSpec", "GANConfig", "LayerSpec", "classic28", "classic64", "default_config"],
        "data": ["BagData", "load_bags", "procedural_bags"],
        "models": ["Discriminator", "Generator", "build_models"],
        "training": ["TrainResult", "generate", "load_run", "read_history", "train"],
        "sweep": ["run_sweep"],
        "quality": ["BagQuality"],
    },
)
