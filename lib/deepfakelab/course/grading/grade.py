"""``deepfakelab course grade``: the whole grading cycle of one assignment, as a list of steps.

:func:`grade_assignment` runs the steps below in order, each a function of its own:

1. :func:`check_request` -- refuse what cannot be graded (a bad student id, an unknown
   assignment, a zip that is none, no sandbox here) before anything is written;
2. :func:`sweep_leftovers` -- the cgroups, temporary and staging folders of killed runs;
3. :func:`.pool.warm_up_workers` -- the workers' fork server starts importing nbgrader meanwhile;
4. :func:`ensure_release` -- ``nbgrader generate_assignment`` when the course has no release or
   gradebook entry of the assignment;
5. :func:`collect_zip` -- an LMS download, checked, into ``submitted/`` (:mod:`..collect`);
6. :func:`.gradebook.backup_gradebook`, then :func:`start_run` -- everything the run trusts is
   read before any student code runs: the grading template (:func:`..release.build_template`),
   a snapshot of the hidden checks (:func:`snapshot_hidden_checks`), the fingerprint shared by
   every submission (:func:`.journal.fingerprint_base`) and each worker's wall time
   (:func:`wall_timeout`);
7. :func:`.journal.read_journal` and :func:`pending_submissions` -- which submissions need
   grading: a submission whose journal entry has its fingerprint and finished is skipped;
8. :func:`grade_in_pool` -- one worker process per submission (:func:`job_for`,
   :func:`.pool.run_pool`), several at a time; each result is recorded as it arrives
   (:func:`record_result`: the report, the graded copy, the journal, the gradebook, the CSVs,
   the feedback, each a step of its own);
9. :func:`write_missing_feedback` -- feedback that a killed run did not write;
10. :func:`finish_gradebook` -- a last check of the gradebook and every journaled result in it.

Only this process writes to the course, and student code cannot reach it: every submission runs
in its own bubblewrap sandbox (:mod:`..sandbox.bubblewrap`), which holds no course folder. Each
result is recorded as it arrives, so one submission can stop nothing but itself: a journal entry
(``.deepfakelab/journal/<assignment>/<student>.json``, with a fingerprint of the submission, the
source and the hidden checks, :mod:`.journal`), the gradebook rows, the feedback and both CSVs,
each file replaced atomically. Before each gradebook write the gradebook is compared with what
this run last left in it; if anything else changed it (a submission graded with ``--no-sandbox``
hunting for ``gradebook.db``), that copy is set aside and the run's starting copy (kept in
memory) restored with this run's results (:class:`.gradebook.GradebookGuard`). A rerun after a
crash or a kill skips what the journal says is done and unchanged (``force`` regrades
everything) and writes the feedback the killed run did not. Manual grades are never
overwritten, and the gradebook is backed up before each run.
"""

from __future__ import annotations

import os
import secrets
import shutil
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from ...errors import ConfigError, DataError
from ..collect import check_zip, collect_lms_zip
from ..layout import Course, check_student_id
from ..release import build_template, generate_assignment, nbgrader_api
from ..sandbox import bubblewrap
from ..sandbox.leftovers import STAGING_KIND, prefix, sweep
from .feedback import write_student_feedback
from .gradebook import (
    GradebookGuard,
    assignments_in_gradebook,
    backup_gradebook,
    export_grades,
    write_gradebook,
    zero_result,
)
from .jobs import GradingJob, GradingResult
from .journal import JournalEntry, fingerprint_base, read_journal, submission_fingerprint, write_journal_entry
from .pool import run_pool, warm_up_workers


@dataclass
class GradeOptions:
    """Settings of one grading run; ``None`` limits come from the course's nbgrader_config.py."""

    jobs: int = max(1, os.cpu_count() or 1)
    force: bool = False
    students: list[str] | None = None
    cell_timeout: int | None = None
    notebook_timeout: float | None = None
    memory_mb: int | None = None
    hidden_timeout: float = 300.0
    feedback: bool = True
    export: bool = True
    progress: bool = True
    sandbox: bool = True  # each submission's code in bubblewrap; False: same-user limits only


