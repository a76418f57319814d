"""The whole grading cycle on a temporary course with the toy assignment.

One grading run (module fixture) over one submission of each kind a term produces; the tests
then read what an instructor would read: the report, the gradebook, the CSVs, the feedback.
The toy course has short limits (5 s per cell, 40 s per notebook, 1.5 GiB per kernel).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

pytest.importorskip("nbgrader")

from deepfakelab.course import toy  # noqa: E402
from deepfakelab.course.grading.grade import GradeOptions, grade_assignment  # noqa: E402
from deepfakelab.course.release import generate_assignment  # noqa: E402

COLLECTED_FROM_ZIP = "zipped"  # a correct submission that arrives in an LMS download


def _scores(result) -> dict[str, float | None]:
    return {row.grade_id: row.points for row in result.cells()}


def _messages(result) -> dict[str, str]:
    return {row.grade_id: row.message for row in result.cells()}


def _autograded_points(result) -> float:
    return sum(row.points or 0.0 for row in result.cells() if not row.manual)


def _gradebook(course, student: str) -> dict[str, tuple]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course.gradebook}", course_id="deepfakelab") as gb:
        sub = gb.find_submission(toy.ASSIGNMENT, student)
        return {g.name: (g.auto_score, g.manual_score) for nb in sub.notebooks for g in nb.grades}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("course")
    course = toy.build_toy_course(root)
    generate_assignment(course, toy.ASSIGNMENT)
    for kind in toy.KINDS:
        toy.make_submission(course, kind, kind)
    # An LMS download: files named <student>_<anything>_<notebook>.ipynb in a zip.
    lms = root / "download.zip"
    toy.make_submission(course, "tmp-zip", "correct")
    with zipfile.ZipFile(lms, "w") as zf:
        zf.write(
            course.submitted(toy.ASSIGNMENT, "tmp-zip") / "toy.ipynb", f"{COLLECTED_FROM_ZIP}_1234_toy.ipynb"
        )
    import shutil

    shutil.rmtree(course.root / "submitted" / "tmp-zip")
    report = grade_assignment(course, toy.ASSIGNMENT, GradeOptions(jobs=2, progress=False), zip_path=lms)
    return course, report


def test_every_submission_is_graded(graded):
    course, report = graded
    assert report.failed == {}, report.tracebacks
    assert set(report.graded) == set(toy.KINDS) | {COLLECTED_FROM_ZIP}


@pytest.mark.parametrize("kind", list(toy.KINDS))
def test_each_kind_gets_exactly_its_points(graded, kind):
    _, report = graded
    assert _autograded_points(report.graded[kind]) == toy.KINDS[kind], _messages(report.graded[kind])


def test_solution_scores_full_marks_and_waits_for_manual_grading(graded):
    course, report = graded
    result = report.graded["correct"]
    assert _scores(result) == {**toy.AUTOGRADED_POINTS, "explain_verdict": None}
    assert _gradebook(course, "correct")["check_pick_frames"] == (2.0, None)
    assert _scores(report.graded[COLLECTED_FROM_ZIP]) == _scores(result)  # zip_collect found the student


def test_blank_scores_zero_with_the_stub_message(graded):
    _, report = graded
    result = report.graded["blank"]
    assert all(points == 0 for points in _scores(result).values())
    assert "Write your code here" in _messages(result)["check_pick_frames"]
    assert _messages(result)["explain_verdict"] == "left unanswered"


def test_off_by_one_loses_the_frame_points_with_actionable_messages(graded):
    _, report = graded
    scores, messages = _scores(report.graded["off_by_one"]), _messages(report.graded["off_by_one"])
    assert scores["check_verdict"] == 1.0
    assert scores["check_pick_frames"] == 0 and "start at frame 0" in messages["check_pick_frames"]
    assert (
        scores["check_frames_artifact"] == 0
        and "0, 5, 10, 15 were asked for" in messages["check_frames_artifact"]
    )
    assert "assert " not in messages["check_frames_artifact"]  # the hidden assertion's code never leaks


def test_infinite_loop_is_stopped_and_later_cells_still_count(graded):
    _, report = graded
    scores, messages = _scores(report.graded["loop"]), _messages(report.graded["loop"])
    assert scores["check_verdict"] == 0 and "NotebookTimeLimit" in messages["check_verdict"]
    assert scores["check_frames_artifact"] == 2.0  # cells after the loop ran


def test_memory_hog_gets_a_memory_error_not_a_dead_grader(graded):
    _, report = graded
    scores, messages = _scores(report.graded["memory_hog"]), _messages(report.graded["memory_hog"])
    assert scores["check_verdict"] == 0 and "MemoryError" in messages["check_verdict"]
    assert scores["check_pick_frames"] == 2.0


def test_tampering_does_not_change_the_grade(graded):
    course, report = graded
    tamper, honest = report.graded["tamper"], report.graded["off_by_one"]
    # patched np.array_equal, rewritten test cell, forged artifact, deleted graded cell: same as honest work
    assert _scores(tamper) == _scores(honest)
    assert "check_verdict" in _scores(tamper)  # the deleted cell was put back and graded
    # the forging cell was an added cell: only answer cells are graded, so the artifact is the honest one
    assert "frames.json holds [1, 6, 11, 16]" in _messages(tamper)["check_frames_artifact"]


def test_malformed_notebook_scores_zero_with_a_reason(graded):
    _, report = graded
    messages = _messages(report.graded["malformed"])
    assert all("not valid JSON (line" in m for m in messages.values())


def test_feedback_and_csv_exports(graded):
    course, report = graded
    assert (course.root / "feedback" / "correct" / toy.ASSIGNMENT / "toy.html").is_file()
    html = (course.root / "feedback" / "off_by_one" / toy.ASSIGNMENT / "toy.html").read_text()
    assert "0, 5, 10, 15 were asked for" in html and "HiddenCheckFailed" in html
    assert "array_equal(pick_frames(7" not in html  # hidden checks stay hidden
    lines = (course.root / "grades.csv").read_text().splitlines()
    assert lines[0].startswith("assignment,") and len(lines) == 1 + len(report.graded)
    per_cell = report.csv.read_text()
    assert "off_by_one,toy,check_pick_frames,0.0,2.0," in per_cell


def test_rerun_skips_finished_submissions(graded):
    course, _ = graded
    again = grade_assignment(course, toy.ASSIGNMENT, GradeOptions(jobs=2, progress=False, feedback=False))
    assert again.graded == {} and sorted(again.skipped) == sorted(set(toy.KINDS) | {COLLECTED_FROM_ZIP})


def test_feedback_missing_after_a_killed_run_is_written_by_the_next(graded):
    import shutil

    course, _ = graded
    shutil.rmtree(course.root / "feedback" / "off_by_one")  # as if the run was killed before its feedback
    again = grade_assignment(
        course, toy.ASSIGNMENT, GradeOptions(jobs=1, progress=False, students=["off_by_one"])
    )
    assert again.skipped == ["off_by_one"] and again.graded == {}
    assert (course.root / "feedback" / "off_by_one" / toy.ASSIGNMENT / "toy.html").is_file()


def test_a_deleted_gradebook_or_backups_are_put_back(graded):
    import shutil

    from deepfakelab.course.grading.gradebook import GradebookGuard

    course, _ = graded
    before = _gradebook(course, "correct")
    guard = GradebookGuard(course)
    shutil.rmtree(course.state / "backups", ignore_errors=True)
    course.gradebook.unlink()
    assert guard.changed()
    guard.restore()
    assert _gradebook(course, "correct") == before and not guard.changed()
    # a whole run without the backups folder, the gradebook deleted again first
    course.gradebook.unlink()
    report = grade_assignment(
        course,
        toy.ASSIGNMENT,
        GradeOptions(jobs=1, progress=False, feedback=False, students=["correct"], force=True),
    )
    assert report.failed == {} and _gradebook(course, "correct")["check_pick_frames"] == (2.0, None)


@pytest.mark.parametrize("sandbox", [True, False])
def test_writing_into_the_gradebook_is_undone_and_manual_grades_survive(graded, sandbox):
    from nbgrader.api import Gradebook

    from deepfakelab.course.grading.gradebook import gradebook_digest

    course, _ = graded
    with Gradebook(f"sqlite:///{course.gradebook}", course_id="deepfakelab") as gb:
        gb.find_grade("explain_verdict", "toy", toy.ASSIGNMENT, "correct").manual_score = 2.5
        gb.db.commit()
    # The tampering submission now finds rows to overwrite with 99 points -- if it can see the gradebook.
    report = grade_assignment(
        course,
        toy.ASSIGNMENT,
        GradeOptions(
            jobs=1, progress=False, feedback=False, force=True, students=["tamper"], sandbox=sandbox
        ),
    )
    if sandbox:  # the sandbox has no course folder in it: nothing to undo
        assert report.tampered is None and report.sandboxed
    else:  # same-user limits only: the write happens, and is found and undone
        assert report.tampered is not None and report.tampered.is_file() and not report.sandboxed
    assert _gradebook(course, "correct")["explain_verdict"] == (None, 2.5)
    assert _gradebook(course, "correct")["check_verdict"] == (1.0, None)
    assert _gradebook(course, "tamper")["check_pick_frames"] == (0.0, None)
    assert gradebook_digest(course.gradebook)  # still a readable database
    marker = "yes" if sandbox else "NO (--no-sandbox)"  # every row of the export says how it was graded
    rows = [
        line
        for line in (course.root / "grades-toy.csv").read_text().splitlines()
        if line.startswith("tamper,")
    ]
    assert rows and all(line.endswith(marker) for line in rows)


@pytest.mark.slow  # a real kill; test_rerun_skips_finished_submissions proves the journal by default
def test_killed_run_loses_nothing(graded, tmp_path):
    """Kill a grading run after its first result; the rerun grades only what is left."""
    course, _ = graded
    for student in ("late-1", "late-2"):
        toy.make_submission(course, student, "correct")
    journal = course.state / "journal" / toy.ASSIGNMENT
    cmd = [
        sys.executable,
        "-m",
        "deepfakelab",
        "course",
        "grade",
        toy.ASSIGNMENT,
        "--course",
        str(course.root),
        "--jobs",
        "1",
        "--no-feedback",
        "--student",
        "late-1",
        "--student",
        "late-2",
    ]
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    per_cell = course.root / "grades-toy.csv"

    def exported() -> bool:  # the last thing written for a finished submission
        return per_cell.is_file() and any(f"\n{s},toy," in per_cell.read_text() for s in ("late-1", "late-2"))

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not exported():
        time.sleep(0.1)
    import psutil

    killed = {proc.pid, *(c.pid for c in psutil.Process(proc.pid).children(recursive=True))}
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    first = "late-1" if (journal / "late-1.json").exists() else "late-2"
    # written as it finished, before the kill: its gradebook rows and its line in both CSVs
    assert _gradebook(course, first)["check_frames_artifact"] == (2.0, None)
    assert f"{first},toy,check_frames_artifact,2.0" in (course.root / "grades-toy.csv").read_text()
    assert first in (course.root / "grades.csv").read_text()
    report = grade_assignment(
        course,
        toy.ASSIGNMENT,
        GradeOptions(jobs=1, progress=False, feedback=False, students=["late-1", "late-2"]),
    )
    assert report.skipped == [first] and list(report.graded) == [
        s for s in ("late-1", "late-2") if s != first
    ]
    for student in ("late-1", "late-2"):
        assert _gradebook(course, student)["check_frames_artifact"] == (2.0, None)
    assert _gradebook(course, "correct")["explain_verdict"][1] == 2.5  # the instructor's grade is still there
    # The killed run's cgroups and temporary folders (named after its processes) were swept by the rerun.
    import tempfile

    from deepfakelab.course.sandbox.bubblewrap import CGROUP_ROOTS

    left = [
        p
        for root in (Path(tempfile.gettempdir()), *CGROUP_ROOTS)
        if root.is_dir()
        for p in root.iterdir()
        if p.name.startswith(("dfl-", "deepfakelab-")) and any(f"-{pid}-" in p.name for pid in killed)
    ]
    assert left == []


def test_gradescope_autograder_zip(graded, tmp_path):
    course, _ = graded
    from deepfakelab.course.gradescope import build_autograder_zip

    archive = build_autograder_zip(course, toy.ASSIGNMENT, tmp_path / "autograder.zip")
    names = zipfile.ZipFile(archive).namelist()
    assert {
        "setup.sh",
        "run_autograder",
        "nbgrader_config.py",
        "source/toy/toy.ipynb",
        "hidden_checks/toy/test_toy.py",
        "kit/pyproject.toml",
    } <= set(names)
    # Simulate Gradescope: unzip into /autograder/source, run_autograder one level up.
    root = tmp_path / "autograder"
    zipfile.ZipFile(archive).extractall(root / "source")
    (root / "run_autograder").write_bytes((root / "source" / "run_autograder").read_bytes())
    (root / "submission" / "lab").mkdir(parents=True)
    (root / "submission" / "lab" / "toy.ipynb").write_bytes(
        (course.submitted(toy.ASSIGNMENT, "off_by_one") / "toy.ipynb").read_bytes()
    )
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "DEEPFAKELAB_PYTHON": sys.executable}
    subprocess.run(
        ["bash", str(root / "run_autograder")], env=env, check=True, capture_output=True, timeout=300
    )
    results = json.loads((root / "results" / "results.json").read_text())
    tests = {t["name"]: t for t in results["tests"]}
    assert results["score"] == 1.0
    assert tests["toy: check_verdict"]["score"] == 1.0
    assert (
        tests["toy: check_pick_frames"]["max_score"] == 2.0 and tests["toy: check_pick_frames"]["score"] == 0
    )
    assert "start at frame 0" in tests["toy: check_pick_frames"]["output"]
