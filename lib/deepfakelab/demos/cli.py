"""``deepfakelab demo``: its options and what it prints when done; the run itself is :mod:`.runner`'s."""

from __future__ import annotations

import argparse
import time
from pathlib import Path


def _command(args: argparse.Namespace) -> int:
    from .runner import process_seconds, run_demo

    out = Path(args.out).resolve()
    started = time.perf_counter() - process_seconds()
    summary = run_demo(out, quick=args.quick, parts=args.parts, gan_epochs=args.gan_epochs, started=started)
    print(f"\nDemo finished. Everything is in {out}")
    for key, result in summary.items():
        print(f"  {key}: {result.get('seconds', '?')} s")
        for label, value in result.get("files", {}).items():
            print(f"    {label}: {value}")
    print(f"  summary: {out / 'summary.json'}")
    print(f"  every result on one page: {out / 'index.html'}")
    return 0


def _epochs(value: str) -> int:
    """``--gan-epochs``: a whole number of at least 1, or one line saying what was wrong."""
    try:
        epochs = int(value)
    except ValueError:
        epochs = 0
    if epochs < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of epochs, at least 1, not {value!r}")
    return epochs


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="run every lab's demo on the embedded defaults",
        description="Reenact a face, detect the fakes, then train a small GAN on bags in the time "
        "left of a 3-minute budget, writing videos, reports and plots into one folder (index.html "
        "shows them all). Runs offline, on the CPU if there is no GPU.",
    )
    parser.add_argument("--out", default="outputs/demo", help="folder for the results (default: %(default)s)")
    parser.add_argument("--quick", action="store_true", help="a much shorter run, for smoke tests")
    parser.add_argument(
        "--parts", nargs="+", choices=["gan", "reenact", "detect"], help="run only these parts"
    )
    parser.add_argument(
        "--gan-epochs",
        type=_epochs,
        metavar="N",
        help="train the GAN N epochs instead of as many as fit the demo's 3-minute budget here",
    )
    parser.set_defaults(func=_command)
