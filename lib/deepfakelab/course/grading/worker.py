"""Grade one submission in a private copy of the course, in its own process.

The parent starts one process per submission, forked from a server that has already imported
nbgrader (:func:`deepfakelab.course.grading.pool.run_worker`), so isolation costs milliseconds instead
of seconds of imports; the job arrives and the result leaves through a pipe that the student's
kernel does not inherit. (``python -m deepfakelab.course.grading.worker`` does the same over stdin and stdout, for
debugging one submission; the result is framed by a random token.)

The steps, each an ordinary nbgrader or pytest run:

1. copy the instructor's source, a gradebook holding only this assignment, and this one
   submission (plain files only) into a fresh temporary course; notebooks that are not valid
   JSON/nbformat are set aside with a message (their cells score 0); of the others only the
   answer cells are kept, written into the instructor's release (:mod:`.answers`);
2. ``nbgrader autograde`` there, with :class:`~.limits.LimitedExecute` (cell and notebook
   time limits; a dead or unstoppable kernel keeps the cells before it) and
   :class:`~.limits.LimitedOutput` (lines and bytes); the kernel runs in the submission's
   bubblewrap sandbox (:mod:`..sandbox.bubblewrap`), in a folder of its own that is copied out as plain
   files afterwards;
3. the hidden checks, in a separate pytest process that holds no student code (a fork of this
   worker, :mod:`.forked_checks`): the student's functions are called in the sandbox and
   return data (:mod:`..sandbox.remote_student`);
4. the score of every graded cell: its test ran without error *and* every hidden check with
   its ``grade_id`` (read from the checks' source) reported passed; written answers are left
   for the instructor.

Nothing here writes to the instructor's course: the parent process stores the result.
"""

from __future__ import annotations

import ast
import contextlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook
from nbgrader.apps.api import NbGraderAPI
from nbgrader.converters import Autograde
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import Execute, LimitOutput
from nbgrader.utils import determine_grade
from traitlets.config.loader import PyFileConfigLoader

from ..layout import ensure_tools_on_path
from ..probes import named_by as named_probes
from ..sandbox import leftovers
from ..sandbox.bubblewrap import Limits, ProcessGroup, Sandbox
from .answers import graded_notebook, missing_message
from .forked_checks import run_pytest
from .jobs import CellScore, GradingJob, GradingResult, NotebookResult
from .limits import (
    KERNEL_LOST_ERROR,
    LimitedExecute,
    LimitedOutput,
    _cell_name,
    _error,
    limit_outputs,
    write_kernelspec,
)
from .sanitize import sanitize_notebook

#: Name of the error a failed hidden check adds to its cell in the graded notebook.
HIDDEN_ERROR = "HiddenCheckFailed"
#: Errors that mean a limit stopped a cell; later failures mention them as the likely cause.
LIMIT_ERRORS = {"NotebookTimeLimit", "CellTimeoutError", "MemoryError", "DeadKernelError", "KernelLost"}
#: Processes (threads included) one submission's sandbox may run at a time; torch starts a few dozen.
SANDBOX_PROCESSES = 512
#: Largest file (MiB) a sandboxed process may write: the labs' artifacts are a few MiB.
SANDBOX_FILE_MB = 512
#: Largest submission folder (bytes) copied for grading; the rest is left out.
SUBMISSION_MAX_BYTES = 512 * 2**20
#: Most files of a submission copied for grading, and most files a graded notebook leaves beside it.
SUBMISSION_MAX_FILES = 2000
#: Most bytes a graded notebook leaves beside it (the labs' artifacts and media are tens of MiB).
OUTPUT_MAX_BYTES = 512 * 2**20
#: Where the worker notes what a notebook left behind that was not kept (read back by grade_submission).
LEFT_BEHIND_NOTE = "left-behind.txt"
#: What a graded notebook's folder keeps of the files the notebook wrote: the types the labs save
#: and read (artifacts, frames, fakes, the student's own photos and clips, the media manifest).
OUTPUT_SUFFIXES = frozenset(
    {
        ".json",
        ".csv",
        ".txt",
        ".yaml",
        ".yml",
        ".npy",
        ".npz",
        ".png",
        ".jpg",
        ".jpeg",
        ".gif",
        ".webp",
        ".bmp",
        ".mp4",
        ".webm",
        ".mov",
        ".avi",
        ".mkv",
        ".m4v",
    }
)
OUTPUT_LIMITS = {
    "max_files": SUBMISSION_MAX_FILES,
    "max_bytes": OUTPUT_MAX_BYTES,
    "keep_suffixes": OUTPUT_SUFFIXES,
}


