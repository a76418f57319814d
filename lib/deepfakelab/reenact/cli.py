"""``deepfakelab reenact``: animate a face photo with the motion of a driving video."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..errors import ConfigError
from ..measured import Measurement
from ..media.files import check_input_file, check_input_folder, check_output_file
from .fomm.train_args import add_training_arguments


def _best_frame(value: str):
    if value == "auto":
        return "auto"
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected 'auto' or a frame number, got {value!r}") from None


def register(subparsers) -> None:
    """The reenactment commands, one function each."""
    _register_reenact(subparsers)
    _register_reenact_train(subparsers)
    _register_reenact_eval(subparsers)


def _register_reenact(subparsers) -> None:
    """The ``reenact`` command and its options.

    Long because it is one flat list of the command's options, in the order ``--help`` prints them."""
    parser = subparsers.add_parser(
        "reenact",
        help="animate a face photo with the motion of a driving video (writes a labelled mp4)",
        description="Find the face in SOURCE (a photo) and in DRIVING (a video), animate the photo with "
        "the video's motion and write OUT.mp4 at the video's frame rate, every frame, with its audio. With "
        "--checkpoint (a published FOMM checkpoint such as vox-cpk.pth.tar) the First Order Motion Model "
        "animates; without, the training-free mesh warp does (468-point face mesh: head pose, blinks, mouth); "
        "--method landmark-warp is the 5-point baseline. Every video written is labelled as synthetic in its "
        "metadata (see it with 'deepfakelab info OUT.mp4'); --mark also adds a visible label in a band below the "
        "picture.",
    )
    parser.add_argument("source", help="photo with a face (jpg/png; grayscale and RGBA are converted)")
    parser.add_argument("driving", help="driving video (mp4, ...) with a face")
    parser.add_argument(
        "-o", "--out", default="outputs/reenact/result.mp4", help="output mp4 (default: %(default)s)"
    )
    parser.add_argument(
        "--checkpoint",
        help="FOMM checkpoint (.pth.tar: a dict with 'generator' and 'kp_detector'; "
        "loaded with weights_only=True). The kit ships none for real faces: vox-cpk.pth.tar "
        "(VoxCeleb, 256 px) is the published checkpoint from the FOMM authors' release (Siarohin "
        "et al., first-order-model), fetched by you. Without it: no --checkpoint animates with the "
        "training-free mesh warp, and lib/deepfakelab/assets/fomm-small-64.pth.tar with --size 64 "
        "--crop-scale 2 is the kit's small FOMM, trained on synthetic heads (blurry faces)",
    )
    parser.add_argument(
        "--method",
        choices=("mesh-warp", "landmark-warp", "fomm"),
        help="how to animate (default: fomm with --checkpoint, else mesh-warp; landmark-warp is the "
        "5-point baseline)",
    )
    parser.add_argument(
        "--config",
        help="FOMM YAML config or built-in name (default: the one stored in a kit checkpoint, else vox-256)",
    )
    parser.add_argument(
        "--size",
        type=int,
        default=256,
        help="face crop side in pixels; 256 for vox-256 (default: %(default)s)",
    )
    parser.add_argument(
        "--absolute",
        action="store_true",
        help="use the driving keypoints as they are, instead of "
        "transferring their motion relative to the initial frame",
    )
    parser.add_argument(
        "--no-adapt-scale", action="store_true", help="do not scale the motion by the ratio of the face sizes"
    )
    parser.add_argument(
        "--best-frame",
        type=_best_frame,
        default=None,
        metavar="auto|N",
        help="initial driving frame: N, or 'auto' for the frame whose pose is closest to the source's "
        "(default: frame 0)",
    )
    parser.add_argument(
        "--paste-back", action="store_true", help="paste the animated face back into the full source photo"
    )
    parser.add_argument(
        "--side-by-side",
        action="store_true",
        help="write source | driving | result, keypoints drawn (the face mesh for mesh-warp)",
    )
    parser.add_argument(
        "--mark",
        action="store_true",
        help="add a visible 'SYNTHETIC' label in a band below every frame (the picture is not covered)",
    )
    parser.add_argument("--max-frames", type=int, help="use only the first N driving frames")
    parser.add_argument(
        "--crop-scale", type=float, default=1.8, help="crop side / face box side (default: %(default)s)"
    )
    parser.add_argument(
        "--batch-size", type=int, default=4, help="driving frames per FOMM batch (default: %(default)s)"
    )
    parser.add_argument(
        "--engine",
        default="torch",
        choices=["torch", "onnxruntime", "openvino", "auto"],
        help="where the FOMM runs: torch, an installed inference engine (CPU; the checkpoint is "
        "exported to ONNX once, beside it), or auto, the fastest installed one (default: %(default)s)",
    )
    parser.set_defaults(func=_command)


