"""Files a lab notebook saves for grading, and strict readers for them.

A notebook writes its results (frame indices, detector scores, loss history, sample grids) into
``artifacts/`` next to itself; the hidden checks read them in another process. The readers are
strict on purpose: a file that is missing, malformed or not what the notebook would write
raises :class:`ArtifactError` with the file name and what is wrong, so the checks that need it
score zero with that message and every other check still runs.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from ..errors import DeepfakeLabError

#: Folder, relative to the notebook, that graded notebooks write their artifacts into.
ARTIFACT_DIR = Path("artifacts")
#: Largest artifact the readers accept; a forged 1 GB "scores.json" must not stall grading.
MAX_BYTES = 50 * 1024 * 1024


class ArtifactError(DeepfakeLabError):
    """An artifact that is missing, malformed or inconsistent; the message names the file."""


def _target(name: str, folder: str | Path | None) -> Path:
    folder = Path(folder) if folder is not None else ARTIFACT_DIR
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


def save_json(obj: Any, name: str, folder: str | Path | None = None) -> Path:
    """Write ``obj`` (dicts, lists, numbers, strings) as ``artifacts/<name>``; return the path.

    NaN and infinity are refused here, where the student can still fix them, instead of
    producing a file the grader must reject.
    """
    path = _target(name, folder)
    path.write_text(json.dumps(obj, indent=2, allow_nan=False))
    return path


def save_csv(rows: Iterable[Mapping[str, Any]], name: str, folder: str | Path | None = None) -> Path:
    """Write a list of dicts (one per row, same keys) as ``artifacts/<name>``; return the path."""
    rows = list(rows)
    path = _target(name, folder)
    if not rows:
        raise ArtifactError(f"{name}: nothing to save (the list of rows is empty)")
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def save_array(array: Any, name: str, folder: str | Path | None = None) -> Path:
    """Write a NumPy array (or a CPU tensor) as ``artifacts/<name>`` (``.npy``); return the path."""
    import numpy as np  # deferred: numpy starts threads; the course imports single-threaded (see forked_checks)

    path = _target(name, folder)
    np.save(path, np.asarray(array), allow_pickle=False)
    return path


def load_array(path: str | Path, ndim: int | None = None) -> Any:
    """Read a ``.npy`` artifact without unpickling anything; numbers only, all finite."""
    import numpy as np  # deferred: numpy starts threads; the course imports single-threaded (see forked_checks)

    path = Path(path)
    if not path.is_file():
        raise ArtifactError(f"{path.name}: not found; run the cell that saves it and submit again")
    if path.stat().st_size > MAX_BYTES:
        raise ArtifactError(f"{path.name}: {path.stat().st_size} bytes, more than the {MAX_BYTES} allowed")
    try:
        array = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise ArtifactError(f"{path.name}: not a NumPy .npy array ({exc})") from None
    if not isinstance(array, np.ndarray) or array.dtype.kind not in "fiu":
        raise ArtifactError(
            f"{path.name}: expected an array of numbers, found dtype {getattr(array, 'dtype', '?')}"
        )
    if ndim is not None and array.ndim != ndim:
        raise ArtifactError(f"{path.name}: expected {ndim} dimensions, found shape {array.shape}")
    if not np.isfinite(array).all():
        raise ArtifactError(f"{path.name}: contains NaN or infinite values")
    return array


def _read_text(path: Path) -> str:
    if not path.is_file():
        raise ArtifactError(f"{path.name}: not found; run the cell that saves it and submit again")
    if path.stat().st_size > MAX_BYTES:
        raise ArtifactError(f"{path.name}: {path.stat().st_size} bytes, more than the {MAX_BYTES} allowed")
    try:
        return path.read_text()
    except UnicodeDecodeError as exc:
        raise ArtifactError(f"{path.name}: not UTF-8 text ({exc.reason})") from None


def _reject_constant(token: str) -> float:
    raise ValueError(f"{token} is not allowed")


def load_json(path: str | Path, expect: type | tuple[type, ...] = (dict, list)) -> Any:
    """Read a JSON artifact strictly (no NaN/Infinity, right top-level type)."""
    path = Path(path)
    text = _read_text(path)
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except ValueError as exc:
        raise ArtifactError(f"{path.name}: not valid JSON ({exc})") from None
    if not isinstance(value, expect):
        raise ArtifactError(
            f"{path.name}: expected {_names(expect)} at the top level, found {type(value).__name__}"
        )
    return value


def load_csv(path: str | Path, columns: Sequence[str], numeric: Sequence[str] = ()) -> list[dict]:
    """Read a CSV artifact with exactly the required ``columns`` (others allowed after them).

    Values of ``numeric`` columns become finite floats; a row with a missing, non-numeric or
    infinite value is an error naming the row and column.
    """
    path = Path(path)
    text = _read_text(path)
    reader = csv.DictReader(text.splitlines())
    header = reader.fieldnames or []
    missing = [c for c in columns if c not in header]
    if missing:
        raise ArtifactError(f"{path.name}: missing column(s) {missing}; found {header}")
    rows = []
    for line, row in enumerate(reader, start=2):
        for col in numeric:
            try:
                value = float(row[col])
            except (TypeError, ValueError):
                raise ArtifactError(
                    f"{path.name}: line {line}, column {col!r} is {row[col]!r}, not a number"
                ) from None
            if not math.isfinite(value):
                raise ArtifactError(f"{path.name}: line {line}, column {col!r} is {value}, not finite")
            row[col] = value
        rows.append(row)
    if not rows:
        raise ArtifactError(f"{path.name}: has a header but no rows")
    return rows


def number(value: Any, where: str, low: float = -math.inf, high: float = math.inf) -> float:
    """``value`` as a finite float in ``[low, high]``; bools and strings are refused."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ArtifactError(f"{where}: expected a finite number, found {value!r}")
    if not low <= value <= high:
        raise ArtifactError(f"{where}: {value} is outside [{low}, {high}]")
    return float(value)


def _names(types: type | tuple[type, ...]) -> str:
    types = types if isinstance(types, tuple) else (types,)
    return " or ".join(t.__name__ for t in types)
