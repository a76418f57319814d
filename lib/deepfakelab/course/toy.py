"""A tiny assignment that proves the grading machinery without the labs' models.

``toy`` has everything a lab has -- answer cells, visible checks, hidden checks over a saved
artifact and with a probe (:mod:`.probes.toy`), a written answer graded by hand -- in a notebook
that runs in a second. The tests and
``bench/grade.py`` build a course with it and submissions of each kind a term produces:
correct, blank, wrong in one place, looping, memory-hungry, tampered, malformed.

Points: ``check_pick_frames`` 2, ``check_verdict`` 1, ``check_frames_artifact`` 2 (autograded,
5 in all) and ``explain_verdict`` 3 (by hand).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from .layout import Course, kit_root, open_course

ASSIGNMENT = "toy"
NOTEBOOK = "toy"
AUTOGRADED_POINTS = {"check_pick_frames": 2.0, "check_verdict": 1.0, "check_frames_artifact": 2.0}
MANUAL_POINTS = {"explain_verdict": 3.0}


def _meta(grade_id: str, *, grade=False, solution=False, locked=False, points=0.0) -> dict:
    meta = {"grade": grade, "solution": solution, "locked": locked, "grade_id": grade_id, "schema_version": 3}
    if grade:
        meta["points"] = points
    return {"nbgrader": meta}


def _code(grade_id: str, source: str, **kw):
    return new_code_cell(textwrap.dedent(source).strip(), metadata=_meta(grade_id, **kw))


def _md(grade_id: str, source: str, **kw):
    return new_markdown_cell(textwrap.dedent(source).strip(), metadata=_meta(grade_id, **kw))


def toy_notebook() -> nbformat.NotebookNode:
    """The instructor's source of the toy notebook, in nbgrader's format.

    Long because it is the notebook itself, one literal cell after another in the order students
    see them: split up, a cell's source would sit away from the cells it follows."""
    cells = [
        _md("intro", "# Toy lab\nPick frames from a video and decide whether it is fake.", locked=True),
        _code(
            "setup",
            """
            import numpy as np
            from deepfakelab.course import hidden_check, save_json
        """,
            locked=True,
        ),
        _code(
            "pick_frames_answer",
            '''
            def pick_frames(n_frames, every):
                """Indices 0, every, 2*every, ... of a video with n_frames frames (a list of ints)."""
                ### BEGIN SOLUTION
                return list(range(0, n_frames, every))
                ### END SOLUTION
        ''',
            solution=True,
        ),
        _code(
            "check_pick_frames",
            """
            assert np.array_equal(pick_frames(10, 3), [0, 3, 6, 9]), \\
                f"pick_frames(10, 3) should be [0, 3, 6, 9], got {pick_frames(10, 3)}: start at frame 0"
            print("pick_frames looks right")
            ### BEGIN HIDDEN TESTS
            hidden_check("check_pick_frames")
            ### END HIDDEN TESTS
        """,
            grade=True,
            locked=True,
            points=AUTOGRADED_POINTS["check_pick_frames"],
        ),
        _code(
            "verdict_answer",
            '''
            def verdict(scores, threshold=0.5):
                """"fake" when the mean of the frame scores (each in [0, 1], 1 = fake) exceeds threshold."""
                ### BEGIN SOLUTION
                return "fake" if float(np.mean(scores)) > threshold else "real"
                ### END SOLUTION
        ''',
            solution=True,
        ),
        _code(
            "check_verdict",
            """
            assert verdict([0.9, 0.8, 0.2]) == "fake", "mean 0.63 is above 0.5: expected 'fake'"
            assert verdict([0.1, 0.2]) == "real", "mean 0.15 is below 0.5: expected 'real'"
            ### BEGIN HIDDEN TESTS
            hidden_check("check_verdict")
            ### END HIDDEN TESTS
        """,
            grade=True,
            locked=True,
            points=AUTOGRADED_POINTS["check_verdict"],
        ),
        _code(
            "save_frames",
            """
            frames = pick_frames(20, 5)
            save_json({"n_frames": 20, "every": 5, "indices": frames}, "frames.json")
        """,
            locked=True,
        ),
        _code(
            "check_frames_artifact",
            """
            print("saved frames", frames)
            ### BEGIN HIDDEN TESTS
            hidden_check("check_frames_artifact")
            ### END HIDDEN TESTS
        """,
            grade=True,
            locked=True,
            points=AUTOGRADED_POINTS["check_frames_artifact"],
        ),
        _md(
            "explain_verdict",
            """
            Why can a mean over frames miss a deepfake?
            ### BEGIN SOLUTION
            A few manipulated frames among many clean ones barely move the mean.
            ### END SOLUTION
        """,
            grade=True,
            solution=True,
            points=MANUAL_POINTS["explain_verdict"],
        ),
    ]
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


