"""Probes: public code that runs beside a student's code in the sandbox and returns only data.

A hidden check cannot receive a ``torch.nn.Module``, an optimiser's step or a figure: such an
object cannot cross the sandbox's boundary as data (:mod:`..sandbox.wire`). A *probe* -- a function
``name(student, *args)`` of a module of this package -- builds the object with the student's
functions, measures it, and returns numbers, names and lists; the check decides outside.

Probes are public code. They run in the same process as the student's code, which can read them
(``inspect.getsource``), patch them or call them, so they must hold no answers: no expected
values, no reference solution, no thresholds -- only the inputs of a measurement and the
measuring. What is right is decided by the hidden checks, which never enter the sandbox.

A hidden-checks folder names its probes module in one of its ``test_*.py`` files with a
module-level constant, read from the source with :mod:`ast` (never by importing the checks)::

    PROBES = "deepfakelab.course.probes.lab2"

and the student server imports that module by name, from the kit (:mod:`..sandbox.student_server`).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

#: The only package a probes module may come from.
PACKAGE = __name__
_MODULE = re.compile(rf"^{re.escape(PACKAGE)}\.[a-z_][a-z0-9_]*$")


def checked_name(name: str) -> str:
    """``name`` if it is a module of this package, else a ValueError: the sandbox imports nothing else."""
    if not isinstance(name, str) or not _MODULE.match(name):
        raise ValueError(f"a probes module must be a module of {PACKAGE} (e.g. {PACKAGE}.lab2), not {name!r}")
    return name


def named_by(checks: Path) -> str | None:
    """The probes module named by ``PROBES = "..."`` in the folder's ``test_*.py`` files, or None.

    Read with :mod:`ast`, as the worker reads the checks' markers: nothing of the checks runs,
    and nothing of them is passed to the sandbox but this public module name.
    """
    names = set()
    for path in sorted(Path(checks).glob("test_*.py")) if Path(checks).is_dir() else []:
        for node in ast.parse(path.read_text(), str(path)).body:
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "PROBES" for t in node.targets
            ):
                if not isinstance(node.value, ast.Constant):
                    raise ValueError(f"{path.name}: PROBES must be a string constant (a module name)")
                names.add(checked_name(node.value.value))
    if len(names) > 1:
        raise ValueError(f"{checks}: the check files name different probes modules: {sorted(names)}")
    return names.pop() if names else None
