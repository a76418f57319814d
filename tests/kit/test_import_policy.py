"""Imports sit at the top of their module (issue #28): what a module needs is said where it starts.

An import inside a function hides a required dependency until that function runs, so the
package's modules import at their top, with three exceptions:

1. **CLI registration**: in a ``cli.py``, a command's handler imports the command's
   implementation when the command runs (``deepfakelab --help`` stays fast, and a command's
   heavy stack loads only for that command).
2. **Optional packages**: the extras of ``pyproject.toml`` a user may not have installed
   (:func:`optional_packages`), and IPython, which exists only in a notebook's kernel. They are
   imported where they are used, which gives the kit's one-line error when one is missing.
3. **A measured reason**: the import's line says why it waits, ``# deferred: <why>`` (a
   process that must not load the module and what it would cost, an order a process must
   start in). Breaking an import cycle is no reason: ``test_imports.py`` proves there are none,
   counting the imports inside functions too.

Read from the source (``ast``): nothing is imported to check it.
"""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import deepfakelab

PACKAGE = Path(deepfakelab.__file__).resolve().parent
PYPROJECT = PACKAGE.parents[1] / "pyproject.toml"

#: Files exempt while a change brings them in line (empty: every file follows the policy).
PENDING: set[str] = set()

#: The extras of pyproject.toml that are no user's option: the developers' tools.
DEVELOPER_EXTRAS = {"dev"}
#: Distributions imported under another name.
IMPORT_NAMES = {"dlib-bin": "dlib", "face-recognition-models": "face_recognition_models"}
#: Packages of no extra that exist only where the code using them runs: IPython in a notebook's kernel.
NOTEBOOK_ONLY = {"IPython"}
#: In the ``lab`` extra for the students' Assignments tab, yet the course's releasing and grading are
#: built on it: its imports sit at the top of the course's modules, which only course commands load.
COURSE_STACK = {"nbgrader"}

DEFERRED = re.compile(r"#\s*deferred:\s*\S")


def optional_packages() -> set[str]:
    """Top-level import names of the packages a user may lack (see the module's docstring)."""
    extras = tomllib.loads(PYPROJECT.read_text())["project"]["optional-dependencies"]
    names = set()
    for extra, requirements in extras.items():
        if extra in DEVELOPER_EXTRAS:
            continue
        for requirement in requirements:
            distribution = re.match(r"[A-Za-z0-9._-]+", requirement).group(0).lower()
            names.add(IMPORT_NAMES.get(distribution, distribution.replace("-", "_").replace(".", "_")))
    return (names - COURSE_STACK) | NOTEBOOK_ONLY


def _imported_package(node: ast.Import | ast.ImportFrom) -> str | None:
    """The top-level package an import statement loads (None for a relative import: the kit's own)."""
    if isinstance(node, ast.ImportFrom):
        return None if node.level else node.module.split(".")[0]
    return node.names[0].name.split(".")[0]


def violations(path: Path, relative: str, optional: set[str]) -> list[str]:
    """One line per import inside a function of ``path`` (``relative``: its path in the package)
    that no exception allows."""
    if Path(relative).name == "cli.py" or relative in PENDING:
        return []
    source = path.read_text()
    lines = source.splitlines()
    found = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if in_function and isinstance(child, (ast.Import, ast.ImportFrom)):
                text = lines[child.lineno - 1 : child.end_lineno]
                if _imported_package(child) not in optional and not any(
                    DEFERRED.search(line) for line in text
                ):
                    found.append(f"deepfakelab/{relative}:{child.lineno}: {text[0].strip()}")
            visit(
                child, in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            )

    visit(ast.parse(source), False)
    return found


def _all_violations() -> list[str]:
    optional = optional_packages()
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        found += violations(path, path.relative_to(PACKAGE).as_posix(), optional)
    return found


def test_imports_sit_at_the_top_of_their_module():
    found = _all_violations()
    assert not found, (
        f"{len(found)} import(s) inside functions: move each to the top of its module, or, with a measured reason "
        "to wait, end its line with '# deferred: <why>' (tests/test_import_policy.py says when else):\n"
        + "\n".join(found)
    )


def test_the_optional_packages_are_the_user_extras_and_ipython():
    optional = optional_packages()
    assert {
        "dlib",
        "face_recognition_models",
        "onnxruntime",
        "onnx",
        "openvino",
        "tflite",
        "jupyterlab",
        "ipykernel",
        "IPython",
    } <= optional, optional
    assert not optional & {"nbgrader", "pytest", "torch", "numpy", "deepfakelab"}, optional


def test_the_pending_files_exist():
    """An entry left behind after its file was renamed or split would exempt nothing, silently."""
    missing = sorted(name for name in PENDING if not (PACKAGE / name).is_file())
    assert not missing, f"PENDING names files that are gone: {missing}"


def test_the_check_catches_an_import_inside_a_function(tmp_path):
    optional = optional_packages()
    module = tmp_path / "module.py"
    module.write_text(
        "import json\n"
        "\n"
        "\n"
        "def load():\n"
        "    import numpy as np\n"
        "    from .model import build\n"
        "    from scipy import (\n"
        "        linalg)\n"
        "    import torch  # deferred: the decoder never loads torch (+2 s)\n"
        "    from matplotlib.figure import (  # deferred: --help loads this module\n"
        "        Figure)\n"
        "    import dlib\n"
        "    from IPython.display import HTML\n"
        "    import yaml  # deferred:\n"
        "\n"
        "    def inner():\n"
        "        import cv2\n"
        "\n"
        "    return lambda: None\n"
        "\n"
        "\n"
        "class Model:\n"
        "    def forward(self):\n"
        "        import torchvision\n"
    )
    assert violations(module, "detect/module.py", optional) == [
        "deepfakelab/detect/module.py:5: import numpy as np",
        "deepfakelab/detect/module.py:6: from .model import build",
        "deepfakelab/detect/module.py:7: from scipy import (",
        "deepfakelab/detect/module.py:14: import yaml  # deferred:",
        "deepfakelab/detect/module.py:17: import cv2",
        "deepfakelab/detect/module.py:24: import torchvision",
    ]
    assert violations(module, "detect/cli.py", optional) == []  # a command's handler may
