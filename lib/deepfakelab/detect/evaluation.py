"""Training plus the evaluation table, as DeepfakeBench reports it, and the map faithfulness.

:func:`train_and_evaluate` splits a face set by person (the real people as
:mod:`deepfakelab.fakes.roster` fixes them, synthetic identities at random), optionally removes one
manipulation from training entirely, trains, fits a temperature on the validation split
(:mod:`.calibration`), stores the training domain's statistics (:mod:`.domain_stats`) in the weights,
and scores the test split:

- all fakes vs reals: frame AUC, video AUC, EER, AP;
- each manipulation vs the reals (the held-out one is the cross-manipulation result);
- everything again after JPEG re-compression at quality 50;
- for each CAM method, on test fakes with a known mask: pointing game, energy in the mask
  (and the mask's area share, which is what a random map scores), and the Adebayo
  randomisation check (rank correlation between trained and re-initialised maps).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..errors import ConfigError
from ..fakes.faceset import FaceSet
from ..fakes.roster import person_splits
from ..runtime import resolve_device
from .calibration import fit_temperature, scaled_probabilities
from .dataset import FaceTensors
from .domain_stats import NULL_PERCENTILE, domain_stats
from .explain import CAM_METHODS, energy_in_mask, fake_maps, pointing_hits, randomised_copy, rank_correlation
from .inference import load_detector
from .metrics import evaluate, expected_calibration_error
from .model import DetectorConfig
from .train import TrainConfig, predict, predict_logits, train_detector


def metric_table(test: FaceSet, scores: np.ndarray) -> dict[str, dict]:
    """Rows ``{"all": ..., "<manipulation>": ...}`` of :class:`~.metrics.DetectionMetrics` dicts."""
    rows = {
        "all": {
            **evaluate(test.video, test.labels, scores).as_dict(),
            "ece": expected_calibration_error(test.labels, scores),
        }
    }
    real = test.labels == 0
    for kind in sorted(set(test.kind[test.labels == 1].tolist())):
        keep = real | (test.kind == kind)
        rows[kind] = evaluate(test.video[keep], test.labels[keep], scores[keep]).as_dict()
    return rows


def faithfulness(
    model: torch.nn.Module,
    faces: FaceSet,
    methods=CAM_METHODS,
    limit: int = 256,
    batch: int = 32,
    seed: int = 0,
) -> dict[str, dict]:
    """Pointing game and energy in mask per method on fakes with known masks (at most ``limit``)."""
    chosen = np.flatnonzero(
        faces.has_mask & (faces.labels == 1) & (faces.masks.reshape(len(faces), -1).max(1) > 127)
    )
    chosen = np.random.default_rng(seed).permutation(chosen)[:limit]
    if len(chosen) == 0:
        return {}
    subset = faces.subset(np.sort(chosen))
    data = FaceTensors(subset, train=False)
    masks = subset.masks.astype(np.float32) / 255.0
    random_model = randomised_copy(model, seed)
    out = {}
    for method in methods:
        maps, random_maps = [], []
        for start in range(0, len(subset), batch):
            x = torch.stack([data[i][0] for i in range(start, min(start + batch, len(subset)))])
            maps.append(fake_maps(model, x, method)[0])
            random_maps.append(fake_maps(random_model, x, method)[0])
        maps, random_maps = np.concatenate(maps), np.concatenate(random_maps)
        energy = energy_in_mask(maps, masks)
        out[method] = {
            "pointing_game": float(pointing_hits(maps, masks).mean()),
            # None when every map is all zero (no pixel pushed towards "fake")
            "energy_in_mask": float(np.nanmean(energy)) if np.isfinite(energy).any() else None,
            "flat_maps": int((maps.reshape(len(maps), -1).std(axis=1) == 0).sum()),
            "mask_area_share": float((masks > 0.5).mean()),
            "random_model_pointing_game": float(pointing_hits(random_maps, masks).mean()),
            "rank_corr_with_random_model": float(np.mean(rank_correlation(maps, random_maps))),
            "fakes": int(len(subset)),
        }
    return out


def train_and_evaluate(
    data: str | Path | FaceSet,
    out: str | Path,
    arch: str = "kitnet",
    size: int | None = None,
    width: int | None = None,
    epochs: int = 20,
    batch_size: int = 16,
    lr: float = 3e-3,
    hold_out: str | None = None,
    device: str = "auto",
    seed: int = 0,
    threads: int = 0,
    progress: bool = True,
    methods=CAM_METHODS,
    mask_weight: float = 4.0,
    workers: int = 0,
    backbone_weights: str | None = None,
    calibrate: bool = True,
    freeze_blocks: int = 0,
    name: str | None = None,
    keep: str = "best",
    online_blends: bool = False,
    identity_adversary: float = 0.0,
    h264: float = 0.0,
) -> dict:
    """Split, train, calibrate, evaluate; write ``evaluation.json`` next to ``detector.pt`` and return it.

    The split by person does not follow ``seed`` (which draws the initial head, the batches, the
    augmentation and the blends): every run on a face set holds out the same people and synthetic
    identities, so runs of several seeds are evaluated on the same faces, and no seed trains on
    faces another seed is tested on.
    """
    if threads:
        torch.set_num_threads(threads)
    faces = data if isinstance(data, FaceSet) else FaceSet.load(data)
    split = _PersonSplit.of(faces, hold_out)
    size = size or faces.images.shape[1]
    detector = DetectorConfig(arch=arch, size=size, **({"width": width} if width else {}))
    config = TrainConfig(
        detector=detector,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        seed=seed,
        device=device,
        hold_out=hold_out,
        mask_weight=mask_weight,
        workers=workers,
        backbone_weights=backbone_weights,
        freeze_blocks=freeze_blocks,
        keep=keep,
        online_blends=online_blends,
        identity_adversary=identity_adversary,
        h264=h264,
    )
    result = train_detector(faces.subset(split.train), faces.subset(split.val), out, config, progress)
    return _evaluate_run(split, config, result, out, calibrate=calibrate, name=name, methods=methods)


def _evaluate_run(
    split: _PersonSplit,
    config: TrainConfig,
    result: dict,
    out: str | Path,
    calibrate: bool,
    name: str | None,
    methods,
) -> dict:
    """Calibrate the weights :func:`~.train.train_detector` wrote, score the test split with them and
    write ``evaluation.json`` (returned).

    The weights are loaded again after :func:`finish_weights` has stored the temperature and the
    domain statistics in their file, so the test split is scored by the detector as it ships."""
    dev = resolve_device(config.device)
    faces = split.faces
    model, _ = load_detector(result["weights"], dev)
    calibration = finish_weights(
        model, faces.subset(split.train), faces.subset(split.val), result["weights"], dev, calibrate, name
    )
    model, _ = load_detector(result["weights"], dev)
    summary = {
        "calibration": calibration,
        "config": config.as_dict(),
        **split.description(),
        "history": result["history"],
        "weights": result["weights"],
        **evaluate_detector(model, faces.subset(split.test), dev, methods),
    }
    (Path(out) / "evaluation.json").write_text(json.dumps(summary, indent=2))
    return summary


@dataclass(frozen=True)
class _PersonSplit:
    """The rows of a face set that train, validate and test a detector (boolean masks).

    Masks rather than subsets: each step takes its own copy of the rows (:meth:`FaceSet.subset`), so
    nothing training does to its crops reaches the calibration or the test."""

    faces: FaceSet
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray

    @classmethod
    def of(cls, faces: FaceSet, hold_out: str | None) -> _PersonSplit:
        """Split by person, then leave the ``hold_out`` manipulations out of training and validation
        (the test split keeps them: they are the cross-manipulation result)."""
        splits = person_splits(faces.group, split=faces.split)
        train, val = splits["train"], splits["val"]
        if hold_out:  # one kind, or several that are one method under two names ("reenact,landmark_warp")
            kinds = hold_out.split(",")
            unknown = [k for k in kinds if k not in set(faces.kind.tolist())]
            if unknown:
                raise ConfigError(
                    f"--hold-out {','.join(unknown)!r}: the face set has no such manipulation "
                    f"(it has {sorted(set(faces.kind.tolist()) - {'real'})})"
                )
            train = train & ~np.isin(faces.kind, kinds)
            val = val & ~np.isin(faces.kind, kinds)
        return cls(faces, train, val, splits["test"])

    def description(self) -> dict:
        """The ``counts`` and ``held_out`` entries of ``evaluation.json``: how many crops each part
        holds, and which people and synthetic identities each evaluation rests on."""
        return {
            "counts": {
                part: int(m.sum())
                for part, m in (("train", self.train), ("val", self.val), ("test", self.test))
            },
            "held_out": {
                part: sorted(set(self.faces.group[m].tolist()))
                for part, m in (("val", self.val), ("test", self.test))
            },
        }


def finish_weights(
    model: torch.nn.Module,
    train: FaceSet,
    val: FaceSet,
    weights: str | Path,
    device="cpu",
    calibrate: bool = True,
    name: str | None = None,
) -> dict:
    """Fit the temperature on ``val`` (people never trained on) and store it, the training
    domain's description and feature statistics (and ``name``, the detector's name in verdicts)
    in ``weights``. Returns the calibration numbers."""
    saved = torch.load(weights, map_location="cpu", weights_only=True)
    out: dict = {"temperature": 1.0}
    if calibrate and len(val) and len(set(val.labels.tolist())) == 2:
        logits = predict_logits(model, val, device=device)
        temperature = fit_temperature(logits, val.labels)
        out = {
            "temperature": temperature,
            "val_ece_before": expected_calibration_error(val.labels, scaled_probabilities(logits, 1.0)),
            "val_ece_after": expected_calibration_error(
                val.labels, scaled_probabilities(logits, temperature)
            ),
        }
    config = DetectorConfig(**{**saved["config"], "temperature": out["temperature"]})
    model.temperature = out["temperature"]
    info = {
        **saved["info"],
        "calibration": out,
        "domain": domain_stats(model, train, val, device),
        **({"name": name} if name else {}),
    }
    torch.save({"config": config.as_dict(), "state_dict": saved["state_dict"], "info": info}, weights)
    return out


def refresh_domain_stats(
    weights: str | Path, faces: FaceSet, device="cpu", percentile: float = NULL_PERCENTILE
) -> dict:
    """Recompute the domain entry of an existing weights file from the face set it was trained
    on (split by person as training splits it), keeping everything else; returns the new entry."""
    weights = Path(weights)
    saved = torch.load(weights, map_location="cpu", weights_only=True)
    model, _ = load_detector(weights, device)
    splits = person_splits(faces.group, split=faces.split)
    stats = domain_stats(
        model, faces.subset(splits["train"]), faces.subset(splits["val"]), device, percentile=percentile
    )
    saved["info"] = {**saved.get("info", {}), "domain": stats}
    torch.save(saved, weights)
    return stats


def test_split(faces: FaceSet) -> FaceSet:
    """The face set's test split, by person, exactly as :func:`train_and_evaluate` holds it out (the
    split does not depend on a run's seed), so shipped weights can be scored on the faces their
    training run never saw."""
    return faces.subset(_PersonSplit.of(faces, hold_out=None).test)


def evaluate_detector(model: torch.nn.Module, test: FaceSet, device="auto", methods=CAM_METHODS) -> dict:
    """Score ``model`` on ``test`` as a training run's ``evaluation.json`` does: the metric table
    (``"test"``), the same after JPEG 50 (``"test_jpeg50"``), the uncalibrated ECE and the maps'
    faithfulness (``"explain"``). ``{}`` when the faces hold only one class (no AUC to compute)."""
    if len(set(test.labels.tolist())) != 2:
        return {}
    dev = resolve_device(device)
    model = model.to(dev)
    return {
        "test_uncalibrated_ece": expected_calibration_error(
            test.labels,
            scaled_probabilities(predict_logits(model, test, device=dev), 1.0 / model.temperature),
        ),
        "test": metric_table(test, predict(model, test, device=dev)),
        "test_jpeg50": metric_table(test, predict(model, test, device=dev, jpeg_quality=50)),
        "explain": faithfulness(model.cpu(), test, methods),
    }
