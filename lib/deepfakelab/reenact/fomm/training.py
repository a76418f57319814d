"""Self-supervised FOMM training: reconstruct a driving frame from a source frame of the same video.

One training step (Sec. 3.3 of the paper, without the GAN term)::

    kp_source, kp_driving = kp_detector(source), kp_detector(driving)
    prediction            = generator(source, kp_driving, kp_source)
    loss = reconstruction(prediction, driving)       # image pyramid, pixels or VGG-19 features
         + equivariance_value + equivariance_jacobian  # under a random thin-plate-spline warp

Runs on one CPU or GPU, or on several GPUs/hosts with ``torchrun`` (DistributedDataParallel,
NCCL on GPUs, gloo on CPUs), e.g.::

    torchrun --nproc_per_node 4 -m deepfakelab.reenact.fomm.training fomm-small-64 --out runs/fomm

Rank 0 writes checkpoints every ``checkpoint_every`` steps (atomically; ``last.pth.tar``), a
validation reconstruction strip (PNG) every ``validate_every`` steps and ``log.jsonl``. Starting
again with the same ``--out`` resumes from ``last.pth.tar``: weights, optimiser, step, and the
data order (batch ``s`` is drawn from a generator seeded by ``(seed, s, rank)``, so a resumed
run sees exactly the batches an uninterrupted one would have).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader, Dataset, Sampler
from tqdm.auto import tqdm

from ...errors import ConfigError, DeepfakeLabError, TrainingDiverged
from ...media.files import check_input_file, check_output_file, check_output_folder
from ...provenance.marking import Provenance, save_marked_figure
from ...runtime import resolve_device
from .checkpoint import export_weights, read_checkpoint, save_checkpoint
from .config import ModelConfig, model_config_from_dict, read_yaml
from .losses import ImagePyramid, Vgg19Features, equivariance_losses, reconstruction_loss
from .data import FolderPairs, heads_pairs
from .model import FirstOrderModel
from .train_args import add_training_arguments
from .transforms import RandomTPS


@dataclass
class TransformParams:
    sigma_affine: float = 0.05
    sigma_tps: float = 0.005
    points_tps: int = 5


@dataclass
class LossWeights:
    reconstruction: list[float] = field(default_factory=lambda: [10.0])
    perceptual: list[float] = field(default_factory=lambda: [10.0] * 5)
    equivariance_value: float = 10.0
    equivariance_jacobian: float = 10.0


@dataclass
class TrainParams:
    """The ``train_params`` block of a config (see ``configs/fomm-small-64.yaml``)."""

    steps: int = 1500
    batch_size: int = 16
    lr: float = 2e-4
    lr_milestones: list[int] = field(default_factory=list)
    scales: list[float] = field(default_factory=lambda: [1, 0.5, 0.25, 0.125])
    checkpoint_every: int = 100
    validate_every: int = 100
    seed: int = 0
    num_workers: int = 0
    transform_params: TransformParams = field(default_factory=TransformParams)
    loss_weights: LossWeights = field(default_factory=LossWeights)
    data: dict = field(default_factory=lambda: {"kind": "heads", "size": 64})

    @classmethod
    def from_dict(cls, values: dict | None, where: str = "train_params") -> "TrainParams":
        values = dict(values or {})
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"{where}: unknown setting(s) {unknown}; known: {sorted(known)}")
        for name, sub in (("transform_params", TransformParams), ("loss_weights", LossWeights)):
            if name in values:
                sub_known = {f.name for f in dataclasses.fields(sub)}
                bad = sorted(set(values[name]) - sub_known)
                if bad:
                    raise ConfigError(f"{where}.{name}: unknown setting(s) {bad}; known: {sorted(sub_known)}")
                values[name] = sub(**values[name])
        params = cls(**values)
        if params.steps < 1 or params.batch_size < 1:
            raise ConfigError(f"{where}: steps and batch_size must be at least 1")
        return params


def load_training_config(path: str | Path) -> tuple[ModelConfig, TrainParams]:
    """``model_params`` and ``train_params`` of a YAML file or built-in config name."""
    data = read_yaml(path)
    return (
        model_config_from_dict(data["model_params"], f"{path}: model_params"),
        TrainParams.from_dict(data.get("train_params"), f"{path}: train_params"),
    )


class TrainingModel(nn.Module):
    """The model plus its losses, so one ``forward`` is one differentiable step (and one DDP call)."""

    def __init__(self, model: FirstOrderModel, params: TrainParams, vgg: Vgg19Features | None = None):
        super().__init__()
        self.model = model
        self.params = params
        self.pyramid = ImagePyramid(params.scales, model.config.common_params.num_channels)
        self.vgg = vgg

    def forward(
        self, source: torch.Tensor, driving: torch.Tensor, transform: RandomTPS
    ) -> tuple[dict, torch.Tensor]:
        weights = self.params.loss_weights
        kp_source = self.model.kp_detector(source)
        kp_driving = self.model.kp_detector(driving)
        generated = self.model.generator(source, kp_driving=kp_driving, kp_source=kp_source)
        losses = {}
        recon_weights = weights.perceptual if self.vgg is not None else weights.reconstruction
        losses["reconstruction"] = reconstruction_loss(
            self.pyramid, generated.prediction, driving, recon_weights, self.vgg
        )
        if weights.equivariance_value or weights.equivariance_jacobian:
            value, jacobian = equivariance_losses(self.model.kp_detector, driving, kp_driving, transform)
            losses["equivariance_value"] = weights.equivariance_value * value
            if jacobian is not None and weights.equivariance_jacobian:
                losses["equivariance_jacobian"] = weights.equivariance_jacobian * jacobian
        return losses, generated.prediction


class StepBatchSampler(Sampler):
    """Batch ``s`` = ``batch_size`` indices drawn with a generator seeded by ``(seed, s, rank)``.

    Any step's batch is known without replaying the earlier ones, so resuming is exact and each
    rank of a distributed run sees different data.
    """

    def __init__(self, dataset_size: int, batch_size: int, start: int, stop: int, seed: int, rank: int = 0):
        self.dataset_size, self.batch_size = dataset_size, batch_size
        self.start, self.stop, self.seed, self.rank = start, stop, seed, rank

    def __len__(self) -> int:
        return max(self.stop - self.start, 0)

    def __iter__(self):
        for step in range(self.start, self.stop):
            generator = torch.Generator().manual_seed(derived_seed(self.seed, step, self.rank, 0))
            yield torch.randint(self.dataset_size, (self.batch_size,), generator=generator).tolist()


def derived_seed(*parts: int) -> int:
    """A well-mixed 63-bit seed from integers (the same in every process, unlike ``hash`` of strings)."""
    return int(np.random.SeedSequence([int(p) for p in parts]).generate_state(1, dtype=np.uint64)[0] >> 1)


def _collate(items: list[dict]) -> dict[str, torch.Tensor]:
    return {key: torch.stack([item[key] for item in items]) for key in ("source", "driving")}


def build_dataset(data: dict[str, Any], split: str, seed: int) -> Dataset:
    """The dataset named by ``train_params.data``: ``kind: heads`` (default) or ``kind: folder`` with ``root``."""
    settings = dict(data)
    kind = settings.pop("kind", "heads")
    if kind == "heads":
        return heads_pairs(split, seed=seed, **settings)
    if kind == "folder":
        if "root" not in settings:
            raise ConfigError(
                "train_params.data: kind 'folder' needs 'root' (a folder with train/ and test/)"
            )
        return FolderPairs(
            settings["root"], "train" if split == "train" else "test", settings.get("size", 256), seed=seed
        )
    raise ConfigError(f"train_params.data.kind={kind!r}: use 'heads' or 'folder'")


@dataclass
class DistributedContext:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def init_distributed() -> DistributedContext:
    """Join the process group when started by ``torchrun`` (WORLD_SIZE > 1); NCCL on GPUs, gloo on CPUs."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return DistributedContext()
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if torch.cuda.is_available() else "gloo")
    return DistributedContext(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))


