"""The course's nbgrader gradebook, written by the grading run alone, and the grades exported from it.

Only the run's own process writes the gradebook (:func:`write_gradebook`: one transaction per
result). :func:`backup_gradebook` copies it before each run; :class:`GradebookGuard` notices
when anything else changed it during the run (a submission graded with ``--no-sandbox`` hunting
for ``gradebook.db``) and puts the run's starting copy back. :func:`export_grades` writes
nbgrader's ``grades.csv`` and the kit's per-cell ``grades-<assignment>.csv`` (from the journal,
:mod:`.journal`), every cell made safe for a spreadsheet (:func:`csv_safe`). Manual grades are
never overwritten.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import os
import secrets
import shutil
import sqlite3
import stat
import warnings
from datetime import datetime, timezone
from pathlib import Path

from nbgrader.api import Gradebook
from nbgrader.plugins import CsvExportPlugin
from nbgrader.utils import parse_utc

from ..layout import Course
from .jobs import CellScore, GradingResult, NotebookResult
from .journal import read_journal, write_atomic


def backup_gradebook(course: Course, keep: int = 20) -> Path | None:
    """Copy the gradebook (with SQLite's online backup) into ``.deepfakelab/backups``, keeping the last ``keep``."""
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


def assignments_in_gradebook(course: Course, course_id: str) -> set[str]:
    """The assignments the course's gradebook knows (none when there is no gradebook yet)."""
    if not course.gradebook.is_file():
        return set()
    with Gradebook(f"sqlite:///{course.gradebook}", course_id=course_id) as gb:
        return {a.name for a in gb.assignments}


def write_gradebook(
    course: Course, course_id: str, assignment: str, results: dict[str, GradingResult]
) -> None:
    """Write the autograded scores of ``results`` ({student: result}) in one transaction."""
    with warnings.catch_warnings(), Gradebook(f"sqlite:///{course.gradebook}", course_id=course_id) as gb:
        # nbgrader 0.9 with SQLAlchemy 2 warns about its own autoflush on new submissions; harmless.
        warnings.filterwarnings("ignore", message=".*not in session.*")
        for student, result in results.items():
            _write_student(gb, course, assignment, student, result, parse_utc)
        gb.db.commit()


def _write_student(
    gb, course: Course, assignment: str, student: str, result: GradingResult, parse_utc
) -> None:
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
        with open(
            path, "rb", opener=lambda name, flags: os.open(name, flags | os.O_NOFOLLOW | os.O_NONBLOCK)
        ) as f:
            return f.read(limit).decode("utf-8", errors="replace")
    except OSError:
        return None


def zero_result(course: Course, course_id: str, assignment: str, why: str) -> GradingResult:
    """A result that scores every autograded cell 0 with ``why``, for a submission that crashed grading."""
    notebooks = {}
    with Gradebook(f"sqlite:///{course.gradebook}", course_id=course_id) as gb:
        for nb in gb.find_assignment(assignment).notebooks:
            solution = {c.name for c in nb.solution_cells}
            notebooks[nb.name] = NotebookResult(
                why,
                tuple(
                    CellScore(
                        grade_id=c.name,
                        max_points=float(c.max_score),
                        points=None if c.name in solution else 0.0,
                        manual=c.name in solution or c.cell_type == "markdown",
                        message=why,
                    )
                    for c in nb.grade_cells
                ),
            )
    return GradingResult(
        notebooks=notebooks,
        score=0.0,
        error=why,
        max_score=sum(c.max_points for n in notebooks.values() for c in n.cells),
    )


#: Columns of ``grades-<assignment>.csv``, one row per graded cell of every journaled student.
CELL_COLUMNS = ("student", "notebook", "grade_id", "points", "max_points", "message", "sandboxed")


def export_grades(course: Course, course_id: str, assignment: str) -> Path:
    """Write nbgrader's ``grades.csv`` (every assignment) and ``grades-<assignment>.csv`` (per cell, returned)."""
    everyone = course.root / "grades.csv"
    tmp = everyone.with_name(f".grades.csv.{secrets.token_hex(4)}.tmp")
    with Gradebook(f"sqlite:///{course.gradebook}", course_id=course_id) as gb:
        CsvExportPlugin(to=str(tmp)).export(gb)
    _neutralise_csv(tmp)  # names and ids come from the roster and the LMS: text a student may choose
    os.replace(tmp, everyone)
    rows = []
    for student, entry in read_journal(course, assignment).items():
        for notebook, info in entry.result.notebooks.items():
            for cell in info.cells:
                rows.append(
                    {
                        "student": student,
                        "notebook": notebook,
                        "grade_id": cell.grade_id,
                        "points": "" if cell.points is None else cell.points,
                        "max_points": cell.max_points,
                        "message": cell.message,
                        "sandboxed": "yes" if entry.sandboxed else "NO (--no-sandbox)",
                    }
                )
    path = course.root / f"grades-{assignment}.csv"
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(CELL_COLUMNS))
    writer.writeheader()
    writer.writerows([{key: csv_safe(value) for key, value in row.items()} for row in rows])
    write_atomic(path, buffer.getvalue())
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
    write_atomic(path, buffer.getvalue())
