"""FOMM-style YAML configuration, read into small dataclasses.

The file layout is the published one, so a user's ``vox-256.yaml`` works unchanged::

    model_params:
      common_params: {num_kp: 10, num_channels: 3, estimate_jacobian: true}
      kp_detector_params: {temperature: 0.1, block_expansion: 32, ...}
      generator_params:
        block_expansion: 64
        ...
        dense_motion_params: {block_expansion: 64, max_features: 1024, num_blocks: 5, scale_factor: 0.25}
    train_params: {...}        # optional, see deepfakelab.reenact.fomm.training

An unknown key is an error naming the key and the file, not a silent default.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from ...datafiles import parse_yaml, read_text_file
from ...errors import ConfigError

#: Configs shipped with the kit, by name (``deepfakelab/configs/<name>.yaml``).
BUILTIN_CONFIGS = ("vox-256", "fomm-small-64")


@dataclass(frozen=True)
class CommonParams:
    num_kp: int = 10
    num_channels: int = 3
    estimate_jacobian: bool = True


@dataclass(frozen=True)
class KPDetectorParams:
    temperature: float = 0.1
    block_expansion: int = 32
    max_features: int = 1024
    scale_factor: float = 0.25
    num_blocks: int = 5
    single_jacobian_map: bool = False
    pad: int = 0


@dataclass(frozen=True)
class DenseMotionParams:
    block_expansion: int = 64
    max_features: int = 1024
    num_blocks: int = 5
    scale_factor: float = 0.25
    kp_variance: float = 0.01


@dataclass(frozen=True)
class GeneratorParams:
    block_expansion: int = 64
    max_features: int = 512
    num_down_blocks: int = 2
    num_bottleneck_blocks: int = 6
    estimate_occlusion_map: bool = True
    dense_motion_params: DenseMotionParams | None = field(default_factory=DenseMotionParams)


@dataclass(frozen=True)
class ModelConfig:
    """The ``model_params`` block; the defaults are the published vox-256 model."""

    common_params: CommonParams = field(default_factory=CommonParams)
    kp_detector_params: KPDetectorParams = field(default_factory=KPDetectorParams)
    generator_params: GeneratorParams = field(default_factory=GeneratorParams)
    #: Kept as read (the adversarial discriminator is not part of this kit's training).
    discriminator_params: dict | None = None

    def kp_detector_kwargs(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self.kp_detector_params), **dataclasses.asdict(self.common_params)}

    def generator_kwargs(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self.generator_params), **dataclasses.asdict(self.common_params)}

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _build(cls, values: Any, where: str):
    if not isinstance(values, dict):
        raise ConfigError(f"{where}: expected a mapping of settings, got {type(values).__name__}")
    known = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ConfigError(f"{where}: unknown setting(s) {unknown}; known: {sorted(known)}")
    kwargs = {}
    for name, value in values.items():
        if name == "dense_motion_params" and value is not None:
            value = _build(DenseMotionParams, value, f"{where}.dense_motion_params")
        kwargs[name] = value
    return cls(**kwargs)


def model_config_from_dict(model_params: dict, where: str = "model_params") -> ModelConfig:
    """Build a :class:`ModelConfig` from a ``model_params`` mapping (as in the published YAML)."""
    if not isinstance(model_params, dict):
        raise ConfigError(
            f"{where}: expected a mapping with common_params, kp_detector_params, generator_params"
        )
    parts = {
        "common_params": CommonParams,
        "kp_detector_params": KPDetectorParams,
        "generator_params": GeneratorParams,
    }
    unknown = sorted(set(model_params) - set(parts) - {"discriminator_params"})
    if unknown:
        raise ConfigError(f"{where}: unknown section(s) {unknown}; expected {sorted(parts)}")
    kwargs = {name: _build(cls, model_params.get(name, {}), f"{where}.{name}") for name, cls in parts.items()}
    config = ModelConfig(**kwargs, discriminator_params=model_params.get("discriminator_params"))
    _check(config, where)
    return config


def _check(config: ModelConfig, where: str) -> None:
    if config.common_params.num_kp < 3:
        raise ConfigError(
            f"{where}.common_params.num_kp={config.common_params.num_kp}: need at least 3 keypoints"
        )
    for name, scale in (
        ("kp_detector_params.scale_factor", config.kp_detector_params.scale_factor),
        (
            "generator_params.dense_motion_params.scale_factor",
            config.generator_params.dense_motion_params.scale_factor
            if config.generator_params.dense_motion_params
            else 1,
        ),
    ):
        if not 0 < scale <= 1:
            raise ConfigError(f"{where}.{name}={scale}: must be in (0, 1]")


def read_yaml(path: str | Path) -> dict:
    """Read a FOMM-style YAML file (``path`` or the name of a built-in config) into a dict."""
    data = parse_yaml(_config_text(path), path)
    if not isinstance(data, dict) or "model_params" not in data:
        raise ConfigError(f"{path}: a FOMM config needs a top-level 'model_params' section")
    return data


def load_model_config(path: str | Path = "vox-256") -> ModelConfig:
    """The ``model_params`` of a YAML file, or of a built-in config by name (``"vox-256"``)."""
    return model_config_from_dict(read_yaml(path)["model_params"], where=f"{path}: model_params")


def _config_text(path: str | Path) -> str:
    if str(path) in BUILTIN_CONFIGS:
        return resources.files("deepfakelab").joinpath("configs", f"{path}.yaml").read_text()
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"config {path} not found; give a YAML file or one of {list(BUILTIN_CONFIGS)}")
    return read_text_file(path, "FOMM config (YAML)")[1]