def save_validation_strip(
    path: Path, model: FirstOrderModel, batch: dict[str, torch.Tensor], provenance=None
) -> Path:
    """PNG rows: source, driving, reconstruction, occlusion map (one column per validation pair),
    marked as generated (:func:`~deepfakelab.provenance.marking.save_marked_figure`)."""
    matplotlib.use("Agg")  # when a strip is drawn: importing this module leaves a notebook's backend alone
    model.eval()
    with torch.no_grad():
        generated = model(batch["source"], batch["driving"])
    model.train()
    rows = [
        ("source", batch["source"]),
        ("driving", batch["driving"]),
        ("reconstruction", generated.prediction),
    ]
    if generated.occlusion_map is not None:
        rows.append(("occlusion", generated.occlusion_map.expand(-1, 3, -1, -1)))
    count = batch["source"].shape[0]
    fig, axes = plt.subplots(len(rows), count, figsize=(1.5 * count, 1.6 * len(rows)), squeeze=False)
    for r, (name, images) in enumerate(rows):
        for c in range(count):
            axes[r, c].imshow(images[c].clamp(0, 1).permute(1, 2, 0).cpu().numpy())
            axes[r, c].set_xticks([])
            axes[r, c].set_yticks([])
        axes[r, 0].set_ylabel(name, fontsize=8)
    fig.tight_layout()
    try:  # the reconstructions are generated: watermark and signed manifest (issue 30)
        return save_marked_figure(path, fig, provenance, dpi=80)
    finally:
        plt.close(fig)