def _register_reenact_train(subparsers) -> None:
    train_parser = subparsers.add_parser(
        "reenact-train",
        help="train a First Order Motion Model (synthetic heads by default; torchrun for several GPUs)",
        description="Self-supervised FOMM training: reconstruct a driving frame from a source frame of the same "
        "video. Resumes from OUT/last.pth.tar. For several GPUs: torchrun --nproc_per_node N -m "
        "deepfakelab.reenact.fomm.training CONFIG --out OUT.",
    )
    add_training_arguments(train_parser)
    train_parser.set_defaults(func=_train_command)


def _register_reenact_eval(subparsers) -> None:
    eval_parser = subparsers.add_parser(
        "reenact-eval",
        help="score reenactment on held-out synthetic heads, or on real videos (--real-videos DIR), against baselines",
        description="The reconstruction protocol: frame 0 of each held-out synthetic video is the source and every "
        "frame drives it. Reports L1 and the distance of the ground-truth landmarks for FOMM (with --checkpoint), "
        "zero motion and the landmark warp. With --real-videos DIR the same protocol runs on real videos: L1, AKD "
        "and AED for zero motion, landmark warp, mesh warp and FOMM (with --checkpoint), and the identity distances "
        "of real pairs of frames of one person and of different persons.",
    )
    eval_parser.add_argument(
        "--checkpoint", help="FOMM checkpoint to score (a kit checkpoint with its config)"
    )
    eval_parser.add_argument("--config", help="model config, if the checkpoint does not hold one")
    eval_parser.add_argument(
        "--videos", type=int, default=20, help="held-out videos to score (default: %(default)s)"
    )
    eval_parser.add_argument(
        "--size", type=int, default=64, help="frame side in pixels (default: %(default)s)"
    )
    eval_parser.add_argument("--frames", type=int, default=32, help="frames per video (default: %(default)s)")
    eval_parser.add_argument(
        "--identities",
        type=int,
        default=400,
        help="identities of the dataset the test split is taken from (default: %(default)s)",
    )
    eval_parser.add_argument("--seed", type=int, default=0, help="dataset seed (default: %(default)s)")
    eval_parser.add_argument(
        "--real-videos",
        metavar="DIR",
        help="score on the real videos (.mp4) in DIR instead: frame 0 of each is the source photo, "
        "the same video drives it; L1, AKD (468 mesh points, px at 256) and AED (identity distance "
        "to the source, with the 'identity' extra), L1 in the open mouth and in the seam band "
        "around the face oval, for zero motion, landmark warp, mesh warp and "
        "FOMM (with --checkpoint; run at --size, 256 for vox-256)",
    )
    eval_parser.add_argument(
        "--same-person",
        action="append",
        default=[],
        metavar="A.mp4,B.mp4",
        help="with --real-videos: clips that show one person (repeatable); every other pair of "
        "clips counts as different persons in the identity ranges",
    )
    eval_parser.add_argument("--json", help="also write the scores to this JSON file")
    eval_parser.set_defaults(func=_eval_command)


def _command(args: argparse.Namespace) -> int:
    from .pipeline import ReenactOptions, reenact_files

    if args.size < 64 or args.size % 64:
        raise ConfigError(f"--size {args.size}: use a multiple of 64 (256 for vox-256)")
    options = ReenactOptions(
        checkpoint=Path(args.checkpoint) if args.checkpoint else None,
        method=args.method,
        config=args.config,
        size=args.size,
        relative=not args.absolute,
        adapt_movement_scale=not args.no_adapt_scale,
        best_frame=args.best_frame,
        paste_back=args.paste_back,
        side_by_side=args.side_by_side,
        visible_mark=args.mark,
        max_frames=args.max_frames,
        crop_scale=args.crop_scale,
        batch_size=args.batch_size,
        engine=args.engine,
    )
    result = reenact_files(
        args.source,
        args.driving,
        args.out,
        options,
        announce=lambda line: print(f"warning: {line}", flush=True),
    )
    for note in result.notes:
        print(f"note: {note}")
    print(
        f"wrote {result.output} ({result.frames} frames at {result.fps:g} fps, {result.method}; labelled synthetic)"
    )
    print(f"strip: {result.strip}")
    return 0


def _train_command(args: argparse.Namespace) -> int:
    from .fomm.training import run_from_args

    run_from_args(args)
    return 0


