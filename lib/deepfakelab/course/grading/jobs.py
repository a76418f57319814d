"""What crosses between the grading run and a worker: a job in, a result out.

The run (:mod:`.grade`) builds one :class:`GradingJob` per submission and hands it to a worker
process (:mod:`.worker`, forked from a server: the job and the result are pickled across a pipe);
the worker hands back a :class:`GradingResult`. Both are frozen, hold only paths, numbers and text,
and are picklable. At the edges that need plain data -- the journal (:mod:`.journal`), the
CSVs (:mod:`.gradebook`), ``python -m deepfakelab.course.grading.worker`` over stdin and stdout --
they are written with :meth:`GradingResult.to_dict` (``dataclasses.asdict``) and read back with
:meth:`GradingResult.from_dict`, whose keys are the journal's since the engine began.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class GradingJob:
    """One submission to grade, and everything the worker may use to grade it.

    ``None`` limits come from the course's ``nbgrader_config.py`` (copied into ``template``).
    """

    assignment: str
    student: str
    #: A private mini-course of the assignment: its source, config and a gradebook of it alone
    #: (:func:`..release.build_template`). The worker copies it; it never sees the course.
    template: Path
    #: The student's submitted folder (read as plain files only).
    submission: Path
    #: The folder holding ``<assignment>/`` with the hidden checks (the run's snapshot).
    hidden_checks: Path
    #: Where the worker writes the graded notebooks, beside its progress (``<staging>.progress``);
    #: the run moves it to ``autograded/`` once the result is recorded.
    staging: Path
    #: Whether the student's code runs in bubblewrap (False: same-user limits only).
    sandbox: bool = True
    #: Folders no sandbox may show even when they lie inside a mounted one (the course folder).
    hide: tuple[Path, ...] = ()
    cell_timeout: int | None = None
    notebook_timeout: float | None = None
    memory_mb: int | None = None
    #: Seconds the hidden checks of one notebook may run.
    hidden_timeout: float = 300.0

    @property
    def progress(self) -> Path:
        """Where the worker records its progress: beside its staging folder, which no sandbox sees."""
        return Path(f"{self.staging}.progress")

    def to_dict(self) -> dict:
        """The job as JSON-ready data (paths as strings)."""
        data = dataclasses.asdict(self)
        for key in ("template", "submission", "hidden_checks", "staging"):
            data[key] = str(data[key])
        data["hide"] = [str(path) for path in self.hide]
        return data

    @classmethod
    def from_dict(cls, data: dict) -> GradingJob:
        """The job :meth:`to_dict` wrote."""
        known = {f.name for f in dataclasses.fields(cls)}
        data = {key: value for key, value in data.items() if key in known}
        for key in ("template", "submission", "hidden_checks", "staging"):
            data[key] = Path(data[key])
        data["hide"] = tuple(Path(path) for path in data.get("hide", ()))
        return cls(**data)


@dataclass(frozen=True)
class CellScore:
    """The score of one graded cell, and what its student (or instructor) reads about it."""

    grade_id: str
    max_points: float
    #: Graded by hand (a written answer, or code the instructor reads): ``points`` is 0 for an
    #: answer left as the stub, else None until the instructor grades it.
    manual: bool
    points: float | None
    #: Why the cell lost its points ("" when it scored them).
    message: str = ""


@dataclass(frozen=True)
class NotebookResult:
    """The graded cells of one notebook of the assignment."""

    #: Why the notebook as a whole could not be graded (not submitted, not a notebook), or None.
    problem: str | None
    cells: tuple[CellScore, ...] = ()


@dataclass(frozen=True)
class GradingResult:
    """What grading one submission gave: scores per notebook and cell, or why there are none.

    A worker that finished gives the scores (and, when its hidden checks failed twice for a
    reason of the grader's own, ``grader_fault``); a worker that was killed gives the cells it
    had finished (``stopped``); a worker that crashed gives ``error`` and ``traceback`` alone; a
    worker stopped with the run gives ``interrupted``, which is never recorded.
    """

    student: str = ""
    assignment: str = ""
    #: Points of the autograded cells (written answers wait for the instructor).
    score: float = 0.0
    max_score: float = 0.0
    notebooks: dict[str, NotebookResult] = field(default_factory=dict)
    #: The end of nbgrader's log (for the instructor).
    log: str = ""
    #: Seconds per phase of the worker (prepare, autograde, hidden_checks).
    seconds: dict[str, float] = field(default_factory=dict)
    #: The grader could not grade the submission (a crash): nothing was scored.
    error: str = ""
    traceback: str = ""
    #: The worker was killed (``why``); the cells it had finished kept their points.
    stopped: str = ""
    #: The grader failed twice in a row, not the submission: the next run grades it again.
    grader_fault: str = ""
    #: What of the submission or of the notebook's outputs was not kept (for the instructor).
    left_out: str = ""
    #: The run was stopped before this submission was graded: nothing of it is recorded.
    interrupted: bool = False

    @classmethod
    def failed(cls, error: str, traceback: str = "", interrupted: bool = False) -> GradingResult:
        """A result without scores: the grader could not grade the submission (``error`` says why)."""
        return cls(error=error, traceback=traceback, interrupted=interrupted)

    def cells(self) -> list[CellScore]:
        """Every graded cell, notebook by notebook."""
        return [cell for notebook in self.notebooks.values() for cell in notebook.cells]

    def to_dict(self) -> dict:
        """The result as JSON-ready data (the journal's keys)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> GradingResult:
        """The result :meth:`to_dict` wrote (or a journal entry of an older run, with fewer keys)."""
        known = {f.name for f in dataclasses.fields(cls)}
        values = {key: value for key, value in data.items() if key in known}
        values["notebooks"] = {
            str(name): NotebookResult(
                problem=notebook.get("problem"),
                cells=tuple(CellScore(**cell) for cell in notebook.get("cells", ())),
            )
            for name, notebook in (data.get("notebooks") or {}).items()
        }
        values["seconds"] = dict(values.get("seconds") or {})
        for key in ("error", "traceback", "stopped", "grader_fault", "left_out", "log"):
            values[key] = str(values.get(key) or "")
        return cls(**values)
