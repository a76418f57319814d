"""Detection lab benchmark: the evaluation table and the throughput of crop + score + Grad-CAM.

    python bench/detect.py                      # table from the runs below (or the shipped kitnet), then throughput
    python bench/detect.py --train              # (re)make the face set and both runs first
    python bench/detect.py --json site/data/detect_synthetic.json  # the site's tables (commit it)

Runs read (made by the documented commands, see the README):

- ``runs/detector5-mw4``: trained on every manipulation (in-distribution rows; the shipped weights);
- ``runs/detector5-mw4-holdout``: trained without ``face_swap`` (its row is cross-manipulation).

Without the first run, the shipped ``kitnet.pt`` (``--weights``) is scored now on the test split of
``--data`` (the face set its run was trained on, rebuilt by the documented ``detect-data`` command:
the split is by identity, the same for every run), as :func:`deepfakelab.detect.evaluation.evaluate_detector`
scores a run at the end of training. Without the hold-out run its row is left out, with a note.

Targets (issue 5): in-distribution video AUC >= 0.99, held-out manipulation AUC >= 0.90,
AUC at JPEG 50 >= 0.95, pointing game >= 0.8 for Grad-CAM, throughput >= 20 frames/s on
2 CPU cores. Throughput is printed with the ratio to a baseline measured in the same run: the
naive pipeline (MTCNN on the full-size frame, one frame per forward pass).

``--json FILE`` writes what the table and the throughput show (the runs' test rows, map
faithfulness, frames per second), the targets and how it was measured: the site's Results page
is generated from it (``site/sitegen/table_detect_synthetic.py``). The table's numbers are each
run's own evaluation, written when it was trained; the file says when.
"""

from __future__ import annotations

import _kit  # the benches' shared helpers (bench/_kit.py)

import argparse
import datetime
import json
import os
import sys
import time
from pathlib import Path
from deepfakelab.measured import Measurement
from deepfakelab.threads import prepare_process

os.environ.setdefault("MPLBACKEND", "Agg")
REPO = Path(__file__).resolve().parents[1]

HOLD_OUT = "face_swap"
EPOCHS = 80  # as the shipped weights (lib/deepfakelab/detect/weights/README.md)
#: Issue 5's targets; the checks below and the site's sentence compare against these.
TARGETS = {
    "video_auc": 0.99,  # in distribution, every manipulation against the reals
    "video_auc_jpeg50": 0.95,  # the same after JPEG re-compression at quality 50
    "held_out_video_auc": 0.90,  # the manipulation the hold-out run never saw
    "pointing_game": 0.8,  # Grad-CAM's maximum inside the change mask
    "frames_per_s": 20.0,  # crop + score + Grad-CAM on 2 CPU cores
}
#: How the throughput printout names the two pipelines.
BASELINE, KIT = "baseline (full-size MTCNN, 1 frame a pass)", "kit pipeline"


def train_runs(data: Path, run: Path, holdout_run: Path, threads: int) -> None:
    from deepfakelab.detect.evaluation import train_and_evaluate
    from deepfakelab.fakes.synthetic import build_synthetic

    if not data.exists():
        build_synthetic(data, identities=64, videos_per_identity=2, frames_per_video=8)
    train_and_evaluate(data, run, epochs=EPOCHS, threads=threads)
    train_and_evaluate(data, holdout_run, hold_out=HOLD_OUT, epochs=EPOCHS, threads=threads)


def _row(name: str, m: dict, jpeg: dict | None, note: str = "") -> str:
    j = f"{jpeg['frame_auc']:.4f}  {jpeg['video_auc']:.4f}" if jpeg else "   -       -   "
    return (
        f"{name:<22} {m['frame_auc']:.4f}  {m['video_auc']:.4f}  {m['eer']:.4f}  {m['ap']:.4f}   "
        f"{j}  {m['videos']:>4}  {note}"
    )


