"""The kit passes its linter and formatter (``ruff check .``, ``ruff format --check .``, configured in
pyproject.toml), and the long lines the formatter cannot break only get fewer."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import REPO

#: Lines over 110 characters the formatter cannot break (long strings, comments, URLs), counted when
#: `ruff format` came in; lower it as lines are shortened.
LONG_LINES_AT_MOST = 235


def _ruff(*args: str) -> subprocess.CompletedProcess:
    pytest.importorskip("ruff", reason="ruff is a dev dependency: pip install -e '.[dev]'")
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args], cwd=REPO, capture_output=True, text=True, timeout=300
    )


def test_ruff_finds_nothing():
    result = _ruff("check", "--no-cache", "--output-format", "concise", ".")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-1000:]


def test_ruff_format_leaves_every_file_as_it_is():
    result = _ruff("format", "--check", "--no-cache", ".")
    assert result.returncode == 0, (
        result.stdout[-3000:]
        + result.stderr[-1000:]
        + "\nrun `ruff format .` (or `make lint`) and commit the result"
    )


def test_long_lines_only_get_fewer():
    result = _ruff("check", "--no-cache", "--select", "E501", "--output-format", "json", ".")
    found = json.loads(result.stdout or "[]")
    assert len(found) <= LONG_LINES_AT_MOST, (
        f"{len(found)} lines over 110 characters (at most {LONG_LINES_AT_MOST}): shorten the new ones, e.g. "
        + ", ".join(f"{f['filename']}:{f['location']['row']}" for f in found[:5])
    )


# --- the tests' own layout (issue #28) -----------------------------------------------------------------
TESTS = REPO / "tests"
TEST_FILES = sorted(TESTS.rglob("test_*.py"))


def _imported_modules(path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_no_test_file_imports_another_one_or_the_conftest():
    """What test files share lives in tests/helpers.py (fixtures in tests/conftest.py, used as fixtures)."""
    found = {
        f"{path.relative_to(REPO)} imports {name}"
        for path in [*TEST_FILES, TESTS / "helpers.py"]
        for name in _imported_modules(path)
        if name.startswith("test_") or name == "conftest"
    }
    assert not found, "; ".join(sorted(found)) + ": move what is shared into tests/helpers.py"


def test_test_file_names_are_unique_across_folders():
    """pytest's default import mode ("prepend", no __init__.py) imports each test file by its name."""
    seen: dict[str, list[str]] = {}
    for path in TEST_FILES:
        seen.setdefault(path.name, []).append(str(path.relative_to(REPO)))
    assert not {name: paths for name, paths in seen.items() if len(paths) > 1}


def test_test_folders_mirror_the_package():
    """tests/X/ holds the tests of deepfakelab.X; tests of the whole kit are in tests/kit/."""
    package = REPO / "lib" / "deepfakelab"
    folders = {path.parent.relative_to(TESTS) for path in TEST_FILES} - {Path("."), Path("kit")}
    strays = sorted(str(f) for f in folders if not (package / f / "__init__.py").is_file())
    assert folders and not strays, (
        f"tests/{strays[0]}/ is no part of lib/deepfakelab/ (the whole kit's: tests/kit/)"
    )
    assert not (TESTS / "kit" / "__init__.py").exists() and not list(TESTS.rglob("__init__.py"))
    assert [p.relative_to(TESTS) for p in TESTS.rglob("conftest.py")] == [Path("conftest.py")]