@dataclass
class GradeReport:
    """What a run did, for the instructor: filled in by the steps as they go."""

    assignment: str
    graded: dict[str, GradingResult] = field(default_factory=dict)  # student -> result
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # student -> why
    collection: list[str] = field(default_factory=list)  # one line per upload of the LMS zip not collected
    tracebacks: dict[str, str] = field(default_factory=dict)  # student -> where the grader failed
    tampered: Path | None = None  # where a gradebook changed by someone else during the run was set aside
    csv: Path | None = None
    seconds: float = 0.0
    sandboxed: bool = True
    interrupted: bool = False  # stopped by Ctrl-C or SIGTERM; what had finished is recorded
    left: list[str] = field(default_factory=list)  # students an interrupted run did not get to
    notes: dict[str, str] = field(default_factory=dict)  # student -> what of the submission was not kept
    feedback: list[str] = field(default_factory=list)  # students whose feedback `course feedback` wrote


@dataclass(frozen=True)
class GradingRun:
    """What one run grades with, fixed before any student code runs (:func:`start_run`)."""

    course: Course
    assignment: str
    course_id: str
    options: GradeOptions
    #: The private mini-course every worker copies (:func:`..release.build_template`).
    template: Path
    #: The snapshot of the hidden checks: the folder that holds ``<assignment>/``.
    hidden_checks: Path
    #: What every submission's fingerprint shares (:func:`.journal.fingerprint_base`).
    fingerprint_base: str
    #: Seconds a worker may run before it is killed.
    wall_timeout: float
    #: Where the workers write their graded copies until they are recorded.
    staging_root: Path


@dataclass
class RunState:
    """What a run learns as it goes; only the run's own thread changes it."""

    report: GradeReport
    #: {student: entry}: what earlier runs recorded, and this one's results as they arrive.
    journal: dict[str, JournalEntry]
    guard: GradebookGuard
    #: Set when the instructor stops the run (Ctrl-C, SIGTERM).
    stop: threading.Event = field(default_factory=threading.Event)
    #: Students whose result this run has journaled.
    recorded: set[str] = field(default_factory=set)
    #: This run's results of the students whose submission is still there (for the gradebook).
    done: dict[str, GradingResult] = field(default_factory=dict)


@dataclass(frozen=True)
class Pending:
    """A submission this run grades: whose, where, and its fingerprint."""

    student: str
    folder: Path
    fingerprint: str


def grade_assignment(
    course: Course, assignment: str, options: GradeOptions | None = None, zip_path: Path | None = None
) -> GradeReport:
    """Run the whole grading cycle of ``assignment`` in ``course``: the steps of the module doc, in order."""
    options = options or GradeOptions()
    start = time.perf_counter()
    check_request(course, assignment, options, zip_path)
    sweep_leftovers(course)
    warm_up_workers()
    api = nbgrader_api(course.root)
    ensure_release(course, assignment, api.coursedir.course_id)
    collection = collect_zip(course, assignment, zip_path)
    # Everything the run trusts is read now, before any student code runs.
    backup_gradebook(course)
    run = start_run(course, assignment, options, api)
    state = RunState(
        GradeReport(assignment, sandboxed=options.sandbox, collection=collection),
        journal=read_journal(course, assignment),
        guard=GradebookGuard(course),
    )
    todo = pending_submissions(run, state)
    grade_in_pool(run, state, todo)
    write_missing_feedback(run, state)
    finish_gradebook(run, state)
    state.report.seconds = time.perf_counter() - start
    return state.report


# --- before any student code runs -----------------------------------------------------------


