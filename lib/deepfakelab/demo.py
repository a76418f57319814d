"""``deepfakelab demo``: one command that shows every part of the kit on embedded defaults.

Each lab contributes a part: a module with ``run(out_dir: Path, quick: bool) -> dict`` that
writes its files under ``out_dir`` and returns a summary (paths and headline numbers).
Parts not yet present in this version are skipped.

Before each part of a full run the demo picks its torch threads (:mod:`deepfakelab.threads`)
and prints how long the part should take *here, now*: a one-second probe times the demo's own
GAN training step, and each part's work, measured once in probe steps (:data:`PART_WORK`), is
divided by the probe's speed. On a machine shared with other jobs the estimate grows with the
load instead of promising the idle time.
"""

from __future__ import annotations

import argparse
import importlib
import json
import time
from pathlib import Path

import torch

from .gan.config import default_config
from .gan.train import DCGANTrainer
from .threads import busy_cores, choose_threads, passive_waiting

#: (title, module) of each demo part, in the order the course teaches them.
DEMO_PARTS = [
    ("Lab 2: a DCGAN that makes bags", "deepfakelab.gan.demo"),
    ("Lab 1: reenactment", "deepfakelab.reenact.demo"),
    ("Lab 1: detection and explanation", "deepfakelab.detect.demo"),
]


#: Work of each full part in probe steps (the part's seconds times the probe's steps/s), from one
#: full run on the 2-core development machine (``summary.json`` stores both numbers per part):
#: reenact 11.0 s x 2.72 steps/s, detect 28.0 s x 1.78. The GAN part (1768 s) is 2,300 training
#: steps of the probe's own kind, and its 30 minutes of changing load made the rate of its
#: training (1.31 steps/s) a better yardstick than the probe before it.
PART_WORK = {"gan": 2320.0, "reenact": 30.0, "detect": 50.0}


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
    """Set torch's threads for the next part; print and return its expected time (CPU only).

    ``busy``: cores kept busy by other work, measured before the demo started (later, the load
    average would count the demo's own threads).
    """
    threads = choose_threads(available_threads, busy=busy)
    torch.set_num_threads(threads)
    plan = {"threads": threads, "passive_waiting": passive_waiting()}
    if torch.cuda.is_available() or key not in PART_WORK:
        return plan
    rate = probe_speed()
    plan.update(probe_steps_per_second=round(rate, 2), expected_seconds=round(PART_WORK[key] / rate))
    waiting = "sleeping" if plan["passive_waiting"] else "spinning"
    print(f"expected: about {_duration(PART_WORK[key] / rate)} on the CPU now ({threads} torch "
          f"thread{'s' * (threads > 1)}, {waiting} while waiting; {rate:.1f} GAN steps/s in a "
          "1 s probe)", flush=True)
    return plan


def run_demo(out_dir: Path, quick: bool = False, parts: list[str] | None = None) -> dict:
    """Run the demo parts, write ``summary.json`` into ``out_dir`` and return the summary.

    The folder and each part's sub-folder are checked first: a folder that cannot take the
    results would otherwise be found after the GAN's minutes of training.
    """
    from .media.files import check_output_folder

    out_dir = check_output_folder(out_dir)
    chosen = [(title, name) for title, name in DEMO_PARTS if not parts or name.split(".")[1] in parts]
    for _, module_name in chosen:
        check_output_folder(out_dir / module_name.split(".")[1])
    out_dir.mkdir(parents=True, exist_ok=True)
    summary: dict = {}
    available_threads, busy = torch.get_num_threads(), busy_cores()
    for title, module_name in chosen:
        key = module_name.split(".")[1]
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue
            raise
        print(f"\n=== {title} ===", flush=True)
        plan = {} if quick else prepare_part(key, available_threads, busy)
        start = time.perf_counter()
        result = module.run(out_dir / key, quick=quick)
        result["seconds"] = round(time.perf_counter() - start, 1)
        result.update(plan)
        summary[key] = result
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    return summary


def _command(args: argparse.Namespace) -> int:
    out = Path(args.out).resolve()
    summary = run_demo(out, quick=args.quick, parts=args.parts)
    print(f"\nDemo finished. Everything is in {out}")
    for key, result in summary.items():
        print(f"  {key}: {result.get('seconds', '?')} s")
        for label, value in result.get("files", {}).items():
            print(f"    {label}: {value}")
    print(f"  summary: {out / 'summary.json'}")
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="run every lab's demo on the embedded defaults",
        description="Train a small GAN on bags, reenact faces and detect the fakes, writing "
        "plots, videos and reports into one folder. Runs offline, on the CPU if there is no GPU.",
    )
    parser.add_argument("--out", default="outputs/demo", help="folder for the results (default: %(default)s)")
    parser.add_argument("--quick", action="store_true", help="a much shorter run, for smoke tests")
    parser.add_argument(
        "--parts", nargs="+", choices=["gan", "reenact", "detect"], help="run only these parts"
    )
    parser.set_defaults(func=_command)
