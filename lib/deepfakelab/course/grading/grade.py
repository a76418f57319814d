"""``deepfakelab course grade``: the whole grading cycle of one assignment.

collect (optionally from an LMS zip, via ``nbgrader zip_collect``) -> grade every submission in
its own worker process (:mod:`.worker`), several at a time, with a progress bar -> store each
result in the course's nbgrader gradebook as it arrives -> feedback (``nbgrader
generate_feedback``) -> grades exported to CSV (nbgrader's ``grades.csv`` and a per-cell
``grades-<assignment>.csv`` with the messages).

Only this process writes to the course, and student code cannot reach it: every submission runs
in its own bubblewrap sandbox (:mod:`.bubblewrap`), which holds no course folder. Each result is
recorded as it arrives, so one submission can stop nothing but itself: a journal entry
(``.deepfakelab/journal/<assignment>/<student>.json``, with a fingerprint of the submission, the
source and the hidden checks), the gradebook rows, the feedback and both CSVs, each file
replaced atomically. Before each gradebook write the gradebook is compared with what this run
last left in it; if anything else changed it (a submission graded with ``--no-sandbox`` hunting
for ``gradebook.db``), that copy is set aside and the run's starting copy (kept in memory)
restored with this run's results. A rerun after a crash or a kill skips what the journal says is
done and unchanged (``force`` regrades everything) and writes the feedback the killed run did
not. Manual grades are never overwritten, and the gradebook is backed up before each run.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import os
import secrets
import shutil
import signal
import sqlite3
import stat
import sys
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from ...errors import ConfigError, DataError
from ..collect import check_zip, collect_lms_zip
from ..layout import Course, check_student_id
from ..release import build_template, generate_assignment, nbgrader_api
from .jobs import CellScore, GradingJob, GradingResult, NotebookResult
from .sanitize import add_feedback_csp


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


#: Folders of a submission that never change its grade (the notebook's outputs, caches).
_UNGRADED_PARTS = {"artifacts", ".ipynb_checkpoints", "__pycache__"}


def _tree_digest(folder: Path) -> str:
    """A digest of the regular files under ``folder``, by name and content: links and special files are skipped.

    Every entry is looked at with ``lstat`` and never followed, so a link to ``/proc/self/mem`` or
    a FIFO in a submission is simply not part of it (grading copies plain files only, too).
    """
    if not folder.is_dir() or folder.is_symlink():
        return "none"
    h = hashlib.sha256()
    for path in sorted(_regular_files(folder)):
        relative = path.relative_to(folder)
        if _UNGRADED_PARTS.intersection(relative.parts):
            continue
        h.update(str(relative).encode())
        with open(path, "rb", opener=lambda name, flags: os.open(name, flags | os.O_NOFOLLOW)) as f:
            h.update(hashlib.file_digest(f, "sha256").digest())
    return h.hexdigest()


def _regular_files(folder: Path) -> list[Path]:
    """The regular files under ``folder`` (``os.walk`` without following links; its entries by ``lstat``)."""
    found = []
    for root, dirs, files in os.walk(folder, followlinks=False):
        here = Path(root)
        dirs[:] = [d for d in dirs if stat.S_ISDIR((here / d).lstat().st_mode)]
        found += [here / name for name in files if stat.S_ISREG((here / name).lstat().st_mode)]
    return found


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def backup_gradebook(course: Course, keep: int = 20) -> Path | None:
    """Copy the gradebook (with SQLite's online backup) into ``.deepfakelab/backups``."""
    if not course.gradebook.is_file():
        return None
    folder = course.state / "backups"
    folder.mkdir(parents=True, exist_ok=True)
    dest = folder / f"gradebook-{datetime.now(timezone.utc):%Y%m%dT%H%M%S%f}.db"
    with sqlite3.connect(course.gradebook) as src, sqlite3.connect(dest) as dst:
        src.backup(dst)
    for old in sorted(folder.glob("gradebook-*.db"))[:-keep]:
        old.unlink(missing_ok=True)
    return dest


def gradebook_digest(path: Path) -> str:
    """A digest of the gradebook's content (not its bytes, which SQLite may reorganise)."""
    h = hashlib.sha256()
    if path.is_file():
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            for line in db.iterdump():
                h.update(line.encode())
    return h.hexdigest()


class GradebookGuard:
    """The gradebook as this run last left it, so that a change by anything else is noticed and undone.

    The copy taken at the start lives in memory: deleting the backups (or the gradebook) during
    the run cannot take it away, and restoring never reads a file a submission could have emptied.
    """

    def __init__(self, course: Course):
        self.course = course
        self.start = sqlite3.connect(":memory:", check_same_thread=False)
        if course.gradebook.is_file():
            with contextlib.closing(sqlite3.connect(course.gradebook)) as src:
                src.backup(self.start)
        self.digest = gradebook_digest(course.gradebook)

    def changed(self) -> bool:
        """Whether the gradebook differs from what this run last wrote (or found)."""
        return gradebook_digest(self.course.gradebook) != self.digest

    def accept(self) -> None:
        """This run has just written the gradebook: its content now is the expected one."""
        self.digest = gradebook_digest(self.course.gradebook)

    def restore(self) -> Path | None:
        """Set the changed gradebook aside (if there is one) and put the run's starting content back."""
        folder = self.course.state / "backups"
        folder.mkdir(parents=True, exist_ok=True)
        aside = folder / f"tampered-{datetime.now(timezone.utc):%Y%m%dT%H%M%S%f}.db"
        if self.course.gradebook.is_file():
            shutil.copy2(self.course.gradebook, aside)
            self.course.gradebook.unlink()
        with contextlib.closing(sqlite3.connect(self.course.gradebook)) as dst:
            self.start.backup(dst)
        self.accept()
        return aside if aside.is_file() else folder


#: Seconds nbgrader may take to write one student's feedback before it is stopped.
FEEDBACK_TIMEOUT = 120.0


def _feedback_main(root: str, assignment: str, student: str, conn) -> None:
    """Entry point of the process that writes one student's feedback (see :func:`_feedback`)."""
    try:
        result = nbgrader_api(Path(root)).generate_feedback(assignment, student, force=True)
        if result.get("success"):  # issue 32: the pages forbid script (sanitize.add_feedback_csp)
            add_feedback_csp(Path(root) / "feedback" / student / assignment)
        result = {"success": bool(result.get("success")), "error": str(result.get("error") or ""),
                  "log": str(result.get("log") or "")[-2000:]}
    except Exception as exc:  # reported to the grading process as this student's problem
        result = {"success": False, "error": f"{type(exc).__name__}: {exc}", "log": ""}
    conn.send(result)
    conn.close()


def _feedback(course: Course, assignment: str, student: str, report: "GradeReport",
              timeout: float = FEEDBACK_TIMEOUT, stop: threading.Event | None = None) -> None:
    """nbgrader's feedback HTML for one student, in a process of its own stopped after ``timeout`` s.

    Feedback renders what the student wrote (nbconvert's markdown and maths patterns, a walk of
    every file beside the notebook), so a hostile submission can make it slow; run in the
    grading process it would hold up every result behind it. A failure or a time-out is one
    line in the report, never raised: the grade is already recorded.
    """
    if not any(course.autograded(assignment, student).glob("*.ipynb")):
        return  # nothing readable was submitted; the CSV and the gradebook say why
    ctx = _context()
    receive, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_feedback_main, args=(str(course.root), assignment, student, send), daemon=False)
    with _main_module_hidden():
        proc.start()
    send.close()
    try:
        result = _receive(receive, timeout, stop)
    finally:
        receive.close()
        proc.join(1)
        if proc.is_alive():
            _kill_tree(proc.pid)
    if result is None:
        why = "stopped with the run" if stop is not None and stop.is_set() else f"did not finish within {timeout:.0f} s"
        report.failed[student] = f"feedback: {why}; its grade is recorded (rerun `grade` to write it)"
    elif not result.get("success"):
        report.failed[student] = "feedback: " + (result.get("error") or result.get("log") or "")[-500:]


