"""Training a DCGAN, one epoch at a time, with everything a run needs to be trusted.

A run lives in one folder::

    config.json            the full GANConfig (what was trained)
    history.csv            one row per step: epoch, step, d_loss, g_loss, d_real, d_fake
    epochs.csv             the same, averaged per epoch
    losses.png             disc-loss and gen-loss curves
    samples/epoch_0001.png a grid from the same fixed noise after every epoch (marked as generated)
    checkpoints/epoch_0001.pt   networks, optimisers, random-number states, history

A run killed halfway and started again with the same folder resumes from its newest checkpoint
and ends with exactly the history of an uninterrupted run: the checkpoint holds the state of
every random-number stream the loop draws from (data order, noise, dropout).
NaN or infinite losses stop the run with :class:`~deepfakelab.errors.TrainingDiverged`; the
last good checkpoint stays on disk.
"""

from __future__ import annotations

import csv
import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch
from torch import nn
from torchvision.utils import make_grid
from tqdm.auto import tqdm

from ..datafiles import read_json_file
from ..errors import ConfigError, TrainingDiverged
from ..media.files import check_input_file, check_output_folder
from ..provenance.marking import Provenance, save_marked_image
from ..runtime import resolve_device, seed_everything
from .config import GANConfig
from .models import Generator, build_models
from .plots import plot_losses

STEP_FIELDS = ["epoch", "step", "d_loss", "g_loss", "d_real", "d_fake"]


@dataclass
class TrainResult:
    """What a finished run returns: its folder, its per-step history and per-epoch summary."""

    run_dir: Path
    history: list[dict]
    epochs: list[dict]
    resumed_from_epoch: int = 0
    seconds: float = 0.0
    images_per_second: float = 0.0
    files: dict[str, Path] = field(default_factory=dict)


