"""``deepfakelab demo``'s run: every part of the kit shown on embedded defaults, in one time budget.

Each lab contributes a part: a module of :mod:`deepfakelab.demos` with ``run(out_dir: Path,
quick: bool) -> dict`` that writes its files under ``out_dir`` and returns a summary (paths and
headline numbers). Parts not yet present in this version are skipped.

Lab 1's deepfake comes first: reenactment, then detection (which also scores the reenacted
videos), then Lab 2's GAN, trained for as many epochs as fit what is left of
:data:`DEMO_SECONDS` on this machine (a 1-second probe of its training step measures the speed;
``--gan-epochs`` overrides). ``index.html`` shows every result on one page and is rewritten
after each part, so the deepfake can be watched while the GAN trains.

Before each part of a full run the demo picks its torch threads (:mod:`deepfakelab.threads`)
and prints how long the part should take *here, now*: a one-second probe times the demo's own
GAN training step, and each part's work, measured once in probe steps (:data:`PART_WORK`), is
divided by the probe's speed. On a machine shared with other jobs the estimate grows with the
load instead of promising the idle time.
"""

from __future__ import annotations

import importlib
import json
import os
import time
from pathlib import Path

import torch

from ..gan.config import default_config
from ..gan.training import DCGANTrainer
from ..media.files import check_output_folder
from ..threads import busy_cores, choose_threads, passive_waiting
from .page import write_index

#: (title, module) of each demo part, in the order they run: the deepfake first (seconds), the
#: GAN last (it takes whatever time the budget leaves).
DEMO_PARTS = [
    ("Lab 1: reenactment", "deepfakelab.demos.reenact"),
    ("Lab 1: detection and explanation", "deepfakelab.demos.detect"),
    ("Lab 2: a DCGAN that makes bags", "deepfakelab.demos.gan"),
]


def part_key(module_name: str) -> str:
    """A part's short name (``reenact``, ``detect``, ``gan``): its ``--parts`` choice, its sub-folder
    of the results and its key in ``summary.json``."""
    return module_name.rsplit(".", 1)[1]


#: The whole demo's time budget after install, from the command's start (:func:`process_seconds`;
#: :func:`run_demo`'s start when called directly): the GAN gets what reenactment and detection
#: leave of it (issue #29: "about 3 minutes").
DEMO_SECONDS = 180.0


#: Work of each fixed-length part in probe steps (the part's seconds times the probe's steps/s),
#: from one full run on the 2-core development machine (``summary.json`` stores both numbers per
#: part): reenact 11.0 s x 2.72 steps/s, detect 28.0 s x 1.78. The GAN part has no entry: its
#: length is chosen from the budget, and it prints its own line (:func:`.gan.budget_line`).
PART_WORK = {"reenact": 30.0, "detect": 50.0}


def probe_speed(seconds: float = 1.0) -> float:
    """Training steps/s of the demo's GAN (batch 128, 28 px) on this CPU, with the current threads."""
    images = torch.rand(256, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    trainer = DCGANTrainer(default_config(28, 1).replace(**{"train.device": "cpu"}), images)
    batch = next(iter(trainer.epoch_batches()))
    trainer.train_step(batch)  # first-call costs out of the timing
    steps, started = 0, time.perf_counter()
    while steps < 3 or time.perf_counter() - started < seconds:
        trainer.train_step(batch)
        steps += 1
    return steps / (time.perf_counter() - started)


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def prepare_part(key: str, available_threads: int, busy: float | None = None) -> dict:
    """Set torch's threads for the next part; probe the speed, print and return its expected time (CPU only).

    ``busy``: cores kept busy by other work, measured before the demo started (later, the load
    average would count the demo's own threads). A part without :data:`PART_WORK` (the GAN)
    gets the probe's speed only, to choose its own length from.
    """
    threads = choose_threads(available_threads, busy=busy)
    torch.set_num_threads(threads)
    plan = {"threads": threads, "passive_waiting": passive_waiting()}
    if torch.cuda.is_available():
        return plan
    rate = probe_speed()
    plan["probe_steps_per_second"] = round(rate, 2)
    if key not in PART_WORK:
        return plan
    plan["expected_seconds"] = round(PART_WORK[key] / rate)
    waiting = "sleeping" if plan["passive_waiting"] else "spinning"
    print(
        f"expected: about {_duration(PART_WORK[key] / rate)} on the CPU now ({threads} torch "
        f"thread{'s' * (threads > 1)}, {waiting} while waiting; {rate:.1f} GAN steps/s in a "
        "1 s probe)",
        flush=True,
    )
    return plan


def gan_options(plan: dict, started: float, quick: bool, gan_epochs: int | None) -> dict:
    """The GAN part's ``epochs``/``budget`` arguments: what is left of :data:`DEMO_SECONDS` since
    ``started`` and the probe's speed, unless ``--gan-epochs`` fixed the epochs, the run is quick,
    or no CPU probe ran (a GPU: the full :data:`.gan.DEMO_EPOCHS`, said so)."""
    if gan_epochs is not None:
        return {"epochs": gan_epochs}
    if quick:
        return {}
    if "probe_steps_per_second" not in plan:
        print("GAN: the full run's epochs (a GPU: the CPU time budget does not apply)", flush=True)
        return {}
    left = DEMO_SECONDS - (time.perf_counter() - started)
    return {"budget": (left, plan["probe_steps_per_second"])}


def process_seconds() -> float:
    """Seconds since this process started (Linux's /proc), so the budget counts Python's and torch's
    imports too; 0 where that cannot be read."""
    try:
        start_ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return max(0.0, uptime - start_ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return 0.0


def run_demo(
    out_dir: Path,
    quick: bool = False,
    parts: list[str] | None = None,
    gan_epochs: int | None = None,
    started: float | None = None,
) -> dict:
    """Run the demo parts, write ``summary.json`` and ``index.html`` into ``out_dir`` and return the summary.

    The folder and each part's sub-folder are checked first: a folder that cannot take the
    results would otherwise be found after minutes of work. ``gan_epochs``: train the GAN this
    many epochs instead of what fits the budget. ``started``: the :func:`time.perf_counter` time
    the budget counts from (default: now).
    """
    started = time.perf_counter() if started is None else started
    out_dir = check_output_folder(out_dir)
    chosen = [(title, name) for title, name in DEMO_PARTS if not parts or part_key(name) in parts]
    for _, module_name in chosen:
        check_output_folder(out_dir / part_key(module_name))
    out_dir.mkdir(parents=True, exist_ok=True)
    summary: dict = {}
    available_threads, busy = torch.get_num_threads(), busy_cores()
    for title, module_name in chosen:
        key = part_key(module_name)
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue
            raise
        print(f"\n=== {title} ===", flush=True)
        plan = {} if quick else prepare_part(key, available_threads, busy)
        options = gan_options(plan, started, quick, gan_epochs) if key == "gan" else {}
        start = time.perf_counter()
        result = module.run(out_dir / key, quick=quick, **options)
        result["seconds"] = round(time.perf_counter() - start, 1)
        result.update(plan)
        summary[key] = result
        (out_dir / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
        page = write_index(out_dir, [(part_key(name), title) for title, name in chosen], summary)
        if len(summary) == 1:
            print(f"results so far, updated after each part: {page}", flush=True)
    return summary