def write_feedback(course: Course, assignment: str, students: list[str] | None = None) -> GradeReport:
    """Feedback for every graded student (or ``students``), as ``grade`` writes it: time-limited, with its CSP.

    For after the written answers were graded in formgrader: nbgrader's own ``generate_feedback``
    would write the pages again without the kit's time limit and Content-Security-Policy.
    """
    course.check_assignment(assignment)
    report = GradeReport(assignment)
    start = time.perf_counter()
    for student in students or course.students(assignment):
        if course.autograded(assignment, student).is_dir():
            _feedback(course, assignment, student, report)
            if student not in report.failed:
                report.feedback.append(student)
        else:
            report.failed[student] = f"not graded yet: run `deepfakelab course grade {assignment}` first"
    report.seconds = time.perf_counter() - start
    return report


def _receive(conn, timeout: float, stop: threading.Event | None):
    """What arrives on ``conn`` within ``timeout`` s, or None (also when ``stop`` is set or the sender died)."""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        if stop is not None and stop.is_set():
            return None
        if conn.poll(min(left, 0.25)):
            try:
                return conn.recv()
            except EOFError:
                return None
    return None


def collect_zip(course: Course, assignment: str, zip_path: Path) -> list[str]:
    """Put the safe notebooks of an LMS download into ``submitted/`` (:mod:`..collect`); a line per upload refused."""
    return collect_lms_zip(course, assignment, zip_path)


