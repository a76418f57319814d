"""The GAN part of ``deepfakelab demo``: a short training run on bags, its curves, samples and score.

The demo shows Lab 1's deepfake first and trains this GAN last, in the time left of the demo's
budget: :func:`choose_epochs` turns the seconds left and the speed a 1-second probe measured
into a number of epochs, and :func:`run` prints that choice and why in one line. A probe of one
second cannot foresee the load of the next two minutes (on the shared 2-core development
machine the training ran at 1.97 steps/s after a probe of 3.12), so :class:`EpochClock` also
stops the training early, after a whole epoch, when the epochs measured so far say the next one
would end well past the budget; the run then ends as if asked for that many epochs.
"""

from __future__ import annotations

import time
from pathlib import Path

from ..gan.config import default_config
from ..gan.data import load_bags
from ..gan.quality import BagQuality, quality_table
from ..gan.sweep import generate_for_scoring
from ..gan.training import train

#: The most epochs the demo trains (2,300 steps): the Lab 2 quality table on the website's
#: Results page (site/docs/results.md) is after these.
DEMO_EPOCHS = 50

#: Work of the GAN part besides its training steps, in probe steps (seconds x the probe's
#: steps/s): loading the bags, the quality table's calibration and score, the plots. Measured on
#: the shared 2-core development machine, under load (a test run beside it): 11.4 s of a whole
#: demo's GAN part outside its training, after a probe of 3.12 steps/s (36 steps); the
#: calibration and score alone took 12.2 s at 0.51 steps/s (6 steps) in a busier minute.
FIXED_WORK = 35.0


