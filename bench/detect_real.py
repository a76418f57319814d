"""The real-face detector's evaluation: held-out real people, their fakes, and the synthetic test set.

    python bench/detect_real.py                       # table for the shipped detector, kitnet, the probe
    python bench/detect_real.py --weights runs/real-mnv2/detector.pt
    python bench/detect_real.py --json site/data/detect_real.json  # the site's table (commit it)

Test set: the test persons of the face set's rosters (``scripts/train_real_detector.sh`` builds it
from ``../shared/data/faces``, 1,621 people's photos, and ``../shared/data/real``, 18 people on
video): their real videos and photos and the fakes the kit made of them (self-blends, face swaps,
landmark and mesh-warp reenactments driven by other test persons' videos: one fake "video" per kind
and file); plus the face set's synthetic test identities (all four synthetic manipulations, FOMM
included). Rows:

- the detector given by ``--weights`` (default: the shipped one);
- ``kitnet``, the synthetic-only network (``detect/weights/kitnet.pt``; its training identities
  overlap this synthetic test split: its own synthetic table is ``bench/detect.py``);
- a linear probe on frozen ImageNet MobileNetV2 features (fitted here on the training split,
  cached in ``runs/real-probe/detector.pt``).

Targets (issue 27): on the real persons held out, video AUC >= 0.97, photo AUC >= 0.95, at most 1
real video and 1 real photo in 10 called fake, frame AUC >= 0.90, video AUC >= 0.93 after JPEG 50,
ECE <= 0.08, identity-leak gap (real faces' mean P(fake), test persons minus training persons)
<= 0.10, pointing game >= 0.8 on the self-blend masks, synthetic video AUC >= 0.99, crop + score +
Grad-CAM >= 20 frames/s on 2 cores. ``--also NAME=WEIGHTS`` adds rows (the old default, a run
without UTKFace).
"""

from __future__ import annotations

import _kit  # the benches' shared helpers (bench/_kit.py)

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")
REPO = Path(__file__).resolve().parents[1]

import numpy as np  # noqa: E402
from deepfakelab.threads import prepare_process  # noqa: E402


def photo_rows(faces) -> np.ndarray:
    """Which rows come from a photo (a real photo and the fakes made of it) rather than a video's
    frames: bool ``(N,)``. A photo is its own "video" of one frame, so photo AUC is video AUC there."""
    from deepfakelab.media.files import is_image_path

    return np.array([is_image_path(s.split("#")[0]) for s in faces.source.tolist()], bool)


def rows_for(model, test, device="cpu") -> dict:
    """Every number of one row on the real test persons and on the synthetic test identities.

    On real people, videos and photos are measured apart (``video_auc``: the real test videos
    against the fake videos made of those people; ``photo_auc``: the real test photos against
    the fakes made of each), since a photo set of 1,600 people would drown five videos."""
    from deepfakelab.detect.evaluation import faithfulness
    from deepfakelab.detect.metrics import evaluate, expected_calibration_error, video_scores
    from deepfakelab.fakes.roster import real_rows
    from deepfakelab.detect.train import predict

    real = real_rows(test)
    out = {}
    for name, part in (("real", test.subset(real)), ("synthetic", test.subset(~real))):
        if len(set(part.labels.tolist())) < 2:
            continue
        scores = predict(model, part, device=device)
        jpeg_scores = predict(model, part, device=device, jpeg_quality=50)
        photo = photo_rows(part) if name == "real" else np.zeros(len(part), bool)
        videos = ~photo if len(set(part.labels[~photo].tolist())) == 2 else np.ones(len(part), bool)
        m = evaluate(part.video[videos], part.labels[videos], scores[videos]).as_dict()
        ids, vlabels, vscores = video_scores(part.video[videos], part.labels[videos], scores[videos])
        jpeg = evaluate(part.video[videos], part.labels[videos], jpeg_scores[videos])
        m.update(
            real_videos=int((vlabels == 0).sum()),
            fake_videos=int((vlabels == 1).sum()),
            reals_called_fake=float((vscores[vlabels == 0] >= 0.5).mean()),
            ece=expected_calibration_error(part.labels, scores),
            video_auc_jpeg50=jpeg.video_auc,
            frame_auc_jpeg50=jpeg.frame_auc,
        )
        if photo.any() and len(set(part.labels[photo].tolist())) == 2:
            p = evaluate(part.video[photo], part.labels[photo], scores[photo])
            _, plabels, pscores = video_scores(part.video[photo], part.labels[photo], scores[photo])
            m.update(
                photo_auc=p.video_auc,
                real_photos=int((plabels == 0).sum()),
                fake_photos=int((plabels == 1).sum()),
                photos_called_fake=float((pscores[plabels == 0] >= 0.5).mean()),
                photo_auc_jpeg50=evaluate(
                    part.video[photo], part.labels[photo], jpeg_scores[photo]
                ).video_auc,
                all_frame_auc=evaluate(part.video, part.labels, scores).frame_auc,
            )
        if name == "real":
            kept = part.subset(videos)
            m["video_auc_within_person"] = within_person_auc(kept, scores[videos])
            blends = part.subset((part.kind == "self_blend") | (part.labels == 0))
            both = faithfulness(model, blends, methods=("gradcam", "layercam"), limit=128)
            explain = both["gradcam"]
            m.update(
                pointing_game=explain["pointing_game"],
                layercam_pointing_game=both["layercam"]["pointing_game"],
                random_model_pointing_game=explain["random_model_pointing_game"],
                rank_corr_with_random_model=explain["rank_corr_with_random_model"],
                mask_area_share=explain["mask_area_share"],
            )
            m["per_kind_video_auc"] = {
                kind: evaluate(kept.video[keep], kept.labels[keep], scores[videos][keep]).video_auc
                for kind in sorted(set(kept.kind[kept.labels == 1].tolist()))
                for keep in [(kept.labels == 0) | (kept.kind == kind)]
            }
        out[name] = m
    return out