def _kill_tree(pid: int) -> None:
    import psutil

    try:
        parent = psutil.Process(pid)
        procs = parent.children(recursive=True) + [parent]
    except psutil.NoSuchProcess:
        return
    for proc in procs:
        try:
            proc.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(procs, timeout=5)


_CONTEXT = None
_START_LOCK = threading.Lock()


@contextlib.contextmanager
def _main_module_hidden():
    """Start processes without multiprocessing re-importing the caller's ``__main__``.

    Workers only need :mod:`deepfakelab.course.grading.worker`; re-running an instructor's unguarded
    script (or notebook) in every worker would be slow at best.
    """
    main = sys.modules.get("__main__")
    saved = {name: getattr(main, name) for name in ("__file__", "__spec__") if main is not None and hasattr(main, name)}
    with _START_LOCK:
        try:
            if main is not None:
                main.__spec__ = None
                if hasattr(main, "__file__"):
                    del main.__file__
            yield
        finally:
            for name, value in saved.items():
                setattr(main, name, value)


def _context():
    """A forkserver context whose server has imported nbgrader once (see :data:`.worker.PRELOAD`)."""
    global _CONTEXT
    if _CONTEXT is None:
        import multiprocessing

        from .worker import PRELOAD

        _CONTEXT = multiprocessing.get_context("forkserver")
        _CONTEXT.set_forkserver_preload(PRELOAD)
    return _CONTEXT


def _noop() -> None:
    """Target of the warm-up process that makes the fork server import nbgrader early."""


def warm_up_workers() -> None:
    """Start the fork server in the background, so its imports overlap with the run's set-up."""
    import threading

    ctx = _context()

    def start():
        try:
            proc = ctx.Process(target=_noop)
            with _main_module_hidden():
                proc.start()
            proc.join()
        except Exception:  # the first real job would report the same problem, with context
            pass

    threading.Thread(target=start, daemon=True, name="dfl-warm-up").start()


