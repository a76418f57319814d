"""Probes of Lab 2 (gan-lab): run beside the student's code in the sandbox, return only data.

What a student's function returns here (a ``torch.nn.Module``, a training step's effect on two
networks, a matplotlib figure) cannot leave the sandbox as an object, so each probe builds it
on the inputs of its check, measures it, and returns numbers, names and lists. The checks in
``test_gan_lab.py`` decide the grade from that data, outside the sandbox. Each probe's first
argument is the student's namespace.
"""

from __future__ import annotations

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