def train(
    config: str | Path | tuple[ModelConfig, TrainParams],
    out_dir: str | Path,
    *,
    stop_after: int | None = None,
    vgg_weights: str | Path | None = None,
    device: str = "auto",
    progress: bool = True,
    dataset: Dataset | None = None,
    val_batch: dict | None = None,
) -> dict:
    """Train (or resume training) a FOMM into ``out_dir``; returns a summary.

    config: a YAML path/name with ``model_params`` and ``train_params``, or the two parsed.
    stop_after: stop after this many steps *of this call* (simulates a kill; for tests).
    dataset: any dataset of ``{'source', 'driving'}`` items, instead of ``train_params.data``.
    """
    model_config, params = load_training_config(config) if not isinstance(config, tuple) else config
    run = _start_run(model_config, params, Path(out_dir), vgg_weights, device)
    stop = params.steps if stop_after is None else min(params.steps, run.start + stop_after)
    if run.start >= stop:  # finished before (e.g. rerun with --export): no data to render
        return _summary(run.model, params, run.context, run.last, run.start, 0.0, {})
    loader, val_batch = _training_data(run, stop, dataset, val_batch)
    marks = _strip_marks(run, val_batch)
    if run.context.is_main:
        run.out_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    step, losses = _train_steps(run, loader, stop, val_batch, marks, progress)
    if run.context.world_size > 1:
        dist.barrier()
    return _summary(run.model, params, run.context, run.last, step, time.perf_counter() - started, losses)


@dataclass
class _TrainingRun:
    """What the steps of one :func:`train` call share: the set-up, made once by :func:`_start_run`."""

    params: TrainParams
    context: DistributedContext
    device: torch.device
    out_dir: Path
    model: FirstOrderModel
    step_model: nn.Module  # the model with its losses; wrapped in DistributedDataParallel on several ranks
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.MultiStepLR
    start: int  # the step this call starts at: 0, or the step of the checkpoint it resumed from

    @property
    def last(self) -> Path:
        """The checkpoint written every ``checkpoint_every`` steps, and resumed from."""
        return self.out_dir / "last.pth.tar"


def _start_run(
    model_config: ModelConfig, params: TrainParams, out_dir: Path, vgg_weights: str | Path | None, device: str
) -> _TrainingRun:
    """Join the process group, build the model and its optimiser with the same initial weights on
    every rank, and resume them (and the learning-rate schedule) from ``last.pth.tar`` if it exists."""
    context = init_distributed()
    run_device = _run_device(context, device)
    torch.manual_seed(params.seed)  # identical initial weights on every rank
    model = FirstOrderModel(model_config).to(run_device).train()
    vgg = Vgg19Features(vgg_weights).to(run_device) if vgg_weights else None
    full = TrainingModel(model, params, vgg).to(run_device)
    optimizer = torch.optim.Adam(model.parameters(), lr=params.lr, betas=(0.5, 0.999))
    start = _resume(out_dir / "last.pth.tar", model, optimizer, context)
    scheduler = _scheduler_at(optimizer, params.lr_milestones, start)
    step_model: nn.Module = full
    if context.world_size > 1:
        step_model = nn.parallel.DistributedDataParallel(
            full, device_ids=[context.local_rank] if run_device.type == "cuda" else None
        )
    return _TrainingRun(params, context, run_device, out_dir, model, step_model, optimizer, scheduler, start)


