"""Wall time of ``make demo``'s command idle and beside one other CPU-bound process (issue #17).

    .venv/bin/python bench/demo_load.py                   # idle, then beside one busy loop (~8 min)
    .venv/bin/python bench/demo_load.py --pin 0           # the busy loop pinned to CPU 0
    .venv/bin/python bench/demo_load.py --only busy --settle 90
    .venv/bin/python bench/demo_load.py --json site/data/demo_load.json   # the site's Results table

Why: the README promised 5 minutes; beside another job on the 2-core machine the demo took
35 min 40 s (spinning OpenMP threads, fixed since by ``OMP_WAIT_POLICY=PASSIVE``,
:mod:`deepfakelab.threads`). This measures, rather than guesses, what the demo costs now in both
situations, and whether the expected times it prints at the start of each part (a 1 s probe of
the GAN's step, :func:`deepfakelab.demos.runner.prepare_part`) follow the load.

Each run is ``python -m deepfakelab demo --out DIR`` (what ``make demo`` runs, from this
checkout's ``lib/``) into a fresh folder, since a second run in the same folder would resume
the GAN from its checkpoints and finish at once. The busy run starts one pure-Python loop
(one core, no threads of its own) ``--settle`` seconds before the demo, so the 1-minute load
average the demo reads at its start already shows it, and stops it when the demo ends. Prints
per run: wall and CPU seconds, the load average before and after, how much CPU the busy loop
got; per part: torch threads, wait policy, the probe's steps/s, expected and actual seconds.
Nothing else should run on the machine meanwhile: the idle row is only as idle as the machine.
``--json`` also writes both runs, the epochs the GAN chose in each and the demo's time budget,
with how they were measured (:mod:`deepfakelab.measured`): the Results page's table is generated
from it. The whole bench takes two demos of the demo's 3-minute budget plus ``--settle``: about
8 minutes (a quarter of an hour before the demo had a budget and trained 50 epochs).
"""

from __future__ import annotations

import _kit  # the benches' shared helpers (bench/_kit.py)

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from deepfakelab.demos.runner import DEMO_SECONDS
from deepfakelab.measured import Measurement
from deepfakelab.threads import prepare_process

#: One other CPU-bound job: a pure-Python loop, optionally pinned to one CPU (``{cpu}``).
SPIN = "import os, sys\nif sys.argv[1] != '-': os.sched_setaffinity(0, {int(sys.argv[1])})\nwhile True: pass"


def demo_command(out: Path, quick: bool = False, parts: list[str] | None = None) -> list[str]:
    """``make demo``'s command (``deepfakelab demo --out OUT``), run by this Python."""
    return [
        sys.executable,
        "-m",
        "deepfakelab",
        "demo",
        "--out",
        str(out),
        *(["--quick"] if quick else []),
        *(["--parts", *parts] if parts else []),
    ]


def child_env() -> dict[str, str]:
    """The caller's environment with this checkout's kit first on the path.

    ``OMP_WAIT_POLICY`` passes on as it is: the caller's choice if any, else the PASSIVE that
    ``prepare_process`` set, which is what the demo sets for itself.
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(_kit.REPO / "lib"), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    return env


def cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) a running process has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_once(
    command: list[str],
    competitors: int = 0,
    pin: int | None = None,
    settle: float = 0.0,
    log: Path | None = None,
    env: dict[str, str] | None = None,
) -> dict:
    """Run ``command`` beside ``competitors`` busy loops; its wall and CPU time, the load, the loops' CPU."""
    spinners = [
        subprocess.Popen([sys.executable, "-c", SPIN, "-" if pin is None else str(pin)])
        for _ in range(competitors)
    ]
    try:
        time.sleep(settle if competitors else 0.0)
        load_before = os.getloadavg()[0]
        spun_before = sum(cpu_seconds(p.pid) for p in spinners)
        usage_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        lines = []
        with subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env or child_env(),
            bufsize=1,
        ) as proc:
            for line in proc.stdout:
                print(line, end="", flush=True)
                lines.append(line)
        wall = time.perf_counter() - started
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        spun = sum(cpu_seconds(p.pid) for p in spinners) - spun_before
        load_after = os.getloadavg()[0]
    finally:
        for p in spinners:
            p.kill()
            p.wait()
    if log is not None:
        log.write_text("".join(lines))
    return {
        "returncode": proc.returncode,
        "wall_seconds": round(wall, 1),
        "cpu_seconds": round(
            usage.ru_utime + usage.ru_stime - usage_before.ru_utime - usage_before.ru_stime, 1
        ),
        "load_before": round(load_before, 2),
        "load_after": round(load_after, 2),
        "competitors": competitors,
        "competitor_cpu_seconds": round(spun, 1),
        "expected_lines": [line.strip() for line in lines if line.startswith("expected: about")],
    }


