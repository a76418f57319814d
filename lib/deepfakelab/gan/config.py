"""One validated configuration for a DCGAN: the blocks of both networks and the training recipe.

A student changes the architecture by editing data, not code: the number of blocks, their
widths, kernel sizes and strides, batch norm and dropout, the generator's output activation.
:meth:`GANConfig.validate` walks the blocks with the convolution size formulas and refuses a
configuration that cannot produce the target image size, naming the block that breaks it --
before any tensor is allocated, so the error is about the config and not a shape mismatch deep
inside torch.

Two presets reproduce the classic recipes at their own architectures:

- :func:`classic28` -- the deeplearning.ai C1W2 DCGAN's layout for 28 px grey images (z 64), with
  the DCGAN paper's batch-norm rules and a wider discriminator (see its docstring for why).
- :func:`classic64` -- the PyTorch ``examples/dcgan`` net for 64 px colour images (ngf = ndf = 64).
"""

from __future__ import annotations

import copy
import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any, Literal

from ..errors import ConfigError

OutputActivation = Literal["tanh", "sigmoid"]


@dataclass
class BlockSpec:
    """One hidden block: (transposed) convolution, optional batch norm, activation, dropout.

    ``channels`` is the number of output channels; ``kernel``, ``stride`` and ``padding`` are
    those of the convolution. ``dropout`` is the probability of zeroing a channel map
    (``nn.Dropout2d``), applied after the activation.
    """

    channels: int
    kernel: int
    stride: int
    padding: int = 0
    batch_norm: bool = True
    dropout: float = 0.0


@dataclass
class LayerSpec:
    """The last layer of a network: a convolution whose output channels are implied
    (the image's channels for the generator, one logit for the discriminator)."""

    kernel: int
    stride: int
    padding: int = 0


@dataclass
class GeneratorConfig:
    """Generator: noise ``z`` (z_dim x 1 x 1) up to an image through transposed convolutions.

    ``extra_blocks`` adds that many size-preserving blocks (3x3, stride 1) after the last hidden
    block: the "deeper generator" experiments of the lab, without redoing the size arithmetic.
    """

    z_dim: int = 64
    blocks: list[BlockSpec] = field(default_factory=list)
    final: LayerSpec = field(default_factory=lambda: LayerSpec(4, 2, 0))
    output_activation: OutputActivation = "tanh"
    extra_blocks: int = 0


@dataclass
class DiscriminatorConfig:
    """Discriminator: image down to one logit ("how real does this look") through convolutions."""

    blocks: list[BlockSpec] = field(default_factory=list)
    final: LayerSpec = field(default_factory=lambda: LayerSpec(4, 2, 0))
    leaky_slope: float = 0.2
    extra_blocks: int = 0


@dataclass
class TrainConfig:
    """The training recipe. Defaults are the classic DCGAN ones (Radford et al. 2016)."""

    epochs: int = 20
    batch_size: int = 128
    lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    seed: int = 0
    device: str = "auto"
    #: Stop each epoch after this many steps (None: the whole data set). For quick runs.
    max_steps_per_epoch: int | None = None
    #: How many images the fixed-noise sample grid shows.
    num_samples: int = 64
    #: Checkpoints kept on disk (the newest ones); older ones are deleted.
    keep_checkpoints: int = 2


