"""The steps of ``grade_assignment``, each on its own, as nbgrader tests its converters one by one.

The whole cycle runs in test_course_grading.py; here each step gets the smallest input that shows
its one job. No worker runs and no sandbox starts (the pool gets a stand-in worker); the steps
that read nbgrader's gradebook share one generated toy course, copied for each test.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import pickle
import shutil
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from deepfakelab.course import toy
from deepfakelab.course.grading import grade, pool
from deepfakelab.course.grading.grade import GradeOptions, GradeReport, GradingRun, RunState
from deepfakelab.course.grading.gradebook import GradebookGuard, backup_gradebook, gradebook_digest
from deepfakelab.course.grading.jobs import CellScore, GradingJob, GradingResult, NotebookResult
from deepfakelab.course.grading.journal import (
    JournalEntry,
    fingerprint_base,
    journal_folder,
    read_journal,
    submission_fingerprint,
    tree_digest,
    write_journal_entry,
)
from deepfakelab.course.layout import open_course
from deepfakelab.course.sandbox.leftovers import STAGING_KIND, prefix
from deepfakelab.errors import ConfigError, DataError

COURSE_ID = "deepfakelab"  # the kit's nbgrader_config.py


def _run(course, **options) -> GradingRun:
    return GradingRun(
        course=course,
        assignment=toy.ASSIGNMENT,
        course_id=COURSE_ID,
        options=GradeOptions(progress=False, **options),
        template=course.state / "template",
        hidden_checks=course.root / "hidden_checks",
        fingerprint_base=fingerprint_base(
            course, toy.ASSIGNMENT, course.root / "hidden_checks", options.get("sandbox", True)
        ),
        wall_timeout=60.0,
        staging_root=course.state / "staging" / toy.ASSIGNMENT,
    )


def _state(course, journal=None) -> RunState:
    return RunState(GradeReport(toy.ASSIGNMENT), journal=journal or {}, guard=GradebookGuard(course))


def _submit(course, student: str, text: str = "{}") -> Path:
    folder = course.submitted(toy.ASSIGNMENT, student)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{toy.NOTEBOOK}.ipynb").write_text(text)
    return folder


def _result(student: str, points: float = 2.0, **fields) -> GradingResult:
    cells = (
        CellScore("check_pick_frames", 2.0, False, points, "" if points else "wrong frames"),
        CellScore("explain_verdict", 3.0, True, None, "graded by the instructor"),
    )
    return GradingResult(
        student=student,
        assignment=toy.ASSIGNMENT,
        score=points,
        max_score=2.0,
        notebooks={toy.NOTEBOOK: NotebookResult(None, cells)},
        **fields,
    )


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.fixture
def course(tmp_path):
    """A toy course without release or gradebook (nbgrader is not run)."""
    return toy.build_toy_course(tmp_path / "course")


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """A toy course whose release and gradebook nbgrader generated, once for this module."""
    pytest.importorskip("nbgrader")
    from deepfakelab.course.release import generate_assignment

    course = toy.build_toy_course(tmp_path_factory.mktemp("generated") / "course")
    generate_assignment(course, toy.ASSIGNMENT)
    return course


@pytest.fixture
def released(generated, tmp_path):
    """A copy of the generated course, for a test to change."""
    shutil.copytree(generated.root, tmp_path / "course")
    return open_course(tmp_path / "course")


def _gradebook_students(course) -> dict[str, dict[str, float | None]]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course.gradebook}", course_id=COURSE_ID) as gb:
        return {
            s.student.id: {g.name: g.auto_score for nb in s.notebooks for g in nb.grades}
            for s in gb.find_assignment(toy.ASSIGNMENT).submissions
        }


# --- 1. check_request --------------------------------------------------------------------------


def test_check_request_refuses_before_anything_is_written(course, tmp_path, monkeypatch):
    from deepfakelab.course.sandbox import bubblewrap

    before = _files(course.root)
    not_a_zip = tmp_path / "download.zip"
    not_a_zip.write_text("not a zip")
    for options, zip_path, error, words in [
        (GradeOptions(jobs=0, sandbox=False), None, ConfigError, "at least one worker"),
        (GradeOptions(students=["../alice"], sandbox=False), None, DataError, "not a safe student id"),
        (GradeOptions(sandbox=False), not_a_zip, DataError, "not a zip archive"),
    ]:
        with pytest.raises(error, match=words):
            grade.check_request(course, toy.ASSIGNMENT, options, zip_path)
    with pytest.raises(DataError, match="no notebooks here"):
        grade.check_request(course, "lab9", GradeOptions(sandbox=False), None)
    monkeypatch.setattr(bubblewrap, "availability", lambda: "bubblewrap (bwrap) is not installed")
    with pytest.raises(bubblewrap.SandboxUnavailable, match="not grading: bubblewrap"):
        grade.check_request(course, toy.ASSIGNMENT, GradeOptions(), None)
    grade.check_request(
        course, toy.ASSIGNMENT, GradeOptions(sandbox=False), None
    )  # --no-sandbox: no bwrap needed
    assert _files(course.root) == before


# --- 2. sweep_leftovers ------------------------------------------------------------------------


def test_sweep_leftovers_removes_a_killed_runs_staging_and_keeps_a_live_ones(course):
    staging = course.state / "staging" / toy.ASSIGNMENT
    dead = staging / f"{STAGING_KIND}{2**30}-alice-00aa"  # no process has that pid
    live = staging / f"{prefix(STAGING_KIND)}bob-00bb"  # this process's own
    for folder in (dead, live):
        (folder / "toy.ipynb").parent.mkdir(parents=True)
    assert dead in grade.sweep_leftovers(course)
    assert not dead.exists() and live.is_dir()


# --- 3. warm_up_workers: the fork server's start -----------------------------------------------


def test_importing_the_course_plants_nothing_and_the_servers_start_skips_the_iri_parser():
    """jsonschema's IRI parser (seconds per process) is skipped by an explicit call where nbformat is
    imported -- the fork server's first preload, the command's main -- never by importing the course."""
    from deepfakelab.course.grading.worker import PRELOAD

    assert PRELOAD[0] == "deepfakelab.course.grading.warm_caches"
    script = (
        "import sys\n"
        "import deepfakelab.course, deepfakelab.course.grading.jobs, deepfakelab.course.sandbox.remote_student\n"
        "assert 'rfc3987_syntax' not in sys.modules, 'an import planted a module'\n"
        "import deepfakelab.course.grading.warm_caches\n"
        "assert sys.modules['rfc3987_syntax'] is None and 'nbformat' in sys.modules\n"
        "from deepfakelab.cli import main\n"
        "del sys.modules['rfc3987_syntax']\n"
        "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
        "assert sys.modules['rfc3987_syntax'] is None\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]


# --- 4. ensure_release -------------------------------------------------------------------------


def test_ensure_release_generates_only_what_is_missing(released):
    assert grade.ensure_release(released, toy.ASSIGNMENT, COURSE_ID) is False  # release and gradebook there
    shutil.rmtree(released.release(toy.ASSIGNMENT))
    assert grade.ensure_release(released, toy.ASSIGNMENT, COURSE_ID) is True
    assert (released.release(toy.ASSIGNMENT) / f"{toy.NOTEBOOK}.ipynb").is_file()


# --- 5. collect_zip ----------------------------------------------------------------------------


def test_collect_zip_without_a_download_collects_nothing(course):
    """(The collection itself is test_course_collect.py's.)"""
    before = _files(course.root)
    assert grade.collect_zip(course, toy.ASSIGNMENT, None) == []
    assert _files(course.root) == before


# --- 6. backup, snapshot, fingerprint, wall time -------------------------------------------------


def test_backup_gradebook_keeps_the_last_copies(course):
    assert backup_gradebook(course) is None  # no gradebook yet
    with sqlite3.connect(course.gradebook) as db:
        db.execute("CREATE TABLE grade (name TEXT, score REAL)")
        db.execute("INSERT INTO grade VALUES ('check_verdict', 1.0)")
    copies = [backup_gradebook(course, keep=2) for _ in range(3)]
    kept = sorted((course.state / "backups").glob("gradebook-*.db"))
    assert kept == sorted(copies[1:]) and not copies[0].exists()
    assert gradebook_digest(kept[-1]) == gradebook_digest(course.gradebook)


def test_snapshot_hidden_checks_is_a_copy_the_course_cannot_change(course):
    checks = course.hidden_checks / toy.ASSIGNMENT
    (checks / "conftest.py").write_text("import os\n")
    (checks / "__pycache__").mkdir()
    root = grade.snapshot_hidden_checks(course, toy.ASSIGNMENT)
    assert sorted(p.name for p in (root / toy.ASSIGNMENT).iterdir()) == [
        "test_toy.py"
    ]  # no conftest, no cache
    (checks / "test_toy.py").write_text("def test_nothing(): pass\n")
    assert (
        "student_function" in (root / toy.ASSIGNMENT / "test_toy.py").read_text()
    )  # taken as the run started
    (root / toy.ASSIGNMENT / "test_stale.py").write_text("")
    grade.snapshot_hidden_checks(course, toy.ASSIGNMENT)
    assert not (root / toy.ASSIGNMENT / "test_stale.py").exists()  # each run takes a fresh one


def test_wall_timeout_counts_every_notebook_and_its_checks(course):
    api = type("Api", (), {"config": {"LimitedExecute": {"notebook_timeout": 100.0}}})()
    assert grade.wall_timeout(course, toy.ASSIGNMENT, GradeOptions(hidden_timeout=50), api) == 100 + 50 + 120
    assert (
        grade.wall_timeout(course, toy.ASSIGNMENT, GradeOptions(hidden_timeout=50, notebook_timeout=10), api)
        == 180
    )
    shutil.copy(course.source(toy.ASSIGNMENT) / "toy.ipynb", course.source(toy.ASSIGNMENT) / "second.ipynb")
    assert grade.wall_timeout(course, toy.ASSIGNMENT, GradeOptions(hidden_timeout=50), api) == 2 * 150 + 120
    assert (
        grade.wall_timeout(course, toy.ASSIGNMENT, GradeOptions(hidden_timeout=0), object()) == 2 * 900 + 120
    )


def test_fingerprints_follow_what_is_graded_and_nothing_else(course, tmp_path):
    folder = _submit(course, "alice")
    digest = tree_digest(folder)
    (folder / "artifacts").mkdir()
    (folder / "artifacts" / "frames.json").write_text("[]")  # the notebook's outputs
    (folder / "link.txt").symlink_to("/etc/hostname")  # never followed
    assert tree_digest(folder) == digest and tree_digest(tmp_path / "missing") == "none"
    (folder / "toy.ipynb").write_text('{"cells": []}')
    assert tree_digest(folder) != digest
    hidden = course.root / "hidden_checks"
    base = fingerprint_base(course, toy.ASSIGNMENT, hidden, sandbox=True)
    assert fingerprint_base(course, toy.ASSIGNMENT, hidden, sandbox=False) != base
    assert submission_fingerprint(base, folder) != submission_fingerprint(base + "x", folder)
    course.config.write_text(course.config.read_text() + "\n# a new limit\n")
    assert fingerprint_base(course, toy.ASSIGNMENT, hidden, sandbox=True) != base


# --- 7. the journal, and which submissions need grading ------------------------------------------


def test_journal_entries_round_trip_and_read_what_older_runs_wrote(course):
    entry = JournalEntry(
        "f" * 64, "2025-01-01T00:00:00+00:00", True, _result("alice", seconds={"autograde": 1.5})
    )
    path = write_journal_entry(course, toy.ASSIGNMENT, "alice", entry)
    assert path == journal_folder(course, toy.ASSIGNMENT) / "alice.json"
    older = {
        "fingerprint": "b" * 64,
        "graded_at": "2024-01-01",
        "sandboxed": False,
        "score": 0.0,
        "max_score": 2.0,
        "error": "could not be graded: KeyError",
        "notebooks": {
            "toy": {
                "problem": "why",
                "cells": [
                    {
                        "grade_id": "check_pick_frames",
                        "max_points": 2.0,
                        "points": 0.0,
                        "manual": False,
                        "message": "why",
                    }
                ],
            }
        },
    }  # what the first runs wrote: only the keys they had
    (path.parent / "bob.json").write_text(json.dumps(older))
    (path.parent / "carol.json").write_text("{ half a file")
    (path.parent / "dave.json").write_text("[]")
    journal = read_journal(course, toy.ASSIGNMENT)
    assert set(journal) == {
        "alice",
        "bob",
    }  # unreadable entries are left out: those students are graded again
    assert journal["alice"] == entry
    assert journal["bob"].result.error == "could not be graded: KeyError" and not journal["bob"].sandboxed
    assert journal["bob"].result.cells()[0] == CellScore("check_pick_frames", 2.0, False, 0.0, "why")
    assert entry.finished("f" * 64) and not entry.finished("e" * 64)
    assert not journal["bob"].finished("b" * 64)  # a crash is graded again


def test_pending_submissions_skip_what_the_journal_finished(course):
    run = _run(course)
    for student in ("alice", "bob", "carol"):
        _submit(course, student, text=f'{{"by": "{student}"}}')
    for student in ("alice", "carol"):
        course.autograded(toy.ASSIGNMENT, student).mkdir(parents=True)
    print_of = {
        s: submission_fingerprint(run.fingerprint_base, course.submitted(toy.ASSIGNMENT, s))
        for s in ("alice", "carol")
    }
    journal = {
        "alice": JournalEntry(print_of["alice"], "t", True, _result("alice")),
        "carol": JournalEntry(print_of["carol"], "t", True, _result("carol", stopped="killed")),
    }
    state = _state(course, journal)
    todo = grade.pending_submissions(run, state)
    assert [p.student for p in todo] == ["bob", "carol"]  # carol's worker was killed: graded again
    assert state.report.skipped == ["alice"] and todo[0].folder == course.submitted(toy.ASSIGNMENT, "bob")
    named = dataclasses.replace(run, options=GradeOptions(students=["alice", "dave"], force=True))
    state = _state(course, journal)
    assert [p.student for p in grade.pending_submissions(named, state)] == [
        "alice"
    ]  # force: even the finished
    assert "no submission in" in state.report.failed["dave"]


# --- 8. jobs, the pool, and each result recorded --------------------------------------------------


def test_job_for_gives_each_worker_a_staging_folder_of_its_own(course):
    run = _run(course, memory_mb=1024, sandbox=False)
    folder = _submit(course, "alice")
    job, again = grade.job_for(run, "alice", folder), grade.job_for(run, "alice", folder)
    assert (job.student, job.submission, job.template, job.memory_mb, job.sandbox) == (
        "alice",
        folder,
        run.template,
        1024,
        False,
    )
    assert job.hide == (course.root,)  # no sandbox shows the course
    assert job.staging.parent == run.staging_root and job.staging.name.startswith(
        f"{prefix(STAGING_KIND)}alice-"
    )
    assert job.staging != again.staging and job.progress == Path(f"{job.staging}.progress")
    assert pickle.loads(pickle.dumps(job)) == job and GradingJob.from_dict(job.to_dict()) == job


def _jobs(tmp_path, *students) -> list[GradingJob]:
    return [GradingJob(toy.ASSIGNMENT, s, tmp_path, tmp_path, tmp_path, tmp_path / s) for s in students]


def test_run_pool_records_each_result_as_it_arrives(tmp_path, monkeypatch):
    monkeypatch.setattr(pool, "run_worker", lambda job, wall, stop=None: _result(job.student))
    recorded = []
    stopped = pool.run_pool(
        _jobs(tmp_path, "a", "b", "c"),
        60,
        2,
        threading.Event(),
        lambda job, result: recorded.append((job.student, result.student)),
        progress=False,
    )
    assert not stopped and sorted(recorded) == [("a", "a"), ("b", "b"), ("c", "c")]


def test_run_pool_stops_on_ctrl_c_and_keeps_what_had_finished(tmp_path, monkeypatch):
    def worker(job, wall, stop=None):
        if job.student == "slow":
            stop.wait(10)
            return GradingResult.failed("stopped with the run before it finished", interrupted=True)
        return _result(job.student)

    def record(job, result):
        recorded.append(job.student)
        if len(recorded) == 1:
            raise KeyboardInterrupt  # the instructor's Ctrl-C, as the first result is recorded

    monkeypatch.setattr(pool, "run_worker", worker)
    recorded, stop = [], threading.Event()
    assert pool.run_pool(_jobs(tmp_path, "quick", "slow"), 60, 2, stop, record, progress=False) is True
    assert stop.is_set() and recorded == ["quick"]  # the stopped worker's result is not recorded


def test_note_outcome_puts_each_kind_of_result_in_the_report(released):
    run, report = _run(released), GradeReport(toy.ASSIGNMENT)
    assert grade.note_outcome(run, report, "alice", _result("alice")) == report.graded["alice"]
    grade.note_outcome(run, report, "bob", _result("bob", stopped="killed at 40 s", left_out="3 files"))
    grade.note_outcome(run, report, "carol", _result("carol", grader_fault="OSError: [Errno 24]"))
    crashed = grade.note_outcome(run, report, "dave", GradingResult.failed("KeyError: 'x'", "Traceback ..."))
    assert report.failed["bob"] == "killed at 40 s" and report.notes["bob"] == "3 files"
    assert "the grader failed, not the submission (OSError" in report.failed["carol"]
    assert report.failed["dave"] == "KeyError: 'x'" and report.tracebacks["dave"] == "Traceback ..."
    assert "dave" not in report.graded and crashed.error == "could not be graded: KeyError: 'x'"
    points = {
        c.grade_id: c.points for c in crashed.cells()
    }  # every cell of the gradebook, scored 0 or by hand
    assert points == {**{g: 0.0 for g in toy.AUTOGRADED_POINTS}, "explain_verdict": None}
    assert crashed.max_score == sum(toy.AUTOGRADED_POINTS.values()) + sum(toy.MANUAL_POINTS.values())


def test_move_graded_replaces_the_graded_copy_in_one_rename(course, tmp_path):
    target = course.autograded(toy.ASSIGNMENT, "alice")
    target.mkdir(parents=True)
    (target / "old.ipynb").write_text("old")
    staging = tmp_path / "staging"
    staging.mkdir()
    (staging / "toy.ipynb").write_text("new")
    grade.move_graded(course, toy.ASSIGNMENT, "alice", staging)
    assert sorted(os.listdir(target)) == ["toy.ipynb"] and not staging.exists()
    assert os.listdir(target.parent) == ["toy"]  # nothing of the old copy left beside it
    grade.move_graded(course, toy.ASSIGNMENT, "alice", staging)  # a worker that wrote nothing changes nothing
    assert (target / "toy.ipynb").read_text() == "new"


def test_journal_result_writes_the_students_entry(course):
    entry = grade.journal_result(_run(course, sandbox=False), "alice", "f" * 64, _result("alice"))
    assert read_journal(course, toy.ASSIGNMENT) == {"alice": entry}
    assert entry.fingerprint == "f" * 64 and entry.sandboxed is False and entry.graded_at


def _graded_result(course, student: str) -> GradingResult:
    """A result whose cells are the toy's own (every one scored 0 or left for the instructor)."""
    from deepfakelab.course.grading.gradebook import zero_result

    return dataclasses.replace(
        zero_result(course, COURSE_ID, toy.ASSIGNMENT, "wrong"), student=student, error=""
    )


def test_store_in_gradebook_restores_a_gradebook_changed_by_anything_else(released):
    run, state = _run(released), _state(released)
    for student in ("alice", "bob"):
        _submit(released, student)
    state.done["alice"] = _graded_result(released, "alice")
    grade.store_in_gradebook(run, state, {"alice": state.done["alice"]})
    assert set(_gradebook_students(released)) == {"alice"} and state.report.tampered is None
    with sqlite3.connect(released.gradebook) as db:  # a submission graded with --no-sandbox, say
        db.execute("UPDATE grade SET manual_score = 99")
    state.done["bob"] = _graded_result(released, "bob")
    grade.store_in_gradebook(run, state, {"bob": state.done["bob"]})
    assert state.report.tampered is not None and state.report.tampered.is_file()
    with sqlite3.connect(released.gradebook) as db:
        assert db.execute("SELECT count(*) FROM grade WHERE manual_score = 99").fetchone() == (0,)
    assert set(_gradebook_students(released)) == {"alice", "bob"}  # alice written again on the restored copy


def test_export_grades_writes_one_row_per_cell_safe_for_a_spreadsheet(released):
    from deepfakelab.course.grading.gradebook import export_grades

    result = _result("alice", points=0.0)
    result = dataclasses.replace(
        result,
        notebooks={
            toy.NOTEBOOK: NotebookResult(
                None,
                (dataclasses.replace(result.cells()[0], message='=HYPERLINK("http://x")'), result.cells()[1]),
            )
        },
    )
    write_journal_entry(released, toy.ASSIGNMENT, "alice", JournalEntry("f", "t", False, result))
    path = export_grades(released, COURSE_ID, toy.ASSIGNMENT)
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["student"], r["grade_id"], r["points"], r["sandboxed"]) for r in rows] == [
        ("alice", "check_pick_frames", "0.0", "NO (--no-sandbox)"),
        ("alice", "explain_verdict", "", "NO (--no-sandbox)"),
    ]
    assert rows[0]["message"] == '\'=HYPERLINK("http://x")'  # read as text, never run as a formula
    assert (released.root / "grades.csv").is_file()


