"""``deepfakelab demo``: one command that shows every part of the kit on embedded defaults.

Each lab contributes a part: a module with ``run(out_dir: Path, quick: bool) -> dict`` that
writes its files under ``out_dir`` and returns a summary (paths and headline numbers).
Parts not yet present in this version are skipped. The whole demo is meant to finish within
10 minutes on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import importlib
import json
import time
from pathlib import Path

#: (title, module) of each demo part, in the order the course teaches them.
DEMO_PARTS = [
    ("Lab 2: a DCGAN that makes bags", "deepfakelab.gan.demo"),
    ("Lab 1: reenactment", "deepfakelab.reenact.demo"),
    ("Lab 1: detection and explanation", "deepfakelab.detect.demo"),
]


def run_demo(out_dir: Path, quick: bool = False, parts: list[str] | None = None) -> dict:
    """Run the demo parts, write ``summary.json`` into ``out_dir`` and return the summary."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    summary: dict = {}
    for title, module_name in DEMO_PARTS:
        key = module_name.split(".")[1]
        if parts and key not in parts:
            continue
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue
            raise
        print(f"\n=== {title} ===", flush=True)
        start = time.perf_counter()
        result = module.run(out_dir / key, quick=quick)
        result["seconds"] = round(time.perf_counter() - start, 1)
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
