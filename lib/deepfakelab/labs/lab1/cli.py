"""``deepfakelab course media init|check``: make and validate Lab 1's media pack."""

from __future__ import annotations

import argparse
import sys


def _init(args: argparse.Namespace) -> int:
    from .media_pack import init_pack

    pack = init_pack(
        args.folder,
        args.photos,
        args.videos,
        args.driving,
        args.checkpoint,
        link=args.link,
        fit=args.fit,
        note=lambda line: print(f"  {line}"),
    )
    how = "linked" if args.link else "copied"
    print(
        f"wrote {pack.manifest}: {len(pack.photos)} photos, {len(pack.videos)} videos {how} "
        f"(driving: {pack.driving}), checkpoint: {pack.checkpoint.name if pack.checkpoint else 'none'}"
    )
    print(f"Check it before term: deepfakelab course media check {args.folder}")
    return 0


def _check(args: argparse.Namespace) -> int:
    from .media_check import check_pack

    pack, problems = check_pack(args.folder)
    for line in problems:
        print(f"deepfakelab: error: {line}", file=sys.stderr)
    if len(problems) > 1:  # one problem is its own one line; several get a count
        print(
            f"{args.folder}: {len(problems)} problem(s); Lab 1 cannot use this pack until they are fixed",
            file=sys.stderr,
        )
    if problems:
        return 2
    print(
        f"{pack.folder}: ready for Lab 1: {len(pack.photos)} photos ({', '.join(pack.photos)}), "
        f"{len(pack.videos)} videos ({', '.join(pack.videos)}; driving: {pack.driving}), "
        f"checkpoint: {pack.checkpoint.name if pack.checkpoint else 'none (the kit chooses the reenactment)'}"
    )
    return 0


def register(course_subparsers) -> None:
    """Add ``media`` with its ``init`` and ``check`` actions to ``deepfakelab course``."""
    media = course_subparsers.add_parser(
        "media",
        help="make and validate Lab 1's media pack (your own photos and videos)",
        description="A media pack replaces Lab 1's synthetic heads with your own hard-case photos and "
        "real videos (and optionally a published FOMM checkpoint), described by DIR/lab1.yaml.",
    )
    sub = media.add_subparsers(dest="media_command", metavar="ACTION")

    init = sub.add_parser(
        "init",
        help="write a pack: copy (or link) the files and write lab1.yaml",
        description="Make a media pack in DIR from photos, videos and an optional checkpoint. "
        "Each file is named by its stem (d8.jpg -> d8).",
    )
    init.add_argument("folder", metavar="DIR", help="the pack folder to create")
    init.add_argument(
        "--photos",
        nargs="+",
        required=True,
        metavar="P",
        help="hard-case source photos, one clear face each (at least 4)",
    )
    init.add_argument(
        "--videos", nargs="+", required=True, metavar="V", help="real talking-head videos (at least 3)"
    )
    init.add_argument(
        "--driving",
        metavar="V",
        help="the video (path or name) whose motion drives the reenactments (default: the first video)",
    )
    init.add_argument(
        "--checkpoint", metavar="FILE", help="a published FOMM checkpoint such as vox-cpk.pth.tar"
    )
    init.add_argument(
        "--link",
        action="store_true",
        help="symlink the files instead of copying them (a course release still copies what they point at)",
    )
    init.add_argument(
        "--fit",
        action="store_true",
        help="write rotated, larger or faster videos (phone clips) "
        "upright, at most 640 px, 30 fps and 20 s (see `deepfakelab fit-video`) instead of copying them",
    )
    init.set_defaults(func=_init)

    check = sub.add_parser(
        "check",
        help="validate a pack: one line per problem, exit 2 if any",
        description="Check every file of the pack the way Lab 1 uses it: photos readable with "
        "exactly one clear face, videos long enough for the scored frames with a face in each, "
        "frame rate and size, a checkpoint that loads.",
    )
    check.add_argument("folder", metavar="DIR", help="the pack folder (holding lab1.yaml)")
    check.set_defaults(func=_check)

    media.set_defaults(func=lambda args: media.print_help() or 1)