def test_record_result_keeps_a_result_everywhere_at_once(released, tmp_path):
    run, state = _run(released, feedback=False), _state(released)
    _submit(released, "alice")
    job = grade.job_for(run, "alice", released.submitted(toy.ASSIGNMENT, "alice"))
    job.staging.mkdir(parents=True)
    (job.staging / "toy.ipynb").write_text("{}")
    grade.record_result(run, state, job, "f" * 64, _graded_result(released, "alice"))
    assert "alice" in state.report.graded and state.recorded == {"alice"} and set(state.done) == {"alice"}
    assert (released.autograded(toy.ASSIGNMENT, "alice") / "toy.ipynb").is_file() and not job.staging.exists()
    assert read_journal(released, toy.ASSIGNMENT)["alice"].fingerprint == "f" * 64
    assert set(_gradebook_students(released)) == {"alice"} and state.report.csv.is_file()
    # a submission withdrawn while it was graded is journaled, but kept out of the gradebook
    grade.record_result(
        run, state, grade.job_for(run, "ghost", tmp_path), "g" * 64, _graded_result(released, "ghost")
    )
    assert "ghost" in read_journal(released, toy.ASSIGNMENT) and "ghost" not in state.done
    assert set(_gradebook_students(released)) == {"alice"}


# --- 9, 10. after the workers ---------------------------------------------------------------------