def _eval_command(args: argparse.Namespace) -> int:
    import torch

    from ..heads import HeadsConfig, TalkingHeads, split_identities
    from .evaluation import BLUR_SIGMA, evaluate

    if args.json:
        check_output_file(args.json, {".json"}, "JSON file")
    measurement = Measurement(program="deepfakelab", threads=torch.get_num_threads())
    model = None
    if args.checkpoint:
        from .fomm.checkpoint import load_model

        model = load_model(check_input_file(args.checkpoint, "FOMM checkpoint (.pth.tar)"), args.config)
    if args.real_videos:
        return _real_eval(args, model, measurement)
    test = split_identities(args.identities, seed=args.seed)["test"]
    config = HeadsConfig(
        size=args.size, frames=args.frames, accessory_rate=0.3, motion="mixed", seed=args.seed
    )
    methods = ("zero-motion", "blurred-truth", "landmark-warp", "fomm")
    scores = evaluate(TalkingHeads(test, 1, config), model, videos=args.videos, methods=methods)
    notes = {
        "fomm-self": "each frame drives itself: the generator's floor",
        "blurred-truth": f"the driving frames blurred {BLUR_SIGMA} px: a yardstick of sharpness, not a method",
    }
    print(f"{'method':<15}{'L1':>8}{'keypoint px':>14}{'videos':>8}")
    for name, score in scores.items():
        keypoints = score["keypoint_distance_px"]
        keypoints = f"{'-':>14}" if keypoints is None else f"{keypoints:>14.2f}"  # None: nothing moves
        note = notes.get(name, f"{score['fallbacks']} fell back to zero motion" if score["fallbacks"] else "")
        print(
            f"{name:<15}{score['l1']:>8.4f}{keypoints}{score['videos']:>8}" + (f"  ({note})" if note else "")
        )
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        record = {
            "methods": scores,
            "videos": args.videos,
            "size": args.size,
            "frames": args.frames,
            "blur_sigma": BLUR_SIGMA,
        }
        record["measured"] = measurement.record()
        _write_record(args.json, record)
    return 0


def _real_eval(args: argparse.Namespace, model, measurement: Measurement) -> int:
    """``reenact-eval --real-videos DIR``: the reconstruction protocol on real videos (see
    :mod:`deepfakelab.reenact.real_evaluation`)."""
    from ..faces.identity import INSTALL_HINT, FaceIdentity, identity_available
    from .real_evaluation import evaluate_real_videos, identity_ranges, real_videos, summarize

    paths = real_videos(check_input_folder(args.real_videos, "folder of real videos"))
    if not paths:
        raise ConfigError(f"{args.real_videos}: no .mp4 videos in this folder")
    identity = FaceIdentity() if identity_available() else None
    clips, notes = evaluate_real_videos(
        paths, frames=args.frames, model=model, fomm_size=args.size, identity=identity
    )
    if not clips:
        raise ConfigError(
            f"{args.real_videos}: no video with a face in most of its first {args.frames} frames"
        )
    summary = summarize(clips)
    groups = [[name.strip() for name in group.split(",") if name.strip()] for group in args.same_person]
    ranges = identity_ranges(clips, groups) if identity is not None else {}
    for note in notes:
        print(f"note: {note}")
    _print_real_table(summary, len(clips), args.frames)
    if identity is None:
        print(f"note: AED skipped: {INSTALL_HINT}")
    for kind, spread in ranges.items():
        print(
            f"identity distance, {kind}: {spread['min']:.3f}-{spread['max']:.3f} "
            f"(median {spread['median']:.3f}, {spread['pairs']} pairs)"
        )
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        per_video = {clip.name: clip.methods for clip in clips}
        _write_record(
            args.json,
            {
                "methods": summary,
                "identity_ranges": ranges,
                "videos": per_video,
                "notes": notes,
                "frames": args.frames,
                "measured": measurement.record(),
            },
        )
    return 0


def _print_real_table(summary: dict[str, dict], videos: int, frames: int) -> None:
    """The table of ``reenact-eval --real-videos``: one row per method, a dash where a score does not
    exist (no identity model, no video opening its mouth), and how many videos the mouth's L1 rests
    on where that is fewer than all."""
    print(
        f"{videos} real videos, first {frames} frames each; 256-px crops: L1 in the face oval, in the "
        "open mouth (videos whose mouth opens) and in the seam band around the oval"
    )
    print(f"{'method':<15}{'L1':>8}{'AKD px':>9}{'AED':>8}{'mouth L1':>10}{'seam L1':>9}{'videos':>8}")
    for name, score in summary.items():
        aed = f"{score['aed']:>8.3f}" if score["aed"] is not None else f"{'-':>8}"
        mouth = f"{score['mouth_l1']:>10.4f}" if score["mouth_l1"] is not None else f"{'-':>10}"
        print(
            f"{name:<15}{score['l1']:>8.4f}{score['akd_px']:>9.2f}{aed}{mouth}{score['seam_l1']:>9.4f}"
            f"{score['videos']:>8}"
            + (
                f"  (mouth: {score['mouth_videos']} videos)"
                if score["mouth_l1"] is not None and score["mouth_videos"] != score["videos"]
                else ""
            )
        )


def _write_record(path: str, record: dict) -> None:
    """Write the scores of ``reenact-eval --json`` to ``path``: indented, ending in a newline."""
    Path(path).write_text(json.dumps(record, indent=2) + "\n")
