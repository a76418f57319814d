"""Training throughput of the kit's DCGAN against the two classic recipes, same architecture.

    .venv/bin/python bench/gan.py [--steps 60] [--steps64 12] [--threads N]

Prints images/s for each and the ratio kit / recipe (target: >= 1.0 for both), measured in this
run, on this machine. The timed part is the training steps only (data order, noise, both
updates); the kit's per-epoch checkpoint, sample grid and plot are left out, as the recipes
write none. Data: Fashion-MNIST bags when installed (else procedural bags) at 28 px, and
procedural colour bags at 64 px.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from classic_recipes import c1w2_train, pytorch_dcgan_train  # noqa: E402

from deepfakelab.gan import BlockSpec, classic28, classic64, load_bags, procedural_bags  # noqa: E402
from deepfakelab.gan.train import DCGANTrainer  # noqa: E402
from deepfakelab.threads import prepare_process


def c1w2_architecture():
    """The kit's config for C1W2's exact net (discriminator hidden 16, batch norm in every
    hidden block, batch-norm scales from N(0, 0.02)): the kit's default widens the discriminator
    and follows the DCGAN paper's batch-norm rules, so it is timed separately below."""
    config = classic28()
    config.bn_weight_mean = 0.0
    config.discriminator.blocks = [BlockSpec(16, kernel=4, stride=2), BlockSpec(32, kernel=4, stride=2)]
    return config.validate()


def kit_throughput(config, images, steps, warmup=3):
    trainer = DCGANTrainer(config.replace(**{"train.device": "cpu"}), images)
    done, counted, started = 0, 0, None
    while done < steps + warmup:
        for real in trainer.epoch_batches():
            if done == warmup:
                started = time.perf_counter()
            trainer.train_step(real)
            done += 1
            if done > warmup:
                counted += real.shape[0]
            if done >= steps + warmup:
                break
    return counted / (time.perf_counter() - started)


def recipe_throughput(train_fn, images, steps, warmup=3):
    train_fn(images, warmup)  # first-call costs (allocator, kernels) out of the timing
    started = time.perf_counter()
    losses = train_fn(images, steps)
    return sum(n for *_, n in losses) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60, help="timed steps at 28 px (default: %(default)s)")
    parser.add_argument("--steps64", type=int, default=12, help="timed steps at 64 px (default: %(default)s)")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(), help="torch CPU threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    bags = load_bags()
    colour = procedural_bags(1024, size=64, channels=3, seed=0)
    print(f"torch {torch.__version__}, {args.threads} threads; 28 px data: {bags.description}")
    rows = []
    for name, kit_config, recipe, images, steps in (
        ("C1W2 DCGAN, 28 px, batch 128", c1w2_architecture(), c1w2_train, bags.train, args.steps),
        ("pytorch/examples DCGAN, 64 px, batch 128", classic64(3), pytorch_dcgan_train, colour, args.steps64),
    ):
        baseline = recipe_throughput(recipe, images, steps)
        kit = kit_throughput(kit_config, images, steps)
        rows.append((name, baseline, kit, kit / baseline))
    default = kit_throughput(classic28(), bags.train, args.steps)
    print(
        "\n| recipe | recipe images/s | kit images/s | ratio kit/recipe (target >= 1.0) |\n|---|---:|---:|---:|"
    )
    for name, baseline, kit, ratio in rows:
        print(f"| {name} | {baseline:.0f} | {kit:.0f} | {ratio:.2f} |")
    print(
        f"\nThe kit's default 28 px config (discriminator hidden 64): {default:.0f} images/s "
        f"({default / rows[0][1]:.2f}x the C1W2 recipe)."
    )


if __name__ == "__main__":
    prepare_process()  # sleeping OpenMP threads, before any work (deepfakelab/threads.py)
    main()
