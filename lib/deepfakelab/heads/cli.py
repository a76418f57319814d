"""``deepfakelab heads``: make synthetic talking-head datasets and pictures of them."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..media.files import check_output_folder


def _make(args: argparse.Namespace) -> int:
    from .dataset import HeadsConfig
    from .writer import write_dataset

    config = HeadsConfig(
        size=args.size,
        frames=args.frames,
        fps=args.fps,
        accessory_rate=args.accessory_rate,
        effects=args.effects,
        motion=args.motion,
        seed=args.seed,
    )
    written = write_dataset(Path(args.out), args.videos, config, args.test_fraction, args.format)
    print(f"wrote {len(written['train'])} train and {len(written['test'])} test videos to {args.out}")
    return 0


def _sheet(args: argparse.Namespace) -> int:
    from .sheet import contact_sheet, talking_strip

    out = check_output_folder(args.out)
    sheet = contact_sheet(
        out / "heads_sheet.png", args.seed, args.size, args.rows, args.columns, landmarks=args.landmarks
    )
    strip = talking_strip(out / "heads_talking.png", args.seed, args.size)
    print(f"contact sheet: {sheet}\ntalking strip: {strip}")
    return 0


def register(subparsers) -> None:
    """The ``heads`` command and its subcommands.

    Long because it is one flat list of the subcommands and their options, in the order
    ``deepfakelab heads --help`` lists them."""
    parser = subparsers.add_parser(
        "heads",
        help="synthetic talking-head videos with ground truth",
        description="Procedural talking heads: identities, accessories and motion drawn from a seed, "
        "rendered offline with landmarks, pose, expression and masks.",
    )
    sub = parser.add_subparsers(dest="heads_command", metavar="COMMAND")

    make = sub.add_parser(
        "make",
        help="write a video dataset in the FOMM layout (train/ and test/)",
        description="Render videos (one identity each) into OUT/train and OUT/test, "
        "split by identity, with ground truth in OUT/ground_truth.",
    )
    make.add_argument("out", help="output folder")
    make.add_argument(
        "--videos", type=int, default=20, help="number of videos, one identity each (default: %(default)s)"
    )
    make.add_argument("--frames", type=int, default=32, help="frames per video (default: %(default)s)")
    make.add_argument(
        "--size", type=int, default=128, help="frame side in pixels, 64-256 (default: %(default)s)"
    )
    make.add_argument(
        "--seed", type=int, default=0, help="dataset seed: same seed, same videos (default: %(default)s)"
    )
    make.add_argument("--fps", type=float, default=25.0, help="frames per second (default: %(default)s)")
    make.add_argument(
        "--format",
        choices=["png", "mp4"],
        default="png",
        help="a folder of PNG frames or an mp4 per video (default: %(default)s)",
    )
    make.add_argument(
        "--test-fraction", type=float, default=0.1, help="share of identities in test/ (default: %(default)s)"
    )
    make.add_argument(
        "--accessory-rate",
        type=float,
        default=0.5,
        help="chance an identity wears accessories, 0-1 (default: %(default)s)",
    )
    make.add_argument(
        "--effects",
        type=float,
        default=0.0,
        help="strength 0-1 of random lighting drift, noise and JPEG per video (default: %(default)s)",
    )
    make.add_argument(
        "--motion",
        default="random",
        help="random, mixed, talk, nod, shake, look_around or surprise (default: %(default)s)",
    )
    make.set_defaults(func=_make)

    sheet = sub.add_parser(
        "sheet",
        help="contact sheet of identities and a talking strip (PNG)",
        description="Write OUT/heads_sheet.png (identities cycling through every accessory) "
        "and OUT/heads_talking.png (frames of a talking video with landmarks).",
    )
    sheet.add_argument("out", help="output folder")
    sheet.add_argument("--seed", type=int, default=0, help="which identities to show (default: %(default)s)")
    sheet.add_argument("--size", type=int, default=128, help="frame side in pixels (default: %(default)s)")
    sheet.add_argument("--rows", type=int, default=6, help="rows of the contact sheet (default: %(default)s)")
    sheet.add_argument(
        "--columns", type=int, default=8, help="columns of the contact sheet (default: %(default)s)"
    )
    sheet.add_argument("--landmarks", action="store_true", help="draw landmarks on the contact sheet too")
    sheet.set_defaults(func=_sheet)
    parser.set_defaults(func=lambda args: parser.print_help() or 1)
