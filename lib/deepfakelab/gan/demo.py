"""The GAN part of ``deepfakelab demo``: a short training run on bags, its curves, samples and score."""

from __future__ import annotations

from pathlib import Path

from .config import default_config
from .data import load_bags
from .quality import BagQuality, quality_table
from .sweep import generate_for_scoring
from .train import train

DEMO_EPOCHS = 50


def run(out_dir: Path, quick: bool = False) -> dict:
    data = load_bags()
    print(f"data: {data.description}")
    config = default_config(data.image_size, data.channels)
    config = config.replace(**{"train.epochs": 1 if quick else DEMO_EPOCHS,
                               "train.max_steps_per_epoch": 5 if quick else None})
    result = train(config, data.train, Path(out_dir) / "run")
    quality = BagQuality(data.train, data.test, max_images=300 if quick else 1000)
    scores = quality.calibration() + [quality.score(f"generated after {config.train.epochs} epochs", generate_for_scoring(result, config))]
    table = quality_table(scores)
    (Path(out_dir) / "quality.md").write_text(f"Data: {data.description}\n\n{table}\n")
    print(table)
    last = result.epochs[-1]
    return {
        "data": data.description,
        "epochs": last["epoch"],
        "final_d_loss": last["d_loss"],
        "final_g_loss": last["g_loss"],
        "domain_fd": scores[-1].fd,
        "images_per_second": result.images_per_second,
        "files": {
            "loss curves": result.files["losses"],
            "samples": result.files["samples"],
            "quality table": Path(out_dir) / "quality.md",
        },
    }