def run_summary(path: Path, ev: dict) -> dict:
    """What the site shows of one run's ``evaluation.json``: its test rows (all fakes, each
    manipulation), the same after JPEG 50 and the maps' faithfulness, with how it was trained and
    when it was evaluated (the file's date: this bench reads the numbers, it does not remeasure)."""
    config = ev["config"]
    written = (path / "evaluation.json").stat().st_mtime
    return {
        "run": _kit.shown(path),
        "evaluated": datetime.date.fromtimestamp(written).isoformat(),
        "arch": config["detector"]["arch"],
        "epochs": config["epochs"],
        "mask_weight": config["mask_weight"],
        "hold_out": config["hold_out"],
        "test_identities": len(ev.get("held_out", {}).get("test", [])),
        "test": ev["test"],
        "test_jpeg50": ev["test_jpeg50"],
        "explain": ev.get("explain", {}),
    }


def evaluate_weights(weights: Path, data: Path) -> tuple[dict, dict]:
    """The shipped weights scored now on ``data``'s test split: an ``evaluation.json``-shaped dict
    (what :func:`print_table` prints) and what the site shows of it (as :func:`run_summary`)."""
    from deepfakelab.detect.evaluation import evaluate_detector, test_split
    from deepfakelab.detect.inference import load_detector
    from deepfakelab.fakes.faceset import FaceSet

    model, config = load_detector(weights)
    info = checkpoint_info(weights)
    test = test_split(FaceSet.load(data))
    ev = {"config": {"hold_out": info.get("hold_out")}, **evaluate_detector(model, test)}
    summary = {
        "run": f"{_kit.shown(weights)}, scored on the test split of {_kit.shown(data)}",
        "evaluated": datetime.date.today().isoformat(),
        "arch": config.arch,
        "epochs": info.get("epoch"),
        "mask_weight": None,
        "hold_out": info.get("hold_out"),
        "test_identities": len(set(test.group.tolist())),
        "test": ev["test"],
        "test_jpeg50": ev["test_jpeg50"],
        "explain": ev["explain"],
    }
    return ev, summary


def checkpoint_info(weights: Path) -> dict:
    """The ``info`` a detector checkpoint carries (its best epoch, hold-out, name)."""
    import torch

    return torch.load(weights, map_location="cpu", weights_only=True).get("info", {})


def print_table(run: Path, holdout_run: Path, weights: Path | None = None, data: Path | None = None):
    """Print both runs' tables; the checks against :data:`TARGETS` and :func:`run_summary` of
    each run found (``"in_distribution"``, ``"held_out"``), ``{"missing": path}`` for one not found.
    Without the in-distribution run, ``weights`` are scored on ``data``'s test split instead."""
    header = (
        f"{'test set (vs reals)':<22} {'fAUC':>6}  {'vAUC':>6}  {'EER':>6}  {'AP':>6}   "
        f"{'fAUC@q50':>8} {'vAUC@q50':>8} {'videos':>6}"
    )
    checks, runs = {}, {}
    for key, title, path in (
        ("in_distribution", "trained on every manipulation", run),
        ("held_out", f"trained without {HOLD_OUT}", holdout_run),
    ):
        file = path / "evaluation.json"
        if file.exists():
            ev = json.loads(file.read_text())
            runs[key] = run_summary(path, ev)
        elif key == "in_distribution" and weights and weights.is_file() and data and data.is_file():
            title, path = "the shipped weights, scored now", weights
            ev, runs[key] = evaluate_weights(weights, data)
        else:
            print(f"\n{title}: {file} missing (run with --train, or the README's commands)")
            runs[key] = {"missing": _kit.shown(file)}
            continue
        print(f"\n== {title} ({path}) ==")
        print(header)
        for name, m in ev["test"].items():
            note = "HELD OUT (cross-manipulation)" if name == ev["config"]["hold_out"] else ""
            print(_row(name, m, ev["test_jpeg50"].get(name), note))
        if ev["config"]["hold_out"]:
            checks[f"held-out video AUC >= {TARGETS['held_out_video_auc']:.2f}"] = (
                ev["test"][ev["config"]["hold_out"]]["video_auc"] >= TARGETS["held_out_video_auc"]
            )
        else:
            checks[f"in-distribution video AUC >= {TARGETS['video_auc']:.2f}"] = (
                ev["test"]["all"]["video_auc"] >= TARGETS["video_auc"]
            )
            checks[f"video AUC at JPEG 50 >= {TARGETS['video_auc_jpeg50']:.2f}"] = (
                ev["test_jpeg50"]["all"]["video_auc"] >= TARGETS["video_auc_jpeg50"]
            )
            print(
                f"\n{'map method':<12} {'pointing':>8} {'energy':>7} {'mask area':>9} "
                f"{'random-model pointing':>21} {'rank corr trained/random':>24}"
            )
            for method, e in ev["explain"].items():
                energy = float("nan") if e["energy_in_mask"] is None else e["energy_in_mask"]
                print(
                    f"{method:<12} {e['pointing_game']:>8.3f} {energy:>7.3f} "
                    f"{e['mask_area_share']:>9.3f} {e['random_model_pointing_game']:>21.3f} "
                    f"{e['rank_corr_with_random_model']:>24.3f}"
                )
            checks[f"Grad-CAM pointing game >= {TARGETS['pointing_game']:g}"] = (
                ev["explain"]["gradcam"]["pointing_game"] >= TARGETS["pointing_game"]
            )
    return checks, runs