HIDDEN_CHECKS = '''
"""Hidden checks of the toy assignment (never given to students)."""

import pytest

from deepfakelab.course.artifacts import load_json, number
from deepfakelab.course.grading.hidden import student_function

PROBES = "deepfakelab.course.probes.toy"


@pytest.mark.grade("check_pick_frames")
def test_pick_frames_other_inputs(student):
    pick_frames = student_function(student, "pick_frames")
    got = pick_frames(7, 2)
    assert list(got) == [0, 2, 4, 6], f"pick_frames(7, 2) gave {list(got)}; frames start at 0 and stop before n_frames"
    returned = student.probe("returned_type", "pick_frames", 7, 2)  # what crossed as data was a list; was it one?
    assert returned == {"type": "list", "item_types": ["int"]}, \
        f"pick_frames must return a list of ints, not a {returned['type']} of {returned['item_types']}"


@pytest.mark.grade("check_verdict")
def test_verdict_threshold(student):
    verdict = student_function(student, "verdict")
    assert verdict([0.6, 0.6], threshold=0.7) == "real", "verdict ignores its threshold argument"


@pytest.mark.grade("check_frames_artifact")
def test_frames_artifact(artifacts, student):
    saved = load_json(artifacts / "frames.json", dict)
    n = int(number(saved.get("n_frames"), "frames.json n_frames", 1, 10_000))
    every = int(number(saved.get("every"), "frames.json every", 1, 10_000))
    indices = saved.get("indices")
    assert isinstance(indices, list) and all(isinstance(i, int) for i in indices), \\
        "frames.json: 'indices' must be a list of integers"
    assert (n, every) == (20, 5), f"frames.json was saved for n_frames={n}, every={every}; the lab asks for 20 and 5"
    assert indices == list(range(0, 20, 5)), f"frames.json holds {indices}; frames 0, 5, 10, 15 were asked for"
    assert indices == list(student_function(student, "pick_frames")(20, 5)), \\
        "frames.json does not match what your pick_frames returns: save it with the cell provided"
'''

TOY_LIMITS = """
# --- toy course: short limits so the tests of the limits are quick ---
c.Execute.timeout = {cell_timeout}
c.LimitedExecute.notebook_timeout = {notebook_timeout}
c.LimitedExecute.memory_mb = {memory_mb}
"""


