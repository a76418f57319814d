"""Quality target of Lab 2's default GAN: trained for at most N CPU minutes on the Bag class.

    .venv/bin/python bench/gan_quality.py [--minutes 10] [--out runs/bench-gan-quality]

Trains the default 28 px config (C1W2's layout, the DCGAN paper's batch-norm rules) on
Fashion-MNIST bags (procedural bags when Fashion-MNIST is not installed) and stops after the
last whole epoch that fits in the budget, then prints the calibrated quality table. Target: the generated bags' domain FD is below that
of real bags blurred with a 1-pixel Gaussian (the "ceiling" row). The run folder keeps the loss
curves and sample grids; rerunning resumes it.
"""

from __future__ import annotations

import argparse
import time

from deepfakelab.gan import classic28, load_bags, train
from deepfakelab.gan.quality import BagQuality, quality_table
from deepfakelab.gan.sweep import generate_for_scoring
from deepfakelab.threads import prepare_process


class OutOfTime(Exception):
    pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="training budget (default: %(default)s)")
    parser.add_argument(
        "--max-epochs", type=int, default=200, help="upper bound on epochs (default: %(default)s)"
    )
    parser.add_argument("--out", default="runs/bench-gan-quality", help="run folder (default: %(default)s)")
    args = parser.parse_args()

    data = load_bags()
    print(f"data: {data.description}")
    config = classic28().replace(**{"train.epochs": args.max_epochs})
    budget = args.minutes * 60
    started = time.perf_counter()
    epoch_times: list[float] = []

    def stop_when_out_of_time(epoch: int, summary: dict) -> None:
        epoch_times.append(time.perf_counter())
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
    # The scored run is the newest checkpoint (the last whole epoch).
    from deepfakelab.gan.train import TrainResult

    from pathlib import Path

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


if __name__ == "__main__":
    prepare_process()  # sleeping OpenMP threads, before any work (deepfakelab/threads.py)
    main()
