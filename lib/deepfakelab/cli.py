"""The ``deepfakelab`` command.

Each part of the kit contributes its sub-commands through a ``register(subparsers)`` function
in its own ``cli`` module, listed in :data:`COMMAND_MODULES`. Heavy imports (torch models,
OpenCV) happen inside the command functions, so ``deepfakelab --help`` stays fast.
Errors caused by the user's input (:class:`~deepfakelab.errors.DeepfakeLabError`) are printed
as one clear message and exit code 2, never as a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from . import __version__
from .course.startup import skip_iri_parser
from .errors import DeepfakeLabError
from .threads import prepare_process

#: Modules that add sub-commands; each defines ``register(subparsers)``.
COMMAND_MODULES = [
    "deepfakelab.demos.cli",
    "deepfakelab.gan.cli",
    "deepfakelab.heads.cli",
    "deepfakelab.reenact.cli",
    "deepfakelab.detect.cli",
    "deepfakelab.media.cli",
    "deepfakelab.provenance.cli",
    "deepfakelab.course.cli",
    "deepfakelab.course.open_lab",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="deepfakelab",
        description="Course kit for imaging security: deepfakes, their detection, and GANs. "
        "Everything runs offline, on the CPU when there is no GPU.",
    )
    parser.add_argument("--version", action="version", version=f"deepfakelab {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:  # a part not built yet must not break the others
            if exc.name == name:
                continue
            raise
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    prepare_process(restart=False)  # before any subcommand's module loads torch
    skip_iri_parser()  # the course's commands import nbformat: seconds saved (deepfakelab.course.startup)
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 1
    try:
        result = args.func(args)
    except DeepfakeLabError as exc:
        print(f"deepfakelab: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("deepfakelab: interrupted; finished work and checkpoints are kept.", file=sys.stderr)
        return 130
    return int(result or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