def build_toy_course(
    root: Path, cell_timeout: int = 5, notebook_timeout: float = 40, memory_mb: int = 1536
) -> Course:
    """A course folder in ``root`` with the toy assignment, its hidden checks and short limits."""
    root = Path(root)
    (root / "source" / ASSIGNMENT).mkdir(parents=True, exist_ok=True)
    config = (kit_root() / "autograder" / "nbgrader_config.py").read_text()
    config += TOY_LIMITS.format(
        cell_timeout=cell_timeout, notebook_timeout=notebook_timeout, memory_mb=memory_mb
    )
    (root / "nbgrader_config.py").write_text(config)
    nbformat.write(toy_notebook(), str(root / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"))
    hidden = root / "hidden_checks" / ASSIGNMENT
    hidden.mkdir(parents=True, exist_ok=True)
    (hidden / "test_toy.py").write_text(HIDDEN_CHECKS.lstrip())
    return open_course(root)


# --- submissions ----------------------------------------------------------------------------

RIGHT = {
    "pick_frames_answer": "def pick_frames(n_frames, every):\n    return list(range(0, n_frames, every))",
    "verdict_answer": "def verdict(scores, threshold=0.5):\n    return 'fake' if sum(scores) / len(scores) > threshold else 'real'",
    "explain_verdict": "Averaging hides the few frames that were manipulated.",
}
OFF_BY_ONE = "def pick_frames(n_frames, every):\n    return list(range(1, n_frames, every))"

TAMPER_GRADEBOOK = """
import glob, os, sqlite3
for path in set(glob.glob("../" * 4 + "**/gradebook.db", recursive=True) + glob.glob("../**/gradebook.db", recursive=True)
                + glob.glob(os.path.expanduser("~/**/gradebook.db"), recursive=False)):
    try:
        with sqlite3.connect(path) as db:
            db.execute("UPDATE grade SET manual_score = 99, auto_score = 99")
    except Exception:
        pass
"""


def _fill(nb, answers: dict[str, str]) -> None:
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]


def submit_answers(course: Course, student: str, answers: dict[str, str]) -> Path:
    """Write ``submitted/<student>/toy/toy.ipynb``: the release with ``answers`` ({grade_id: source}) in it."""
    nb = nbformat.read(str(course.release(ASSIGNMENT) / f"{NOTEBOOK}.ipynb"), as_version=4)
    _fill(nb, answers)
    folder = course.submitted(ASSIGNMENT, student)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{NOTEBOOK}.ipynb"
    nbformat.write(nb, str(path))
    return path


def make_submission(course: Course, student: str, kind: str) -> Path:
    """Write ``submitted/<student>/toy/toy.ipynb`` of one ``kind`` (see :data:`KINDS`); return it."""
    release = course.release(ASSIGNMENT) / f"{NOTEBOOK}.ipynb"
    folder = course.submitted(ASSIGNMENT, student)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{NOTEBOOK}.ipynb"
    if kind == "malformed":
        path.write_text(release.read_text()[:-40] + "{{ not json")
        return path
    nb = nbformat.read(str(release), as_version=4)
    answers = dict(RIGHT)
    if kind == "blank":
        answers = {}
    elif kind == "off_by_one":
        answers["pick_frames_answer"] = OFF_BY_ONE
    elif kind == "loop":
        answers["verdict_answer"] = "while True:\n    pass\n" + RIGHT["verdict_answer"]
    elif kind == "memory_hog":
        # 2 GiB at a time: past the toy's 1.5 GiB limit at the first one, so the MemoryError comes at
        # once (256 MiB pieces were zero-filled one by one and, on a loaded machine, ran into the
        # 5 s cell limit first); without a limit the 16 GiB would take far longer than that.
        answers["verdict_answer"] = "hog = [bytearray(2**31) for _ in range(8)]\n" + RIGHT["verdict_answer"]
    elif kind == "tamper":
        # Wrong pick_frames, plus every trick: patch the checker, rewrite the check, forge the
        # artifact, delete a graded cell, and write 99 points into any gradebook it can find.
        answers["pick_frames_answer"] = (
            OFF_BY_ONE + "\nnp.array_equal = lambda *a, **k: True\n" + TAMPER_GRADEBOOK
        )
        answers["check_pick_frames"] = "print('all good')"
        answers["save_frames"] = "frames = [0, 5, 10, 15]"  # a locked cell: nbgrader restores it
        forge = nbformat.v4.new_code_cell(
            "import json\njson.dump({'n_frames': 20, 'every': 5, 'indices': [0, 5, 10, 15]}, open('artifacts/frames.json', 'w'))"
        )
        at = next(
            i
            for i, c in enumerate(nb.cells)
            if c.metadata.get("nbgrader", {}).get("grade_id") == "save_frames"
        )
        nb.cells.insert(at + 1, forge)
        nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != "check_verdict"]
    elif kind != "correct":
        raise ValueError(f"unknown submission kind {kind!r}; choose from {KINDS}")
    _fill(nb, answers)
    nbformat.write(nb, str(path))
    return path


#: Submission kinds and the autograded points each should get (out of 5).
KINDS = {
    "correct": 5.0,
    "blank": 0.0,
    "off_by_one": 1.0,
    "loop": 4.0,
    "memory_hog": 4.0,
    "tamper": 1.0,
    "malformed": 0.0,
}
