"""The journal: each student's recorded result, with a fingerprint of what was graded.

A run writes ``.deepfakelab/journal/<assignment>/<student>.json`` as soon as a result arrives,
before anything slower, so a run that is killed loses nothing it had finished. The fingerprint
covers the submission, the instructor's source, the hidden checks, the course's config and
whether the sandbox was used; a rerun skips a submission whose entry has the same fingerprint
and needs no regrading (:meth:`JournalEntry.finished`). The journal is also where the per-cell
CSV is exported from (:func:`.gradebook.export_grades`).

On disk an entry is one JSON object: ``fingerprint``, ``graded_at``, ``sandboxed`` and the
result's own keys (:meth:`.jobs.GradingResult.to_dict`), as every run since the first wrote it.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from ..layout import Course
from .jobs import GradingResult

#: Folders of a submission that never change its grade (the notebook's outputs, caches).
UNGRADED_PARTS = {"artifacts", ".ipynb_checkpoints", "__pycache__"}


def tree_digest(folder: Path) -> str:
    """A digest of the regular files under ``folder``, by name and content: links and special files are skipped.

    Every entry is looked at with ``lstat`` and never followed, so a link to ``/proc/self/mem`` or
    a FIFO in a submission is simply not part of it (grading copies plain files only, too).
    """
    if not folder.is_dir() or folder.is_symlink():
        return "none"
    h = hashlib.sha256()
    for path in sorted(_regular_files(folder)):
        relative = path.relative_to(folder)
        if UNGRADED_PARTS.intersection(relative.parts):
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


def fingerprint_base(course: Course, assignment: str, hidden_checks: Path, sandbox: bool) -> str:
    """What every submission's fingerprint shares: the source, the hidden checks (``hidden_checks``
    holds ``<assignment>/``: the run's snapshot), the course's config and the sandbox."""
    return (
        tree_digest(course.source(assignment))
        + tree_digest(hidden_checks / assignment)
        + hashlib.sha256(course.config.read_bytes()).hexdigest()
        + ("" if sandbox else "unsandboxed")
    )


def submission_fingerprint(base: str, folder: Path) -> str:
    """The fingerprint of the submission in ``folder`` graded with ``base`` (raises OSError if unreadable)."""
    return hashlib.sha256((base + tree_digest(folder)).encode()).hexdigest()


@dataclass(frozen=True)
class JournalEntry:
    """One student's recorded result, and what it was graded from."""

    #: :func:`submission_fingerprint` of what was graded.
    fingerprint: str
    #: When the result was recorded (ISO 8601, UTC).
    graded_at: str
    #: Whether the student's code ran in the sandbox.
    sandboxed: bool
    result: GradingResult

    def finished(self, fingerprint: str) -> bool:
        """Whether this entry stands for a submission with ``fingerprint``: graded, and nothing to regrade.

        A crash (``error``), a killed worker (``stopped``) or the grader's own failure
        (``grader_fault``) is graded again by the next run.
        """
        return self.fingerprint == fingerprint and not (
            self.result.error or self.result.stopped or self.result.grader_fault
        )

    def to_dict(self) -> dict:
        """The entry as the journal's JSON holds it (the result's keys beside the entry's own)."""
        return {
            "fingerprint": self.fingerprint,
            "graded_at": self.graded_at,
            "sandboxed": self.sandboxed,
            **self.result.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict) -> JournalEntry:
        """The entry :meth:`to_dict` wrote (raises KeyError, TypeError or ValueError for anything else)."""
        if not isinstance(data, dict):
            raise TypeError(f"a journal entry is a JSON object, not {type(data).__name__}")
        return cls(
            fingerprint=str(data.get("fingerprint") or ""),
            graded_at=str(data.get("graded_at") or ""),
            sandboxed=bool(data.get("sandboxed", True)),
            result=GradingResult.from_dict(data),
        )


def journal_folder(course: Course, assignment: str) -> Path:
    """Where the journal of ``assignment`` lives in the course."""
    return course.state / "journal" / assignment


def read_journal(course: Course, assignment: str) -> dict[str, JournalEntry]:
    """{student: entry} of every readable entry of ``assignment``; an unreadable one is left out (regraded)."""
    journal = {}
    folder = journal_folder(course, assignment)
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            journal[path.stem] = JournalEntry.from_dict(json.loads(path.read_text()))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return journal


def write_journal_entry(course: Course, assignment: str, student: str, entry: JournalEntry) -> Path:
    """Write ``entry`` as ``student``'s journal entry (atomically); return its file."""
    path = journal_folder(course, assignment) / f"{student}.json"
    write_atomic(path, json.dumps(entry.to_dict(), indent=1))
    return path


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` in one rename: a reader sees the old file or the new one, whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
