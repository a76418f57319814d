"""Quality target of Lab 2's default GAN: trained for at most N CPU minutes on the Bag class.

    .venv/bin/python bench/gan_quality.py [--minutes 10] [--out runs/bench-gan-quality-DATE]
    .venv/bin/python bench/gan_quality.py --minutes 10 --json site/data/gan_quality.json  # the site's table

Trains the default 28 px config (C1W2's layout, the DCGAN paper's batch-norm rules) on
Fashion-MNIST bags (procedural bags when Fashion-MNIST is not installed) and stops after the
last whole epoch that fits in the budget, then prints the calibrated quality table. Target: the
generated bags' domain FD is below that of real bags blurred with a 1-pixel Gaussian (the
"ceiling" row). Each run trains afresh in a new folder ``runs/bench-gan-quality-DATE-TIME``, which
keeps the loss curves and sample grids; ``--out`` an existing run resumes it (the budget then
counts only this run's epochs, which the printout and the JSON say). ``--json`` also
writes every row of the table with how it was measured (:mod:`deepfakelab.measured`): the Results
page's quality table is generated from it.
"""

from __future__ import annotations

import _kit  # the benches' shared helpers (bench/_kit.py)

import argparse
import math
import time
from pathlib import Path

import torch

from deepfakelab.gan import classic28, load_bags, train
from deepfakelab.gan.quality import BagQuality, quality_table
from deepfakelab.gan.sweep import generate_for_scoring
from deepfakelab.gan.training import TrainResult
from deepfakelab.measured import Measurement
from deepfakelab.threads import prepare_process

#: What each row of the quality table is, in the order :meth:`BagQuality.calibration` gives them,
#: then the generated bags: the JSON names them so the page can find the target's two rows.
ROLES = ("floor", "ceiling", "noise", "generated")


class OutOfTime(Exception):
    pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="training budget (default: %(default)s)")
    parser.add_argument(
        "--max-epochs", type=int, default=200, help="upper bound on epochs (default: %(default)s)"
    )
    parser.add_argument(
        "--out",
        default=time.strftime("runs/bench-gan-quality-%Y%m%d-%H%M%S"),
        help="run folder (default: a new one, so that each measurement trains afresh)",
    )
    parser.add_argument(
        "--json",
        help="also write the table's rows here (site/data/gan_quality.json is what the Results page shows)",
    )
    args = parser.parse_args()
    _kit.check_outputs(parser, json=(args.json, ".json"))
    measurement = Measurement(threads=torch.get_num_threads())

    data = load_bags()
    print(f"data: {data.description}")
    config = classic28().replace(**{"train.epochs": args.max_epochs})
    budget = args.minutes * 60
    started = time.perf_counter()
    epoch_times: list[float] = []
    trained: list[dict] = []  # this run's epochs (a resumed run starts after the folder's last one)

    def stop_when_out_of_time(epoch: int, summary: dict) -> None:
        epoch_times.append(time.perf_counter())
        trained.append({"epoch": epoch, "steps": summary["steps"]})
        elapsed = epoch_times[-1] - started
        per_epoch = elapsed / len(epoch_times)
        if elapsed + per_epoch > budget:
            raise OutOfTime(epoch)

    try:
        result = train(config, data.train, args.out, on_epoch_end=stop_when_out_of_time)
        epochs = result.epochs[-1]["epoch"]
    except OutOfTime as stop:
        epochs = stop.args[0]
    minutes = (time.perf_counter() - started) / 60
    resumed_after = trained[0]["epoch"] - 1 if trained else epochs
    if resumed_after:
        print(f"resumed after epoch {resumed_after}: {len(trained)} epochs trained in this run's budget")
    # The scored run is the newest checkpoint (the last whole epoch).
    quality = BagQuality(data.train, data.test)
    generated = generate_for_scoring(TrainResult(Path(args.out), [], []), config)
    rows = quality.calibration() + [
        quality.score(f"generated, {epochs} epochs in {minutes:.1f} min", generated)
    ]
    print(quality_table(rows))
    ceiling, ours = rows[1].fd, rows[-1].fd
    print(
        f"\ngenerated FD {ours:.2f} vs blurred-real FD {ceiling:.2f}: "
        f"{'target met' if ours < ceiling else 'target NOT met'} (ratio {ours / ceiling:.2f}, target < 1)"
    )
    if args.json:
        numbers = {
            "data": data.description,
            "config": classic28.__name__,
            "budget_minutes": args.minutes,
            "max_epochs": args.max_epochs,
            "epochs": epochs,
            "resumed_after_epoch": resumed_after,
            "epochs_this_run": len(trained),
            "steps_this_run": sum(epoch["steps"] for epoch in trained),
            "training_minutes": round(minutes, 2),
            "rows": [{"role": role, **_row(scores)} for role, scores in zip(ROLES, rows, strict=True)],
        }
        _kit.write_json(args.json, numbers, measurement)


def _row(scores) -> dict:
    """One row of the table as JSON, without NaN: the floor's near-copy share, undefined for
    training images scored against themselves, becomes null (JSON has no NaN)."""
    return {
        key: (None if math.isnan(value) else round(value, 4)) if isinstance(value, float) else value
        for key, value in scores.as_row().items()
    }


if __name__ == "__main__":
    prepare_process()  # sleeping OpenMP threads, before any work (deepfakelab/threads.py)
    main()