def part_rows(summary_json: Path) -> list[dict]:
    """Per part of a finished demo: threads, wait policy, probe speed, expected and actual seconds,
    and for the part that trains (the GAN) the epochs it trained, which its time budget chose."""
    if not summary_json.is_file():
        return []
    rows = []
    for key, part in json.loads(summary_json.read_text()).items():
        rows.append(
            {
                "part": key,
                "threads": part.get("threads"),
                "passive": part.get("passive_waiting"),
                "probe_steps_per_second": part.get("probe_steps_per_second"),
                "expected_seconds": part.get("expected_seconds"),
                "seconds": part.get("seconds"),
                **({"epochs": part["epochs"]} if "epochs" in part else {}),
            }
        )
    return rows


def _minutes(seconds: float | None) -> str:
    return "-" if seconds is None else f"{int(seconds // 60)} min {seconds % 60:02.0f} s"


def report(results: dict[str, dict]) -> str:
    """Markdown tables of the runs and of their parts."""
    lines = [
        f"{os.cpu_count()} CPUs, {len(os.sched_getaffinity(0))} usable by this process",
        "",
        "| run | wall | CPU s | load before | load after | busy loop's CPU s | exit |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in results.items():
        lines.append(
            f"| {name} | {_minutes(r['wall_seconds'])} | {r['cpu_seconds']} | {r['load_before']} | "
            f"{r['load_after']} | {r['competitor_cpu_seconds'] if r['competitors'] else '-'} | {r['returncode']} |"
        )
    lines += [
        "",
        "| run | part | torch threads | waiting | probe steps/s | expected s | actual s |",
        "|---|---|---:|---|---:|---:|---:|",
    ]
    for name, r in results.items():
        for p in r.get("parts", []):
            waiting = "-" if p["passive"] is None else ("sleeping" if p["passive"] else "spinning")
            lines.append(
                f"| {name} | {p['part']} | {p['threads']} | {waiting} | {p['probe_steps_per_second']} | "
                f"{p['expected_seconds']} | {p['seconds']} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=_kit.REPO / "outputs" / "demo-load",
        help="folder for the runs' demo folders, logs and results.json (default: %(default)s)",
    )
    parser.add_argument("--only", choices=["idle", "busy"], help="run only one of the two")
    parser.add_argument(
        "--pin", type=int, metavar="CPU", help="pin the busy loop to this CPU (default: not pinned)"
    )
    parser.add_argument(
        "--settle",
        type=float,
        default=60.0,
        help="seconds the busy loop runs before the demo starts (default: %(default)s)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="the demo's --quick smoke run (checks this script)"
    )
    parser.add_argument(
        "--parts", nargs="+", choices=["gan", "reenact", "detect"], help="only these demo parts"
    )
    parser.add_argument(
        "--json", help="also write both runs here (site/data/demo_load.json is what the Results page shows)"
    )
    args = parser.parse_args(argv)
    _kit.check_outputs(parser, json=(args.json, ".json"))
    measurement = Measurement()  # threads: the demo chooses its own, recorded per part
    args.out.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict] = {}
    for key, name, competitors in (("idle", "idle", 0), ("busy", "beside 1 busy loop", 1)):
        if args.only and key != args.only:
            continue
        folder = args.out / key
        if folder.exists():
            shutil.rmtree(
                folder
            )  # a fresh demo folder: the GAN must not resume the previous run's checkpoints
        print(f"\n##### demo, {name}: {' '.join(demo_command(folder, args.quick, args.parts))}", flush=True)
        result = run_once(
            demo_command(folder, args.quick, args.parts),
            competitors,
            args.pin,
            args.settle,
            log=args.out / f"{folder.name}.log",
        )
        result["parts"] = part_rows(folder / "summary.json")
        results[name] = result
        (args.out / "results.json").write_text(json.dumps(results, indent=2))
    print("\n" + report(results))
    print(f"\n(results.json and the logs are in {args.out})")
    if args.json:
        numbers = {
            "budget_seconds": DEMO_SECONDS,
            "quick": args.quick,
            "parts": args.parts,
            "settle_seconds": args.settle,
            "pinned_cpu": args.pin,
            "runs": results,
        }
        _kit.write_json(args.json, numbers, measurement)
    return 0 if all(r["returncode"] == 0 for r in results.values()) else 1


if __name__ == "__main__":
    prepare_process()  # sleeping OpenMP threads, before any work (deepfakelab/threads.py)
    sys.exit(main())