def throughput(video: Path, frames: int, threads: int) -> tuple[dict, dict]:
    """Frames per second of :data:`BASELINE` and :data:`KIT` on the first ``frames`` of ``video``,
    and what they were measured with (detector, frames decoded, faces found)."""
    import torch

    from deepfakelab.faces.cropper import CROP_BATCH, FaceCropper
    from deepfakelab.detect.inference import DeepfakeDetector
    from deepfakelab.media import extract_frames

    torch.set_num_threads(threads)
    _, decoded = extract_frames(video, count=frames)
    images = [decoded[i] for i in sorted(decoded)]
    detector = DeepfakeDetector(methods=("gradcam",))

    found = {}

    def fast() -> None:
        crops = detector.cropper.crop_many(images)
        found["faces"] = sum(c is not None for c in crops)
        detector.score_crops([c.image for c in crops if c is not None])

    naive_cropper = FaceCropper(size=detector.config.size, detect_side=10_000, min_face=20 / 10_000)

    def naive() -> None:
        for im in images:
            crop = naive_cropper.crop(im)
            if crop is not None:
                detector.score_crops([crop.image])

    timings = {}
    for name, fn in ((BASELINE, naive), (KIT, fast)):
        fn()  # warm-up
        start = time.perf_counter()
        fn()
        timings[name] = len(images) / (time.perf_counter() - start)
    height, width = images[0].shape[:2]
    return timings, {
        "detector": detector.card.name,
        "frames": len(images),
        "frame_size": [width, height],
        "faces": found["faces"],
        "detect_side": detector.cropper.detect_side,  # the kit's pipeline: MTCNN on frames this size
        "batch": CROP_BATCH,  # ... this many at a time
    }


