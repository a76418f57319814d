"""Checking the paths a command was given, before it does any work.

A command that finds out after ten seconds of face detection, or after scoring every video, that
its output cannot be written has wasted the user's time; one that lets ffmpeg or ``mkdir`` fail
prints a traceback. Every command therefore checks all its inputs and outputs first, here, and
each problem is one :class:`~deepfakelab.errors.DataError` that names the path once.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator

from ..errors import DataError

#: Extensions read as still images rather than videos.
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
#: Extensions the kit writes videos as (H.264 in an MP4 or QuickTime container).
VIDEO_OUTPUT_SUFFIXES = {".mp4", ".mov", ".m4v"}


def is_image_path(path: str | Path) -> bool:
    """Whether ``path`` names a still image (by its extension)."""
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


def check_input_file(path: str | Path, kind: str = "file") -> Path:
    """``path`` as a :class:`Path`, or a :class:`DataError` if it is missing, a folder or empty."""
    path = Path(path)
    if path.is_dir():
        raise DataError(f"{path}: is a folder, expected a {kind} file")
    if not path.exists():
        raise DataError(f"{path}: no such file (expected a {kind})")
    if not os.access(path, os.R_OK):
        raise DataError(f"{path}: not readable (permission denied)")
    if path.stat().st_size == 0:
        raise DataError(f"{path}: the file is empty (0 bytes)")
    return path


def check_input_folder(path: str | Path, kind: str = "folder") -> Path:
    """``path`` as a :class:`Path`, or a :class:`DataError` if it is missing or a file."""
    path = Path(path)
    if path.is_file():
        raise DataError(f"{path}: is a file, expected a {kind}")
    if not path.is_dir():
        raise DataError(f"{path}: no such folder (expected a {kind})")
    return path


def _check_writable_folder(path: Path, folder: Path) -> None:
    """Create and delete a probe file in ``folder``: permission bits say nothing to root, and a
    read-only or immutable file system is only found by trying."""
    try:
        fd, probe = tempfile.mkstemp(prefix=".deepfakelab-probe-", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        where = "in this folder" if folder == path else f"in {folder}"
        raise DataError(f"{path}: cannot write {where} ({exc.strerror or type(exc).__name__})") from None


def _check_parent_writable(path: Path) -> None:
    """The nearest existing ancestor of ``path`` must be a writable folder (missing ones are made)."""
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise DataError(f"{path}: cannot be created, {parent} is a file, not a folder")
            _check_writable_folder(path, parent)
            return


def check_output_file(path: str | Path, suffixes: Iterable[str], kind: str = "file") -> Path:
    """``path`` as a :class:`Path` if a ``kind`` file with one of ``suffixes`` can be written there.

    Refused: an existing folder, a missing or unsupported extension, a parent that is a file, a
    folder without write permission, an existing file that cannot be overwritten.
    """
    path = Path(path)
    suffixes = sorted(suffixes)
    if path.is_dir():
        raise DataError(
            f"{path}: is a folder; give a {kind} file name inside it (such as result{suffixes[-1]})"
        )
    if path.suffix.lower() not in suffixes:
        problem = "has no extension" if not path.suffix else f"has the extension {path.suffix}"
        raise DataError(f"{path}: {problem}; a {kind} is written as {' or '.join(suffixes)}")
    _check_parent_writable(path)
    if path.exists() and not os.access(path, os.W_OK):
        raise DataError(f"{path}: exists and cannot be overwritten (permission denied)")
    return path


def check_output_folder(path: str | Path) -> Path:
    """``path`` as a :class:`Path` if it is, or can be made into, a writable folder."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise DataError(f"{path}: is a file, expected an output folder")
    if path.is_dir():
        _check_writable_folder(path, path)
        return path
    _check_parent_writable(path)
    return path


@contextmanager
def staged_output(path: str | Path) -> Iterator[Path]:
    """A temporary name beside ``path`` (same folder, same extension) to make the file under.

    When the block ends without an error the file is renamed to ``path`` in one step, so ``path``
    is never seen half-made; on any error (or Ctrl-C) the temporary file is removed and ``path``
    keeps what it held before, if anything.
    """
    path = Path(path)
    staged = path.with_name(f".{path.stem}.{os.getpid()}-{secrets.token_hex(4)}.partial{path.suffix}")
    try:
        yield staged
        os.replace(staged, path)
    finally:
        staged.unlink(missing_ok=True)
