"""Probes of Lab 2 (``lab2``): run beside the student's code in the sandbox, return only data.

What a student's function returns here (a ``torch.nn.Module``, a training step's effect on two
networks, a matplotlib figure) cannot leave the sandbox as an object, so each probe builds it
on the inputs of its check, measures it, and returns numbers, names and lists. The hidden checks
of Lab 2 decide the grade from that data, outside the sandbox. Each probe's first argument is
the student's namespace. Public code, like every probe (see :mod:`deepfakelab.course.probes`):
nothing here says what the right answer is.
"""

from __future__ import annotations

import functools

import matplotlib
import numpy as np
import torch
from torch import nn

from deepfakelab.gan import load_bags
from deepfakelab.labs.lab2.diagnosis import trace_train_step
from deepfakelab.runtime import seed_everything

# One torch thread comes from the student server's environment (OMP_NUM_THREADS=1, set by whoever
# starts it: ..sandbox.bubblewrap, ..sandbox.remote_student), not from importing this module.
# Taken before any student code runs, so a student function that patches them changes nothing here.
_equal, _randn, _seed, _Sequential = torch.equal, torch.randn, torch.manual_seed, nn.Sequential
_Adam, _SGD, _grad = torch.optim.Adam, torch.optim.SGD, torch.autograd.grad

#: The losses a check may differentiate with :func:`loss_gradients`.
LOSSES = ("discriminator_loss", "generator_loss")
#: The values a train_step returns.
STATS = ("d_loss", "g_loss", "d_real", "d_fake")


def _layer_names(block) -> list[str]:
    return [
        f"{type(m).__module__}.{type(m).__qualname__}"
        for m in block.modules()
        if not isinstance(m, _Sequential)
    ]


def generator_block(student) -> dict:
    _seed(3)
    block = student.generator_block(8, 4, kernel_size=4, stride=1)
    out = block(_randn(3, 8, 5, 5))
    final = student.generator_block(8, 3, kernel_size=3, stride=2, final_layer=True)
    return {
        "shape": list(out.shape),
        "layers": _layer_names(block),
        "final_layers": _layer_names(final),
        "final_shape": list(final(_randn(2, 8, 4, 4)).shape),
    }


def discriminator_block(student) -> dict:
    _seed(3)
    block = student.discriminator_block(3, 6, kernel_size=3, stride=2)
    out = block(_randn(2, 3, 11, 11))
    layers = [m for m in block.modules() if not isinstance(m, _Sequential)]
    slope = getattr(layers[2], "negative_slope", None) if len(layers) > 2 else None
    final = student.discriminator_block(6, 1, kernel_size=5, stride=1, final_layer=True)
    return {
        "shape": list(out.shape),
        "layers": _layer_names(block),
        "negative_slope": float(slope) if isinstance(slope, (int, float)) else None,
        "final_layers": _layer_names(final),
    }


class ConstantGenerator(nn.Module):
    """A generator whose image ignores the noise: one learnable (1, 28, 28) image, once per row of z.

    Whatever noise a train_step draws (its shape, its values), the fakes are the same, so the
    effect of one step on this network can be computed outside the sandbox.
    """

    def __init__(self, image: torch.Tensor):
        super().__init__()
        self.image = nn.Parameter(image.clone())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.image.unsqueeze(0).repeat(len(z), 1, 1, 1)