def test_write_missing_feedback_writes_only_the_pages_that_are_missing(course, monkeypatch):
    asked = []
    monkeypatch.setattr(
        grade,
        "write_student_feedback",
        lambda course, assignment, student, stop=None: (
            asked.append(student) or ("feedback: too slow" if student == "carol" else None)
        ),
    )
    for student in ("alice", "bob", "carol"):
        course.autograded(toy.ASSIGNMENT, student).mkdir(parents=True)
    (course.root / "feedback" / "bob" / toy.ASSIGNMENT).mkdir(parents=True)  # bob has his pages
    run, state = _run(course), _state(course)
    state.report.skipped = ["alice", "bob", "dave"]  # dave: journaled, but no graded copy
    state.done["carol"] = _result("carol")
    grade.write_missing_feedback(run, state)
    assert asked == ["alice", "carol"] and state.report.failed == {"carol": "feedback: too slow"}
    state.stop.set()  # a stopped run writes no more
    grade.write_missing_feedback(run, state)
    grade.write_missing_feedback(_run(course, feedback=False), _state(course))
    assert asked == ["alice", "carol"]


def test_finish_gradebook_writes_every_journaled_result_still_submitted(released):
    run = _run(released)
    _submit(released, "alice")
    journal = {
        "alice": JournalEntry("f", "t", True, _graded_result(released, "alice")),
        "ghost": JournalEntry("g", "t", True, _graded_result(released, "ghost")),
    }  # submission gone
    state = _state(released, journal)
    released.gradebook.unlink()  # deleted during the run: the guard puts it back, with every result
    grade.finish_gradebook(run, state)
    assert state.report.tampered is not None
    assert set(_gradebook_students(released)) == {"alice"} and state.report.csv.is_file()


def test_course_feedback_reports_the_students_not_graded_yet(course, monkeypatch):
    monkeypatch.setattr(grade, "write_student_feedback", lambda course, assignment, student: None)
    _submit(course, "alice")
    _submit(course, "bob")
    course.autograded(toy.ASSIGNMENT, "alice").mkdir(parents=True)
    report = grade.write_feedback(course, toy.ASSIGNMENT)
    assert report.feedback == ["alice"] and "not graded yet" in report.failed["bob"]


def test_grade_assignment_reads_as_its_steps():
    """The module doc lists the steps; grade_assignment calls them, in that order."""
    import inspect

    body = inspect.getsource(grade.grade_assignment)
    steps = [
        "check_request",
        "sweep_leftovers",
        "warm_up_workers",
        "ensure_release",
        "collect_zip",
        "backup_gradebook",
        "start_run",
        "read_journal",
        "pending_submissions",
        "grade_in_pool",
        "write_missing_feedback",
        "finish_gradebook",
    ]
    assert [body.index(f"{step}(") for step in steps] == sorted(body.index(f"{step}(") for step in steps)
    assert all(f":func:`{step}`" in grade.__doc__ or f"{step}`" in grade.__doc__ for step in steps)
    assert len(body.splitlines()) < 30
