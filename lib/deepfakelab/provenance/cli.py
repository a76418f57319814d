"""The ``deepfakelab verify`` command (see :mod:`.verify`)."""

from __future__ import annotations

import argparse


def _verify(args: argparse.Namespace) -> int:
    from .verify import verify_files, write_json

    reports = verify_files(args.files)
    for report in reports:
        print(report.line(), flush=True)
    if args.json:
        print(f"wrote {write_json(reports, args.json)}")
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "verify",
        help="say whether files carry the kit's provenance marks (C2PA manifest, invisible watermark)",
        description="For each FILE (photo or video): whether it carries a C2PA manifest and whether it validates "
        "(checked with c2pa-python's own reader), and whether the kit's invisible watermark is in its pixels, with "
        "the payload it carries. One line per file; exit status 0 whatever is found.",
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="photos or videos")
    parser.add_argument("--json", metavar="OUT", help='also write {"files": [...]} to OUT')
    parser.set_defaults(func=_verify)
