"""Functions stay under 60 lines, or say why not (issue #28).

A long function that holds logic (a training loop, a pipeline, a grader) is split into helpers
with one job each. A function that is long because it is declarative (a command's flat list of
``add_argument`` calls, a notebook written as a literal) stays whole, and its docstring says so
in a sentence that starts with "Long because".

Read from the source (``ast``): nothing is imported to check it. A function's length runs from
its ``def`` line to its last line, as ``ruff format`` (line length 110) leaves it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import deepfakelab

PACKAGE = Path(deepfakelab.__file__).resolve().parent

#: Functions of this many lines or more must be split, or say why they are not.
MOST_LINES = 60
#: The words that say why a function is long.
EXCUSE = "Long because"


def long_functions(source: str, relative: str) -> list[str]:
    """``"file:line name (N lines)"`` for each function in ``source`` (``relative``: its path in the
    package) of :data:`MOST_LINES` lines or more whose docstring does not say why."""
    found = []
    for node in ast.walk(ast.parse(source, relative)):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        length = node.end_lineno - node.lineno + 1
        if length >= MOST_LINES and EXCUSE not in (ast.get_docstring(node) or ""):
            found.append(f"deepfakelab/{relative}:{node.lineno} {node.name} ({length} lines)")
    return found


def test_long_functions_are_split_or_say_why():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        found += long_functions(path.read_text(), path.relative_to(PACKAGE).as_posix())
    assert not found, (
        f"{len(found)} function(s) of {MOST_LINES} lines or more: split each into helpers with one job each, "
        f"or, where it is long because it is declarative (a list of options, a literal), add a sentence "
        f"starting '{EXCUSE}' to its docstring:\n" + "\n".join(found)
    )


def _function(name: str, lines: int, docstring: str = "", indent: str = "") -> str:
    """The source of a function ``lines`` lines long, its ``def`` line included."""
    head = f"{indent}def {name}():\n" + (f'{indent}    """{docstring}"""\n' if docstring else "")
    body = lines - head.count("\n")
    return head + "".join(f"{indent}    x{i} = {i}\n" for i in range(body))


def test_the_check_finds_each_long_function_without_a_reason():
    source = "\n\n".join(
        [
            _function("short", MOST_LINES - 1),
            _function("long", MOST_LINES),
            _function("excused", MOST_LINES + 40, "Options.\n\n    Long because it is a flat list."),
            _function("unexcused", MOST_LINES + 1, "A docstring that gives no reason."),
            "class Model:\n" + _function("forward", MOST_LINES, indent="    "),
        ]
    )
    lines = source.splitlines()
    where = {
        name: next(number for number, line in enumerate(lines, 1) if f"def {name}(" in line)
        for name in ("long", "unexcused", "forward")
    }
    assert long_functions(source, "detect/module.py") == [
        f"deepfakelab/detect/module.py:{where['long']} long ({MOST_LINES} lines)",
        f"deepfakelab/detect/module.py:{where['unexcused']} unexcused ({MOST_LINES + 1} lines)",
        f"deepfakelab/detect/module.py:{where['forward']} forward ({MOST_LINES} lines)",
    ]