def within_person_auc(part, scores) -> float:
    """The mean over people of the video AUC of each person's real videos against the fakes made
    of that person's face: how well the network ranks fakes above reals when every person's own
    level is taken out. Far above the pooled AUC, it says the errors come from people's real
    faces sitting at different heights on one scale, not from fakes the network cannot see."""
    from deepfakelab.detect.metrics import evaluate

    aucs = [
        evaluate(part.video[keep], part.labels[keep], scores[keep]).video_auc
        for person in sorted(set(part.group.tolist()))
        for keep in [part.group == person]
        if len(set(part.labels[keep].tolist())) == 2
    ]
    return float(np.mean(aucs)) if aucs else float("nan")


def real_scores_by_split(
    model, faces, splits, size: int, per_video: int = 24, only: str | None = None
) -> dict[str, float]:
    """Mean P(fake) of the real videos and photos (each one unit) of the training, validation and
    test persons; ``only="videos"`` or ``"photos"`` keeps one of the two.

    Why reals are called fake: a gap between the training persons' real faces and new persons'
    says the network still recognises the faces it was trained on rather than only blending
    traces (every new person's real face then sits high on its scale). ``per_video`` evenly
    spaced crops of each video, at the network's input ``size``, keep this to seconds.
    """
    from deepfakelab.detect.metrics import video_scores
    from deepfakelab.detect.train import predict
    from deepfakelab.fakes.roster import real_rows
    from deepfakelab.media.frames import evenly_spaced

    photo = photo_rows(faces)
    wanted = {None: np.ones(len(faces), bool), "videos": ~photo, "photos": photo}[only]
    out = {}
    for name in ("train", "val", "test"):
        part = faces.subset(splits[name] & (faces.labels == 0) & real_rows(faces) & wanted)
        keep = np.zeros(len(part), bool)
        for video in np.unique(part.video):
            rows = np.flatnonzero(part.video == video)
            keep[rows[evenly_spaced(len(rows), per_video)]] = True
        part = part.subset(keep).resized(size)
        if len(part):
            out[name] = float(video_scores(part.video, part.labels, predict(model, part))[2].mean())
    return out


def probe_weights(faces, splits, path: Path) -> Path:
    from deepfakelab.detect.backbone import load_backbone_state
    from deepfakelab.detect.evaluation import finish_weights
    from deepfakelab.detect.probe import linear_probe, save_probe

    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        size = faces.images.shape[1]
        model = linear_probe(faces.subset(splits["train"]), load_backbone_state(), size)
        save_probe(model, size, path)
        finish_weights(model, faces.subset(splits["train"]), faces.subset(splits["val"]), path)
    return path


def throughput(weights, video: Path, frames: int, provenance: bool = False) -> float:
    """Frames per second of ``analyse`` (decode, MTCNN crop, score, Grad-CAM) on ``frames`` frames;
    with ``provenance``, also reading the file's marks as ``detect`` does (a second decode of up
    to 24 frames and the watermark search: a cost per file, not per frame)."""
    from deepfakelab.detect.inference import DeepfakeDetector

    detector = DeepfakeDetector(weights, methods=("gradcam",))
    detector.analyse(video, count=4, provenance=provenance)  # warm-up
    start = time.perf_counter()
    result = detector.analyse(video, count=frames, keep_frames=False, provenance=provenance)
    return len(result.frames) / (time.perf_counter() - start)


