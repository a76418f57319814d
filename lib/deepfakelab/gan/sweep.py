"""Experiments: train several configs on the same data and compare them in one table and figure.

This is the lab's "Run No." log made systematic: each run is a base config plus named changes
(``{"train.lr": 1e-3, "generator.extra_blocks": 3}``); the table lists exactly those changes,
the final losses, the offline quality scores and the time taken, as markdown and CSV, and one
figure puts every run's best samples beside its loss curves.
"""

from __future__ import annotations

import csv
import itertools
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from matplotlib.figure import Figure

from ..provenance.marking import save_marked_figure
from .config import GANConfig
from .data import BAG_LABEL, BagData
from .plots import image_grid, plot_losses
from .quality import BagQuality, QualityScores, features_and_probs, quality_table
from .training import TrainResult, generate, load_run, train

#: The default sweep: the baseline and one change at a time, as the lab's first experiments.
DEFAULT_VARIANTS: list[dict[str, Any]] = [
    {},
    {"train.lr": 1e-3},
    {"generator.z_dim": 16},
    {"generator.extra_blocks": 3, "discriminator.extra_blocks": 3},
    {"generator.output_activation": "sigmoid"},
]


@dataclass
class RunRecord:
    number: int
    changes: dict[str, Any]
    result: TrainResult
    scores: QualityScores
    best_samples: torch.Tensor

    def row(self) -> dict[str, Any]:
        last = self.result.epochs[-1]
        return {
            "run": self.number,
            "changes": describe_changes(self.changes),
            "epochs": last["epoch"],
            "final_d_loss": round(last["d_loss"], 4),
            "final_g_loss": round(last["g_loss"], 4),
            "final_d_real": round(last["d_real"], 3),
            "final_d_fake": round(last["d_fake"], 3),
            "domain_fd": round(self.scores.fd, 3),
            "kid_x1000": round(self.scores.kid, 3),
            "coverage": round(self.scores.coverage, 3),
            "near_copies": round(self.scores.copy_share, 3),
            "seconds": round(self.result.seconds, 1),
            "run_dir": str(self.result.run_dir),
        }


def describe_changes(changes: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in changes.items()) or "baseline"


def grid(axes: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Every combination of the given values: ``{"train.lr": [1e-3, 2e-4]}`` -> two variants."""
    keys = list(axes)
    return [dict(zip(keys, values)) for values in itertools.product(*(axes[k] for k in keys))]


@torch.no_grad()
def best_samples(
    result: TrainResult, config: GANConfig, quality: BagQuality, count: int = 16, pool: int = 256
) -> torch.Tensor:
    """The ``count`` samples (of ``pool`` drawn with a fixed seed) the classifier finds most bag-like."""
    generator, _ = load_run(result.run_dir)
    noise = torch.randn(pool, config.generator.z_dim, generator=torch.Generator().manual_seed(1234))
    images = generate(generator, noise, config)
    _, probs = features_and_probs(quality.classifier, images)
    order = torch.from_numpy(probs[:, BAG_LABEL]).argsort(descending=True)
    return images[order[:count]]


def run_folder(out_dir: str | os.PathLike, number: int) -> Path:
    """The folder of a sweep's run ``number`` (1-based): a rerun resumes it."""
    return Path(out_dir) / f"run_{number:02d}"


def run_sweep(
    base: GANConfig,
    variants: list[dict[str, Any]],
    data: BagData,
    out_dir: str | os.PathLike,
    progress: bool = True,
    quality: BagQuality | None = None,
) -> list[RunRecord]:
    """Train every variant (resuming finished or half-finished runs), score them, write the report."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    quality = quality or BagQuality(data.train, data.test)
    (out_dir / "sweep.json").write_text(
        json.dumps(
            {"base": base.to_dict(), "variants": variants, "data": data.description}, indent=2, default=str
        )
    )
    records = []
    for number, changes in enumerate(variants, 1):
        config = base.replace(**changes).validate()
        if progress:
            print(f"run {number}/{len(variants)}: {describe_changes(changes)}")
        started = time.perf_counter()
        result = train(config, data.train, run_folder(out_dir, number), progress=progress)
        result.seconds = result.seconds or time.perf_counter() - started
        samples = generate_for_scoring(result, config)
        scores = quality.score(f"run {number}", samples)
        records.append(RunRecord(number, changes, result, scores, best_samples(result, config, quality)))
    write_report(records, quality, out_dir)
    return records


def generate_for_scoring(result: TrainResult, config: GANConfig, count: int = 1000) -> torch.Tensor:
    generator, _ = load_run(result.run_dir)
    noise = torch.randn(count, config.generator.z_dim, generator=torch.Generator().manual_seed(99))
    return generate(generator, noise, config)


def write_report(records: list[RunRecord], quality: BagQuality, out_dir: Path) -> dict[str, Path]:
    """runs.md, runs.csv and runs.png in ``out_dir``."""
    rows = [r.row() for r in records]
    with open(out_dir / "runs.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    header = "| Run No. | changed parameters | epochs | final D loss | final G loss | D(x) | D(G(z)) | domain FD | KID x1000 | coverage | time (s) |"
    lines = ["# GAN experiments", "", header, "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(
            f"| {r['run']} | {r['changes']} | {r['epochs']} | {r['final_d_loss']:.3f} | {r['final_g_loss']:.3f} | "
            f"{r['final_d_real']:.2f} | {r['final_d_fake']:.2f} | {r['domain_fd']:.2f} | {r['kid_x1000']:.2f} | "
            f"{100 * r['coverage']:.0f} % | {r['seconds']:.0f} |"
        )
    lines += [
        "",
        "Calibration of the quality score on the same held-out bags (lower FD is better):",
        "",
        quality_table(quality.calibration()),
        "",
    ]
    (out_dir / "runs.md").write_text("\n".join(lines))
    figure = plot_sweep(records, out_dir / "runs.png")
    return {"table": out_dir / "runs.md", "csv": out_dir / "runs.csv", "figure": figure}


def plot_sweep(records: list[RunRecord], path: Path) -> Path:
    """One row per run: its best samples on the left, its loss curves on the right."""
    fig = Figure(figsize=(11, 3.2 * len(records)))
    axes = fig.subplots(len(records), 2, squeeze=False, gridspec_kw={"width_ratios": [1, 2]})
    for record, (ax_img, ax_loss) in zip(records, axes):
        ax_img.imshow(image_grid(record.best_samples, nrow=4))
        ax_img.set_axis_off()
        ax_img.set_title(f"run {record.number}: best samples", fontsize=9)
        plot_losses(
            record.result.history,
            ax_losses=ax_loss,
            title=f"run {record.number}: {describe_changes(record.changes)} -- FD {record.scores.fd:.1f}",
        )
        ax_loss.title.set_fontsize(9)
    fig.tight_layout()
    # the figure shows generated samples: watermark and signed manifest (issue 30)
    return save_marked_figure(path, fig, dpi=100)