def run_worker(job: GradingJob, wall_timeout: float, stop: threading.Event | None = None) -> GradingResult:
    """Grade ``job`` in a fresh process; kill it (and its kernel) after ``wall_timeout`` s.

    A worker that ends without a result (killed, out of memory, past ``wall_timeout``) keeps the
    points of the cells it had finished (:func:`.worker.partial_result`). When ``stop`` is set
    (the instructor stopped the run) the worker is killed and the result says ``interrupted``:
    nothing of it is recorded, so the next run grades that submission again.
    """
    from .worker import partial_result, process_main

    ctx = _context()
    receive, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=process_main, args=(job, send), daemon=False)
    with _main_module_hidden():
        proc.start()
    send.close()
    why = None
    deadline = time.monotonic() + wall_timeout
    try:
        while True:
            if stop is not None and stop.is_set():
                _kill_tree(proc.pid)
                shutil.rmtree(job.progress, ignore_errors=True)
                return GradingResult.failed("stopped with the run before it finished", interrupted=True)
            left = deadline - time.monotonic()
            if left <= 0:
                why = f"the grading worker did not finish within {wall_timeout:.0f} s and was stopped"
                break
            if receive.poll(min(left, 0.25)):
                try:
                    return receive.recv()
                except EOFError:
                    pass
                proc.join(5)
                why = f"the grading worker was killed (exit {proc.exitcode})"
                break
    finally:
        receive.close()
        proc.join(0 if why is None else 5)
        if proc.is_alive():
            _kill_tree(proc.pid)
        if why is None:
            shutil.rmtree(job.progress, ignore_errors=True)
    try:
        partial = partial_result(job, why)
    except Exception as exc:  # the progress could not be read: the submission scores 0 with why
        partial = None
        why += f" (its progress could not be read: {type(exc).__name__}: {exc})"
    return partial or GradingResult.failed(why)


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


def write_gradebook(course: Course, course_id: str, assignment: str, results: dict[str, GradingResult]) -> None:
    """Write the autograded scores of ``results`` ({student: result}) in one transaction."""
    from nbgrader.api import Gradebook
    from nbgrader.utils import parse_utc

    with warnings.catch_warnings(), Gradebook(f"sqlite:///{course.gradebook}", course_id=course_id) as gb:
        # nbgrader 0.9 with SQLAlchemy 2 warns about its own autoflush on new submissions; harmless.
        warnings.filterwarnings("ignore", message=".*not in session.*")
        for student, result in results.items():
            _write_student(gb, course, assignment, student, result, parse_utc)
        gb.db.commit()


def _write_student(gb, course: Course, assignment: str, student: str, result: GradingResult, parse_utc) -> None:
    timestamp = None
    text = _small_text_file(course.submitted(assignment, student) / "timestamp.txt")
    if text:
        try:
            timestamp = parse_utc(text.strip())
        except ValueError:
            timestamp = None
    gb.update_or_create_student(student)
    kwargs = {"timestamp": timestamp} if timestamp else {}
    gb.update_or_create_submission(assignment, student, **kwargs)
    for notebook, info in result.notebooks.items():
        for cell in info.cells:
            grade = gb.find_grade(cell.grade_id, notebook, assignment, student)
            if cell.manual:
                grade.auto_score = cell.points  # 0 for an untouched answer, None otherwise
                grade.needs_manual_grade = cell.points is None and grade.manual_score is None
            else:
                grade.auto_score = cell.points
                grade.needs_manual_grade = False


def _small_text_file(path: Path, limit: int = 4096) -> str | None:
    """The text of ``path`` if it is a regular file (never a link, FIFO or device) of at most ``limit`` bytes."""
    try:
        info = path.lstat()
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        with open(path, "rb", opener=lambda name, flags: os.open(name, flags | os.O_NOFOLLOW | os.O_NONBLOCK)) as f:
            return f.read(limit).decode("utf-8", errors="replace")
    except OSError:
        return None