class DCGANTrainer:
    """Holds both networks and their optimisers, and performs the training step.

    ``data`` is a (N, C, H, W) float tensor in [0, 1]; it is scaled once to the generator's
    output range ([-1, 1] for tanh, [0, 1] for sigmoid) and kept on the training device, so no
    data loader sits between the step and the GPU or CPU.
    """

    def __init__(self, config: GANConfig, data: torch.Tensor, device: str | torch.device | None = None):
        self.config = config.validate()
        expected = (config.channels, config.image_size, config.image_size)
        if tuple(data.shape[1:]) != expected:
            raise ConfigError(
                f"the data are {tuple(data.shape[1:])} images but the config expects {expected} "
                "(channels, height, width): set image_size/channels to match the data"
            )
        if len(data) < config.train.batch_size:
            raise ConfigError(
                f"only {len(data)} training images for batch_size {config.train.batch_size}: lower the batch size"
            )
        self.device = resolve_device(device if device is not None else config.train.device)
        t = config.train
        seed_everything(t.seed)
        self.generator, self.discriminator = build_models(config)
        self.generator.to(self.device)
        self.discriminator.to(self.device)
        self.opt_g = torch.optim.Adam(self.generator.parameters(), lr=t.lr, betas=(t.beta1, t.beta2))
        self.opt_d = torch.optim.Adam(self.discriminator.parameters(), lr=t.lr, betas=(t.beta1, t.beta2))
        self.criterion = nn.BCEWithLogitsLoss()
        scaled = data * 2 - 1 if config.generator.output_activation == "tanh" else data
        self.data = scaled.to(self.device, torch.float32).contiguous()
        # One stream for data order and noise, separate from torch's global one (used by dropout).
        self.rng = torch.Generator().manual_seed(t.seed)
        self.fixed_noise = torch.randn(
            t.num_samples, config.generator.z_dim, generator=torch.Generator().manual_seed(t.seed + 1)
        ).to(self.device)

    @property
    def steps_per_epoch(self) -> int:
        steps = len(self.data) // self.config.train.batch_size
        cap = self.config.train.max_steps_per_epoch
        return min(steps, cap) if cap else steps

    def noise(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.config.generator.z_dim, generator=self.rng).to(self.device)

    def train_step(self, real: torch.Tensor) -> dict[str, float]:
        """One discriminator update, then one generator update, on a batch of real images."""
        n = real.shape[0]
        ones = torch.ones(n, device=self.device)
        zeros = torch.zeros(n, device=self.device)
        fake = self.generator(self.noise(n))

        # (1) Update D: maximise log D(x) + log(1 - D(G(z))),
        #     i.e. minimise BCE(D(x), 1) + BCE(D(G(z)), 0), averaged over the two halves.
        self.opt_d.zero_grad(set_to_none=True)
        logits_real = self.discriminator(real)
        logits_fake = self.discriminator(fake.detach())
        d_loss = (self.criterion(logits_real, ones) + self.criterion(logits_fake, zeros)) / 2
        d_loss.backward()
        self.opt_d.step()

        # (2) Update G: maximise log D(G(z)) -- the non-saturating objective -- i.e. minimise
        #     BCE(D(G(z)), 1). D's weights are frozen here: their gradients would be thrown away.
        self.opt_g.zero_grad(set_to_none=True)
        self.discriminator.requires_grad_(False)
        logits_g = self.discriminator(fake)
        g_loss = self.criterion(logits_g, ones)
        g_loss.backward()
        self.discriminator.requires_grad_(True)
        self.opt_g.step()

        return {
            "d_loss": d_loss.item(),
            "g_loss": g_loss.item(),
            "d_real": torch.sigmoid(logits_real).mean().item(),  # D(x): how real D finds real images
            "d_fake": torch.sigmoid(logits_fake).mean().item(),  # D(G(z)): how real D finds fakes
        }

    def epoch_batches(self):
        """Yield the batches of one epoch in a fresh random order (drawn from ``self.rng``)."""
        order = torch.randperm(len(self.data), generator=self.rng).to(self.device)
        b = self.config.train.batch_size
        for i in range(self.steps_per_epoch):
            yield self.data[order[i * b : (i + 1) * b]]

    @torch.no_grad()
    def samples(self, noise: torch.Tensor | None = None) -> torch.Tensor:
        """Images in [0, 1] from ``noise`` (default: the fixed noise), generator in eval mode."""
        return generate(self.generator, self.fixed_noise if noise is None else noise, self.config)

    # ----------------------------------------------------------------- checkpoints
    def state_dict(self, epoch: int, history: list[dict]) -> dict:
        return {
            "format": "deepfakelab.gan/1",
            "epoch": epoch,
            "config": self.config.to_dict(),
            "generator": self.generator.state_dict(),
            "discriminator": self.discriminator.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "rng": self.rng.get_state(),
            "torch_rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state_all() if self.device.type == "cuda" else [],
            "history": history,
        }

    def load_state_dict(self, state: dict) -> tuple[int, list[dict]]:
        self.generator.load_state_dict(state["generator"])
        self.discriminator.load_state_dict(state["discriminator"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.rng.set_state(state["rng"])
        torch.set_rng_state(state["torch_rng"])
        if state.get("cuda_rng") and self.device.type == "cuda":
            torch.cuda.set_rng_state_all(state["cuda_rng"])
        return int(state["epoch"]), list(state["history"])


@torch.no_grad()
def generate(generator: Generator, noise: torch.Tensor, config: GANConfig) -> torch.Tensor:
    """Run the generator in eval mode and map its output to [0, 1] images (N, C, H, W)."""
    was_training = generator.training
    generator.eval()
    images = generator(noise)
    generator.train(was_training)
    if config.generator.output_activation == "tanh":
        images = (images + 1) / 2
    return images.clamp(0, 1).cpu()


def train(
    config: GANConfig,
    data: torch.Tensor,
    run_dir: str | os.PathLike,
    *,
    resume: bool = True,
    progress: bool = True,
    on_epoch_end: Callable[[int, dict], None] | None = None,
) -> TrainResult:
    """Train ``config`` on ``data`` ((N, C, H, W) in [0, 1]), writing the run into ``run_dir``.

    With ``resume`` (the default) a folder that already holds checkpoints of the same config
    continues from the newest; its epoch count may be raised to train longer.
    ``on_epoch_end(epoch, summary)`` is called after each epoch's checkpoint is on disk.
    """
    run_dir, marks = _prepare_run_folder(run_dir, config, resume)
    trainer = DCGANTrainer(config, data)
    start_epoch, history = _resume(trainer, run_dir, resume, progress)
    _write_json(run_dir / "config.json", config.to_dict())

    bar = tqdm(
        total=(config.train.epochs - start_epoch) * trainer.steps_per_epoch,
        disable=not progress,
        unit="step",
        desc=f"GAN on {trainer.device.type}",
        dynamic_ncols=True,
    )
    started, images = time.perf_counter(), 0
    try:
        for epoch in range(start_epoch + 1, config.train.epochs + 1):
            rows = _train_epoch(trainer, epoch, run_dir, bar)
            images += sum(r["batch"] for r in rows)
            history.extend({k: v for k, v in r.items() if k != "batch"} for r in rows)
            _end_epoch(trainer, epoch, history, run_dir, marks)
            if on_epoch_end:
                on_epoch_end(epoch, summarise_epochs(history[-len(rows) :])[0])
    finally:
        bar.close()
    return _finish(run_dir, history, config.train.epochs, start_epoch, time.perf_counter() - started, images)


def _prepare_run_folder(run_dir, config: GANConfig, resume: bool):
    """The run folder checked and made, and the provenance marks the sample grids get.

    A key that cannot sign stops the run here, before any training.
    """
    run_dir = check_run_folder(run_dir, resume)

    marks = Provenance().check()
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "samples").mkdir(exist_ok=True)
    (run_dir / "checkpoints").mkdir(exist_ok=True)
    _check_same_run(run_dir, config, resume)
    return run_dir, marks


def _resume(trainer: DCGANTrainer, run_dir: Path, resume: bool, progress: bool) -> tuple[int, list[dict]]:
    """The epoch to continue after and the history so far: from the newest checkpoint, or a fresh start."""
    checkpoint = latest_checkpoint(run_dir) if resume else None
    if checkpoint is None:
        return 0, []
    start_epoch, history = trainer.load_state_dict(_load(checkpoint))
    if progress:
        print(f"resuming {run_dir} after epoch {start_epoch} ({checkpoint.name})")
    return start_epoch, history


def _train_epoch(trainer: DCGANTrainer, epoch: int, run_dir: Path, bar) -> list[dict]:
    """One epoch of training steps; a row per step (with its batch size under ``batch``)."""
    rows, steps = [], trainer.steps_per_epoch
    for step, real in enumerate(trainer.epoch_batches(), 1):
        stats = trainer.train_step(real)
        if not all(math.isfinite(v) for v in stats.values()):
            last = latest_checkpoint(run_dir)
            raise TrainingDiverged(
                f"training diverged at epoch {epoch}, step {step}: "
                + ", ".join(f"{k}={v:.4g}" for k, v in stats.items())
                + (f". The last good checkpoint is {last}" if last else ". No checkpoint was written yet")
                + "; try a lower learning rate (train.lr) or batch norm in the discriminator."
            )
        rows.append({"epoch": epoch, "step": (epoch - 1) * steps + step, **stats, "batch": real.shape[0]})
        bar.update(1)
        bar.set_postfix(epoch=epoch, d_loss=f"{stats['d_loss']:.3f}", g_loss=f"{stats['g_loss']:.3f}")
    return rows


def _end_epoch(trainer: DCGANTrainer, epoch: int, history: list[dict], run_dir: Path, marks) -> None:
    """The epoch's marked sample grid, its checkpoint and the history so far, on disk."""
    _save_image_grid(trainer.samples(), run_dir / "samples" / f"epoch_{epoch:04d}.png", marks=marks.sibling())
    _save_checkpoint(
        trainer.state_dict(epoch, history), run_dir, epoch, trainer.config.train.keep_checkpoints
    )
    write_history(run_dir, history)


def _finish(
    run_dir: Path, history: list[dict], epochs: int, start_epoch: int, seconds: float, images: int
) -> TrainResult:
    """The loss curves drawn and what the run wrote, with its speed."""
    write_history(run_dir, history)

    plot_losses(history, run_dir / "losses.png", title=run_dir.name)
    files = {
        "config": run_dir / "config.json",
        "history": run_dir / "history.csv",
        "losses": run_dir / "losses.png",
        "samples": run_dir / "samples" / f"epoch_{epochs:04d}.png",
        "checkpoint": latest_checkpoint(run_dir),
    }
    return TrainResult(
        run_dir,
        history,
        summarise_epochs(history),
        start_epoch,
        seconds,
        images / seconds if seconds > 0 else 0.0,
        files,
    )


# --------------------------------------------------------------------------- history
def summarise_epochs(history: list[dict]) -> list[dict]:
    """Average the per-step rows of each epoch."""
    by_epoch: dict[int, list[dict]] = {}
    for row in history:
        by_epoch.setdefault(int(row["epoch"]), []).append(row)
    return [
        {
            "epoch": e,
            **{k: sum(float(r[k]) for r in rows) / len(rows) for k in STEP_FIELDS[2:]},
            "steps": len(rows),
        }
        for e, rows in sorted(by_epoch.items())
    ]


def write_history(run_dir: Path, history: list[dict]) -> None:
    """Write history.csv (per step) and epochs.csv (per epoch), atomically."""
    _write_csv(run_dir / "history.csv", STEP_FIELDS, history)
    _write_csv(run_dir / "epochs.csv", ["epoch", *STEP_FIELDS[2:], "steps"], summarise_epochs(history))


def read_history(run_dir: str | os.PathLike) -> list[dict]:
    """The per-step history of a run folder, as a list of dicts of numbers."""
    with open(Path(run_dir) / "history.csv", newline="") as fh:
        return [
            {k: (int(v) if k in ("epoch", "step") else float(v)) for k, v in row.items()}
            for row in csv.DictReader(fh)
        ]


def _write_csv(path: Path, fields: list[str], rows: list[dict]) -> None:
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, path)


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True))
    os.replace(tmp, path)


