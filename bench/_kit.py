"""The first import of every bench script: the kit from this checkout, with its thread set-up.

    import _kit  # noqa: F401 -- first: ...

Why first: OpenMP reads ``OMP_WAIT_POLICY`` once, when torch loads it, and ``import
deepfakelab`` sets it to PASSIVE (waiting threads sleep) only while torch is not loaded yet
(:mod:`deepfakelab.threads`). A bench that imports torch, or numpy- and torch-heavy modules,
before the kit measures spinning threads instead of what the commands do: on the shared 2-core
machine 2 spinning threads cost 4-5x the CPU (mesh warp 8.3 instead of 34.5 frames/s, same
load; ``bench/reenact_speed.py``). ``tests/test_bench_imports.py`` checks that every script
imports this module before anything outside the standard library.

Scripts run as ``python bench/NAME.py``, so this folder is first on ``sys.path``; the kit's
``lib/`` is put before any installed copy, so a bench measures this checkout.
"""

from __future__ import annotations

import sys
from pathlib import Path

#: The repository this bench belongs to.
REPO = Path(__file__).resolve().parents[1]
if str(REPO / "lib") not in sys.path:
    sys.path.insert(0, str(REPO / "lib"))

import deepfakelab  # noqa: E402,F401 -- sets OMP_WAIT_POLICY=PASSIVE before anything loads torch


def shown(path) -> str:
    """``path`` relative to the repository when inside it (committed JSON names no one's home)."""
    path = Path(path).resolve()
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


def check_outputs(parser, **files) -> None:
    """Before the long work: each ``--NAME FILE`` (``NAME=(path or None, suffix)``) must be a
    writable file with that suffix, or the bench stops with the kit's one-line reason."""
    from deepfakelab.errors import DataError
    from deepfakelab.media.files import check_output_file

    for name, (path, suffix) in files.items():
        if path:
            try:
                check_output_file(path, {suffix}, kind=f"--{name} output")
            except DataError as exc:
                parser.error(str(exc))