def _read_notebook(path: Path) -> tuple[nbformat.NotebookNode | None, str | None]:
    """The notebook at ``path``, or a message saying why it cannot be graded."""
    try:
        json.loads(path.read_text())
    except UnicodeDecodeError:
        return None, f"{path.name} is not a text file; submit the .ipynb file JupyterLab saved"
    except json.JSONDecodeError as exc:
        return None, (
            f"{path.name} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
            "open it in JupyterLab, save it, and submit it again"
        )
    try:
        nb = nbformat.read(str(path), as_version=4)
        nbformat.validate(nb)
    except Exception as exc:  # nbformat's ValidationError and friends
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return None, f"{path.name} is not a valid notebook ({first[:200]}); submit the file JupyterLab saved"
    return nb, None


def _grade_cells(gradebook: Path, assignment: str) -> dict[str, list[dict]]:
    """{notebook: [{grade_id, max_points, manual}]} from the pristine template gradebook."""
    cells: dict[str, list[dict]] = {}
    with Gradebook(f"sqlite:///{gradebook}") as gb:
        for notebook in gb.find_assignment(assignment).notebooks:
            solution_ids = {c.name for c in notebook.solution_cells}
            entries = []
            for cell in sorted(notebook.grade_cells, key=lambda c: c.name):
                manual = cell.name in solution_ids or cell.cell_type == "markdown"
                entries.append({"grade_id": cell.name, "max_points": float(cell.max_score), "manual": manual})
            order = [c.name for c in notebook.source_cells]
            entries.sort(key=lambda e: order.index(e["grade_id"]) if e["grade_id"] in order else len(order))
            cells[notebook.name] = entries
    return cells


def _limit_child(memory_mb: int):
    def apply():
        os.setsid()
        if memory_mb > 0:
            limit = memory_mb * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return apply


def expected_checks(checks: Path) -> dict[str, set[str]]:
    """{grade_id: names of the test functions that decide it}, read from the check files' source.

    Read with :mod:`ast`, never imported: this is what a run must hear back from, so a check that
    is missing from the results (stopped, deselected, emptied by a ``conftest.py``) fails its cell.
    """
    expected: dict[str, set[str]] = {}
    for path in sorted(checks.glob("test_*.py")) if checks.is_dir() else []:
        for node in ast.parse(path.read_text(), str(path)).body:
            if not isinstance(node, ast.FunctionDef) or not node.name.startswith("test"):
                continue
            for decorator in node.decorator_list:
                if (
                    isinstance(decorator, ast.Call)
                    and isinstance(decorator.func, ast.Attribute)
                    and decorator.func.attr == "grade"
                    and decorator.args
                    and isinstance(decorator.args[0], ast.Constant)
                ):
                    expected.setdefault(str(decorator.args[0].value), set()).add(f"{path.name}::{node.name}")
    return expected


def run_hidden_checks(
    checks: Path,
    notebook: Path,
    artifacts: Path,
    timeout: float,
    memory_mb: int,
    sandbox: bool = True,
    hide: list[str] = (),
    fork: bool = False,
) -> tuple[list[dict], str | None]:
    """Run the hidden checks for one notebook; return their results and a problem, if any.

    pytest runs the instructor's checks in a process of its own that holds no student code; the
    student's functions are called in the sandbox (:mod:`..sandbox.remote_student`). The results file is
    in a folder that no sandbox sees. ``fork``: the process is a fork of this one when it is
    single-threaded (:mod:`.forked_checks`; the worker, which has pytest imported), else a new
    ``python -m pytest``.
    """
    if not checks.is_dir():
        return [], None
    with tempfile.TemporaryDirectory(prefix=leftovers.prefix("dfl-hidden-")) as scratch:
        out = Path(scratch) / "results.json"
        args = _pytest_arguments(checks, notebook, artifacts, out, timeout, memory_mb)
        if not sandbox:
            args.append("--dfl-no-sandbox")
        for path in hide:
            args += ["--dfl-hide", str(path)]
        try:
            code, tail = _run_pytest_process(args, Path(scratch), memory_mb, timeout, fork)
        except (TimeoutError, subprocess.TimeoutExpired):
            return [], f"the hidden checks did not finish within {timeout:.0f} s"
        # pytest's output may quote the checks: the instructor's log only, never the student
        if not out.is_file():
            print(f"hidden checks of {notebook.name} could not run (exit {code}):\n{tail}", file=sys.stderr)
            return [], f"the hidden checks could not run (exit {code}); the grader's log says why"
        return json.loads(out.read_text()), None