def compare_architectures(data: Path, out: Path, epochs: int, threads: int) -> None:
    """Same data, same epochs, every candidate net: test video AUC, training time, inference speed."""
    import torch

    from deepfakelab.detect.evaluation import train_and_evaluate
    from deepfakelab.detect.model import ARCHITECTURES, DetectorConfig, build_detector

    torch.set_num_threads(threads)
    print(
        f"\n{'arch':<20} {'params':>9} {'train s':>8} {'infer ms/crop':>13} {'test fAUC':>9} {'test vAUC':>9}"
    )
    for arch in ARCHITECTURES:
        model = build_detector(DetectorConfig(arch=arch)).eval()
        x = torch.randn(32, 3, 128, 128)
        with torch.no_grad():
            model(x)
            start = time.perf_counter()
            model(x)
            infer = (time.perf_counter() - start) / 32 * 1000
        start = time.perf_counter()
        ev = train_and_evaluate(
            data, out / arch, arch=arch, epochs=epochs, threads=threads, progress=False, methods=()
        )
        seconds = time.perf_counter() - start
        params = sum(p.numel() for p in model.parameters())
        print(
            f"{arch:<20} {params:>9,} {seconds:>8.0f} {infer:>13.1f} {ev['test']['all']['frame_auc']:>9.4f} "
            f"{ev['test']['all']['video_auc']:>9.4f}",
            flush=True,
        )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", default=str(REPO / "runs/detector5/faces.npz"), help="face set file")
    parser.add_argument("--run", default=str(REPO / "runs/detector5-mw4"), help="in-distribution run folder")
    parser.add_argument(
        "--holdout-run", default=str(REPO / "runs/detector5-mw4-holdout"), help="hold-out run folder"
    )
    parser.add_argument(
        "--weights",
        default=str(REPO / "lib/deepfakelab/detect/weights/kitnet.pt"),
        help="weights scored on --data's test split when the in-distribution run is missing",
    )
    parser.add_argument("--train", action="store_true", help="build the data and train both runs first")
    parser.add_argument(
        "--video",
        default=str(REPO.parent / "shared/data/real/d12.mp4"),
        help="video for the throughput test (default: the shared d12.mp4)",
    )
    parser.add_argument("--frames", type=int, default=48, help="frames for the throughput test")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default: 2)")
    parser.add_argument(
        "--compare-archs",
        type=int,
        metavar="EPOCHS",
        help="train every candidate architecture for EPOCHS epochs and compare them",
    )
    parser.add_argument(
        "--json",
        help="also write the table's and the throughput's numbers here "
        "(site/data/detect_synthetic.json is what the site's Results page shows)",
    )
    args = parser.parse_args()
    _kit.check_outputs(parser, json=(args.json, ".json"))
    if args.compare_archs and args.json:
        parser.error("--json writes the table and the throughput, which --compare-archs does not measure")
    measurement = Measurement(threads=args.threads)

    if args.compare_archs:
        compare_architectures(Path(args.data), REPO / "runs/detector-archs", args.compare_archs, args.threads)
        return 0

    if args.train:
        train_runs(Path(args.data), Path(args.run), Path(args.holdout_run), args.threads)
    checks, runs = print_table(Path(args.run), Path(args.holdout_run), Path(args.weights), Path(args.data))

    video = Path(args.video)
    if not video.exists():
        from deepfakelab.demos.detect import make_demo_videos

        video = make_demo_videos(REPO / "outputs/bench-detect", frames=args.frames)["real_0"]
    try:
        fps, used = throughput(video, args.frames, args.threads)
    except Exception as exc:  # no shipped weights yet: say so, keep the table
        print(f"\nthroughput skipped: {exc}")
        speed = {"skipped": str(exc)}
    else:
        base, kit = fps[BASELINE], fps[KIT]
        speed = {"video": video.name, **used, "threads": args.threads}
        speed |= {"baseline_fps": round(base, 3), "kit_fps": round(kit, 3)}
        print(
            f"\nthroughput on {video.name}, {args.frames} frames, {args.threads} threads "
            "(face crop + score + Grad-CAM):"
        )
        for name, value in fps.items():
            print(f"  {name:<45} {value:6.1f} frames/s")
        print(f"  ratio kit / baseline: {kit / base:.2f}x")
        print(
            f"  machine load average during the run (1, 5, 15 min): {os.getloadavg()} "
            f"on {os.cpu_count()} cores"
        )
        checks[f"throughput >= {TARGETS['frames_per_s']:g} frames/s"] = kit >= TARGETS["frames_per_s"]
    print()
    for name, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'}  {name}")
    if args.json:
        _kit.write_json(args.json, {"runs": runs, "throughput": speed, "targets": TARGETS}, measurement)
    return 0


if __name__ == "__main__":
    prepare_process()  # sleeping OpenMP threads, before any work (deepfakelab/threads.py)
    sys.exit(main())