def update_throughput(parser, args) -> int:
    """``--throughput-only``: the two throughputs measured again, written into ``--json`` (whose
    scores stay as they were measured), with a note saying when."""
    if not args.json or not Path(args.json).is_file():
        parser.error("--throughput-only updates an existing --json file: give it")
    data = json.loads(Path(args.json).read_text())
    fps = throughput(args.weights, Path(args.video), args.frames)
    fps_marks = throughput(args.weights, Path(args.video), args.frames, provenance=True)
    load = os.getloadavg()[0]
    print(
        f"throughput: {fps:.1f} frames/s ({fps_marks:.1f} with the provenance check), load average {load:.1f}"
    )
    data.update(fps=fps, fps_with_provenance=fps_marks)
    data["checks"]["throughput >= 20 frames/s"] = fps >= 20
    data["measured"] = (
        data.get("measured", "") + f"; throughput measured again by --throughput-only, "
        f"load average {load:.1f}, {time.strftime('%Y-%m-%d')}"
    )
    Path(args.json).write_text(json.dumps(data, indent=2))
    return 0


def main() -> int:
    import torch

    from deepfakelab.detect.inference import DEFAULT_WEIGHTS, KITNET_WEIGHTS, load_detector
    from deepfakelab.fakes.faceset import FaceSet
    from deepfakelab.fakes.roster import person_splits

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data", default=str(REPO / "runs/real-128/faces.npz"), help="face set (detect-data --real)"
    )
    parser.add_argument("--weights", default=str(DEFAULT_WEIGHTS), help="the detector of the first row")
    parser.add_argument("--kitnet", default=str(KITNET_WEIGHTS), help="kitnet's weights")
    parser.add_argument(
        "--probe", default=str(REPO / "runs/real-probe/detector.pt"), help="linear probe (made if missing)"
    )
    parser.add_argument(
        "--video",
        default=str(REPO.parent / "shared/data/real/retalk_1.mp4"),
        help="a test person's video for the throughput (default: retalk_1.mp4)",
    )
    parser.add_argument("--frames", type=int, default=48, help="frames for the throughput")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default: 2)")
    parser.add_argument(
        "--also",
        nargs="*",
        default=[],
        metavar="NAME=WEIGHTS",
        help="more detectors to score, each a row (e.g. 'old default=runs/old/detector.pt')",
    )
    parser.add_argument(
        "--throughput-only",
        action="store_true",
        help="measure only the throughput and update it (and its check) in the existing --json file",
    )
    parser.add_argument(
        "--json",
        help="also write every number here (aggregates only: site/data/detect_real.json "
        "is what the site's detection page shows)",
    )
    args = parser.parse_args()
    _kit.check_outputs(parser, json=(args.json, ".json"))
    torch.set_num_threads(args.threads)
    if args.throughput_only:
        return update_throughput(parser, args)

    faces = FaceSet.load(args.data)
    splits = person_splits(faces.group, split=faces.split)
    test = faces.subset(splits["test"])
    detectors = {
        "shipped/given": Path(args.weights),
        "kitnet (synthetic only)": Path(args.kitnet),
        "linear probe (frozen)": probe_weights(faces, splits, Path(args.probe)),
    }
    for extra in args.also:
        name, _, path = extra.partition("=")
        if not path or not Path(path).is_file():
            parser.error(f"--also {extra!r}: give NAME=WEIGHTS with an existing weights file")
        detectors[name] = Path(path)
    results = {}
    for name, path in detectors.items():
        model, config = load_detector(path)
        start = time.perf_counter()
        # each network sees the test faces at its own input size (both shipped ones: 128 px)
        results[name] = {"weights": _kit.shown(path), **rows_for(model, test.resized(config.size))}
        by_split = real_scores_by_split(model, faces, splits, config.size)
        results[name]["real"]["real_score_by_split"] = by_split
        if {"train", "test"} <= by_split.keys():  # new people's real faces scored higher than known ones'
            results[name]["real"]["identity_leak_gap"] = by_split["test"] - by_split["train"]
        for only in (
            "videos",
            "photos",
        ):  # the two apart: a few filmed people can leak where many photos do not
            apart = real_scores_by_split(model, faces, splits, config.size, only=only)
            results[name]["real"][f"real_{only[:-1]}_score_by_split"] = apart
            if {"train", "test"} <= apart.keys():
                results[name]["real"][f"identity_leak_gap_{only}"] = apart["test"] - apart["train"]
        print(f"{name}: scored in {time.perf_counter() - start:.0f} s", flush=True)

    r0 = next(iter(results.values()))["real"]
    print(
        f"\nreal persons held out: {r0['real_videos']} real videos and {r0.get('real_photos', 0)} real photos "
        f"({r0['frames']} video frames), {r0['fake_videos']} fake videos and {r0.get('fake_photos', 0)} fake "
        f"photos; synthetic: {next(iter(results.values())).get('synthetic', {}).get('videos', 0)} videos"
    )
    print(
        f"{'detector':<26} {'fAUC':>6} {'vAUC':>6} {'pAUC':>6} {'vid>=.5':>7} {'pho>=.5':>7} {'ECE':>6} "
        f"{'vAUC@q50':>8} {'leak':>6} {'point':>6} {'pointLC':>7} | {'synth vAUC':>10}"
    )
    nan = float("nan")
    for name, r in results.items():
        m, s = r["real"], r.get("synthetic", {})
        print(
            f"{name:<26} {m['frame_auc']:6.3f} {m['video_auc']:6.3f} {m.get('photo_auc', nan):6.3f} "
            f"{m['reals_called_fake']:7.2f} {m.get('photos_called_fake', nan):7.2f} {m['ece']:6.3f} "
            f"{m['video_auc_jpeg50']:8.3f} {m.get('identity_leak_gap', nan):6.2f} "
            f"{m['pointing_game']:6.3f} {m['layercam_pointing_game']:7.3f} | {s.get('video_auc', nan):10.3f}"
        )
    print("\nreal faces' mean P(fake) by persons' split (the identity-leak gap is test minus train):")
    for name, r in results.items():
        for key in ("real_score_by_split", "real_video_score_by_split", "real_photo_score_by_split"):
            print(
                f"  {name:<26} {key.split('_')[1] if key != 'real_score_by_split' else 'all':<6} "
                + ", ".join(f"{k} {v:.2f}" for k, v in r["real"].get(key, {}).items())
            )
    print(
        "video AUC within each held-out person (their real video against the fakes of their face), "
        + ", ".join(f"{name} {r['real']['video_auc_within_person']:.3f}" for name, r in results.items())
        + " (against the pooled video AUC above: how much of the error is each person's own level)"
    )
    print("\nvideo AUC per fake kind (real test videos vs that kind's):")
    for name, r in results.items():
        print(
            f"  {name:<26} " + ", ".join(f"{k} {v:.3f}" for k, v in r["real"]["per_kind_video_auc"].items())
        )

    fps = throughput(args.weights, Path(args.video), args.frames)
    fps_marks = throughput(args.weights, Path(args.video), args.frames, provenance=True)
    print(
        f"\nthroughput (decode + MTCNN crop + score + Grad-CAM), {args.weights}: {fps:.1f} frames/s "
        f"({fps_marks:.1f} with the provenance check detect adds, {args.frames} frames), "
        f"{args.threads} threads; load average {os.getloadavg()} on {os.cpu_count()} cores"
    )
    m, s = r0, next(iter(results.values())).get("synthetic", {})
    checks = {
        "real video AUC >= 0.97": m["video_auc"] >= 0.97,
        "<= 1 real video in 10 called fake": m["reals_called_fake"] <= 0.1,
        "<= 1 real photo in 10 called fake": m.get("photos_called_fake", 1.0) <= 0.1,
        "photo AUC >= 0.95": m.get("photo_auc", 0.0) >= 0.95,
        "real frame AUC >= 0.90": m["frame_auc"] >= 0.90,
        "real video AUC after JPEG 50 >= 0.93": m["video_auc_jpeg50"] >= 0.93,
        "ECE <= 0.08": m["ece"] <= 0.08,
        # the stricter of the gaps: all real faces, and videos and photos apart
        "identity-leak gap <= 0.10 (all, videos, photos)": max(
            [
                m[k]
                for k in ("identity_leak_gap", "identity_leak_gap_videos", "identity_leak_gap_photos")
                if k in m
            ]
            or [1.0]
        )
        <= 0.10,
        "pointing game >= 0.8 (Grad-CAM)": m["pointing_game"] >= 0.8,
        "pointing game >= 0.8 (LayerCAM)": m["layercam_pointing_game"] >= 0.8,
        "synthetic video AUC >= 0.99": s.get("video_auc", 0) >= 0.99,
        "throughput >= 20 frames/s": fps >= 20,
    }
    for name, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'}  {name}")
    if args.json:
        from deepfakelab.fakes.roster import real_rows

        measured = (
            f"{args.threads} threads, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores, "
            f"{time.strftime('%Y-%m-%d')}"
        )
        people = len(set(test.group[real_rows(test)].tolist()))
        Path(args.json).write_text(
            json.dumps(
                {
                    "results": results,
                    "fps": fps,
                    "fps_with_provenance": fps_marks,
                    "checks": checks,
                    "test_persons": people,
                    "measured": measured,
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    prepare_process()  # sleeping OpenMP threads, before any work (deepfakelab/threads.py)
    sys.exit(main())
