"""How fast the demo's GAN trains with 1 or 2 torch threads and each OpenMP wait policy, idle and busy.

    .venv/bin/python bench/threads.py [--steps 40] [--competitors 0 1 2] [--threads 1 2] [--policies default PASSIVE]
    .venv/bin/python bench/threads.py --json site/data/threads.json   # the site's Results table (commit it)

Why: on a 2-core machine shared with another CPU-bound job, the demo's GAN fell from about 11
steps/s to 1-2 s a step. torch's OpenMP threads spin while they wait for each other; when one of
them is descheduled by the other job, its partner burns its time slice spinning. This script
measures, rather than guesses, which setting degrades gracefully, and
:func:`deepfakelab.threads.choose_threads` follows its result.

Each setting runs in a fresh process (``OMP_WAIT_POLICY`` is read once, when torch loads its
OpenMP runtime): the demo's GAN config (:func:`deepfakelab.gan.config.default_config`) trains on
procedural bags for ``--steps`` timed steps after 3 warm-up steps, while ``--competitors``
processes each spin one core in a pure-Python loop (one other CPU-bound job). Prints steps/s per
setting, and the machine's load average before the run: on a shared machine the "idle" rows are
only as idle as the machine was. ``--repeats N`` measures each setting N times (one after the
other, each in its own process), so a noisy row shows as a range. ``--json`` also writes every
number with how it was measured (:mod:`deepfakelab.measured`): the Results page's table is
generated from it. The parent process never loads torch (each child sets its own policy).
"""

from __future__ import annotations

import _kit  # the benches' shared helpers (bench/_kit.py)

import argparse
import itertools
import json
import os
import subprocess
import sys
import time

from deepfakelab.measured import Measurement

#: Untimed steps each child runs first (allocator, kernels).
WARMUP = 3

#: One CPU-bound job: a pure-Python loop (one core, no OpenMP of its own).
SPIN = "while True: pass"

#: Runs in the child process, after OMP_WAIT_POLICY is set in its environment.
TRAIN = """
import json, sys, time
import torch
torch.set_num_threads(int(sys.argv[1]))
from deepfakelab.gan.config import default_config
from deepfakelab.gan.data import procedural_bags
from deepfakelab.gan.training import DCGANTrainer
steps = int(sys.argv[2])
images = procedural_bags(2000, size=28, channels=1, seed=0)
trainer = DCGANTrainer(default_config(28, 1).replace(**{"train.device": "cpu"}), images)
batches = iter(())
def step():
    global batches
    real = next(batches, None)
    if real is None:
        batches = iter(trainer.epoch_batches())
        real = next(batches)
    trainer.train_step(real)
for _ in range(int(sys.argv[3])):
    step()
started = time.perf_counter()
for _ in range(steps):
    step()
print(json.dumps({"steps_per_second": steps / (time.perf_counter() - started)}))
"""


def measure(threads: int, policy: str | None, competitors: int, steps: int) -> float:
    env = dict(os.environ)
    env.pop("OMP_NUM_THREADS", None)
    env.pop("OMP_WAIT_POLICY", None)
    if policy:
        env["OMP_WAIT_POLICY"] = policy
    spinners = [subprocess.Popen([sys.executable, "-c", SPIN]) for _ in range(competitors)]
    try:
        out = subprocess.run(
            [sys.executable, "-c", TRAIN, str(threads), str(steps), str(WARMUP)],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    finally:
        for p in spinners:
            p.kill()
            p.wait()
    return json.loads(out.strip().splitlines()[-1])["steps_per_second"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--steps", type=int, default=40, help="timed steps per setting (default: %(default)s)"
    )
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="torch threads (default: 1 2)")
    parser.add_argument(
        "--competitors",
        type=int,
        nargs="+",
        default=[0, 1, 2],
        help="CPU-bound processes running beside it (default: 0 1 2)",
    )
    parser.add_argument(
        "--policies",
        nargs="+",
        default=["default", "PASSIVE"],
        help="OMP_WAIT_POLICY values; 'default' leaves it unset (default: default PASSIVE)",
    )
    parser.add_argument(
        "--repeats", type=int, default=1, help="measurements of each setting (default: %(default)s)"
    )
    parser.add_argument(
        "--json", help="also write every number here (site/data/threads.json is what the Results page shows)"
    )
    args = parser.parse_args()
    _kit.check_outputs(parser, json=(args.json, ".json"))
    if args.repeats < 1 or args.steps < 1:
        parser.error("--repeats and --steps need at least 1")
    measurement = Measurement()  # threads: each row's own
    print(f"{os.cpu_count()} CPUs; load average before the run: {os.getloadavg()[0]:.2f}")
    print("| other CPU-bound jobs | torch threads | OMP_WAIT_POLICY | GAN steps/s |")
    print("|---:|---:|---|---:|")
    rows = []
    for competitors, threads, policy in itertools.product(args.competitors, args.threads, args.policies):
        rates = []
        for _ in range(args.repeats):
            rate = measure(threads, None if policy == "default" else policy, competitors, args.steps)
            print(f"| {competitors} | {threads} | {policy} | {rate:.2f} |", flush=True)
            rates.append(round(rate, 3))
            time.sleep(1)
        rows.append(
            {"competitors": competitors, "threads": threads, "policy": policy, "steps_per_second": rates}
        )
    print(f"load average after the run: {os.getloadavg()[0]:.2f}")
    if args.json:
        numbers = {"steps": args.steps, "warmup_steps": WARMUP, "repeats": args.repeats, "rows": rows}
        _kit.write_json(args.json, numbers, measurement)


if __name__ == "__main__":
    main()
