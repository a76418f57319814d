"""Helpers the benches share: paths shown relative to the repository, outputs checked before work.

Importing it changes nothing; each bench's ``__main__`` block calls
:func:`deepfakelab.threads.prepare_process` for the thread set-up (``tests/kit/test_bench_imports.py``
checks that every bench does).
"""

from __future__ import annotations

from pathlib import Path

#: The repository this bench belongs to.
REPO = Path(__file__).resolve().parents[1]


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


def write_json(path, numbers: dict, measurement) -> None:
    """Write a bench's numbers with the ``measured`` block of ``measurement`` (a
    :class:`deepfakelab.measured.Measurement` started before the work) to ``path``: the file the
    site's Results page is generated from (``site/sitegen/results.py``)."""
    import json

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**numbers, "measured": measurement.record()}, indent=2) + "\n")
    print(f"wrote {shown(path)}")