def _pytest_arguments(
    checks: Path, notebook: Path, artifacts: Path, results: Path, timeout: float, memory_mb: int
) -> list[str]:
    """pytest's command line for the hidden checks in ``checks``: pytest's own options that keep
    anything but the checks from being collected or configured (no conftest, no ini file), then
    the options of the kit's plugin (:mod:`.hidden`) saying what to check and where to report."""
    args = [
        str(checks),
        "-q",
        "--assert=plain",
        "-p",
        "no:cacheprovider",
        "-p",
        "deepfakelab.course.grading.hidden",
        "--rootdir",
        str(checks),
        "-c",
        os.devnull,
        "--noconftest",
        # Collection starts at the checks (else at the folder above them, listing all of it: /tmp).
        "--confcutdir",
        str(checks),
        "--dfl-artifacts",
        str(artifacts),
        "--dfl-notebook",
        str(notebook),
        "--dfl-results",
        str(results),
        "--dfl-memory-mb",
        str(memory_mb),
        "--dfl-call-timeout",
        str(max(10.0, timeout * 0.6)),
    ]
    # a module of the kit's, by name: no file of the checks enters the sandbox
    probes = named_probes(checks)
    if probes is not None:
        args += ["--dfl-probes", probes]
    return args


def _run_pytest_process(
    args: list[str], scratch: Path, memory_mb: int, timeout: float, fork: bool
) -> tuple[int, str]:
    """Run pytest with ``args`` in ``scratch``, in a process of its own; return its exit status and
    the end of its log.

    With ``fork``, the process is a fork of this one when :func:`.forked_checks.run_pytest` finds it
    safe (a single-threaded worker, which has pytest imported), else a new ``python -m pytest``.
    Raises :class:`TimeoutError` or :class:`subprocess.TimeoutExpired` past ``timeout`` s."""
    env = {"OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1"}
    if fork:
        log = scratch / "pytest.log"
        code = run_pytest(args, scratch, env, memory_mb, timeout, log)
        if code is not None:
            return code, log.read_text(errors="replace")[-1500:] if log.is_file() else ""
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", *args],
        cwd=scratch,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=_limit_child(memory_mb),
    )
    return proc.returncode, (proc.stdout + proc.stderr)[-1500:]


def copy_plain_files(
    source: Path,
    target: Path,
    skip_suffixes: tuple[str, ...] = (),
    max_bytes: int = 2**30,
    max_files: int | None = None,
    keep_suffixes: frozenset[str] | None = None,
) -> str:
    """Copy the regular files under ``source`` into ``target``: never a link, device or fifo.

    What a sandbox wrote is copied out this way, so a symlink it planted (to the gradebook, to
    ``/etc``) is never followed by the grader. At most ``max_files`` files and ``max_bytes``
    bytes are copied, and with ``keep_suffixes`` only files of those types and no hidden ones (the
    kernel's own ``.ipython`` in its home folder): a notebook that
    leaves 100,000 files behind would otherwise make every later step (nbgrader's feedback
    walks the folder once per file) take hours. Returns a note of what was left out, or "".
    """
    total = copied = 0
    left_out = {"type": 0, "count": 0, "size": 0}
    for root, dirs, files in os.walk(source, followlinks=False):
        here = Path(root)
        dirs[:] = sorted(
            d
            for d in dirs
            if not (here / d).is_symlink() and not (keep_suffixes is not None and d.startswith("."))
        )  # the kernel's ~/.ipython
        for name in sorted(files):
            path = here / name
            if path.is_symlink() or not path.is_file() or path.suffix in skip_suffixes:
                continue
            if keep_suffixes is not None and name.startswith("."):
                continue
            if keep_suffixes is not None and path.suffix.lower() not in keep_suffixes:
                left_out["type"] += 1
                continue
            if max_files is not None and copied >= max_files:
                left_out["count"] += 1
                continue
            size = path.stat().st_size
            if total + size > max_bytes:
                left_out["size"] += 1
                continue
            total += size
            copied += 1
            dest = target / path.relative_to(source)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dest, follow_symlinks=False)
    return _left_out_note(left_out, max_files, max_bytes)


def _left_out_note(left_out: dict[str, int], max_files: int | None, max_bytes: int) -> str:
    parts = []
    if left_out["type"]:
        parts.append(f"{left_out['type']:,} file(s) of types the lab does not save")
    if left_out["count"]:
        parts.append(f"{left_out['count']:,} file(s) past the limit of {max_files:,} files")
    if left_out["size"]:
        parts.append(f"{left_out['size']:,} file(s) past the limit of {max_bytes // 2**20:,} MiB")
    return "left out of the graded folder: " + ", ".join(parts) if parts else ""


def _cell_outcome(cell) -> tuple[bool, str]:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return False, f"{output.get('ename', 'Error')}: {output.get('evalue', '')}".strip()
    return True, ""


