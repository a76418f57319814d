"""What a killed grading run leaves behind, and the next run's sweep of it.

A run that ends normally removes its private course copies, the sandboxes' scratch folders and
their ``pids`` cgroups. A SIGKILL (of the grade command, or of a worker at its wall limit) leaves
them: empty cgroup folders under ``/sys/fs/cgroup``, folders of student code and instructor
source under the temporary folder, and half-written graded copies (with their progress records)
in the course's ``.deepfakelab/staging/<assignment>/``. Every such folder is named
``<kind><pid>-<random>`` after the process that made it, so the next run can tell its own
leftovers from a live run's: a folder is stale when no process of that pid runs (or only its
zombie), or the one that does started after the folder was made (a reused pid). :func:`sweep`
removes the stale ones this user owns -- cgroups with ``rmdir``, which the kernel refuses while
a process is still in one.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

import psutil

#: Where the pids cgroup (cgroup v1 or v2) of one sandbox is made, when this user may (here, below
#: the sandbox, because the sweep must find them too).
CGROUP_ROOTS = (Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup"))
#: Where the memory cgroup of one sandbox is made on cgroup v1 (on v2 it is the pids cgroup).
MEMORY_CGROUP_ROOTS = (Path("/sys/fs/cgroup/memory"),)

#: Kinds of temporary folder a grading run makes (see :func:`private_folder`).
TEMP_KINDS = ("dfl-grade-", "dfl-student-", "dfl-hidden-", "dfl-decode-")
#: Kind of the folder one worker writes a student's graded notebooks to (and of its ``.progress``
#: record beside it), in the course's staging folder, until they replace ``autograded/``.
STAGING_KIND = "dfl-staging-"
#: Kind of the ``pids`` cgroup of one sandbox (see :class:`.bubblewrap.ProcessGroup`).
CGROUP_KIND = "deepfakelab-"
_NAME = re.compile(r"^(?P<kind>[a-z-]+-)(?P<pid>\d+)-")


def prefix(kind: str) -> str:
    """The name prefix of a folder of ``kind`` made by this process: ``<kind><pid>-``."""
    return f"{kind}{os.getpid()}-"


def private_folder(kind: str) -> Path:
    """A new temporary folder of ``kind`` (one of :data:`TEMP_KINDS`) named after this process."""
    return Path(tempfile.mkdtemp(prefix=prefix(kind)))


def _stale(path: Path, kinds: tuple[str, ...]) -> bool:
    match = _NAME.match(path.name)
    if not match or match["kind"] not in kinds:
        return False
    try:
        info = path.lstat()
    except OSError:
        return False
    if info.st_uid != os.getuid() or not path.is_dir() or path.is_symlink():
        return False
    try:
        owner = psutil.Process(int(match["pid"]))
        if owner.status() == psutil.STATUS_ZOMBIE:  # killed, not yet reaped (its parent was killed too)
            return True
        started = owner.create_time()
    except (psutil.NoSuchProcess, psutil.AccessDenied, ValueError):
        return True
    return started > info.st_mtime + 1  # the pid was reused by a process younger than the folder


def sweep(
    temp_root: Path | None = None,
    cgroup_roots: tuple[Path, ...] | None = None,
    staging_roots: tuple[Path, ...] = (),
) -> list[Path]:
    """Remove the stale leftovers of killed runs of this user; return what was removed.

    ``staging_roots``: folders holding the staging folders of grading runs (one per assignment);
    a killed run's graded copies there were never journaled, so the next run grades those
    submissions again and nothing is lost by removing them.
    """
    removed = []
    temp_root = Path(temp_root or tempfile.gettempdir())
    for root, kinds in [(temp_root, TEMP_KINDS)] + [(Path(r), (STAGING_KIND,)) for r in staging_roots]:
        for path in _entries(root):
            if _stale(path, kinds):
                shutil.rmtree(path, ignore_errors=True)
                if not path.exists():
                    removed.append(path)
    for root in CGROUP_ROOTS + MEMORY_CGROUP_ROOTS if cgroup_roots is None else cgroup_roots:
        for path in _entries(root):
            if _stale(path, (CGROUP_KIND,)):
                try:
                    path.rmdir()  # refused (EBUSY) while a process is still in it
                    removed.append(path)
                except OSError:
                    pass
    return removed


def _entries(root: Path) -> list[Path]:
    try:
        return [Path(e.path) for e in os.scandir(root) if e.name.startswith(("dfl-", CGROUP_KIND))]
    except OSError:
        return []
