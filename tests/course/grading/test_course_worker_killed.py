"""A grading worker that is killed mid-notebook keeps the points of the cells it had finished.

The worker records the notebook as executed so far before each cell (outside the sandbox); when
it ends without a result -- here stopped at its wall time limit while an answer cell sleeps --
the parent grades from that record: the cells before keep their points (their hidden checks run
then), the cell that was running and the ones after score 0 with a message naming it.
"""

from __future__ import annotations

import subprocess

import pytest

pytest.importorskip("nbgrader")

from deepfakelab.course import toy  # noqa: E402
from deepfakelab.course.grading import pool  # noqa: E402
from deepfakelab.course.grading.grade import GradeOptions, grade_assignment  # noqa: E402
from deepfakelab.course.sandbox import leftovers  # noqa: E402
from deepfakelab.course.sandbox.bubblewrap import availability  # noqa: E402
from deepfakelab.course.release import generate_assignment  # noqa: E402

pytestmark = pytest.mark.skipif(availability() is not None, reason=f"no sandbox here: {availability()}")

LOUD = "\nprint('x' * 3_000_000)\nfor _i in range(3000):\n    print(f'line {_i}')\n"
WALL = 40  # seconds the worker may run: ample for the cells before the sleeping one, even on a loaded machine


def test_killed_worker_keeps_the_points_of_finished_cells(tmp_path, monkeypatch):
    # Cell and notebook limits far above the worker's wall limit: only the worker's end stops the sleep.
    course = toy.build_toy_course(tmp_path / "course", cell_timeout=900, notebook_timeout=900)
    generate_assignment(course, toy.ASSIGNMENT)
    # A finished cell printed 3 MB on one line and 3000 lines: the partial notebook is trimmed like a finished one.
    toy.submit_answers(
        course,
        "sleeper",
        {
            **toy.RIGHT,
            "verdict_answer": toy.RIGHT["verdict_answer"] + "\nimport time\ntime.sleep(3600)",
            "pick_frames_answer": toy.RIGHT["pick_frames_answer"] + LOUD,
        },
    )
    # What an earlier grade run, SIGKILLed mid-way, left in the staging folder: swept at the start.
    proc = subprocess.Popen(["true"])
    proc.wait()
    for left in (
        f"{leftovers.STAGING_KIND}{proc.pid}-sleeper-00aa",
        f"{leftovers.STAGING_KIND}{proc.pid}-sleeper-00aa.progress",
    ):
        (course.state / "staging" / toy.ASSIGNMENT / left / "x").mkdir(parents=True)
    real = pool.run_worker
    monkeypatch.setattr(pool, "run_worker", lambda job, wall, stop=None: real(job, WALL, stop))
    report = grade_assignment(course, toy.ASSIGNMENT, GradeOptions(jobs=1, progress=False, feedback=False))

    assert "sleeper" in report.graded and "did not finish within 40 s" in report.failed["sleeper"]
    rows = {r.grade_id: r for r in report.graded["sleeper"].notebooks[toy.NOTEBOOK].cells}
    # check_pick_frames ran before the sleeping cell (its hidden check passed); the rest did not run.
    assert {g: r.points for g, r in rows.items() if not r.manual} == {
        "check_pick_frames": 2.0,
        "check_verdict": 0.0,
        "check_frames_artifact": 0.0,
    }
    for grade_id in ("check_verdict", "check_frames_artifact"):
        message = rows[grade_id].message
        assert "did not finish within 40 s" in message and "cell 'verdict_answer'" in message, message
    assert rows["check_pick_frames"].message == ""
    # The partial graded notebook is where the instructor looks, and the gradebook holds the points.
    graded = course.autograded(toy.ASSIGNMENT, "sleeper") / f"{toy.NOTEBOOK}.ipynb"
    assert "KernelLost" in graded.read_text()
    assert graded.stat().st_size < 1_500_000, graded.stat().st_size
    text = graded.read_text()
    assert "Output truncated" in text and "line 2999" not in text
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course.gradebook}") as gb:
        assert gb.find_submission(toy.ASSIGNMENT, "sleeper").score == 2.0
    # Nothing the worker recorded or copied is left behind, nor what the killed run had left.
    staging = course.state / "staging" / toy.ASSIGNMENT
    assert not list(staging.glob("*.progress")) and not list(staging.iterdir())