def score_notebook(
    nb,
    grade_cells: list[dict],
    hidden: list[dict],
    hidden_problem: str | None,
    expected: dict[str, set[str]] | None = None,
) -> list[dict]:
    """Score each graded cell of an executed notebook, and mark hidden failures in its outputs.

    A cell with hidden checks (``expected``: {grade_id: {"file::function"}}) scores only when
    every one of them reported *passed*; a check that did not report at all fails the cell.
    """
    expected = expected or {}
    by_id = _cells_by_grade_id(nb)
    stopped = _stopped_by_limits(nb)
    results = []
    for entry in grade_cells:
        grade_id, max_points = entry["grade_id"], entry["max_points"]
        cell = by_id.get(grade_id)
        row = {
            "grade_id": grade_id,
            "max_points": max_points,
            "manual": entry["manual"],
            "points": 0.0,
            "message": "",
        }
        if cell is None:
            row["message"] = f"cell {grade_id!r} is missing from the graded notebook"
        elif entry["manual"]:
            points, _ = determine_grade(cell)  # 0 if left as the stub, else None (graded by hand)
            row["points"] = points
            row["message"] = "left unanswered" if points == 0 else "graded by the instructor"
        else:
            kernel_ok, message = _cell_outcome(cell)
            hidden_message = _hidden_message(cell, grade_id, hidden, hidden_problem, expected)
            ok = kernel_ok and not hidden_message
            if kernel_ok and hidden_message:
                message = hidden_message
                cell.setdefault("outputs", []).append(
                    nbformat.v4.new_output(
                        "error", ename=HIDDEN_ERROR, evalue=message, traceback=[f"{HIDDEN_ERROR}: {message}"]
                    )
                )
            if not ok and grade_id in stopped and stopped[grade_id] not in message:
                message += f" (an earlier cell was stopped -- {stopped[grade_id]})"
            row["points"] = max_points if ok else 0.0
            row["message"] = "" if ok else message
        results.append(row)
    return results


def _cells_by_grade_id(nb) -> dict:
    """{grade_id: cell} of a notebook's nbgrader cells; the first cell wins where a submission
    repeats a grade_id."""
    by_id = {}
    for cell in nb.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id and grade_id not in by_id:
            by_id[grade_id] = cell
    return by_id


def _stopped_by_limits(nb) -> dict[str, str]:
    """{grade_id: the last limit (time, memory, a lost kernel) that stopped this cell or one before
    it}, so that a failing cell's message can name the likely cause."""
    stopped = {}
    last_stop = ""
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error" and output.get("ename") in LIMIT_ERRORS:
                where = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") or "a cell of yours"
                last_stop = f"{output.get('ename')} in {where}: {output.get('evalue', '')}".strip()
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id and last_stop:
            stopped[grade_id] = last_stop
    return stopped


def _hidden_message(
    cell, grade_id: str, hidden: list[dict], hidden_problem: str | None, expected: dict[str, set[str]]
) -> str:
    """Why the hidden checks fail the cell ``grade_id``, or "" when they pass it (or it has none).

    In this order: the checks could not run at all (``hidden_problem``), a check failed, or a check
    the cell expects (``expected``) never reported."""
    checks = [h for h in hidden if h.get("grade_id") == grade_id]
    failed = [h for h in checks if h.get("outcome") != "passed"]
    reported = {f"{h.get('file')}::{h.get('function')}" for h in checks if h.get("outcome") == "passed"}
    silent = sorted(
        expected.get(grade_id, set()) - reported - {f"{h.get('file')}::{h.get('function')}" for h in failed}
    )
    if hidden_problem and (grade_id in expected or _calls_hidden(cell)):
        return hidden_problem
    if failed:
        return "; ".join(dict.fromkeys(h.get("message") or h["test"] for h in failed))
    if silent:
        return f"the hidden check {silent[0].split('::')[-1]} did not report a result"
    return ""


def _mention_missing(rows: list[dict], missing: list[str], notes: str | None) -> None:
    """Add to the message of every cell that scored 0 which answer cells were not submitted."""
    for row in rows:
        if notes:
            row["message"] = f"{row['message']} [note: {notes}]".strip()
        if row["points"] != 0:
            continue
        if row["grade_id"] in missing:  # a written answer that is not there
            row["message"] = missing_message([row["grade_id"]])
        elif missing:
            row["message"] = f"{row['message']} ({missing_message(missing)})".strip()


def _calls_hidden(cell) -> bool:
    return "hidden_check(" in cell.get("source", "")