def check_request(course: Course, assignment: str, options: GradeOptions, zip_path: Path | None) -> None:
    """Refuse, before anything is written, a run that cannot grade: raises ConfigError or DataError."""
    if options.jobs < 1:
        raise ConfigError(f"jobs={options.jobs}: grade with at least one worker")
    for student in options.students or []:
        check_student_id(student)
    course.check_assignment(assignment)
    if zip_path is not None:
        check_zip(zip_path)
    if options.sandbox:
        why = bubblewrap.availability()
        if why is not None:
            raise bubblewrap.SandboxUnavailable(f"not grading: {why}")


def sweep_leftovers(course: Course) -> list[Path]:
    """Remove the empty cgroups, temporary folders and staging folders of killed runs (never a live run's)."""
    return sweep(staging_roots=tuple((course.state / "staging").glob("*/")))


def ensure_release(course: Course, assignment: str, course_id: str) -> bool:
    """Generate the assignment's release if the course lacks it or its gradebook does not know it; whether it did."""
    if course.release(assignment).is_dir() and assignment in assignments_in_gradebook(course, course_id):
        return False
    generate_assignment(course, assignment)
    return True


def collect_zip(course: Course, assignment: str, zip_path: Path | None) -> list[str]:
    """Put the safe notebooks of an LMS download into ``submitted/`` (:mod:`..collect`); a line per upload refused."""
    return collect_lms_zip(course, assignment, zip_path) if zip_path is not None else []


def snapshot_hidden_checks(course: Course, assignment: str) -> Path:
    """A copy of the assignment's hidden checks, taken as the run starts; the run grades with it.

    Returns the folder that holds ``<assignment>/``. Nothing a submission does later to the
    course's ``hidden_checks/`` reaches this run (and no sandbox can reach the course at all).
    """
    root = course.state / "snapshot"
    if (root / assignment).exists():
        shutil.rmtree(root / assignment)
    root.mkdir(parents=True, exist_ok=True)
    source = course.hidden_checks / assignment
    if source.is_dir():
        shutil.copytree(
            source, root / assignment, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "conftest.py")
        )
    return root


def wall_timeout(course: Course, assignment: str, options: GradeOptions, api) -> float:
    """Seconds a worker may run: each notebook's time limit and its hidden checks', plus two minutes."""
    n_notebooks = max(1, len(list(course.source(assignment).glob("*.ipynb"))))
    notebook_timeout = options.notebook_timeout or _configured(
        api, "LimitedExecute", "notebook_timeout", 900.0
    )
    return n_notebooks * (notebook_timeout + options.hidden_timeout) + 120


def _configured(api, section: str, key: str, default):
    value = api.config.get(section, {}).get(key, None) if hasattr(api, "config") else None
    return value if value is not None else default


def start_run(course: Course, assignment: str, options: GradeOptions, api) -> GradingRun:
    """What the run grades with: the template, the checks' snapshot, the fingerprint, the wall time."""
    template = build_template(course, assignment, course.state / "template" / assignment)
    hidden_checks = snapshot_hidden_checks(course, assignment)
    staging_root = course.state / "staging" / assignment
    staging_root.mkdir(parents=True, exist_ok=True)
    return GradingRun(
        course=course,
        assignment=assignment,
        course_id=api.coursedir.course_id,
        options=options,
        template=template,
        hidden_checks=hidden_checks,
        fingerprint_base=fingerprint_base(course, assignment, hidden_checks, options.sandbox),
        wall_timeout=wall_timeout(course, assignment, options, api),
        staging_root=staging_root,
    )


