"""The labs' nbgrader sources are well-formed, their hidden checks match them, and the committed
student versions in ``assignments/`` are exactly what ``nbgrader generate_assignment`` makes."""

from __future__ import annotations

import ast
import json
import re

import pytest

pytest.importorskip("nbgrader")

from deepfakelab.course.layout import kit_root  # noqa: E402
from deepfakelab.course.release import student_versions  # noqa: E402

KIT = kit_root()
LABS = sorted(p.name for p in (KIT / "solutions").iterdir() if p.is_dir())
GRADE_ID = re.compile(r"^[a-z][a-z0-9_]*$")


def _cells(lab: str) -> list[dict]:
    (path,) = sorted((KIT / "solutions" / lab).glob("*.ipynb"))
    return json.loads(path.read_text())["cells"]


def _nbgrader(cell: dict) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def _source(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def test_there_are_labs():
    assert "lab2" in LABS


@pytest.mark.parametrize("lab", LABS)
def test_cells_follow_the_course_rules(lab):
    cells = _cells(lab)
    ids = [_nbgrader(c).get("grade_id") for c in cells]
    assert all(ids) and len(set(ids)) == len(ids), "every cell has a unique grade_id"
    assert all(GRADE_ID.match(i) for i in ids), f"readable snake_case grade_ids: {ids}"
    for index, cell in enumerate(cells):
        meta = _nbgrader(cell)
        if meta.get("solution") and cell["cell_type"] == "code":
            after = _nbgrader(cells[index + 1]) if index + 1 < len(cells) else {}
            # every answer is followed by its visible checks (a locked, graded test cell) or by
            # the locked cell that uses it and then the checks
            nxt = [
                c
                for c in cells[index + 1 : index + 3]
                if _nbgrader(c).get("grade") and not _nbgrader(c).get("solution")
            ]
            assert after.get("locked") and nxt, f"{meta['grade_id']}: not followed by a locked check cell"
            assert "### BEGIN SOLUTION" in _source(cell)
        if meta.get("grade") and not meta.get("solution"):
            assert meta.get("locked") and meta.get("points", 0) > 0, (
                f"{meta['grade_id']}: test cells are locked and score"
            )
            source = _source(cell)
            assert f'hidden_check("{meta["grade_id"]}")' in source, (
                f"{meta['grade_id']}: calls its hidden check"
            )
            assert "assert" in source.split("### BEGIN HIDDEN TESTS")[0] or "print" in source, (
                f"{meta['grade_id']}: has visible checks before the hidden part"
            )
        if meta.get("grade") and meta.get("solution"):
            assert cell["cell_type"] == "markdown", (
                f"{meta['grade_id']}: written answers are markdown, graded by hand"
            )


@pytest.mark.parametrize("lab", LABS)
def test_every_autograded_cell_has_hidden_checks(lab):
    tests = ast.parse(
        "\n".join(p.read_text() for p in (KIT / "autograder" / "hidden_checks" / lab).glob("test_*.py"))
    )
    marked = {
        dec.args[0].value
        for node in ast.walk(tests)
        if isinstance(node, ast.FunctionDef)
        for dec in node.decorator_list
        if isinstance(dec, ast.Call) and getattr(dec.func, "attr", "") == "grade" and dec.args
    }
    graded = {
        _nbgrader(c)["grade_id"]
        for c in _cells(lab)
        if _nbgrader(c).get("grade") and not _nbgrader(c).get("solution")
    }
    assert marked == graded


def test_committed_student_versions_are_in_sync(tmp_path):
    student_versions(KIT / "solutions", tmp_path, LABS, KIT / "autograder" / "nbgrader_config.py")
    for lab in LABS:
        fresh = sorted(p.relative_to(tmp_path) for p in (tmp_path / lab).rglob("*") if p.is_file())
        committed = sorted(
            p.relative_to(KIT / "assignments") for p in (KIT / "assignments" / lab).rglob("*") if p.is_file()
        )
        assert committed == fresh, (
            f"assignments/{lab} differs: run `deepfakelab course release --kit-assignments`"
        )
        for rel in fresh:
            assert (KIT / "assignments" / rel).read_bytes() == (tmp_path / rel).read_bytes(), (
                f"assignments/{rel} is out of date: run `deepfakelab course release --kit-assignments`"
            )


@pytest.mark.parametrize("lab", LABS)
def test_student_version_hides_solutions_and_hidden_tests(lab):
    (path,) = sorted((KIT / "assignments" / lab).glob("*.ipynb"))
    text = path.read_text()
    assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text
    assert "YOUR CODE HERE" in text and "YOUR ANSWER HERE" in text