def grade_submission(job: GradingJob) -> GradingResult:
    """Grade ``job.submission`` (a folder of notebooks) and return the scores (see module doc).

    The steps of the module doc, each timed: :func:`_prepare` (the private course, holding the
    submission's answers), :func:`_autograde`, :func:`_score_notebooks` (the hidden checks and the
    scores), then :func:`_hand_over` of the graded notebooks to the job's staging folder.
    """
    private = leftovers.private_folder("dfl-grade-")
    clock = time.perf_counter()
    timings = {}
    try:
        submission = _prepare(job, private)
        timings["prepare"] = time.perf_counter() - clock
        log, memory_mb = _autograde(private, job.assignment, job.student, job)
        timings["autograde"] = time.perf_counter() - clock - timings["prepare"]
        notebooks, total, max_total = _score_notebooks(submission, log, memory_mb)
        timings["hidden_checks"] = time.perf_counter() - clock - timings["prepare"] - timings["autograde"]
        left_out = _hand_over(submission)
        return GradingResult(
            student=job.student,
            assignment=job.assignment,
            score=total,
            max_score=max_total,
            notebooks=notebooks,
            log=log[-4000:],
            seconds={k: round(v, 2) for k, v in timings.items()},
            grader_fault="; ".join(submission.grader_faults),
            left_out=left_out,
        )
    finally:
        shutil.rmtree(private, ignore_errors=True)


@dataclass
class _Submission:
    """What the steps of :func:`grade_submission` share: the job, its private course, and what
    :func:`_prepare` found in the submission (per notebook)."""

    job: GradingJob
    private: Path
    grade_cells: dict[str, list[dict]]  # {notebook: its graded cells}, from the template gradebook
    left_in: str = ""  # what of the submission was not copied (copy_plain_files' note)
    problems: dict[str, str] = field(default_factory=dict)  # notebook -> why all of it scores 0
    missing: dict[str, list[str]] = field(default_factory=dict)  # notebook -> answer cells not submitted
    notes: dict[str, list[str]] = field(default_factory=dict)  # notebook -> notes on the answers taken
    grader_faults: list[str] = field(default_factory=list)  # the grader's own failures, never the student's

    @property
    def submitted(self) -> Path:
        return self.private / "submitted" / self.job.student / self.job.assignment

    @property
    def autograded(self) -> Path:
        return self.private / "autograded" / self.job.student / self.job.assignment


def _prepare(job: GradingJob, private: Path) -> _Submission:
    """Step 1: the private course -- the instructor's source, the template gradebook and config --
    and the submission's plain files in it, its notebooks reduced to their answers (:func:`_take_answers`)."""
    assignment, template = job.assignment, job.template
    shutil.copytree(template / "source" / assignment, private / "source" / assignment)
    shutil.copy2(template / "gradebook.db", private / "gradebook.db")
    shutil.copy2(template / "nbgrader_config.py", private / "nbgrader_config.py")
    submission = _Submission(job, private, _grade_cells(private / "gradebook.db", assignment))
    # Plain files only: a symlink in the submission must not pull the instructor's files in.
    submission.left_in = copy_plain_files(
        job.submission, submission.submitted, max_bytes=SUBMISSION_MAX_BYTES, max_files=SUBMISSION_MAX_FILES
    )
    for junk in (".ipynb_checkpoints", "artifacts", "__pycache__"):
        shutil.rmtree(submission.submitted / junk, ignore_errors=True)
    _take_answers(submission)
    return submission


def _take_answers(submission: _Submission) -> None:
    """Replace each submitted notebook by the instructor's release holding its answers (see
    :mod:`.answers`); one that is missing or not a valid notebook is removed and its problem noted."""
    release = submission.job.template / "release" / submission.job.assignment
    for name in submission.grade_cells:
        path = submission.submitted / f"{name}.ipynb"
        if not path.exists():
            submission.problems[name] = f"{name}.ipynb was not submitted"
            continue
        nb, problem = _read_notebook(path)
        if problem:
            submission.problems[name] = problem
            path.unlink()
            continue
        # Only the answers are taken from the submission (see .answers).
        released = nbformat.read(str(release / f"{name}.ipynb"), as_version=4)
        graded_nb, submission.missing[name], submission.notes[name] = graded_notebook(released, nb)
        nbformat.write(graded_nb, str(path))


def _score_notebooks(
    submission: _Submission, log: str, memory_mb: int
) -> tuple[dict[str, NotebookResult], float, float]:
    """Steps 3 and 4: every notebook's cells scored (:func:`_notebook_rows`); the submission's
    points and the most it could score."""
    notebooks = {}
    total = max_total = 0.0
    for name, cells in submission.grade_cells.items():
        rows, problem = _notebook_rows(submission, name, cells, log, memory_mb)
        notebooks[name] = NotebookResult(problem, tuple(CellScore(**row) for row in rows))
        total += sum(r["points"] or 0.0 for r in rows)
        max_total += sum(r["max_points"] for r in rows)
    return notebooks, total, max_total