# --------------------------------------------------------------------------- checkpoints
def latest_checkpoint(run_dir: str | os.PathLike) -> Path | None:
    """The newest ``checkpoints/epoch_*.pt`` of a run, or None."""
    found = sorted((Path(run_dir) / "checkpoints").glob("epoch_*.pt"))
    return found[-1] if found else None


def _save_checkpoint(state: dict, run_dir: Path, epoch: int, keep: int) -> Path:
    path = run_dir / "checkpoints" / f"epoch_{epoch:04d}.pt"
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)  # atomic: a kill during the save leaves the previous checkpoint intact
    for old in sorted((run_dir / "checkpoints").glob("epoch_*.pt"))[:-keep]:
        old.unlink()
    return path


def _load(path: Path) -> dict:
    path = check_input_file(path, "GAN checkpoint")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file gets the same clear message
        # torch's own message can be a page long (the weights_only advice): its first line is enough
        detail = (str(exc).strip().splitlines() or [""])[0].split(". ")[0][:160]
        raise ConfigError(
            f"{path}: not a readable deepfakelab GAN checkpoint, truncated or another kind of file "
            f"({type(exc).__name__}: {detail})"
        ) from None
    if not isinstance(state, dict) or state.get("format") != "deepfakelab.gan/1":
        raise ConfigError(
            f"{path}: not a deepfakelab GAN checkpoint (no 'format': 'deepfakelab.gan/1' entry)"
        )
    return state


