"""GAN figures: a short DCGAN run of the kit, its loss curves and its sample grids.

The run is Lab 2's classic 28 px DCGAN on the kit's bag data, trained by
:func:`deepfakelab.gan.training.train` exactly as a student's run is, only shorter; the curves are
the kit's own :func:`~deepfakelab.gan.plots.plot_losses`. Captions carry the run's real length
and the numbers it measured, so nobody mistakes a build-time run for a finished one.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from .snippets import Figure

#: (epochs, steps per epoch, batch size) of the build-time run. The quick one (tests) only has
#: to prove the figure still matches the code; the full one shows the contest's first epochs.
QUICK_RUN = (2, 6, 32)
FULL_RUN = (6, 50, 64)

#: A finished run folder to draw instead of training one (``site/build.py --gan-run DIR``),
#: e.g. ``outputs/demo/gan/...`` or a student's run: its history.csv and samples/ are used.
RUN_DIR: Path | None = None


def _existing_run(out_dir: Path, run_dir: Path) -> list[Figure]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from deepfakelab.gan.plots import plot_losses
    from deepfakelab.gan.training import read_history, summarise_epochs

    history = read_history(run_dir)
    grids = sorted((run_dir / "samples").glob("epoch_*.png"))
    if not history or not grids:
        raise FileNotFoundError(f"{run_dir} has no history.csv rows or no samples/epoch_*.png")
    losses = out_dir / "losses.png"
    plot_losses(history, losses, title=run_dir.name)
    fig, axes = plt.subplots(1, 2, figsize=(7, 3.8))
    for ax, grid in zip(axes, (grids[0], grids[-1])):
        ax.imshow(plt.imread(grid), cmap="gray")
        ax.set_title(f"generator after {grid.stem.replace('_', ' ')}", fontsize=10)
        ax.axis("off")
    fig.tight_layout()
    samples = out_dir / "samples.png"
    fig.savefig(samples, dpi=100)
    plt.close(fig)
    final = summarise_epochs(history)[-1]
    run = f"The run in `{run_dir.name}`: {len(history)} training steps over {final['epoch']} epochs."
    return [
        Figure(
            "fig_gan_curves",
            losses,
            "Discriminator and generator loss curves of a DCGAN run",
            f"Loss curves drawn by `deepfakelab.gan.plots.plot_losses`. Top: the two losses per "
            f"step (faint) and their running mean (bold). Bottom: \\(D(x)\\) and \\(D(G(z))\\). {run} "
            f"Means over the last epoch: D loss {final['d_loss']:.2f}, G loss {final['g_loss']:.2f}.",
        ),
        Figure(
            "fig_gan_samples",
            samples,
            "The generator's samples after the first and the last epoch",
            f"The generator's images from the same fixed noise after the first and the last epoch. {run}",
        ),
    ]


def make(out_dir: Path, quick: bool) -> list[Figure]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from deepfakelab.gan.config import classic28
    from deepfakelab.gan.data import load_bags
    from deepfakelab.gan.plots import image_grid
    from deepfakelab.gan.training import train

    if RUN_DIR is not None:
        return _existing_run(out_dir, Path(RUN_DIR)) + [
            _discriminator_wins_figure(out_dir, load_bags("auto", seed=0), quick)
        ]
    epochs, steps, batch = QUICK_RUN if quick else FULL_RUN
    bags = load_bags("auto", seed=0)
    lopsided = _discriminator_wins_figure(out_dir, bags, quick)
    config = (
        classic28()
        .replace(
            **{
                "train.epochs": epochs,
                "train.max_steps_per_epoch": steps,
                "train.batch_size": batch,
                "train.seed": 0,
                "train.device": "cpu",
                "train.num_samples": 32,
            }
        )
        .validate()
    )
    with tempfile.TemporaryDirectory(prefix="site-gan-") as tmp:
        result = train(config, bags.train, Path(tmp) / "run", progress=False)
        losses = out_dir / "losses.png"
        shutil.copyfile(result.files["losses"], losses)
        first = plt.imread(result.run_dir / "samples" / "epoch_0001.png")
        last = plt.imread(result.files["samples"])

    real = image_grid(bags.train[:32], nrow=6)
    fig, axes = plt.subplots(1, 3, figsize=(10, 3.8))
    for ax, image, title in (
        (axes[0], real, "real bags (training data)"),
        (axes[1], first, "generator after epoch 1"),
        (axes[2], last, f"generator after epoch {epochs}"),
    ):
        ax.imshow(image, cmap="gray")
        ax.set_title(title, fontsize=10)
        ax.axis("off")
    fig.tight_layout()
    samples = out_dir / "samples.png"
    fig.savefig(samples, dpi=100)
    plt.close(fig)

    final = result.epochs[-1]
    total_steps = len(result.history)
    numbers = {
        "steps": total_steps,
        "batch_size": batch,
        "seconds": round(result.seconds, 1),
        "final_d_loss": round(final["d_loss"], 3),
        "final_g_loss": round(final["g_loss"], 3),
        "final_d_real": round(final["d_real"], 3),
        "final_d_fake": round(final["d_fake"], 3),
        "data": bags.description,
    }
    run = (
        f"Lab 2's classic 28 px DCGAN (`classic28()`), trained by the kit while this site was "
        f"built: {total_steps} steps of {batch} images ({epochs} epochs of {steps} steps), "
        f"{result.seconds:.0f} s on the build machine's CPU. Data: {bags.description}."
    )
    return [
        Figure(
            "fig_gan_curves",
            losses,
            "Discriminator and generator loss curves of a short DCGAN run",
            f"Loss curves drawn by `deepfakelab.gan.plots.plot_losses`. Top: the two losses per step "
            f"(faint) and their running mean (bold). Bottom: \\(D(x)\\), how real the discriminator "
            f"finds real images, and \\(D(G(z))\\), how real it finds the generator's. {run} Means "
            f"over the last epoch: D loss {final['d_loss']:.2f}, G loss {final['g_loss']:.2f}, "
            f"\\(D(x)\\) {final['d_real']:.2f}, \\(D(G(z))\\) {final['d_fake']:.2f}. A run this short "
            "shows the start of the contest only; a lab run is much longer.",
            numbers,
        ),
        Figure(
            "fig_gan_samples",
            samples,
            "Real bags, and the generator's samples after the first and the last epoch",
            f"Left: real training images. Middle and right: the generator's images from the same "
            f"fixed noise after the first and the last epoch of the same run ({total_steps} steps in "
            "all). With more training the shapes sharpen; look for variety across the grid.",
        ),
        lopsided,
    ]


def lopsided_config(base):
    """``base`` with a generator of 16/8/4 channels against a discriminator of 64/128: a
    discriminator far stronger than its generator, the classic way to make D win."""
    from deepfakelab.gan.config import BlockSpec

    return base.replace(
        **{
            "generator.blocks": [BlockSpec(16, 3, 2), BlockSpec(8, 4, 1), BlockSpec(4, 3, 2)],
            "discriminator.blocks": [BlockSpec(64, 4, 2), BlockSpec(128, 4, 2)],
        }
    ).validate()


def _discriminator_wins_figure(out_dir: Path, bags, quick: bool) -> Figure:
    """Loss curves and samples of a run whose discriminator overpowers its generator."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from deepfakelab.gan.config import classic28
    from deepfakelab.gan.plots import plot_losses
    from deepfakelab.gan.training import train

    epochs, steps, batch = QUICK_RUN if quick else (6, 25, 64)
    config = lopsided_config(
        classic28().replace(
            **{
                "train.epochs": epochs,
                "train.max_steps_per_epoch": steps,
                "train.batch_size": batch,
                "train.seed": 0,
                "train.device": "cpu",
                "train.num_samples": 32,
            }
        )
    )
    with tempfile.TemporaryDirectory(prefix="site-gan-lopsided-") as tmp:
        result = train(config, bags.train, Path(tmp) / "run", progress=False)
        last = plt.imread(result.files["samples"])
    fig = plt.figure(figsize=(10, 4.2))
    grid = fig.add_gridspec(2, 2, width_ratios=[1.6, 1], height_ratios=[2, 1])
    ax_losses, ax_probs = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[1, 0])
    plot_losses(result.history, ax_losses=ax_losses, ax_probs=ax_probs)
    ax_samples = fig.add_subplot(grid[:, 1])
    ax_samples.imshow(last, cmap="gray")
    ax_samples.set_title(f"generator after epoch {epochs}", fontsize=10)
    ax_samples.axis("off")
    fig.tight_layout()
    path = out_dir / "discriminator_wins.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    first, final = result.epochs[0], result.epochs[-1]
    return Figure(
        "fig_gan_dwins",
        path,
        "Loss curves and samples of a run in which the discriminator wins",
        f"A run made to go wrong, trained while this site was built: the same recipe, but a "
        f"generator with 16/8/4 channels against a discriminator with 64/128 ({len(result.history)} "
        f"steps of {batch} images, {result.seconds:.0f} s). The discriminator's loss fell from "
        f"{first['d_loss']:.2f} (first epoch) to {final['d_loss']:.2f} (last epoch) while the "
        f"generator's rose from {first['g_loss']:.2f} to {final['g_loss']:.2f}; "
        f"\\(D(x)\\) ended at {final['d_real']:.2f} and \\(D(G(z))\\) at {final['d_fake']:.2f}.",
        {
            "first_d_loss": round(first["d_loss"], 3),
            "final_d_loss": round(final["d_loss"], 3),
            "first_g_loss": round(first["g_loss"], 3),
            "final_g_loss": round(final["g_loss"], 3),
        },
    )
