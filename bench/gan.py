"""Training throughput of the kit's DCGAN against the two classic recipes, same architecture.

    .venv/bin/python bench/gan.py [--steps 60] [--steps64 12] [--threads N]
    .venv/bin/python bench/gan.py --json site/data/gan.json   # the site's Results table (commit it)

Prints images/s for each and the ratio kit / recipe (target: >= 1.0 for both), measured in this
run, on this machine. The timed part is the training steps only (data order, noise, both
updates); the kit's per-epoch checkpoint, sample grid and plot are left out, as the recipes
write none. Data: Fashion-MNIST bags when installed (else procedural bags) at 28 px, and
procedural colour bags at 64 px. ``--json`` also writes every number with how it was measured
(:mod:`deepfakelab.measured`): the Results page's table is generated from that file.
"""

from __future__ import annotations

import _kit  # the benches' shared helpers (bench/_kit.py)

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from classic_recipes import c1w2_train, pytorch_dcgan_train  # noqa: E402

from deepfakelab.gan import BlockSpec, classic28, classic64, load_bags, procedural_bags  # noqa: E402
from deepfakelab.gan.training import DCGANTrainer  # noqa: E402
from deepfakelab.measured import Measurement  # noqa: E402
from deepfakelab.threads import prepare_process  # noqa: E402

#: The target: the kit trains at least as fast as each recipe (kit images/s over the recipe's).
TARGET_RATIO = 1.0
#: Procedural colour bags the 64 px comparison trains on (no 64 px colour bags ship).
COLOUR_BAGS = 1024
#: Steps run before the timed ones (allocator, kernels), by the kit and the recipes alike.
WARMUP = 3


def c1w2_architecture():
    """The kit's config for C1W2's exact net (discriminator hidden 16, batch norm in every
    hidden block, batch-norm scales from N(0, 0.02)): the kit's default widens the discriminator
    and follows the DCGAN paper's batch-norm rules, so it is timed separately below."""
    config = classic28()
    config.bn_weight_mean = 0.0
    config.discriminator.blocks = [BlockSpec(16, kernel=4, stride=2), BlockSpec(32, kernel=4, stride=2)]
    return config.validate()


def kit_throughput(config, images, steps, warmup=WARMUP):
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


def recipe_throughput(train_fn, images, steps, warmup=WARMUP):
    train_fn(images, warmup)  # first-call costs (allocator, kernels) out of the timing
    started = time.perf_counter()
    losses = train_fn(images, steps)
    return sum(n for *_, n in losses) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60, help="timed steps at 28 px (default: %(default)s)")
    parser.add_argument("--steps64", type=int, default=12, help="timed steps at 64 px (default: %(default)s)")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(), help="torch CPU threads")
    parser.add_argument(
        "--json", help="also write every number here (site/data/gan.json is what the Results page shows)"
    )
    args = parser.parse_args()
    _kit.check_outputs(parser, json=(args.json, ".json"))
    torch.set_num_threads(args.threads)
    measurement = Measurement(threads=args.threads)

    bags = load_bags()
    colour = procedural_bags(COLOUR_BAGS, size=64, channels=3, seed=0)
    print(f"torch {torch.__version__}, {args.threads} threads; 28 px data: {bags.description}")
    rows, recipes = [], []
    for key, name, kit_config, recipe, images, steps in (
        ("c1w2", "C1W2 DCGAN, 28 px, batch 128", c1w2_architecture(), c1w2_train, bags.train, args.steps),
        (
            "pytorch_examples",
            "pytorch/examples DCGAN, 64 px, batch 128",
            classic64(3),
            pytorch_dcgan_train,
            colour,
            args.steps64,
        ),
    ):
        baseline = recipe_throughput(recipe, images, steps)
        kit = kit_throughput(kit_config, images, steps)
        rows.append((name, baseline, kit, kit / baseline))
        recipes.append(
            {
                "key": key,
                "recipe": name,
                "timed_steps": steps,
                "recipe_images_per_second": round(baseline, 1),
                "kit_images_per_second": round(kit, 1),
            }
        )
    default = kit_throughput(classic28(), bags.train, args.steps)
    print(
        f"\n| recipe | recipe images/s | kit images/s | ratio kit/recipe (target >= {TARGET_RATIO}) |"
        "\n|---|---:|---:|---:|"
    )
    for name, baseline, kit, ratio in rows:
        print(f"| {name} | {baseline:.0f} | {kit:.0f} | {ratio:.2f} |")
    print(
        f"\nThe kit's default 28 px config (discriminator hidden 64): {default:.0f} images/s "
        f"({default / rows[0][1]:.2f}x the C1W2 recipe)."
    )
    if args.json:
        numbers = {
            "torch": torch.__version__,
            "data_28px": bags.description,
            "data_64px": f"{COLOUR_BAGS} procedural colour bags, 64 px (seed 0)",
            "warmup_steps": WARMUP,
            "target_ratio": TARGET_RATIO,
            "recipes": recipes,
            "kit_default_28px": {
                "timed_steps": args.steps,
                "images_per_second": round(default, 1),
                "discriminator_hidden": classic28().discriminator.blocks[0].channels,
                "compared_with": "c1w2",
            },
        }
        _kit.write_json(args.json, numbers, measurement)


if __name__ == "__main__":
    prepare_process()  # sleeping OpenMP threads, before any work (deepfakelab/threads.py)
    main()