def _notebook_rows(
    submission: _Submission, name: str, cells: list[dict], log: str, memory_mb: int
) -> tuple[list[dict], str | None]:
    """One notebook's rows (points and message per graded cell), and the problem that scored all
    of it 0 (not submitted, not a notebook, not graded by nbgrader: its log says why), if any.

    A graded notebook is scored with its hidden checks, and saved sanitised, since formgrader and
    the feedback render it for the instructor (issue 32)."""
    graded = submission.autograded / f"{name}.ipynb"
    problem = submission.problems.get(name)
    if problem is None and not graded.is_file():
        problem = "the notebook could not be graded: " + log[-800:]
    if problem:
        return _zero_rows(cells, problem), problem
    nb = nbformat.read(str(graded), as_version=4)
    checks = submission.job.hidden_checks / submission.job.assignment
    hidden, hidden_problem = _hidden_checks(submission, name, checks, graded, memory_mb)
    rows = score_notebook(nb, cells, hidden, hidden_problem, expected_checks(checks))
    _mention_missing(rows, submission.missing.get(name, []), "; ".join(submission.notes.get(name, [])))
    nb = sanitize_notebook(nb)  # issue 32: formgrader and the feedback render it for the instructor
    nbformat.write(nb, str(graded))
    return rows, None


def _zero_rows(cells: list[dict], message: str) -> list[dict]:
    """Every graded cell of a notebook that could not be scored: 0 points, and why."""
    return [
        {
            "grade_id": c["grade_id"],
            "max_points": c["max_points"],
            "manual": c["manual"],
            "points": 0.0,
            "message": message,
        }
        for c in cells
    ]


def _hidden_checks(
    submission: _Submission, name: str, checks: Path, graded: Path, memory_mb: int
) -> tuple[list[dict], str | None]:
    """The hidden checks of one graded notebook (:func:`run_hidden_checks`), run once more when
    the grader itself failed (see hidden._grader_fault); a fault twice in a row is noted in
    ``submission.grader_faults`` and is never the student's."""
    job = submission.job
    for _attempt in range(2):
        hidden, hidden_problem = run_hidden_checks(
            checks,
            graded,
            graded.parent / "artifacts",
            float(job.hidden_timeout or 300),
            memory_mb,
            sandbox=job.sandbox,
            hide=job.hide,
            fork=True,
        )
        faults = [h["grader_fault"] for h in hidden if h.get("grader_fault")]
        if not faults:
            break
    if faults:
        submission.grader_faults.append(f"{name}: {faults[0]}")
    return hidden, hidden_problem


def _hand_over(submission: _Submission) -> str:
    """Copy the graded notebooks (and what they left beside them) to the job's staging folder, as
    plain files; return the note, for the instructor, of what of the submission, or of what the
    notebooks wrote, was not kept."""
    job, private = submission.job, submission.private
    job.staging.mkdir(parents=True, exist_ok=True)
    if submission.autograded.is_dir():
        copy_plain_files(submission.autograded, job.staging)
    left_behind = (private / LEFT_BEHIND_NOTE).read_text() if (private / LEFT_BEHIND_NOTE).is_file() else ""
    return "; ".join(
        filter(
            None,
            [
                submission.left_in and f"submission {submission.left_in}",
                left_behind and f"outputs {left_behind}",
            ],
        )
    )


def _autograde(private: Path, assignment: str, student: str, job: GradingJob) -> tuple[str, int]:
    """Run nbgrader's autograde in ``private`` with the kit's limits; return its log and the memory limit."""
    ensure_tools_on_path()

    config = PyFileConfigLoader("nbgrader_config.py", path=str(private)).load_config()
    config.CourseDirectory.root = str(private)
    for key, section, name in (
        ("cell_timeout", "Execute", "timeout"),
        ("notebook_timeout", "LimitedExecute", "notebook_timeout"),
        ("memory_mb", "LimitedExecute", "memory_mb"),
    ):
        if getattr(job, key) is not None:
            config[section][name] = getattr(job, key)
    # LimitedExecute reads Execute's settings too (it is a subclass), plus its own.
    replace = {Execute: LimitedExecute, LimitOutput: LimitedOutput}
    config.Autograde.autograde_preprocessors = [
        replace.get(pp, pp) for pp in Autograde.class_traits()["autograde_preprocessors"].default()
    ]
    memory_mb = int(config.LimitedExecute.get("memory_mb", 8192))
    notebook_timeout = float(config.LimitedExecute.get("notebook_timeout", 900.0))
    if job.staging:  # progress as each cell starts, for a worker that gets killed (partial_result)
        progress = job.progress
        progress.mkdir(parents=True, exist_ok=True)
        _write_json_atomic(progress / "state.json", {"private": str(private), "memory_mb": memory_mb})
        config.LimitedExecute.progress_dir = str(progress)
    with contextlib.ExitStack() as stack:
        jail = None
        if job.sandbox:
            jail = _kernel_jail(private, student, assignment, memory_mb, notebook_timeout, stack, job.hide)
            # The kernel's sockets are files in a folder the sandbox shares: it has no network.
            config.KernelManager.transport = "ipc"
            config.KernelManager.ip = str(private / "runtime" / "kernel")
            config.KernelManager.connection_file = str(private / "runtime" / "kernel.json")
        write_kernelspec(private / "jupyter", memory_mb, jail=jail)
        os.environ["JUPYTER_PATH"] = os.pathsep.join(
            [str(private / "jupyter"), os.environ.get("JUPYTER_PATH", "")]
        )
        os.environ["JUPYTER_RUNTIME_DIR"] = str(private / "runtime")
        os.chdir(private)
        coursedir = CourseDirectory(config=config)
        api = NbGraderAPI(coursedir=coursedir, config=config)
        result = api.autograde(assignment, student, force=True, create=True)
        if jail is not None:  # what the notebook wrote, as plain files, beside the graded notebook
            left_behind = copy_plain_files(
                private / "kernel-cwd",
                private / "autograded" / student / assignment,
                skip_suffixes=(".ipynb",),
                **OUTPUT_LIMITS,
            )
            if left_behind:
                (private / LEFT_BEHIND_NOTE).write_text(left_behind)
    return (result.get("log") or "") + (result.get("error") or ""), memory_mb