def _zero_result(course: Course, course_id: str, assignment: str, why: str) -> GradingResult:
    """A result that scores every autograded cell 0 with ``why``, for a submission that crashed grading."""
    from nbgrader.api import Gradebook

    notebooks = {}
    with Gradebook(f"sqlite:///{course.gradebook}", course_id=course_id) as gb:
        for nb in gb.find_assignment(assignment).notebooks:
            solution = {c.name for c in nb.solution_cells}
            notebooks[nb.name] = NotebookResult(why, tuple(
                CellScore(grade_id=c.name, max_points=float(c.max_score), points=None if c.name in solution else 0.0,
                          manual=c.name in solution or c.cell_type == "markdown", message=why)
                for c in nb.grade_cells))
    return GradingResult(notebooks=notebooks, score=0.0, error=why,
                         max_score=sum(c.max_points for n in notebooks.values() for c in n.cells))


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
        shutil.copytree(source, root / assignment, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "conftest.py"))
    return root


@contextlib.contextmanager
def _stopped_by_signals():
    """SIGTERM stops the run as Ctrl-C does (a KeyboardInterrupt in the main thread), so it loses nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def grade_assignment(course: Course, assignment: str, options: GradeOptions | None = None,
                     zip_path: Path | None = None) -> GradeReport:
    """Run the whole grading cycle of ``assignment`` in ``course`` (see the module doc)."""
    options = options or GradeOptions()
    if options.jobs < 1:
        raise ConfigError(f"jobs={options.jobs}: grade with at least one worker")
    start = time.perf_counter()
    for student in options.students or []:
        check_student_id(student)
    course.check_assignment(assignment)
    if zip_path is not None:
        check_zip(zip_path)
    if options.sandbox:
        from ..sandbox.bubblewrap import SandboxUnavailable, availability

        why = availability()
        if why is not None:
            raise SandboxUnavailable(f"not grading: {why}")
    from ..sandbox.leftovers import STAGING_KIND, prefix, sweep

    # the empty cgroups, temporary folders and staging folders of killed runs (never a live run's)
    sweep(staging_roots=tuple((course.state / "staging").glob("*/")))
    warm_up_workers()
    api = nbgrader_api(course.root)
    course_id = api.coursedir.course_id
    if not course.release(assignment).is_dir() or assignment not in _assignments_in_gradebook(course, course_id):
        generate_assignment(course, assignment)
    collection = collect_zip(course, assignment, zip_path) if zip_path is not None else []

    # Everything the run trusts is read now, before any student code runs.
    backup_gradebook(course)
    report = GradeReport(assignment, sandboxed=options.sandbox, collection=collection)
    template = build_template(course, assignment, course.state / "template" / assignment)
    hidden_checks = snapshot_hidden_checks(course, assignment)
    fingerprint_base = _tree_digest(course.source(assignment)) + _tree_digest(hidden_checks / assignment) \
        + hashlib.sha256(course.config.read_bytes()).hexdigest() + ("" if options.sandbox else "unsandboxed")
    journal_dir = course.state / "journal" / assignment
    journal: dict[str, dict] = {}
    for entry in sorted(journal_dir.glob("*.json")) if journal_dir.is_dir() else []:
        try:
            journal[entry.stem] = json.loads(entry.read_text())
        except ValueError:
            continue
    todo = []
    for student in options.students or course.students(assignment):
        try:
            folder = course.submitted(assignment, student)
        except DataError as exc:  # a folder in submitted/ whose name is no student id: that one only
            report.failed[student] = str(exc)
            continue
        if not folder.is_dir():
            report.failed[student] = f"no submission in {folder}"
            continue
        try:
            fingerprint = hashlib.sha256((fingerprint_base + _tree_digest(folder)).encode()).hexdigest()
        except OSError as exc:  # unreadable, or changed while it was read: this student only
            report.failed[student] = f"{student}: the submission folder could not be read ({exc.strerror or exc})"
            continue
        done = journal.get(student, {})
        if not options.force and done.get("fingerprint") == fingerprint and not done.get("error") \
                and not done.get("stopped") and not done.get("grader_fault") \
                and course.autograded(assignment, student).is_dir():
            report.skipped.append(student)
            continue
        todo.append((student, folder, fingerprint))

    n_notebooks = max(1, len(list(course.source(assignment).glob("*.ipynb"))))
    notebook_timeout = options.notebook_timeout or _configured(api, "LimitedExecute", "notebook_timeout", 900.0)
    wall = n_notebooks * (notebook_timeout + options.hidden_timeout) + 120
    staging_root = course.state / "staging" / assignment
    staging_root.mkdir(parents=True, exist_ok=True)

    def job_for(student: str, folder: Path) -> GradingJob:
        return GradingJob(assignment=assignment, student=student, template=template, submission=folder,
                          hidden_checks=hidden_checks, sandbox=options.sandbox, hide=(course.root,),
                          staging=staging_root / f"{prefix(STAGING_KIND)}{student}-{secrets.token_hex(6)}",
                          cell_timeout=options.cell_timeout, notebook_timeout=options.notebook_timeout,
                          memory_mb=options.memory_mb, hidden_timeout=options.hidden_timeout)

    from tqdm.auto import tqdm

    guard = GradebookGuard(course)
    done: dict[str, GradingResult] = {}  # this run's results, as they arrive

    stop = threading.Event()  # set when the instructor stops the run (Ctrl-C, SIGTERM)
    recorded: set[str] = set()  # students whose result this run has journaled

    def record(student: str, fingerprint: str, staging: Path, result: GradingResult) -> None:
        """One finished submission, kept at once: journal, graded copy, gradebook rows and CSVs.

        Everything cheap comes first, so a slow step after it (the feedback, the next result)
        cannot lose it; the feedback is written last, in a time-limited process.
        """
        if result.error:
            report.failed[student] = result.error
            report.tracebacks[student] = result.traceback
            result = _zero_result(course, course_id, assignment, f"could not be graded: {result.error}")
        else:
            report.graded[student] = result
            if result.stopped:  # the worker was killed; the cells it had finished kept their points
                report.failed[student] = result.stopped
            if result.left_out:
                report.notes[student] = result.left_out
            if result.grader_fault:  # scored as far as it could be; regraded by the next run
                report.failed[student] = (f"the grader failed, not the submission ({result.grader_fault}); "
                                          "its checks were run twice; run `grade` again to regrade it")
        move_graded(course, assignment, student, staging)
        journal[student] = {"fingerprint": fingerprint, "graded_at": datetime.now(timezone.utc).isoformat(),
                            "sandboxed": options.sandbox, **result.to_dict()}
        _write_atomic(journal_dir / f"{student}.json", json.dumps(journal[student], indent=1))
        recorded.add(student)
        if not course.submitted(assignment, student).is_dir():
            return
        done[student] = result
        if guard.changed():
            report.tampered = guard.restore()
            write_gradebook(course, course_id, assignment, done)
        else:
            write_gradebook(course, course_id, assignment, {student: done[student]})
        guard.accept()
        if options.export:
            report.csv = export_grades(course, course_id, assignment)
        if options.feedback and not stop.is_set():
            _feedback(course, assignment, student, report, stop=stop)

    with _stopped_by_signals(), ThreadPoolExecutor(max_workers=options.jobs) as pool, \
            tqdm(total=len(todo), desc=f"grading {assignment}", unit="submission", disable=not options.progress) as bar:
        futures = {}
        for student, folder, fingerprint in todo:
            job = job_for(student, folder)
            futures[pool.submit(run_worker, job, wall, stop)] = (student, fingerprint, job.staging)
        finished = set()
        try:
            for future in as_completed(futures):
                finished.add(future)
                result = future.result()
                record(*futures[future], result)
                bar.update(1)
                bar.set_postfix_str(f"{futures[future][0]}: {result.score:g}/{result.max_score:g}")
        except KeyboardInterrupt:
            report.interrupted = True
            stop.set()
            for future in futures:
                future.cancel()
            pool.shutdown(wait=True)  # each running worker sees the stop within a quarter of a second
            for future in futures:  # results that arrived as the run stopped are kept too
                if future not in finished and future.done() and not future.cancelled() \
                        and not future.result().interrupted:
                    record(*futures[future], future.result())
            report.left = sorted(student for student, *_ in futures.values() if student not in recorded)

    # Students graded before (by a killed run, or by this one) without feedback get it now.
    for student in sorted(set(report.skipped) | set(done)) if options.feedback and not stop.is_set() else []:
        if course.autograded(assignment, student).is_dir() \
                and not (course.root / "feedback" / student / assignment).is_dir():
            _feedback(course, assignment, student, report, stop=stop)

    # Every worker (and its kernel) has ended: a last check, and every journaled result in the gradebook
    # (a gradebook deleted or replaced during the run gets them all back).
    if guard.changed():
        report.tampered = guard.restore()
    write_gradebook(course, course_id, assignment, {s: GradingResult.from_dict(e) for s, e in journal.items()
                                                    if course.submitted(assignment, s).is_dir()})
    if options.export:
        report.csv = export_grades(course, course_id, assignment)
    report.seconds = time.perf_counter() - start
    return report


def _configured(api, section: str, key: str, default):
    value = api.config.get(section, {}).get(key, None) if hasattr(api, "config") else None
    return value if value is not None else default


def _assignments_in_gradebook(course: Course, course_id: str) -> set[str]:
    from nbgrader.api import Gradebook

    if not course.gradebook.is_file():
        return set()
    with Gradebook(f"sqlite:///{course.gradebook}", course_id=course_id) as gb:
        return {a.name for a in gb.assignments}


def export_grades(course: Course, course_id: str, assignment: str) -> Path:
    """Write nbgrader's ``grades.csv`` (all assignments) and ``grades-<assignment>.csv`` (per cell)."""
    from nbgrader.api import Gradebook
    from nbgrader.plugins import CsvExportPlugin

    everyone = course.root / "grades.csv"
    tmp = everyone.with_name(f".grades.csv.{secrets.token_hex(4)}.tmp")
    with Gradebook(f"sqlite:///{course.gradebook}", course_id=course_id) as gb:
        CsvExportPlugin(to=str(tmp)).export(gb)
    _neutralise_csv(tmp)  # names and ids come from the roster and the LMS: text a student may choose
    os.replace(tmp, everyone)
    rows = []
    for entry in sorted((course.state / "journal" / assignment).glob("*.json")):
        result = json.loads(entry.read_text())
        for notebook, info in result.get("notebooks", {}).items():
            for cell in info["cells"]:
                rows.append({"student": entry.stem, "notebook": notebook, "grade_id": cell["grade_id"],
                             "points": "" if cell["points"] is None else cell["points"],
                             "max_points": cell["max_points"], "message": cell["message"],
                             "sandboxed": "yes" if result.get("sandboxed", True) else "NO (--no-sandbox)"})
    path = course.root / f"grades-{assignment}.csv"
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["student", "notebook", "grade_id", "points", "max_points", "message",
                                                "sandboxed"])
    writer.writeheader()
    writer.writerows([{key: csv_safe(value) for key, value in row.items()} for row in rows])
    _write_atomic(path, buffer.getvalue())
    return path


#: First characters that make a spreadsheet read a cell as a formula (OWASP's CSV injection list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value):
    """``value`` as a spreadsheet shows it as text: a string starting like a formula gets a leading ``'``.

    Messages in the grade CSVs quote student code (an exception the student named
    ``=HYPERLINK(...)``); Excel and LibreOffice would run it as a formula reading other rows.
    Numbers are left alone, so ``-0.5`` stays a number.
    """
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS):
        return value
    try:
        float(value)
        return value
    except ValueError:
        return "'" + value


def _neutralise_csv(path: Path) -> None:
    """Rewrite the CSV at ``path`` with every cell passed through :func:`csv_safe`."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    buffer = io.StringIO()
    csv.writer(buffer).writerows([[csv_safe(cell) for cell in row] for row in rows])
    _write_atomic(path, buffer.getvalue())