class LinearDiscriminator(nn.Module):
    """One logit per image, linear in its pixels: (N, 1, 28, 28) -> (N,), as the notebook's D returns."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor):
        super().__init__()
        self.weight, self.bias = nn.Parameter(weight.clone()), nn.Parameter(bias.clone())

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return images.reshape(len(images), -1) @ self.weight + self.bias


def small_gan(
    seed: int, lr: float
) -> tuple[ConstantGenerator, LinearDiscriminator, torch.optim.Optimizer, torch.optim.Optimizer]:
    """The two small networks of :func:`train_step_update` and their Adam optimisers, as the notebook makes them.

    Deterministic in ``seed``: a check builds the same ones outside the sandbox.
    """
    numbers = torch.Generator().manual_seed(seed)
    image = torch.rand(1, 28, 28, generator=numbers) - 0.5
    weight = torch.randn(28 * 28, generator=numbers) * 0.02
    generator, discriminator = ConstantGenerator(image), LinearDiscriminator(weight, torch.zeros(1))
    opt_g = _Adam(generator.parameters(), lr=lr, betas=(0.5, 0.999))
    opt_d = _Adam(discriminator.parameters(), lr=lr, betas=(0.5, 0.999))
    return generator, discriminator, opt_g, opt_d


def small_batches(seed: int, steps: int, batch: int) -> list[torch.Tensor]:
    """The real batches of :func:`train_step_update`, in [-1, 1]; deterministic in ``seed``."""
    numbers = torch.Generator().manual_seed(seed + 1)
    return [torch.rand(batch, 1, 28, 28, generator=numbers) * 2 - 1 for _ in range(steps)]


def _stats(stats) -> dict:
    is_dict = isinstance(stats, dict)
    keys = [str(k) for k in stats] if is_dict else []
    return {
        "is_dict": is_dict,
        "keys": keys,
        "values": {k: float(stats[k]) for k in STATS if is_dict and k in stats},
    }


def _weights(module: nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.parameters()]


def train_step_update(student, seed: int, steps: int, lr: float, batch: int = 8, z_dim: int = 64) -> dict:
    """The student's ``train_step`` run ``steps`` times on :func:`small_gan`: what it returned, the weights after each.

    The check redoes the same steps outside the sandbox and compares; nothing is judged here.
    """
    generator, discriminator, opt_g, opt_d = small_gan(seed, lr)
    done = []
    for real in small_batches(seed, steps, batch):
        stats = _stats(student.train_step(generator, discriminator, opt_g, opt_d, real, z_dim))
        done.append({**stats, "generator": _weights(generator), "discriminator": _weights(discriminator)})
    return {"steps": done}


class TraceGenerator(nn.Module):
    """A generator whose backward needs what its forward saved (so a second backward through it fails,
    as through the notebook's), and that takes noise of any shape: one (1, 28, 28) image, scaled per row
    by the first number of that row's noise."""

    def __init__(self, image: torch.Tensor):
        super().__init__()
        self.image = nn.Parameter(image.clone())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        scale = 1 + 0.1 * z.reshape(len(z), -1)[:, :1, None, None]
        return torch.tanh(self.image.unsqueeze(0) * scale)


def trace_gan(seed: int, lr: float = 0.01):
    """The networks and optimisers of :func:`train_step_trace`; deterministic in ``seed``."""
    numbers = torch.Generator().manual_seed(seed)
    generator = TraceGenerator(torch.randn(1, 28, 28, generator=numbers))
    discriminator = LinearDiscriminator(torch.randn(28 * 28, generator=numbers) * 0.02, torch.zeros(1))
    return (
        generator,
        discriminator,
        _Adam(generator.parameters(), lr=lr, betas=(0.5, 0.999)),
        _Adam(discriminator.parameters(), lr=lr, betas=(0.5, 0.999)),
    )


def train_step_trace(student, seed: int, batch: int = 8, z_dim: int = 8) -> dict:
    """One call of the student's ``train_step``, recorded by
    :func:`deepfakelab.labs.lab2.diagnosis.trace_train_step`: which network it called on what, in
    which order it stepped, whether D's backward reached G, the kind of error it raised. Data only:
    the error's own text stays here."""
    generator, discriminator, opt_g, opt_d = trace_gan(seed)
    real = small_batches(seed, 1, batch)[0]
    trace = trace_train_step(student.train_step, generator, discriminator, opt_g, opt_d, real, z_dim=z_dim)
    trace.pop("error_text", None)
    return trace


def primer_nets(seed: int, lr: float = 0.1):
    """The primer's two stages, an SGD optimiser for the second, an input batch, and a gradient left
    over in the second stage from an earlier step; deterministic in ``seed``."""
    numbers = torch.Generator().manual_seed(seed)
    maker, judge = nn.Linear(2, 3), nn.Linear(3, 1)
    with torch.no_grad():
        for p in [*maker.parameters(), *judge.parameters()]:
            p.copy_(_randn(p.shape, generator=numbers) * 0.5)
    x = _randn(5, 2, generator=numbers)
    for p in judge.parameters():
        p.grad = torch.full_like(p, 100.0)
    return maker, judge, _SGD(judge.parameters(), lr=lr), x


def primer_step(student, seed: int) -> dict:
    """The student's ``judge_step`` on :func:`primer_nets`: what it returned, both stages' weights and
    gradients after it."""
    maker, judge, opt_judge, x = primer_nets(seed)
    loss = student.judge_step(maker, judge, opt_judge, x)
    try:
        value = float(loss)
    except (TypeError, ValueError):
        value = None
    return {
        "loss": value,
        "loss_type": type(loss).__name__,
        "judge": _weights(judge),
        "maker": _weights(maker),
        "maker_grads": [p.grad is not None and bool(p.grad.abs().sum() > 0) for p in maker.parameters()],
    }


def loss_gradients(student, name: str, *logits) -> dict:
    """The student's loss ``name`` at the given logits: its value and its gradient with respect to each.

    For a check that asks what a train_step would do with the student's own loss functions.
    """
    if name not in LOSSES:
        raise ValueError(f"not a loss of this lab: {name!r}")
    inputs = [torch.as_tensor(x, dtype=torch.float32).detach().clone().requires_grad_(True) for x in logits]
    loss = getattr(student, name)(*inputs)
    grads = _grad(loss, inputs, allow_unused=True)
    return {
        "value": float(loss.detach()),
        "grads": [torch.zeros_like(x) if g is None else g.detach() for x, g in zip(inputs, grads)],
    }


def plot_losses(student, history: list[dict]) -> dict:
    matplotlib.use("Agg")
    fig = student.plot_losses(history)
    axes = list(getattr(fig, "axes", None) or [])
    if not axes:
        return {"has_axes": False, "lines": {}, "xlabel": "", "ylabel": ""}
    ax = axes[0]
    return {
        "has_axes": True,
        "xlabel": str(ax.get_xlabel()),
        "ylabel": str(ax.get_ylabel()),
        "lines": {str(line.get_label()): [float(y) for y in line.get_ydata()] for line in ax.get_lines()},
    }


@functools.cache
def _real_images():
    """The training images exactly as the locked ``setup`` cell makes them."""
    seed_everything(0)
    return load_bags(source="auto", procedural_count=3000).train * 2 - 1


_MAIN_RUNS: dict[int, dict] = {}


def main_run(student, steps: int) -> dict:
    """The notebook's main training run, redone with the student's code: its history and samples.

    The same data, seeds and calls as the locked ``setup`` and ``train_main`` cells, so the result
    is what history.csv and samples.npy must hold (CPU, one thread: the same bits); files written
    by other means do not match. Done once per submission, for both checks that need it.
    """
    if steps in _MAIN_RUNS:
        return _MAIN_RUNS[steps]
    real_images = _real_images()
    generator, discriminator, opt_g, opt_d = student.make_gan(lr=2e-4, seed=0)
    g_before = [p.detach().clone() for p in generator.parameters()]
    d_before = [p.detach().clone() for p in discriminator.parameters()]
    batches = torch.Generator().manual_seed(0)
    history = []
    for _ in range(steps):
        batch = real_images[torch.randint(len(real_images), (64,), generator=batches)]
        stats = student.train_step(generator, discriminator, opt_g, opt_d, batch)
        history.append({k: float(stats[k]) for k in ("d_loss", "g_loss", "d_real", "d_fake")})
    generator.eval()
    with torch.no_grad():
        samples = (generator(_randn(64, 64, generator=torch.Generator().manual_seed(1))) + 1) / 2
    _MAIN_RUNS[steps] = {
        "history": history,
        "samples": samples.numpy(),
        "d_changed": any(not _equal(a, b) for a, b in zip(d_before, discriminator.parameters())),
        "g_changed": any(not _equal(a, b) for a, b in zip(g_before, generator.parameters())),
    }
    return _MAIN_RUNS[steps]


#: The seed of every run of the locked ``run_experiments`` cell: runs differ only in their settings.
EXPERIMENT_SEED = 0


def experiment_run(student, number: int, lr: float, batch_size: int, z_dim: int, steps: int) -> dict:
    """Run ``number`` of the locked ``run_experiments`` cell, redone: its final losses as runs.csv rounds them.

    Every run starts from the same seed (:data:`EXPERIMENT_SEED`), as the cell's do.
    """
    real_images = _real_images()
    generator, discriminator, opt_g, opt_d = student.make_gan(lr=lr, z_dim=z_dim, seed=EXPERIMENT_SEED)
    d_before = [p.detach().clone() for p in discriminator.parameters()]
    batches = torch.Generator().manual_seed(EXPERIMENT_SEED)
    log = []
    for _ in range(steps):
        batch = real_images[torch.randint(len(real_images), (batch_size,), generator=batches)]
        log.append(student.train_step(generator, discriminator, opt_g, opt_d, batch, z_dim=z_dim))
    last = log[-max(1, len(log) // 5) :]
    return {
        "final_d_loss": round(float(np.mean([float(h["d_loss"]) for h in last])), 4),
        "final_g_loss": round(float(np.mean([float(h["g_loss"]) for h in last])), 4),
        "trained": any(not _equal(a, b) for a, b in zip(d_before, discriminator.parameters())),
    }