def _run_device(context: DistributedContext, device: str) -> torch.device:
    """This rank's GPU in a distributed run on GPUs (``LOCAL_RANK``), else ``device`` resolved."""
    if context.world_size > 1 and torch.cuda.is_available():
        torch.cuda.set_device(context.local_rank)
        return torch.device("cuda", context.local_rank)
    return resolve_device(device)


def _resume(
    last: Path, model: FirstOrderModel, optimizer: torch.optim.Optimizer, context: DistributedContext
) -> int:
    """Load weights and optimiser from the checkpoint ``last`` if there is one; the step to go on from."""
    if not last.is_file():
        return 0
    checkpoint = read_checkpoint(last)
    model.generator.load_state_dict(checkpoint["generator"])
    model.kp_detector.load_state_dict(checkpoint["kp_detector"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    start = int(checkpoint["step"])
    if context.is_main:
        print(f"resuming from {last} at step {start}")
    return start


def _scheduler_at(
    optimizer: torch.optim.Optimizer, milestones: list[int], start: int
) -> torch.optim.lr_scheduler.MultiStepLR:
    """The learning-rate schedule, fast-forwarded to step ``start`` so a resumed run has the
    learning rate an uninterrupted one would have (the checkpoint does not store the schedule)."""
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones, gamma=0.1)
    with warnings.catch_warnings():  # fast-forwarding the schedule to the resumed step, not training
        warnings.simplefilter("ignore", UserWarning)
        for _ in range(start):
            scheduler.step()
    return scheduler


def _training_data(
    run: _TrainingRun, stop: int, dataset: Dataset | None, val_batch: dict | None
) -> tuple[DataLoader, dict | None]:
    """The loader of the batches of steps ``run.start`` to ``stop`` (:class:`StepBatchSampler`: the
    batches an uninterrupted run would see), and the validation batch the strips show (rank 0)."""
    params, context = run.params, run.context
    dataset = dataset if dataset is not None else build_dataset(params.data, "train", params.seed)
    sampler = StepBatchSampler(len(dataset), params.batch_size, run.start, stop, params.seed, context.rank)
    loader = DataLoader(dataset, batch_sampler=sampler, num_workers=params.num_workers, collate_fn=_collate)
    if val_batch is None and context.is_main and params.validate_every:
        # Held-out identities for the synthetic heads; the first items of a user's dataset otherwise.
        val_set = (
            build_dataset(params.data, "val", params.seed)
            if params.data.get("kind", "heads") == "heads"
            else dataset
        )
        val_batch = _collate([val_set[i] for i in range(min(6, len(val_set)))])
    return loader, val_batch


def _strip_marks(run: _TrainingRun, val_batch: dict | None) -> Provenance | None:
    """The provenance the validation strips are signed with, checked now: a key that cannot sign
    stops the run before training, not at the first strip. None where this rank draws no strips."""
    if run.context.is_main and run.params.validate_every and val_batch is not None:
        return Provenance().check()
    return None


def _train_steps(
    run: _TrainingRun,
    loader: DataLoader,
    stop: int,
    val_batch: dict | None,
    marks: Provenance | None,
    progress: bool,
) -> tuple[int, dict]:
    """The training loop: one :func:`_optimise` per batch; rank 0 also logs and saves after each.
    Returns the step reached and the last step's losses."""
    step, losses = run.start, {}
    bar = tqdm(
        loader,
        total=len(loader),
        initial=0,
        desc=f"training {run.start}->{stop}",
        disable=not (progress and run.context.is_main),
    )
    for batch in bar:
        losses, total = _optimise(run, batch, step)
        step += 1
        if run.context.is_main:
            bar.set_postfix(loss=f"{total.item():.4f}")
            _record_step(run, step, stop, losses, total, val_batch, marks)
    return step, losses


def _optimise(run: _TrainingRun, batch: dict[str, torch.Tensor], step: int) -> tuple[dict, torch.Tensor]:
    """One optimiser step on ``batch``; the random warp of the equivariance losses is drawn from
    ``(seed, step, rank)``, so a resumed run draws the same one. A loss that is not finite stops
    the run, before the step that would write it into the weights."""
    params = run.params
    source, driving = batch["source"].to(run.device), batch["driving"].to(run.device)
    generator = torch.Generator().manual_seed(derived_seed(params.seed, step, run.context.rank, 1))
    transform = RandomTPS(
        source.shape[0], **dataclasses.asdict(params.transform_params), generator=generator
    ).to(run.device)
    losses, _ = run.step_model(source, driving, transform)
    total = sum(losses.values())
    if not torch.isfinite(total):
        raise TrainingDiverged(
            f"step {step}: the loss became {total.item()}; the last good checkpoint is {run.last}"
        )
    run.optimizer.zero_grad(set_to_none=True)
    total.backward()
    run.optimizer.step()
    run.scheduler.step()
    return losses, total


def _record_step(
    run: _TrainingRun,
    step: int,
    stop: int,
    losses: dict,
    total: torch.Tensor,
    val_batch: dict | None,
    marks: Provenance | None,
) -> None:
    """Rank 0 after step ``step``: a line of ``log.jsonl``, and at their intervals (and at the last
    step) the checkpoint and a validation strip."""
    params = run.params
    values = {k: round(v.item(), 5) for k, v in losses.items()}
    with (run.out_dir / "log.jsonl").open("a") as log:
        log.write(json.dumps({"step": step, "loss": round(total.item(), 5), **values}) + "\n")
    if step % params.checkpoint_every == 0 or step == stop:
        save_checkpoint(
            run.last,
            run.model,
            step=step,
            optimizer=run.optimizer.state_dict(),
            train_params=_plain(dataclasses.asdict(params)),
        )
    if (
        params.validate_every
        and val_batch is not None
        and (step % params.validate_every == 0 or step == stop)
    ):
        save_validation_strip(
            run.out_dir / f"validation_{step:06d}.png",
            run.model,
            {k: v[:6].to(run.device) for k, v in val_batch.items()},
            marks.sibling(),
        )


def _summary(
    model, params: TrainParams, context, checkpoint: Path, step: int, seconds: float, losses: dict
) -> dict:
    """What a training call reports (one JSON line per process; ranks agree on the checksum)."""
    return {
        "step": step,
        "steps": params.steps,
        "checkpoint": str(checkpoint),
        "seconds": round(seconds, 1),
        "losses": {k: float(v.detach()) for k, v in losses.items()},
        "world_size": context.world_size,
        "rank": context.rank,
        "parameter_checksum": float(sum(p.detach().double().sum() for p in model.parameters())),
    }


def _plain(value):
    """Containers of numbers and strings only, so the checkpoint loads with weights_only=True."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (int, float, str, bool)) or value is None:
        return value
    return str(value)


def run_from_args(args: argparse.Namespace) -> dict:
    check_output_folder(args.out)
    if getattr(args, "export", None):
        check_output_file(args.export, {".tar"}, "weights file (.pth.tar)")
    if getattr(args, "vgg_weights", None):
        check_input_file(args.vgg_weights, "VGG-19 weights file")
    if args.threads:
        torch.set_num_threads(args.threads)
    model_config, params = load_training_config(args.config)
    if args.steps:
        params.steps = args.steps
    if args.batch_size:
        params.batch_size = args.batch_size
    if getattr(args, "workers", None) is not None:
        params.num_workers = args.workers
    summary = train((model_config, params), args.out, vgg_weights=args.vgg_weights, device=args.device)
    if getattr(args, "export", None) and summary["rank"] == 0:
        summary["exported"] = str(export_weights(summary["checkpoint"], args.export))
    # One line per process (ranks agree on the weights), in one write: print() writes the text and
    # the newline separately, and two ranks sharing a pipe once glued their lines together.
    sys.stdout.write(json.dumps(summary) + "\n")
    sys.stdout.flush()
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m deepfakelab.reenact.fomm.training",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    args = add_training_arguments(parser).parse_args(argv)
    try:
        run_from_args(args)
    except DeepfakeLabError as exc:
        print(f"deepfakelab: error: {exc}")
        return 2
    finally:
        if dist.is_available() and dist.is_initialized():
            dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
