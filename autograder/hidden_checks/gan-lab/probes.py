"""Probes of Lab 2 (gan-lab): run beside the student's code in the sandbox, return only data.

What a student's function returns here (a ``torch.nn.Module``, a training step's effect on two
networks, a matplotlib figure) cannot leave the sandbox as an object, so each probe builds it
on the inputs of its check, measures it, and returns numbers, names and lists. The checks in
``test_gan_lab.py`` decide the grade from that data, outside the sandbox. Each probe's first
argument is the student's namespace.
"""

from __future__ import annotations

import functools

import numpy as np
import torch
from torch import nn

torch.set_num_threads(1)
# Taken before any student code runs, so a student function that patches them changes nothing here.
_equal, _randn, _seed, _Sequential = torch.equal, torch.randn, torch.manual_seed, nn.Sequential


def _layer_names(block) -> list[str]:
    return [f"{type(m).__module__}.{type(m).__qualname__}" for m in block.modules() if not isinstance(m, _Sequential)]


def generator_block(student) -> dict:
    _seed(3)
    block = student.generator_block(8, 4, kernel_size=4, stride=1)
    out = block(_randn(3, 8, 5, 5))
    final = student.generator_block(8, 3, kernel_size=3, stride=2, final_layer=True)
    return {"shape": list(out.shape), "layers": _layer_names(block), "final_layers": _layer_names(final),
            "final_shape": list(final(_randn(2, 8, 4, 4)).shape)}


def discriminator_block(student) -> dict:
    _seed(3)
    block = student.discriminator_block(3, 6, kernel_size=3, stride=2)
    out = block(_randn(2, 3, 11, 11))
    layers = [m for m in block.modules() if not isinstance(m, _Sequential)]
    slope = getattr(layers[2], "negative_slope", None) if len(layers) > 2 else None
    final = student.discriminator_block(6, 1, kernel_size=5, stride=1, final_layer=True)
    return {"shape": list(out.shape), "layers": _layer_names(block),
            "negative_slope": float(slope) if isinstance(slope, (int, float)) else None,
            "final_layers": _layer_names(final)}


def train_step(student) -> dict:
    from deepfakelab.gan import build_models, classic28

    _seed(5)
    generator, discriminator = build_models(classic28())
    opt_g = torch.optim.Adam(generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    g_before = [p.detach().clone() for p in generator.parameters()]
    d_before = [p.detach().clone() for p in discriminator.parameters()]
    real = torch.rand(8, 1, 28, 28) * 2 - 1
    stats = student.train_step(generator, discriminator, opt_g, opt_d, real, 64)
    is_dict = isinstance(stats, dict)
    keys = [str(k) for k in stats] if is_dict else []
    values = {k: float(stats[k]) for k in ("d_loss", "g_loss", "d_real", "d_fake") if is_dict and k in stats}
    return {"is_dict": is_dict, "keys": keys, "values": values,
            "d_changed": any(not _equal(a, b) for a, b in zip(d_before, discriminator.parameters())),
            "g_changed": any(not _equal(a, b) for a, b in zip(g_before, generator.parameters()))}


def plot_losses(student, history: list[dict]) -> dict:
    import matplotlib

    matplotlib.use("Agg")
    fig = student.plot_losses(history)
    axes = list(getattr(fig, "axes", None) or [])
    if not axes:
        return {"has_axes": False, "lines": {}, "xlabel": "", "ylabel": ""}
    ax = axes[0]
    return {"has_axes": True, "xlabel": str(ax.get_xlabel()), "ylabel": str(ax.get_ylabel()),
            "lines": {str(line.get_label()): [float(y) for y in line.get_ydata()] for line in ax.get_lines()}}


@functools.cache
def _real_images():
    """The training images exactly as the locked ``setup`` cell makes them."""
    from deepfakelab.gan import load_bags
    from deepfakelab.runtime import seed_everything

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
    _MAIN_RUNS[steps] = {"history": history, "samples": samples.numpy(),
                         "d_changed": any(not _equal(a, b) for a, b in zip(d_before, discriminator.parameters())),
                         "g_changed": any(not _equal(a, b) for a, b in zip(g_before, generator.parameters()))}
    return _MAIN_RUNS[steps]


def experiment_run(student, number: int, lr: float, batch_size: int, z_dim: int, steps: int) -> dict:
    """Run ``number`` of the locked ``run_experiments`` cell, redone: its final losses as runs.csv rounds them."""
    real_images = _real_images()
    generator, discriminator, opt_g, opt_d = student.make_gan(lr=lr, z_dim=z_dim, seed=number)
    d_before = [p.detach().clone() for p in discriminator.parameters()]
    batches = torch.Generator().manual_seed(number)
    log = []
    for _ in range(steps):
        batch = real_images[torch.randint(len(real_images), (batch_size,), generator=batches)]
        log.append(student.train_step(generator, discriminator, opt_g, opt_d, batch, z_dim=z_dim))
    last = log[-max(1, len(log) // 5):]
    return {"final_d_loss": round(float(np.mean([float(h["d_loss"]) for h in last])), 4),
            "final_g_loss": round(float(np.mean([float(h["g_loss"]) for h in last])), 4),
            "trained": any(not _equal(a, b) for a, b in zip(d_before, discriminator.parameters()))}
