"""Figures of a GAN run: loss curves and D's verdicts, headless.

The figures are :class:`matplotlib.figure.Figure` objects made without pyplot: saving one
draws it with matplotlib's Agg renderer, and importing this module leaves pyplot's backend (a
notebook's inline one, say) as it is.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from torchvision.utils import make_grid


def moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing mean over ``window`` steps (shorter at the start), the same length as ``values``."""
    values = np.asarray(values, dtype=float)
    if window <= 1 or len(values) == 0:
        return values
    cumsum = np.cumsum(np.insert(values, 0, 0.0))
    out = np.empty_like(values)
    for i in range(len(values)):
        lo = max(0, i + 1 - window)
        out[i] = (cumsum[i + 1] - cumsum[lo]) / (i + 1 - lo)
    return out


def plot_losses(
    history: list[dict], path: str | Path | None = None, title: str = "", ax_losses=None, ax_probs=None
):
    """Disc-loss vs gen-loss per step (faint) with a running mean (bold), and D(x) vs D(G(z)).

    Returns the matplotlib figure (None when drawing into given axes). A healthy run keeps the
    two losses apart but bounded; D loss sliding to 0 while G loss climbs means D is winning.
    """
    steps = np.array([r["step"] for r in history], dtype=float)
    per_epoch = max(1, int(sum(1 for r in history if r["epoch"] == history[0]["epoch"]))) if history else 1
    epochs = steps / per_epoch
    window = max(1, len(history) // 50)
    fig = None
    if ax_losses is None:
        fig = Figure(figsize=(8, 6))
        ax_losses, ax_probs = fig.subplots(2, 1, sharex=True, height_ratios=[2, 1])
    for key, label, colour in (
        ("d_loss", "discriminator loss", "tab:blue"),
        ("g_loss", "generator loss", "tab:orange"),
    ):
        values = np.array([r[key] for r in history], dtype=float)
        ax_losses.plot(epochs, values, color=colour, alpha=0.25, linewidth=0.8)
        ax_losses.plot(epochs, moving_average(values, window), color=colour, linewidth=2, label=label)
    ax_losses.set_ylabel("BCE loss")
    ax_losses.legend(loc="upper right")
    ax_losses.grid(alpha=0.3)
    if title:
        ax_losses.set_title(title)
    if ax_probs is not None:
        for key, label, colour in (
            ("d_real", "D(x): real judged real", "tab:green"),
            ("d_fake", "D(G(z)): fake judged real", "tab:red"),
        ):
            values = np.array([r[key] for r in history], dtype=float)
            ax_probs.plot(epochs, moving_average(values, window), color=colour, linewidth=1.5, label=label)
        ax_probs.set_ylim(0, 1)
        ax_probs.set_ylabel("mean D output")
        ax_probs.set_xlabel("epoch")
        ax_probs.legend(loc="center right", fontsize=8)
        ax_probs.grid(alpha=0.3)
    if fig is not None:
        fig.tight_layout()
        if path is not None:
            fig.savefig(path, dpi=110)
    return fig


def image_grid(images, nrow: int = 8) -> np.ndarray:
    """(N, C, H, W) tensor in [0, 1] -> (H', W', 3) uint8 grid for matplotlib or saving."""
    grid = make_grid(images, nrow=nrow, padding=2, pad_value=1.0)
    return (grid.permute(1, 2, 0).clamp(0, 1).numpy() * 255).astype(np.uint8)