def _kernel_jail(
    private: Path,
    student: str,
    assignment: str,
    memory_mb: int,
    notebook_timeout: float,
    stack: contextlib.ExitStack,
    hide: tuple[Path, ...],
) -> list[str]:
    """The command prefix that starts the kernel in this submission's sandbox.

    The sandbox sees the folder the notebook runs in and the folder of the kernel's connection
    file and sockets, nothing else. The notebook's folder inside is ``kernel-cwd`` outside, a
    copy of the submission's other files mounted where nbgrader's autograded copy is: the
    kernel never writes where nbgrader later writes the graded notebook (a planted symlink
    there would redirect that write).
    """
    runtime = private / "runtime"
    runtime.mkdir(exist_ok=True)
    workdir = private / "autograded" / student / assignment
    kernel_cwd = private / "kernel-cwd"
    copy_plain_files(private / "submitted" / student / assignment, kernel_cwd, skip_suffixes=(".ipynb",))
    kernel_cwd.mkdir(exist_ok=True)
    limits = Limits(
        memory_mb=memory_mb,
        cpu_seconds=int(notebook_timeout) + 60,
        processes=SANDBOX_PROCESSES,
        file_mb=SANDBOX_FILE_MB,
    )
    group = stack.enter_context(ProcessGroup(limits.processes, limits.total_mb()))
    # The sandbox starts with an empty environment; notebooks may shorten work when graded (nbgrader's flag).
    return Sandbox(
        writable=(runtime,),
        mapped=((kernel_cwd, workdir),),
        limits=limits,
        hidden=tuple(map(Path, hide)),
        env=(("NBGRADER_EXECUTION", "autograde"),),
    ).command([], cwd=workdir, cgroup=group.paths)


def _write_json_atomic(path: Path, data) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w") as f:
        json.dump(data, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def partial_result(job: GradingJob, why: str) -> GradingResult | None:
    """The result of a worker that was killed (``why``), from the progress it recorded; None if none.

    Run by the parent once the worker and its kernel are gone. The cells that had finished keep
    their points (their hidden checks are run now, as the worker would have); the cell that was
    running and every cell after it score 0, with a message naming that cell. A notebook the
    worker had not started scores 0. The graded notebooks go to the job's staging folder.
    """
    progress = job.progress
    try:
        state = json.loads((progress / "state.json").read_text())
    except (OSError, ValueError):
        shutil.rmtree(progress, ignore_errors=True)
        return None
    assignment, student, staging = job.assignment, job.student, job.staging
    private = Path(state["private"])
    try:
        grade_cells = _grade_cells(job.template / "gradebook.db", assignment)
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True, exist_ok=True)
        if (private / "kernel-cwd").is_dir():  # what the notebook wrote, as the worker would have copied it
            copy_plain_files(private / "kernel-cwd", staging, skip_suffixes=(".ipynb",), **OUTPUT_LIMITS)
        notebooks, total, max_total = {}, 0.0, 0.0
        for name, cells in grade_cells.items():
            nb, running = _saved_progress(progress / f"{name}.json")
            if nb is None:
                problem = f"{why}; this notebook had not been run yet"
                rows = _zero_rows(cells, problem)
            else:
                problem = None
                _mark_stopped_cells(nb, running, why)
                memory_mb = int(state.get("memory_mb") or 8192)
                rows = _score_stopped_notebook(job, nb, cells, name, memory_mb)
            notebooks[name] = NotebookResult(problem, tuple(CellScore(**row) for row in rows))
            total += sum(r["points"] or 0.0 for r in rows)
            max_total += sum(r["max_points"] for r in rows)
        return GradingResult(
            student=student,
            assignment=assignment,
            score=total,
            max_score=max_total,
            notebooks=notebooks,
            log=why,
            stopped=why,
        )
    finally:
        shutil.rmtree(private, ignore_errors=True)
        shutil.rmtree(progress, ignore_errors=True)


