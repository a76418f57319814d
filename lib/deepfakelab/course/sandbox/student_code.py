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


def _is_reference(node) -> bool:
    """A name or dotted name (``Z_DIM``, ``nn.Module``): looking it up runs no student code."""
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name)


def _safe_function(node) -> bool:
    """A def whose creation runs nothing: no decorators, defaults that are literals or names.

    Annotations are dropped (they would be evaluated when the def runs).
    """
    if node.decorator_list:
        return False
    args = node.args
    defaults = [*args.defaults, *(d for d in args.kw_defaults if d is not None)]
    if not all(_is_literal(d) or _is_reference(d) for d in defaults):
        return False
    for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
        if arg is not None:
            arg.annotation = None
    node.returns = None
    return True


def _safe_class(node) -> bool:
    """A class whose body only defines: methods, a docstring, constants, ``pass``."""
    if node.decorator_list or node.keywords or not all(_is_reference(b) for b in node.bases):
        return False
    for item in node.body:
        if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if not _safe_function(item):
                return False
        elif isinstance(item, ast.ClassDef):
            if not _safe_class(item):
                return False
        elif not (
            isinstance(item, ast.Pass)
            or _is_constant_assignment(item)
            or (isinstance(item, ast.Expr) and isinstance(item.value, ast.Constant))
        ):
            return False
    return True


def _keep(node: ast.stmt) -> bool:
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return True
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return _safe_function(node)
    if isinstance(node, ast.ClassDef):
        return _safe_class(node)
    return _is_constant_assignment(node)


def definitions(cell_source: str) -> list[ast.stmt]:
    """Top-level imports, defs, classes and constant assignments of one cell ([] if it does not parse).

    Only statements whose execution runs no code of the student's are kept: a decorator, a
    default argument that calls something, or a class body with statements would run while the
    hidden checks load the definitions, so such a def or class is left out (and the check that
    needs it says it is missing).
    """
    try:
        tree = ast.parse(_clean(cell_source))
    except SyntaxError:
        return []
    return [node for node in tree.body if _keep(node)]


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
