"""Reading the YAML and JSON files a user hands a command: configs, lists of runs, notebooks.

A parser's own error is several lines (YAML points at the column with a caret) and names no
file, and a folder or a missing file given as a config ends in ``IsADirectoryError``. Every
command reads such files through here, after the path checks of
:mod:`deepfakelab.media.files`, so each problem is one
:class:`~deepfakelab.errors.DataError` line: ``PATH: problem``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from .errors import DataError
from .media.files import check_input_file


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def read_text_file(path: str | Path, kind: str) -> tuple[Path, str]:
    """``path`` checked and read as text, or a one-line DataError (not text, unreadable)."""
    path = check_input_file(path, kind)
    try:
        return path, path.read_text()
    except UnicodeDecodeError:
        raise DataError(f"{path}: not a text file (expected a {kind})") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror or type(exc).__name__})") from None


def read_yaml_file(path: str | Path, kind: str = "YAML or JSON") -> Any:
    """The content of the YAML (or JSON, a subset of YAML) file at ``path``, or a one-line DataError."""
    path, text = read_text_file(path, kind)
    return parse_yaml(text, path)


def parse_yaml(text: str, source: str | Path) -> Any:
    """``text`` parsed as YAML, or a one-line DataError naming ``source`` and the line and column."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or exc
        raise DataError(f"{source}: not valid YAML/JSON ({where}{_one_line(problem)})") from None


def read_json_file(path: str | Path, kind: str = "JSON") -> Any:
    """The content of the JSON file at ``path`` (a notebook, a run's config.json), or a one-line DataError."""
    path, text = read_text_file(path, kind)
    try:
        return json.loads(text)
    except ValueError as exc:
        raise DataError(f"{path}: not valid JSON (expected a {kind}; {_one_line(exc)})") from None