def check_run_folder(run_dir: str | os.PathLike, resume: bool = True) -> Path:
    """Refuse, before any data is loaded or step taken, a run folder that cannot be written or resumed.

    The folder must be (or be creatable as) a writable folder; when resuming, its config.json
    and newest checkpoint must be readable, since :func:`train` would otherwise find out after
    building the networks, and an epoch's work would be lost if the folder could not take it.
    """
    run_dir = check_output_folder(run_dir)
    if not resume or latest_checkpoint(run_dir) is None:
        return run_dir
    if (run_dir / "config.json").exists():
        read_json_file(run_dir / "config.json", "run config (config.json)")
    newest = latest_checkpoint(run_dir)
    try:
        _load(newest)
    except ConfigError as exc:
        raise ConfigError(
            f"{exc}; delete it to resume from the checkpoint before, or start over with --fresh"
        ) from None
    return run_dir


def _check_same_run(run_dir: Path, config: GANConfig, resume: bool) -> None:
    """Refuse to mix two different configs in one run folder (only the epoch count may grow)."""
    saved = run_dir / "config.json"
    if not (resume and saved.exists() and latest_checkpoint(run_dir)):
        if not resume:
            for old in (run_dir / "checkpoints").glob("epoch_*.pt"):
                old.unlink()
        return
    previous = read_json_file(saved, "run config (config.json)")
    current = config.to_dict()
    previous["train"].pop("epochs", None)
    current["train"].pop("epochs", None)
    if previous != current:
        raise ConfigError(
            f"{run_dir} holds a run with a different config; choose another output folder, "
            "or start over with --fresh (which deletes its checkpoints)"
        )


def load_run(path: str | os.PathLike, device: str | None = "cpu") -> tuple[Generator, GANConfig]:
    """The trained generator and its config, from a run folder or a checkpoint file."""
    path = Path(path)
    if path.is_dir():
        checkpoint = latest_checkpoint(path)
        if checkpoint is None:
            raise ConfigError(
                f"{path}: no checkpoint found in this run folder (expected checkpoints/epoch_*.pt)"
            )
    else:
        checkpoint = check_input_file(path, "GAN checkpoint (.pt) or run folder")
    state = _load(checkpoint)
    config = GANConfig.from_dict(state["config"])
    generator = Generator(config)
    generator.load_state_dict(state["generator"])
    return generator.to(resolve_device(device)).eval(), config


def _save_image_grid(images: torch.Tensor, path: Path, nrow: int | None = None, marks=None) -> None:
    """The grid as torchvision's ``save_image`` draws it, with the kit's label band, watermark and
    signed manifest (generated pictures say so: :mod:`deepfakelab.provenance.marking`)."""

    nrow = nrow or max(1, int(math.sqrt(len(images))))
    grid = make_grid(images.detach().cpu(), nrow=nrow, padding=2, pad_value=1.0)
    pixels = grid.mul(255).add_(0.5).clamp_(0, 255).permute(1, 2, 0).to(torch.uint8).numpy()
    save_marked_image(path, pixels, marks, band=True)