def pending_submissions(run: GradingRun, state: RunState) -> list[Pending]:
    """The submissions to grade; the others go into the report (skipped as unchanged, or failed with why)."""
    course, assignment, report = run.course, run.assignment, state.report
    todo = []
    for student in run.options.students or course.students(assignment):
        try:
            folder = course.submitted(assignment, student)
        except DataError as exc:  # a folder in submitted/ whose name is no student id: that one only
            report.failed[student] = str(exc)
            continue
        if not folder.is_dir():
            report.failed[student] = f"no submission in {folder}"
            continue
        try:
            fingerprint = submission_fingerprint(run.fingerprint_base, folder)
        except OSError as exc:  # unreadable, or changed while it was read: this student only
            report.failed[student] = (
                f"{student}: the submission folder could not be read ({exc.strerror or exc})"
            )
            continue
        entry = state.journal.get(student)
        if (
            not run.options.force
            and entry is not None
            and entry.finished(fingerprint)
            and course.autograded(assignment, student).is_dir()
        ):
            report.skipped.append(student)
            continue
        todo.append(Pending(student, folder, fingerprint))
    return todo


# --- grading, each result recorded as it arrives ------------------------------------------------


def job_for(run: GradingRun, student: str, folder: Path) -> GradingJob:
    """The worker's job for ``student``'s submission in ``folder``, with a staging folder of its own."""
    options = run.options
    return GradingJob(
        assignment=run.assignment,
        student=student,
        template=run.template,
        submission=folder,
        hidden_checks=run.hidden_checks,
        sandbox=options.sandbox,
        hide=(run.course.root,),
        staging=run.staging_root / f"{prefix(STAGING_KIND)}{student}-{secrets.token_hex(6)}",
        cell_timeout=options.cell_timeout,
        notebook_timeout=options.notebook_timeout,
        memory_mb=options.memory_mb,
        hidden_timeout=options.hidden_timeout,
    )


def grade_in_pool(run: GradingRun, state: RunState, todo: list[Pending]) -> None:
    """Grade ``todo`` in worker processes, ``options.jobs`` at a time, recording each result as it arrives."""
    fingerprints = {pending.student: pending.fingerprint for pending in todo}
    jobs = [job_for(run, pending.student, pending.folder) for pending in todo]
    state.report.interrupted = run_pool(
        jobs,
        run.wall_timeout,
        run.options.jobs,
        state.stop,
        lambda job, result: record_result(run, state, job, fingerprints[job.student], result),
        progress=run.options.progress,
        desc=f"grading {run.assignment}",
    )
    if state.report.interrupted:
        state.report.left = sorted(job.student for job in jobs if job.student not in state.recorded)


def record_result(
    run: GradingRun, state: RunState, job: GradingJob, fingerprint: str, result: GradingResult
) -> None:
    """One finished submission, kept at once: report, graded copy, journal, gradebook rows, CSVs, feedback.

    Everything cheap comes first, so a slow step after it (the feedback, the next result)
    cannot lose it; the feedback is written last, in a time-limited process.
    """
    course, assignment, student = run.course, run.assignment, job.student
    result = note_outcome(run, state.report, student, result)
    move_graded(course, assignment, student, job.staging)
    state.journal[student] = journal_result(run, student, fingerprint, result)
    state.recorded.add(student)
    if not course.submitted(assignment, student).is_dir():
        return  # withdrawn while it was graded: journaled, but not in the gradebook
    state.done[student] = result
    store_in_gradebook(run, state, {student: result})
    if run.options.export:
        state.report.csv = export_grades(course, run.course_id, assignment)
    if run.options.feedback and not state.stop.is_set():
        feedback_step(run, state, student)


def note_outcome(run: GradingRun, report: GradeReport, student: str, result: GradingResult) -> GradingResult:
    """Put ``result`` in the report; return what is recorded (a crash: every cell scored 0 with why)."""
    if result.error:
        report.failed[student] = result.error
        report.tracebacks[student] = result.traceback
        return zero_result(run.course, run.course_id, run.assignment, f"could not be graded: {result.error}")
    report.graded[student] = result
    if result.stopped:  # the worker was killed; the cells it had finished kept their points
        report.failed[student] = result.stopped
    if result.left_out:
        report.notes[student] = result.left_out
    if result.grader_fault:  # scored as far as it could be; regraded by the next run
        report.failed[student] = (
            f"the grader failed, not the submission ({result.grader_fault}); "
            "its checks were run twice; run `grade` again to regrade it"
        )
    return result