def _saved_progress(path: Path) -> tuple[nbformat.NotebookNode | None, int | None]:
    """The notebook a killed worker last saved at ``path`` and the index of the cell it was running
    then (None: between cells); (None, None) when the worker had saved nothing readable."""
    try:
        saved = json.loads(path.read_text())
        nb = nbformat.from_dict(saved["notebook"])
    except (OSError, ValueError, KeyError):
        return None, None
    return nb, saved.get("running")


def _mark_stopped_cells(nb: nbformat.NotebookNode, running: int | None, why: str) -> None:
    """Replace the outputs of the cell that was ``running`` when the worker was killed (``why``), and
    of every code cell after it, with an error naming that cell: they score 0, the cells before
    keep their points."""
    if running is None:
        return
    where = _cell_name(nb.cells[running], running)
    what = f"{why} while {where} ran; the cells before it keep their points"
    for index, cell in enumerate(nb.cells[running:], start=running):
        if cell.cell_type == "code" and cell.source.strip():
            cell.outputs = [_error(KERNEL_LOST_ERROR, what if index == running else f"not run: {what}")]


def _score_stopped_notebook(
    job: GradingJob, nb: nbformat.NotebookNode, cells: list[dict], name: str, memory_mb: int
) -> list[dict]:
    """Finish a killed worker's notebook ``name`` as the worker would have: trim its outputs, write it
    to the job's staging folder, run its hidden checks, score its cells, and write it again,
    sanitised. Returns the scored rows."""
    checks = job.hidden_checks / job.assignment
    graded = job.staging / f"{name}.ipynb"
    nb = limit_outputs(nb, job.template)  # in lines and bytes, as nbgrader trims a finished one
    nbformat.write(nb, str(graded))
    hidden, hidden_problem = run_hidden_checks(
        checks,
        graded,
        job.staging / "artifacts",
        float(job.hidden_timeout or 300),
        memory_mb,
        sandbox=job.sandbox,
        hide=job.hide,
    )
    rows = score_notebook(nb, cells, hidden, hidden_problem, expected_checks(checks))
    nb = sanitize_notebook(nb)  # issue 32: formgrader and the feedback render it for the instructor
    nbformat.write(nb, str(graded))
    return rows


#: Modules the fork server imports once, so that each forked worker starts with them loaded;
#: :mod:`.warm_caches` first, which sets the server up before nbformat is imported.
PRELOAD = [
    "deepfakelab.course.grading.warm_caches",
    "deepfakelab.course.grading.worker",
    "deepfakelab.course.release",
    "deepfakelab.course.grading.limits",
    "nbgrader.apps.api",
    "nbgrader.converters",
    "nbgrader.preprocessors",
    "nbgrader.api",
    "nbclient",
    "jupyter_client",
    "pytest",
    "deepfakelab.course.grading.hidden",
    # imported by every worker otherwise: by nbconvert, the kernelspec, the gradebook, the kit
    "IPython",
    "ipykernel.kernelspec",
    "sqlalchemy.dialects.sqlite",
    "deepfakelab.course.sandbox.bubblewrap",
    "deepfakelab.course.sandbox.prompt_kernel",
    "deepfakelab.course.grading.forked_checks",
]


def process_main(job: GradingJob, conn) -> None:
    """Entry point of a forked worker: grade ``job``, send the result on ``conn``."""
    try:
        result = grade_submission(job)
        shutil.rmtree(job.progress, ignore_errors=True)
    except Exception as exc:  # reported to the parent, which scores the submission 0 with this message
        result = GradingResult.failed(f"{type(exc).__name__}: {exc}", traceback.format_exc()[-3000:])
    conn.send(result)
    conn.close()


def main() -> None:
    """``python -m deepfakelab.course.grading.worker``: a job (:meth:`.GradingJob.to_dict` and a
    ``token``) as JSON on stdin, the result as JSON on stdout between two copies of the token."""
    data = json.loads(sys.stdin.read())
    token = data.pop("token")
    try:
        result = grade_submission(GradingJob.from_dict(data))
    except Exception as exc:  # reported to the parent, which scores the submission 0 with this message
        result = GradingResult.failed(f"{type(exc).__name__}: {exc}", traceback.format_exc()[-3000:])
    sys.stdout.write(f"\n{token}{json.dumps(result.to_dict())}{token}\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