def choose_epochs(
    seconds: float, steps_per_second: float, steps_per_epoch: int, most: int = DEMO_EPOCHS
) -> int:
    """How many whole epochs fit ``seconds`` at ``steps_per_second``: at least 1, at most ``most``.

    At least one, since a demo without a trained GAN shows nothing of Lab 2; at most ``most``,
    since more epochs than the measured quality table's would only make the demo longer.
    """
    if steps_per_second <= 0 or steps_per_epoch < 1:
        raise ValueError(
            f"need a positive speed and steps per epoch, not {steps_per_second} steps/s, "
            f"{steps_per_epoch} steps/epoch"
        )
    epoch_seconds = steps_per_epoch / steps_per_second
    return max(1, min(most, int(max(0.0, seconds) // epoch_seconds)))


def budget_line(epochs: int, seconds: float, steps_per_second: float, steps_per_epoch: int) -> str:
    """The one line that says how many epochs the budget allows here, and the measurement behind it."""
    epoch_seconds = steps_per_epoch / steps_per_second
    if epochs * epoch_seconds <= seconds:
        most = " (the most the demo trains)" if epochs == DEMO_EPOCHS else ""
        fit = f"{epochs} epoch{'s' * (epochs > 1)}{most} fit the {seconds:.0f} s budget on this machine"
    else:
        fit = (
            f"1 epoch (the least the demo trains), over the {max(0.0, seconds):.0f} s budget on this machine"
        )
    return (
        f"GAN: {fit} (1 epoch = {steps_per_epoch} steps = {epoch_seconds:.1f} s at the "
        f"{steps_per_second:.2f} steps/s a 1 s probe measured)"
    )


class OutOfTime(Exception):
    """Raised after an epoch by :class:`EpochClock` to stop a training run that the budget cannot finish."""

    def __init__(self, epoch: int, epoch_seconds: float):
        super().__init__(f"out of time after epoch {epoch}")
        self.epoch, self.epoch_seconds = epoch, epoch_seconds


class EpochClock:
    """``on_epoch_end`` for :func:`~deepfakelab.gan.training.train`: stop when the next epoch would
    end more than half an epoch past ``deadline`` (a :func:`time.perf_counter` time), at the mean
    pace of the epochs measured so far. Half an epoch either way is as close as whole epochs get.
    After ``last_epoch`` the run ends anyway, so it is never stopped there."""

    def __init__(self, deadline: float, last_epoch: int):
        self.deadline, self.last_epoch = deadline, last_epoch
        self.started, self.epochs = time.perf_counter(), 0

    def __call__(self, epoch: int, summary: dict) -> None:
        self.epochs += 1
        now = time.perf_counter()
        pace = (now - self.started) / self.epochs
        if epoch < self.last_epoch and now + pace / 2 > self.deadline:
            raise OutOfTime(epoch, pace)


def _train_within(config, data, run_dir: Path, deadline: float | None):
    """Train ``config``; with a ``deadline``, stop after the last epoch that fits.

    Returns ``(TrainResult, config actually trained, OutOfTime if stopped else None)``. A
    stopped run is finished by training again to the epochs done: that resumes from their
    checkpoint and only writes the plots.
    """
    if deadline is None:
        return train(config, data, run_dir), config, None
    try:
        return (
            train(config, data, run_dir, on_epoch_end=EpochClock(deadline, config.train.epochs)),
            config,
            None,
        )
    except OutOfTime as stop:
        done = config.replace(**{"train.epochs": stop.epoch})
        return train(done, data, run_dir, progress=False), done, stop


def stopped_line(stop: OutOfTime, planned: int, predicted_seconds: float) -> str:
    """The one line that says the epochs ran slower than the probe predicted and where they stopped."""
    return (
        f"GAN: stopped after {stop.epoch} of {planned} epochs: they took {stop.epoch_seconds:.1f} s each here, "
        f"not the {predicted_seconds:.1f} s the probe predicted, and the next would end past the budget"
    )


def run(
    out_dir: Path, quick: bool = False, epochs: int | None = None, budget: tuple[float, float] | None = None
) -> dict:
    """Train, plot and score the demo's GAN; return its paths and numbers.

    ``epochs``: train exactly this many (``--gan-epochs``). Otherwise ``budget``, ``(seconds for
    the whole part, probe steps/s)``, chooses them; with neither, :data:`DEMO_EPOCHS` (1 if quick).
    """
    data = load_bags()
    print(f"data: {data.description}")
    config = default_config(data.image_size, data.channels)
    config = config.replace(**{"train.max_steps_per_epoch": 5 if quick else None})
    steps_per_epoch = len(data.train) // config.train.batch_size
    if quick:
        steps_per_epoch = min(steps_per_epoch, 5)
    epochs, why, deadline = _epoch_plan(epochs, budget, quick, steps_per_epoch)
    if why:
        print(why, flush=True)
    result, config, stop = _train_within(
        config.replace(**{"train.epochs": epochs}), data.train, Path(out_dir) / "run", deadline
    )
    images_per_second = result.images_per_second
    if stop is not None:
        why = f"{why}\n{stopped_line(stop, epochs, steps_per_epoch / budget[1])}"
        print(why.splitlines()[-1], flush=True)
        # the stopped run's last call trains nothing (its own rate is 0): the epochs' measured pace instead
        images_per_second = steps_per_epoch * config.train.batch_size / stop.epoch_seconds
    scores = _quality_scores(data, result, config, Path(out_dir), quick)
    last = result.epochs[-1]
    summary = {
        "data": data.description,
        "epochs": last["epoch"],
        "final_d_loss": last["d_loss"],
        "final_g_loss": last["g_loss"],
        "domain_fd": scores[-1].fd,
        "images_per_second": images_per_second,
        "files": {
            "loss curves": result.files["losses"],
            "samples": result.files["samples"],
            "quality table": Path(out_dir) / "quality.md",
        },
    }
    if why:
        summary["epochs_chosen"] = why
    if budget is not None:
        summary["expected_seconds"] = round((config.train.epochs * steps_per_epoch + FIXED_WORK) / budget[1])
    return summary


def _epoch_plan(
    epochs: int | None, budget: tuple[float, float] | None, quick: bool, steps_per_epoch: int
) -> tuple[int, str | None, float | None]:
    """How many epochs :func:`run` trains, the line that says why (None: the default, said by no
    line) and, when the budget chose them, the time training must end by (:class:`EpochClock`)."""
    if epochs is None and budget is not None:
        seconds, rate = budget
        training_seconds = seconds - FIXED_WORK / rate
        epochs = choose_epochs(training_seconds, rate, steps_per_epoch)
        why = budget_line(epochs, training_seconds, rate, steps_per_epoch)
        return epochs, why, time.perf_counter() + training_seconds
    if epochs is not None:
        return epochs, f"GAN: {epochs} epoch{'s' * (epochs > 1)}, as --gan-epochs asked", None
    return (1 if quick else DEMO_EPOCHS), None, None


def _quality_scores(data, result, config, out_dir: Path, quick: bool) -> list:
    """The quality table's rows (its calibration, then the trained generator's samples), printed and
    written to ``out_dir/quality.md``."""
    quality = BagQuality(data.train, data.test, max_images=300 if quick else 1000)
    scores = quality.calibration() + [
        quality.score(f"generated after {config.train.epochs} epochs", generate_for_scoring(result, config))
    ]
    table = quality_table(scores)
    (out_dir / "quality.md").write_text(f"Data: {data.description}\n\n{table}\n")
    print(table)
    return scores
