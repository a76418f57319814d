"""A killed grading run's cgroups and temporary folders are removed by the next run, never a live run's."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from deepfakelab.course.sandbox import leftovers
from deepfakelab.course.sandbox.bubblewrap import ProcessGroup


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_stale_temporary_folders_go_and_live_ones_stay(tmp_path):
    dead = _dead_pid()
    stale = [tmp_path / f"{kind}{dead}-abc" for kind in leftovers.TEMP_KINDS]
    for folder in stale:
        (folder / "source").mkdir(parents=True)
        (folder / "source" / "lab.ipynb").write_text("{}")
    live = tmp_path / f"{leftovers.prefix('dfl-grade-')}xyz"  # this process is alive: never its folders
    live.mkdir()
    other = [tmp_path / f"dfl-grade-{dead}", tmp_path / f"someone-{dead}-x", tmp_path / f"dfl-notes-{dead}-x"]
    for folder in other:  # not a name a grading run makes
        folder.mkdir()
    removed = leftovers.sweep(temp_root=tmp_path, cgroup_roots=())
    assert sorted(removed) == sorted(stale) and not any(f.exists() for f in stale)
    assert live.is_dir() and all(f.is_dir() for f in other)
    made = leftovers.private_folder("dfl-student-")
    made.rmdir()
    assert made.name.startswith(f"dfl-student-{os.getpid()}-")


def test_stale_staging_folders_go_and_a_live_runs_stay(tmp_path):
    """A grade run SIGKILLed mid-way leaves its graded copies and progress records in the course's
    staging folder; the next sweep removes them (never journaled, those submissions are graded again)."""
    dead = _dead_pid()
    staging = tmp_path / "staging" / "lab1"
    stale = [
        staging / f"{leftovers.STAGING_KIND}{dead}-ada-1f2e",
        staging / f"{leftovers.STAGING_KIND}{dead}-ada-1f2e.progress",
    ]
    for folder in stale:
        (folder / "x").mkdir(parents=True)
    live = staging / f"{leftovers.prefix(leftovers.STAGING_KIND)}bob-99aa"
    (live / "graded").mkdir(parents=True)
    other = staging / "notes"  # not a name a grading run makes
    other.mkdir()
    removed = leftovers.sweep(temp_root=tmp_path / "none", cgroup_roots=(), staging_roots=(staging,))
    assert sorted(removed) == sorted(stale) and not any(f.exists() for f in stale)
    assert live.is_dir() and other.is_dir()
    assert leftovers.sweep(temp_root=tmp_path / "none", cgroup_roots=()) == []  # only the roots it is given


def test_a_reused_pid_does_not_keep_a_leftover(tmp_path):
    folder = tmp_path / f"dfl-hidden-{os.getpid()}-abc"
    folder.mkdir()
    os.utime(folder, (0, 0))  # made long before this process started: another process had this pid
    assert leftovers.sweep(temp_root=tmp_path, cgroup_roots=()) == [folder]


def test_stale_cgroups_of_a_killed_run_are_removed_by_the_next():
    """A grader SIGKILLed while its sandbox ran leaves an empty cgroup; the next sweep removes it."""
    probe = ProcessGroup(4)
    if probe.path is None:
        pytest.skip("this user may not make a pids cgroup here")
    root = probe.path.parent
    probe.close()
    code = (
        "import os, sys; from deepfakelab.course.sandbox.bubblewrap import ProcessGroup\n"
        "g = ProcessGroup(8); print(g.path, flush=True); os.kill(os.getpid(), 9)"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == -9
    from pathlib import Path

    left = Path(out.stdout.strip())
    assert left.parent == root and left.is_dir()  # what the kill leaves behind
    with ProcessGroup(4) as mine:  # a live run's (empty) cgroup must survive the sweep
        removed = leftovers.sweep(temp_root=Path("/nonexistent"))
        assert left in removed and not left.exists()
        assert mine.path is None or (mine.path.is_dir() and mine.path not in removed)
