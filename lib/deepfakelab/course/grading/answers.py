"""The notebook that is graded: the instructor's release with the student's answers written in.

A submission is read for its answers only. Every answer cell of the release (``nbgrader.solution``,
code or written) takes the source of the submitted cell with the same ``grade_id`` and cell type;
everything else -- the test cells, the locked set-up cells, the order, the notebook's and the
cells' metadata -- comes from the release. Deleted, renamed, duplicated or edited test cells,
added cells and edited metadata therefore change nothing, and nbgrader always sees exactly the
structure it generated (its ``OverwriteCells`` cannot fail on a missing or duplicated id).
An answer cell that is not in the submission keeps the release's stub, and is reported.
"""

from __future__ import annotations

import copy

import nbformat

from .sanitize import sanitize_markdown


#: Longest written answer kept (characters, about 1,500 words). Rendering markdown is not linear in
#: its length for every text (nbconvert's maths patterns: 36,000 characters of ``\begin{a}`` take 4 s,
#: 180,000 about 100 s), and feedback and formgrader render each answer.
MAX_ANSWER_CHARS = 10_000


def _grade_id(cell) -> str | None:
    nbgrader = cell.get("metadata", {}).get("nbgrader", {})
    return nbgrader.get("grade_id") if isinstance(nbgrader, dict) else None


def _source(cell) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def graded_notebook(
    release: nbformat.NotebookNode, submitted: nbformat.NotebookNode
) -> tuple[nbformat.NotebookNode, list[str], list[str]]:
    """``release`` with ``submitted``'s answers; return it, the missing answer ids and notes.

    Notes say what was set aside (a duplicated answer cell: the first one is graded).
    """
    found: dict[str, list] = {}
    for cell in submitted.get("cells", []):
        grade_id = _grade_id(cell)
        if grade_id:
            found.setdefault(grade_id, []).append(cell)
    graded = copy.deepcopy(release)
    missing, notes = [], []
    for cell in graded.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if not meta.get("solution"):
            continue
        grade_id = meta.get("grade_id")
        matches = [c for c in found.get(grade_id, []) if c.get("cell_type") == cell.cell_type]
        if not matches:
            missing.append(grade_id)
            continue
        if len(matches) > 1:
            notes.append(f"answer cell {grade_id!r} appears {len(matches)} times; the first one was graded")
        source = _source(matches[0])
        if cell.cell_type == "markdown" and len(source) > MAX_ANSWER_CHARS:
            notes.append(
                f"written answer {grade_id!r} has {len(source):,} characters; the first "
                f"{MAX_ANSWER_CHARS:,} were kept"
            )
            source = source[:MAX_ANSWER_CHARS] + f"\n\n[cut at {MAX_ANSWER_CHARS:,} characters by the grader]"
        # issue 32: a written answer is rendered for the instructor (formgrader): no student HTML may run there
        cell.source = sanitize_markdown(source) if cell.cell_type == "markdown" else source
    for cell in graded.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return graded, missing, notes


def missing_message(missing: list[str]) -> str:
    """What a student reads when answer cells were not in the notebook."""
    names = ", ".join(repr(m) for m in missing)
    return (
        f"answer cell {names} is not in your notebook (answers are found by the cell's grade_id): "
        "write your answer in the cell you were given, without deleting or copying it"
    )