@dataclass
class GANConfig:
    """Everything that defines a run: image format, both networks, and the training recipe."""

    image_size: int = 28
    channels: int = 1
    #: Mean of the batch-norm scale at initialisation (std 0.02 either way). C1W2 draws it from
    #: N(0, 0.02), which starts both networks almost silent; pytorch/examples (and both presets)
    #: from N(1, 0.02).
    bn_weight_mean: float = 0.0
    generator: GeneratorConfig = field(default_factory=GeneratorConfig)
    discriminator: DiscriminatorConfig = field(default_factory=DiscriminatorConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    # ------------------------------------------------------------------ validation
    def validate(self) -> "GANConfig":
        """Check every field and the size arithmetic of both networks; return ``self``.

        Raises :class:`~deepfakelab.errors.ConfigError` naming the field or block at fault.
        """
        _check(self.image_size >= 4, "image_size must be at least 4 pixels")
        _check(self.channels in (1, 3), f"channels must be 1 (grey) or 3 (colour), not {self.channels}")
        g, d, t = self.generator, self.discriminator, self.train
        _check(g.z_dim >= 1, f"generator.z_dim must be positive, not {g.z_dim}")
        _check(
            g.output_activation in ("tanh", "sigmoid"),
            f"generator.output_activation must be 'tanh' or 'sigmoid', not {g.output_activation!r}",
        )
        _check(g.extra_blocks >= 0 and d.extra_blocks >= 0, "extra_blocks cannot be negative")
        _check(g.blocks, "the generator needs at least one hidden block")
        _check(d.blocks, "the discriminator needs at least one hidden block")
        _check(0.0 <= d.leaky_slope < 1.0, "discriminator.leaky_slope must be in [0, 1)")
        for name, blocks in (("generator", g.blocks), ("discriminator", d.blocks)):
            for i, b in enumerate(blocks, 1):
                where = f"{name} block {i}"
                _check(b.channels >= 1, f"{where}: channels must be positive, not {b.channels}")
                _check(b.kernel >= 1 and b.stride >= 1, f"{where}: kernel and stride must be >= 1")
                _check(b.padding >= 0, f"{where}: padding cannot be negative")
                _check(0.0 <= b.dropout < 1.0, f"{where}: dropout must be in [0, 1), not {b.dropout}")
        _check(t.epochs >= 1, f"train.epochs must be at least 1, not {t.epochs}")
        _check(
            t.batch_size >= 2,
            f"train.batch_size must be at least 2 (batch norm needs it), not {t.batch_size}",
        )
        _check(t.lr > 0, f"train.lr must be positive, not {t.lr}")
        _check(0 <= t.beta1 < 1 and 0 <= t.beta2 < 1, "train.beta1 and train.beta2 must be in [0, 1)")
        _check(t.num_samples >= 1, "train.num_samples must be at least 1")
        _check(t.keep_checkpoints >= 1, "train.keep_checkpoints must be at least 1")
        _check(
            t.max_steps_per_epoch is None or t.max_steps_per_epoch >= 1,
            "train.max_steps_per_epoch must be None or at least 1",
        )
        self.generator_sizes()
        self.discriminator_sizes()
        return self

    def generator_sizes(self) -> list[int]:
        """Spatial size after each generator layer, starting from the 1x1 noise.

        Transposed convolution: ``out = (in - 1) * stride - 2 * padding + kernel``.
        """
        size, sizes = 1, [1]
        layers = [
            (f"block {i}", b.kernel, b.stride, b.padding) for i, b in enumerate(self.generator.blocks, 1)
        ]
        f = self.generator.final
        layers.append(("final layer", f.kernel, f.stride, f.padding))
        for name, k, s, p in layers:
            new = (size - 1) * s - 2 * p + k
            if new < 1:
                raise ConfigError(
                    f"generator {name} (kernel {k}, stride {s}, padding {p}) turns {size}x{size} "
                    f"into {new}x{new}: reduce its padding or raise its kernel."
                )
            size = new
            sizes.append(size)
        if size != self.image_size:
            raise ConfigError(
                f"the generator makes {size}x{size} images but image_size is {self.image_size}: "
                f"sizes per layer are {' -> '.join(map(str, sizes))}; change the last blocks' "
                "kernel/stride/padding (transposed conv: out = (in-1)*stride - 2*padding + kernel)."
            )
        return sizes

    def discriminator_sizes(self) -> list[int]:
        """Spatial size after each discriminator layer; the last must be 1x1 (one logit).

        Convolution: ``out = floor((in + 2 * padding - kernel) / stride) + 1``.
        """
        size, sizes = self.image_size, [self.image_size]
        layers = [
            (f"block {i}", b.kernel, b.stride, b.padding) for i, b in enumerate(self.discriminator.blocks, 1)
        ]
        f = self.discriminator.final
        layers.append(("final layer", f.kernel, f.stride, f.padding))
        for name, k, s, p in layers:
            if size + 2 * p < k:
                raise ConfigError(
                    f"discriminator {name} (kernel {k}, stride {s}, padding {p}) gets a "
                    f"{size}x{size} input, smaller than its kernel: use fewer or smaller blocks."
                )
            size = (size + 2 * p - k) // s + 1
            sizes.append(size)
        if size != 1:
            raise ConfigError(
                f"the discriminator ends at {size}x{size}, not 1x1 (one logit per image): sizes per "
                f"layer are {' -> '.join(map(str, sizes))}; change the final layer's kernel to {size} "
                "with stride 1 and no padding, or the blocks' strides."
            )
        return sizes

    # ------------------------------------------------------------------ (de)serialisation
    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "GANConfig":
        """Build a config from a (possibly partial) dict, as written by :meth:`to_dict`."""
        try:
            g = dict(data.get("generator", {}))
            d = dict(data.get("discriminator", {}))
            for net in (g, d):
                if "blocks" in net:
                    net["blocks"] = [BlockSpec(**b) for b in net["blocks"]]
                if "final" in net:
                    net["final"] = LayerSpec(**net["final"])
            base = classic28() if data.get("image_size", 28) == 28 else classic64(data.get("channels", 3))
            return cls(
                image_size=data.get("image_size", base.image_size),
                channels=data.get("channels", base.channels),
                bn_weight_mean=data.get("bn_weight_mean", base.bn_weight_mean),
                generator=dataclasses.replace(base.generator, **g),
                discriminator=dataclasses.replace(base.discriminator, **d),
                train=dataclasses.replace(base.train, **data.get("train", {})),
            )
        except (
            TypeError,
            ValueError,
            AttributeError,
        ) as exc:  # a section that is not a mapping, an unknown key
            raise ConfigError(f"unknown or malformed config field: {exc}") from None

    def replace(self, **changes: Any) -> "GANConfig":
        """A copy with dotted-name changes, e.g. ``replace(**{"train.lr": 1e-3, "generator.z_dim": 32})``.

        Used by sweeps and the CLI, so that a run's changes can be listed by name.
        """
        new = copy.deepcopy(self)
        for dotted, value in changes.items():
            *path, leaf = dotted.split(".")
            target = new
            for part in path:
                target = getattr(target, part)
            if not hasattr(target, leaf):
                raise ConfigError(f"no config field named {dotted!r}")
            setattr(target, leaf, value)
        return new


def flatten(config: GANConfig) -> dict[str, Any]:
    """Dotted-name view of the scalar fields (blocks summarised), for run tables."""
    out: dict[str, Any] = {
        "image_size": config.image_size,
        "channels": config.channels,
        "bn_weight_mean": config.bn_weight_mean,
    }
    for section in ("generator", "discriminator", "train"):
        for key, value in dataclasses.asdict(getattr(config, section)).items():
            if key == "blocks":
                value = "/".join(str(b["channels"]) for b in value)
            elif key == "final":
                continue
            out[f"{section}.{key}"] = value
    return out


def _check(condition: Any, message: str) -> None:
    if not condition:
        raise ConfigError(message)


def classic28() -> GANConfig:
    """The deeplearning.ai C1W2 DCGAN layout for 28x28 grey images (Fashion-MNIST bags), trained
    with the DCGAN paper's rules.

    Generator (hidden 64): 1 -> 3 -> 6 -> 13 -> 28 px. Discriminator (hidden 64): 28 -> 13 -> 5 -> 1.
    Kernels, strides and sizes are C1W2's; three things are not, because C1W2's own choices do not
    make bags within 10 CPU minutes (its samples stay one grey blob):

    - no batch norm on the discriminator's input block (Radford et al.): with it, and real and fake
      batches normalised separately, the discriminator cannot see the fakes' brightness or contrast
      (``BN(a * x + b) == BN(x)``), so near-blank fakes fool it;
    - batch-norm scales start at N(1, 0.02) (pytorch/examples), not N(0, 0.02): near-zero scales
      start the generator almost silent, its samples nearly independent of ``z``;
    - discriminator hidden 64 (C1W2: 16), for margin: with the two rules above and hidden 16, the
      generator makes one image for every ``z`` for over 1,000 steps and blotchy, checkerboard bags
      after 10 minutes (6,348 steps: domain FD 37 against 88 for blurred real bags); hidden 64
      makes varied bags within ~600 steps and reaches FD 5.7 in 10 minutes (4,738 steps,
      ``bench/gan_quality.py``), so a slower or busier machine still meets the target.
    """
    hidden_g, hidden_d = 64, 64
    return GANConfig(
        image_size=28,
        channels=1,
        bn_weight_mean=1.0,
        generator=GeneratorConfig(
            z_dim=64,
            blocks=[
                BlockSpec(hidden_g * 4, kernel=3, stride=2),  # 256 x 3 x 3
                BlockSpec(hidden_g * 2, kernel=4, stride=1),  # 128 x 6 x 6
                BlockSpec(hidden_g, kernel=3, stride=2),  # 64 x 13 x 13
            ],
            final=LayerSpec(kernel=4, stride=2),  # 1 x 28 x 28
        ),
        discriminator=DiscriminatorConfig(
            blocks=[
                BlockSpec(hidden_d, kernel=4, stride=2, batch_norm=False),  # 64 x 13 x 13
                BlockSpec(hidden_d * 2, kernel=4, stride=2),  # 128 x 5 x 5
            ],
            final=LayerSpec(kernel=4, stride=2),  # 1 x 1 x 1
        ),
        train=TrainConfig(),
    )


def classic64(channels: int = 3) -> GANConfig:
    """The PyTorch ``examples/dcgan`` net for 64x64 images (ngf = ndf = 64).

    Generator: 1 -> 4 -> 8 -> 16 -> 32 -> 64 px. Discriminator: 64 -> 32 -> 16 -> 8 -> 4 -> 1,
    without batch norm on its first block, as in the paper.
    """
    ngf = ndf = 64
    return GANConfig(
        image_size=64,
        channels=channels,
        bn_weight_mean=1.0,
        generator=GeneratorConfig(
            z_dim=64,
            blocks=[
                BlockSpec(ngf * 8, kernel=4, stride=1, padding=0),  # 512 x 4 x 4
                BlockSpec(ngf * 4, kernel=4, stride=2, padding=1),  # 256 x 8 x 8
                BlockSpec(ngf * 2, kernel=4, stride=2, padding=1),  # 128 x 16 x 16
                BlockSpec(ngf, kernel=4, stride=2, padding=1),  # 64 x 32 x 32
            ],
            final=LayerSpec(kernel=4, stride=2, padding=1),  # channels x 64 x 64
        ),
        discriminator=DiscriminatorConfig(
            blocks=[
                BlockSpec(ndf, kernel=4, stride=2, padding=1, batch_norm=False),  # 64 x 32 x 32
                BlockSpec(ndf * 2, kernel=4, stride=2, padding=1),  # 128 x 16 x 16
                BlockSpec(ndf * 4, kernel=4, stride=2, padding=1),  # 256 x 8 x 8
                BlockSpec(ndf * 8, kernel=4, stride=2, padding=1),  # 512 x 4 x 4
            ],
            final=LayerSpec(kernel=4, stride=1, padding=0),  # 1 x 1 x 1
        ),
        train=TrainConfig(),
    )


def default_config(image_size: int = 28, channels: int = 1) -> GANConfig:
    """The default for a data set: :func:`classic28` at 28 px grey, :func:`classic64` otherwise."""
    if image_size == 28 and channels == 1:
        return classic28()
    if image_size == 64:
        return classic64(channels)
    raise ConfigError(
        f"no preset for {image_size} px images; write the blocks yourself or resize to 28 or 64 px"
    )
