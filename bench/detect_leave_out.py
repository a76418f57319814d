"""Fakes the detector never saw: video AUC on each kind of fake left out of training.

    python bench/detect_leave_out.py \
        --run mesh_warp=runs/loo-mesh_warp/detector.pt \
        --run reenact,landmark_warp=runs/loo-reenact/detector.pt \
        --run face_swap=runs/loo-face_swap/detector.pt --run fomm=runs/loo-fomm/detector.pt \
        --json bench/detect_leave_out.json

Students bring fakes made by tools the kit does not have. Self-blended training is meant to
generalise to them; the SBI paper (Shiohara and Yamasaki, CVPR 2022) measures that by leaving a
kind of fake out of training entirely and scoring only that kind. Each ``--run`` names the kind
(or the names one method has in the real and the synthetic face sets, with commas) and the
weights of a run trained without it (``deepfakelab detect-train ... --hold-out KIND``; the
commands are in ``scripts/train_leave_out.sh``). For each, on the face set's test persons:

- real people: their real videos against the fake videos of that kind made of them (video AUC),
  and their real photos against that kind's fakes of each photo (photo AUC);
- synthetic heads: the test identities' real videos against that kind's (FOMM lives only here).

``--reference`` (default: the shipped detector, trained on every kind) is scored the same way,
so each left-out number stands beside the one the kind gets when it was seen.
"""

from __future__ import annotations

import _kit  # the benches' shared helpers (bench/_kit.py)

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from detect_real import REPO, photo_rows
from deepfakelab.threads import prepare_process

TARGET = 0.90  # issue 27: video AUC >= 0.90 on each left-out kind


def kind_aucs(model, test, kinds: list[str]) -> dict[str, float]:
    """Video AUC (real videos), photo AUC (real photos) and synthetic video AUC of ``kinds`` alone."""
    from deepfakelab.detect.metrics import evaluate
    from deepfakelab.fakes.roster import real_rows
    from deepfakelab.detect.train import predict

    out = {}
    real, photo = real_rows(test), photo_rows(test)
    parts = {"video_auc": real & ~photo, "photo_auc": real & photo, "synthetic_video_auc": ~real}
    for name, rows in parts.items():
        keep = rows & ((test.labels == 0) | np.isin(test.kind, kinds))
        part = test.subset(keep)
        if len(set(part.labels.tolist())) == 2:
            out[name] = evaluate(part.video, part.labels, predict(model, part)).video_auc
    return out


def main() -> int:
    import torch

    from deepfakelab.fakes.faceset import FaceSet
    from deepfakelab.detect.inference import DEFAULT_WEIGHTS, load_detector
    from deepfakelab.fakes.roster import person_splits

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data", default=str(REPO / "runs/real-128/faces.npz"), help="face set (detect-data --real)"
    )
    parser.add_argument(
        "--run",
        action="append",
        required=True,
        metavar="KIND=WEIGHTS",
        help="a kind left out (names with commas) and the weights trained without it",
    )
    parser.add_argument("--reference", default=str(DEFAULT_WEIGHTS), help="a detector trained on every kind")
    parser.add_argument(
        "--reference-name", help="the reference's name in the table (default: its weights' own)"
    )
    parser.add_argument("--epochs", type=int, default=1, help="the left-out runs' epochs, as the table says")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default: 2)")
    parser.add_argument("--json", help="also write every number here (aggregates only)")
    args = parser.parse_args()
    _kit.check_outputs(parser, json=(args.json, ".json"))
    runs = []
    for item in args.run:
        kinds, _, weights = item.partition("=")
        if not weights or not Path(weights).is_file():
            parser.error(f"--run {item!r}: give KIND=WEIGHTS with an existing weights file")
        runs.append((kinds.split(","), Path(weights)))
    torch.set_num_threads(args.threads)

    faces = FaceSet.load(args.data)
    test = faces.subset(person_splits(faces.group, split=faces.split)["test"])
    reference, _ = load_detector(args.reference)
    reference_name = args.reference_name or torch.load(
        args.reference, map_location="cpu", weights_only=True
    ).get("info", {}).get("name", _kit.shown(args.reference))
    results = {}
    for kinds, weights in runs:
        start = time.perf_counter()
        model, config = load_detector(weights)
        shown = test.resized(config.size)
        results[",".join(kinds)] = {
            "weights": _kit.shown(weights),
            "left_out": kind_aucs(model, shown, kinds),
            "seen": kind_aucs(reference, shown, kinds),
        }
        print(f"{','.join(kinds)}: scored in {time.perf_counter() - start:.0f} s", flush=True)

    print(
        f"\n{'kind left out':<24} {'video AUC':>10} {'photo AUC':>10} {'synth vAUC':>10}   "
        f"(seen in training: video / photo / synth)"
    )
    nan = float("nan")
    for name, r in results.items():
        out, seen = r["left_out"], r["seen"]
        print(
            f"{name:<24} {out.get('video_auc', nan):10.3f} {out.get('photo_auc', nan):10.3f} "
            f"{out.get('synthetic_video_auc', nan):10.3f}   ({seen.get('video_auc', nan):.3f} / "
            f"{seen.get('photo_auc', nan):.3f} / {seen.get('synthetic_video_auc', nan):.3f})"
        )
    checks = {
        f"video AUC >= {TARGET} with {name} left out": min(
            v for k, v in r["left_out"].items() if k in ("video_auc", "synthetic_video_auc")
        )
        >= TARGET
        for name, r in results.items()
    }
    for name, ok in checks.items():
        print(
            f"{'PASS' if ok else 'FAIL'}  {name} (the real videos where the kind has them, else the synthetic)"
        )
    if args.json:
        measured = (
            f"{args.threads} threads, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores, "
            f"{time.strftime('%Y-%m-%d')}"
        )
        Path(args.json).write_text(
            json.dumps(
                {
                    "results": results,
                    "reference": _kit.shown(args.reference),
                    "reference_name": reference_name,
                    "epochs": args.epochs,
                    "checks": checks,
                    "measured": measured,
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    prepare_process()  # sleeping OpenMP threads, before any work (deepfakelab/threads.py)
    sys.exit(main())
