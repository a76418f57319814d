"""The functions and classes a student wrote, without anything else their cells did.

Hidden checks call the student's functions on small known inputs in a fresh process. Taking
only ``import``, ``def`` and ``class`` statements (and constant assignments) from the answer
cells means top-level code -- a training run, or ``np.allclose = lambda *a, **k: True`` -- never
runs there, so a submission cannot patch the checks that grade it.
"""

from __future__ import annotations

import ast
import json
import types
from pathlib import Path

_KEEP = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def _is_constant_assignment(node: ast.stmt) -> bool:
    if isinstance(node, ast.Assign):
        targets, value = node.targets, node.value
    elif isinstance(node, ast.AnnAssign) and node.value is not None:
        targets, value = [node.target], node.value
    else:
        return False
    return all(isinstance(t, ast.Name) for t in targets) and _is_literal(value)


def _is_literal(node: ast.expr) -> bool:
    try:
        ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


def _clean(source: str) -> str:
    """Notebook source as plain Python: IPython magics and shell escapes become comments."""
    lines = []
    for line in source.splitlines():
        stripped = line.lstrip()
        lines.append("# " + line if stripped.startswith(("%", "!")) else line)
    return "\n".join(lines)


def definitions(cell_source: str) -> list[ast.stmt]:
    """Top-level imports, defs, classes and constant assignments of one cell ([] if it does not parse)."""
    try:
        tree = ast.parse(_clean(cell_source))
    except SyntaxError:
        return []
    return [node for node in tree.body if isinstance(node, _KEEP) or _is_constant_assignment(node)]


def load_student_namespace(notebook_path: str | Path) -> tuple[types.SimpleNamespace, list[str]]:
    """Run the definitions of a notebook in a fresh namespace; return it and any problems.

    Imports come from every code cell (answers rely on the notebook's set-up cell); defs,
    classes and constants come from the answer cells (``nbgrader.solution``) and the locked
    instructor cells. Each statement runs on its own, so one broken answer leaves the others
    usable.
    """
    nb = json.loads(Path(notebook_path).read_text())  # graded notebooks are valid nbformat 4
    namespace: dict = {"__name__": "student_notebook"}
    problems: list[str] = []
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        meta = cell.get("metadata", {}).get("nbgrader", {})
        # Answer cells hold the student's functions; locked, ungraded cells the instructor's
        # (restored from the source by nbgrader before execution, so they can be trusted).
        answer = bool(meta.get("solution")) or (bool(meta.get("locked")) and not meta.get("grade"))
        source = cell.get("source", "")
        for node in definitions("".join(source) if isinstance(source, list) else source):
            if not answer and not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            module = ast.Module(body=[node], type_ignores=[])
            try:
                exec(compile(module, str(notebook_path), "exec"), namespace)  # noqa: S102 - the point
            except Exception as exc:  # a student's import of a missing package, say
                problems.append(f"line {node.lineno}: {type(exc).__name__}: {exc}")
    namespace.pop("__builtins__", None)
    return types.SimpleNamespace(**namespace), problems