def move_graded(course: Course, assignment: str, student: str, staging: Path) -> None:
    """Replace ``autograded/<student>/<assignment>`` with the worker's output in one rename."""
    target = course.autograded(assignment, student)
    target.parent.mkdir(parents=True, exist_ok=True)
    if staging.is_dir():
        old = target.with_name(f".{target.name}.old-{secrets.token_hex(4)}")
        if target.exists():
            os.replace(target, old)
        os.replace(staging, target)
        shutil.rmtree(old, ignore_errors=True)


def journal_result(run: GradingRun, student: str, fingerprint: str, result: GradingResult) -> JournalEntry:
    """Write ``student``'s journal entry for ``result`` (graded from ``fingerprint``); return it."""
    entry = JournalEntry(
        fingerprint=fingerprint,
        graded_at=datetime.now(timezone.utc).isoformat(),
        sandboxed=run.options.sandbox,
        result=result,
    )
    write_journal_entry(run.course, run.assignment, student, entry)
    return entry


def store_in_gradebook(run: GradingRun, state: RunState, results: dict[str, GradingResult]) -> None:
    """Write ``results`` into the gradebook; if anything else changed it, restore it first, with all of this run's."""
    if state.guard.changed():
        state.report.tampered = state.guard.restore()
        results = state.done
    write_gradebook(run.course, run.course_id, run.assignment, results)
    state.guard.accept()


def feedback_step(run: GradingRun, state: RunState, student: str) -> None:
    """``student``'s feedback pages (:func:`.feedback.write_student_feedback`); a problem goes into the report."""
    problem = write_student_feedback(run.course, run.assignment, student, stop=state.stop)
    if problem:
        state.report.failed[student] = problem


# --- after the workers --------------------------------------------------------------------------


def write_missing_feedback(run: GradingRun, state: RunState) -> None:
    """Feedback for the students graded before (by a killed run, or by this one) who have none yet."""
    if not run.options.feedback or state.stop.is_set():
        return
    course, assignment = run.course, run.assignment
    for student in sorted(set(state.report.skipped) | set(state.done)):
        if (
            course.autograded(assignment, student).is_dir()
            and not (course.root / "feedback" / student / assignment).is_dir()
        ):
            feedback_step(run, state, student)


def finish_gradebook(run: GradingRun, state: RunState) -> None:
    """Every worker (and its kernel) has ended: a last check, and every journaled result in the gradebook.

    A gradebook deleted or replaced during the run gets them all back; a student whose submission
    is gone is left out. Then the CSVs, from the final gradebook.
    """
    if state.guard.changed():
        state.report.tampered = state.guard.restore()
    write_gradebook(
        run.course,
        run.course_id,
        run.assignment,
        {
            student: entry.result
            for student, entry in state.journal.items()
            if run.course.submitted(run.assignment, student).is_dir()
        },
    )
    if run.options.export:
        state.report.csv = export_grades(run.course, run.course_id, run.assignment)


# --- `deepfakelab course feedback` ---------------------------------------------------------------


def write_feedback(course: Course, assignment: str, students: list[str] | None = None) -> GradeReport:
    """Feedback for every graded student (or ``students``), as ``grade`` writes it: time-limited, with its CSP.

    For after the written answers were graded in formgrader: nbgrader's own ``generate_feedback``
    would write the pages again without the kit's time limit and Content-Security-Policy.
    """
    course.check_assignment(assignment)
    report = GradeReport(assignment)
    start = time.perf_counter()
    for student in students or course.students(assignment):
        if not course.autograded(assignment, student).is_dir():
            report.failed[student] = f"not graded yet: run `deepfakelab course grade {assignment}` first"
        elif problem := write_student_feedback(course, assignment, student):
            report.failed[student] = problem
        else:
            report.feedback.append(student)
    report.seconds = time.perf_counter() - start
    return report
