"""What Lab 2's notebook shows the student: the data, a reference run of its DCGAN, the networks.

The notebook opens with what the student is about to rebuild, so this module makes it at run
time, offline, in seconds:

- :func:`show_images` -- a grid of bags (the real training data, or a generator's samples);
- :func:`reference_run` -- the lab's DCGAN, built and trained by the kit (:mod:`deepfakelab.gan`)
  with the notebook's layout and recipe, for a short run: its loss history and its samples at a
  few steps, drawn by :func:`show_run` (which also draws each of the student's experiments);
- :func:`describe_networks` -- the finished generator and discriminator, layer by layer with the
  shape after each block, before the student writes a block of them.

It also says how long each part takes (:func:`expected_minutes`) and where the website links
lead (:func:`website_line`). What the checks say about a student's loss or training step is
:mod:`.diagnosis`'s.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn
from torchvision.utils import make_grid

from ...gan.config import BlockSpec, DiscriminatorConfig, GANConfig, GeneratorConfig, LayerSpec, TrainConfig
from ...gan.models import build_models
from ...gan.training import DCGANTrainer
from .. import expected_time, website

#: The notebook's recipe: noise size, batch, learning rate (the DCGAN paper's), seeds.
Z_DIM, BATCH_SIZE, LR = 64, 64, 2e-4


def show_images(images: torch.Tensor, title: str = "", nrow: int = 8, ax=None):
    """A grid of grey or colour images ``(N, C, H, W)`` in [0, 1]; returns the figure (None when
    drawing into ``ax``)."""
    fig = None
    if ax is None:
        rows = max(1, -(-len(images) // nrow))
        fig, ax = plt.subplots(figsize=(nrow * 0.9, rows * 0.9 + (0.4 if title else 0)))
    ax.imshow(_grid(images, nrow))
    ax.set_title(title, fontsize=10)
    ax.axis("off")
    if fig is not None:
        fig.tight_layout()
    return fig


def _grid(images: torch.Tensor, nrow: int) -> np.ndarray:
    """(N, C, H, W) in [0, 1] -> (H', W', 3) uint8, the images side by side with a white border
    (of any tensor: one that requires grad, on the GPU or in half precision)."""
    grid = make_grid(images.detach().float().cpu().clamp(0, 1), nrow=nrow, padding=2, pad_value=1.0)
    return (grid.permute(1, 2, 0).numpy() * 255).astype(np.uint8)


def _running_mean(values: np.ndarray, window: int) -> np.ndarray:
    """Mean of the last ``window`` values at each step (fewer at the start), the same length as ``values``."""
    sums = np.cumsum(np.insert(np.asarray(values, dtype=float), 0, 0.0))
    ends = np.arange(1, len(values) + 1)
    starts = np.maximum(0, ends - window)
    return (sums[ends] - sums[starts]) / (ends - starts)


def lab_config(steps: int = 200, seed: int = 0):
    """The notebook's DCGAN as a :class:`~deepfakelab.gan.GANConfig`: the same layers, sizes and recipe.

    Generator 64 x 1 x 1 -> 256 x 3 x 3 -> 128 x 6 x 6 -> 64 x 13 x 13 -> 1 x 28 x 28;
    discriminator 1 x 28 x 28 -> 16 x 13 x 13 -> 32 x 5 x 5 -> one logit; batch norm in every
    hidden block, weights from N(0, 0.02); Adam 2e-4, betas (0.5, 0.999), batches of 64. (The
    kit's blocks leave out a convolution's bias before a batch norm, which removes it anyway.)
    """
    return GANConfig(
        image_size=28,
        channels=1,
        bn_weight_mean=0.0,
        generator=GeneratorConfig(
            z_dim=Z_DIM,
            blocks=[BlockSpec(256, 3, 2), BlockSpec(128, 4, 1), BlockSpec(64, 3, 2)],
            final=LayerSpec(4, 2),
        ),
        discriminator=DiscriminatorConfig(
            blocks=[BlockSpec(16, 4, 2), BlockSpec(32, 4, 2)], final=LayerSpec(4, 2), leaky_slope=0.2
        ),
        train=TrainConfig(
            epochs=1,
            batch_size=BATCH_SIZE,
            lr=LR,
            seed=seed,
            device="cpu",
            num_samples=32,
            max_steps_per_epoch=steps,
        ),
    ).validate()


def describe_networks() -> str:
    """The finished networks of the lab, block by block, with the shape of what each block outputs.

    Built by the kit (:func:`deepfakelab.gan.build_models` on :func:`lab_config`) and measured by
    running one batch through them, so the table is what PyTorch does, not a drawing.
    """
    generator, discriminator = build_models(lab_config())
    lines = []
    for name, net, x, start in (
        ("Generator", generator, torch.zeros(2, Z_DIM), f"noise z: {Z_DIM} x 1 x 1"),
        ("Discriminator", discriminator, torch.zeros(2, 1, 28, 28), "image: 1 x 28 x 28"),
    ):
        lines += [f"{name}", f"  {'input':<9}{start}"]
        blocks = list(net.net)
        out = x.view(2, Z_DIM, 1, 1) if name == "Generator" else x
        number = 0
        with torch.no_grad():
            net.eval()
            i = 0
            while i < len(blocks):
                block = blocks[i]
                layers = list(block) if isinstance(block, nn.Sequential) else [block]
                if (
                    not isinstance(block, nn.Sequential)
                    and i + 1 < len(blocks)
                    and not isinstance(blocks[i + 1], nn.Sequential)
                ):
                    layers.append(blocks[i + 1])  # the final convolution and its activation
                    i += 1
                for layer in layers:
                    out = layer(out)
                number += 1
                shape = " x ".join(str(s) for s in out.shape[1:])
                final = " (final block)" if i == len(blocks) - 1 else ""
                lines.append(
                    f"  block {number}  {' -> '.join(_layer_name(m) for m in layers):<72} {shape}{final}"
                )
                i += 1
        lines.append("")
    return "\n".join(lines).rstrip()


def _layer_name(module: nn.Module) -> str:
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        return (
            f"{type(module).__name__}({module.in_channels} -> {module.out_channels}, "
            f"kernel {module.kernel_size[0]}, stride {module.stride[0]})"
        )
    if isinstance(module, nn.BatchNorm2d):
        return f"BatchNorm2d({module.num_features})"
    if isinstance(module, nn.LeakyReLU):
        return f"LeakyReLU({module.negative_slope})"
    return type(module).__name__


@dataclass
class Run:
    """A training run to look at: its per-step history and its samples after some steps."""

    title: str
    history: list[dict]
    samples: dict[int, torch.Tensor] = field(default_factory=dict)
    seconds: float = 0.0


def reference_run(images: torch.Tensor, steps: int = 200, snapshots: int = 3, seed: int = 0) -> Run:
    """The lab's DCGAN trained by the kit for ``steps`` steps on ``images`` ((N, 1, 28, 28) in [0, 1]).

    The same layers and recipe as the notebook's (:func:`lab_config`), trained by the kit's own
    :class:`~deepfakelab.gan.training.DCGANTrainer`; its samples from one fixed noise are kept at
    ``snapshots`` evenly spaced steps (the first before any training). About 0.1 s a step on one
    CPU thread.
    """
    trainer = DCGANTrainer(lab_config(steps, seed), images)
    keep = (
        sorted({round(i * steps / max(1, snapshots - 1)) for i in range(snapshots)})
        if snapshots > 1
        else [steps]
    )
    run = Run(f"reference run: the lab's GAN trained by the kit, {steps} steps", [])
    started = time.perf_counter()
    step = 0
    if 0 in keep:
        run.samples[0] = trainer.samples()
    while step < steps:
        for real in trainer.epoch_batches():
            run.history.append({"step": step, **trainer.train_step(real)})
            step += 1
            if step in keep:
                run.samples[step] = trainer.samples()
            if step >= steps:
                break
    run.seconds = time.perf_counter() - started
    return run


def show_run(run: Run, window: int = 10):
    """One row for a run: its two losses per step (faint) and their running mean, D's verdicts
    (mean probability "real" on real and on generated images), and its samples at each kept step."""
    n_samples = len(run.samples)
    fig, axes = plt.subplots(
        1,
        2 + n_samples,
        figsize=(4.2 * 2 + 2.6 * n_samples, 3.1),
        gridspec_kw={"width_ratios": [1.6, 1.6] + [1] * n_samples},
    )
    steps = [h["step"] for h in run.history]
    for key, label, colour in (("d_loss", "D loss", "tab:blue"), ("g_loss", "G loss", "tab:orange")):
        values = np.array([h[key] for h in run.history], dtype=float)
        axes[0].plot(steps, values, color=colour, alpha=0.3, linewidth=0.8)
        axes[0].plot(steps, _running_mean(values, window), color=colour, linewidth=2, label=label)
    axes[0].axhline(np.log(2), color="grey", linestyle=":", linewidth=1, label="ln 2 = 0.69")
    axes[0].set(xlabel="step", ylabel="loss", title="losses")
    axes[0].legend(fontsize=8)
    for key, label, colour in (("d_real", "D(real)", "tab:green"), ("d_fake", "D(fake)", "tab:red")):
        values = np.array([h[key] for h in run.history], dtype=float)
        axes[1].plot(steps, _running_mean(values, window), color=colour, linewidth=1.5, label=label)
    axes[1].set(xlabel="step", ylabel="mean P(real)", title="the discriminator's verdicts", ylim=(0, 1))
    axes[1].legend(fontsize=8)
    for ax, (step, images) in zip(axes[2:], sorted(run.samples.items())):
        show_images(images[:16], f"samples after {step} steps", nrow=4, ax=ax)
    fig.suptitle(run.title, fontsize=11)
    fig.tight_layout()
    return fig


#: Running time of the parts that train (seconds, measured on the kit's 2-core development
#: machine under load, not grading): the reference run 22 s, the main run 52 s, three experiments
#: 61 s, the whole notebook 151 s (the hand-in run).
COMPUTE_SECONDS = {"0": 22, "7": 52, "9": 61, "hand in": 151}


def expected_minutes(notebook: str | Path) -> dict[str, int]:
    """Lab 2's expected time per part, in minutes, estimated from the notebook itself by the
    labs' rule (:func:`deepfakelab.labs.expected_time.expected_minutes`: words at 120 a minute,
    1 minute per line of the solution, 10 minutes per written answer and 15 for a 4-point one,
    1 minute per code cell, plus :data:`COMPUTE_SECONDS`; each part to the nearest 5 minutes, at
    least 5). Parts are the notebook's ``## Part N`` headings; ``"start"`` is the introduction
    and the set-up cell, ``"hand in"`` the final restart-and-run-all. Not a measurement: a count
    of what each part asks. The notebook's and the guide's tables quote these numbers, and a test
    keeps them equal."""
    return expected_time.expected_minutes(notebook, heading=r"## Part (\d+)", compute_seconds=COMPUTE_SECONDS)


def website_line() -> str:
    """One line for the set-up cell: where the notebook's website links lead
    (:func:`deepfakelab.labs.website.website_line`)."""
    return website.website_line()
