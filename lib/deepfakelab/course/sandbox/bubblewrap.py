"""The sandbox every process that runs a student's code starts in: bubblewrap, one per submission.

A submission's kernel (and the process that calls its functions for the hidden checks) runs as
``bwrap ... -- python ...`` with new mount, PID, IPC, UTS and network namespaces (the same idea
as Otter's or Gradescope's container per submission, with Debian's ``bubblewrap``):

- the system (``/usr`` and the ``/bin``, ``/lib`` links), the Python installation, the venv and
  the kit's package are mounted read-only, and only what a notebook needs of ``/etc``;
- one private writable folder holds the submission's working copy (plus whatever else the
  caller names); everything else -- the course folder, the instructor's source, other
  submissions, the hidden checks, the kit's ``solutions/`` and ``autograder/`` -- is not there;
- ``/proc`` is the sandbox's own (the grader's processes and their working folders are not in
  it), there is no network but loopback; ``/tmp`` and ``/dev/shm`` are private tmpfs mounts of a
  fixed size (:attr:`Limits.tmp_mb`, :attr:`Limits.shm_mb`) and the rest of ``/dev`` is
  read-only, so files kept in memory cannot grow past what the submission was given;
- bwrap itself starts with an empty environment and its options on a pipe
  (:mod:`.bwrap_exec`): the sandbox's PID 1, a fork of bwrap, shows neither the grader's
  environment nor the host paths it mounts;
- ``--die-with-parent`` and the PID namespace end every process started inside (a ``setsid``
  daemon included) when the sandbox ends; ``--new-session`` keeps it off the grader's terminal;
- resource limits are applied with ``prlimit`` before ``bwrap`` starts, so everything inside
  inherits them: address space, CPU seconds, size of a written file, no core dumps; the number
  of processes is capped by a ``pids`` cgroup when this user may make one, else by
  ``RLIMIT_NPROC`` (which Linux does not apply to root). Where this user may make a ``memory``
  cgroup, the whole sandbox's memory -- every process and the tmpfs files -- is capped too, at
  the address-space limit plus the two tmpfs sizes (:meth:`Limits.total_mb`).

:func:`availability` says whether bubblewrap can run here and, when not, why and how to fix it.
"""

from __future__ import annotations

import functools
import os
import secrets
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

import deepfakelab

from ...errors import ConfigError
from ..layout import kit_root
from . import leftovers

#: Files of ``/etc`` that Python, NumPy, matplotlib and ffmpeg read; nothing else of it is mounted.
ETC_FILES = (
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "alternatives",
    "fonts",
    "localtime",
    "mime.types",
    "matplotlibrc",
    "ssl/openssl.cnf",
)
CGROUP_ROOTS = leftovers.CGROUP_ROOTS  # where a sandbox's pids cgroup is made (kept in .leftovers)
#: How to make bubblewrap work, in the message of a refusal.
HOW_TO_ENABLE = (
    "install it (`sudo apt-get install --no-install-recommends bubblewrap`, or `make system-deps`) "
    "and allow user namespaces (`sudo sysctl -w kernel.unprivileged_userns_clone=1`; on Ubuntu 24.04 "
    "also `sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0`), or grade with --no-sandbox "
    "(same-user limits only, not safe against a determined student)"
)


class SandboxUnavailable(ConfigError):
    """bubblewrap cannot run on this machine; the message says why and how to enable it."""


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandbox (0 or None: no limit)."""

    memory_mb: int = 8192  # address space of each process
    cpu_seconds: int | None = None  # CPU time of each process
    processes: int = 256  # processes and threads in the whole sandbox
    file_mb: int = 1024  # largest file a process may write
    tmp_mb: int = 256  # size of the private /tmp (kept in memory)
    shm_mb: int = 64  # size of /dev/shm (kept in memory)

    def total_mb(self) -> int:
        """What the whole sandbox may hold in memory: one process's address space plus both tmpfs mounts."""
        return int(self.memory_mb) + int(self.tmp_mb) + int(self.shm_mb) if self.memory_mb else 0


@dataclass(frozen=True)
class Sandbox:
    """What the processes of one submission may see and use.

    ``writable`` folders are mounted read-write at their own paths, ``readable`` ones read-only;
    ``hidden`` paths (the course folder) are covered by an empty tmpfs if they happen to lie
    inside a mounted folder, as the kit's own ``solutions/`` and ``autograder/`` always are.
    """

    writable: tuple[Path, ...]
    readable: tuple[Path, ...] = ()
    hidden: tuple[Path, ...] = ()
    mapped: tuple[tuple[Path, Path], ...] = ()  # (folder here, path inside), read-write
    limits: Limits = field(default_factory=Limits)
    env: tuple[tuple[str, str], ...] = ()

    def command(
        self,
        argv: list[str],
        cwd: Path | None = None,
        cgroup: Path | list[Path] | tuple[Path, ...] | None = None,
    ) -> list[str]:
        """``argv`` run inside this sandbox (``cwd`` inside it), with the limits applied.

        ``cgroup``: the cgroup(s) the sandbox joins (:attr:`ProcessGroup.paths`).
        """
        bwrap = shutil.which("bwrap")
        if bwrap is None:
            raise SandboxUnavailable(f"bubblewrap (bwrap) is not installed; {HOW_TO_ENABLE}")
        args = [
            "--unshare-all",
            "--die-with-parent",
            "--new-session",
            "--cap-drop",
            "ALL",
            "--hostname",
            "grading",
            "--proc",
            "/proc",
            "--dev",
            "/dev",
            *_sized_tmpfs(self.limits.shm_mb, "/dev/shm"),
            "--remount-ro",
            "/dev",
            *_sized_tmpfs(self.limits.tmp_mb, "/tmp"),
        ]
        args += _system_mounts()
        args += self._mounts()
        args += ["--clearenv"]
        for key, value in self._environment(cwd).items():
            args += ["--setenv", key, value]
        if cwd is not None:
            args += ["--chdir", str(cwd)]
        launcher = [sys.executable, "-I", "-S", str(Path(__file__).with_name("bwrap_exec.py")), bwrap]
        return [*_limits_prefix(self.limits, cgroup), *launcher, *args, "--", *argv]

    def _mounts(self) -> list[str]:
        """bwrap's options for the sandbox's own folders, in the order they must stack: the Python
        installation and ``readable``, read-only (a path inside one already mounted is not mounted
        again); the masks over them (the kit's secrets and ``hidden``: an empty tmpfs over a folder,
        /dev/null over a file); then ``writable`` and ``mapped``, read-write, which may lie inside a
        mask."""
        args: list[str] = []
        mounted: list[Path] = []
        for path in _python_paths() + [Path(p) for p in self.readable]:
            if path.exists() and not any(_inside(path, m) for m in mounted):
                args += ["--ro-bind", str(path), str(path)]
                mounted.append(path)
        # Masks go over the read-only mounts, before the writable ones (which may lie inside a mask).
        for path in [*_kit_secrets(), *map(Path, self.hidden)]:
            if any(_inside(path, m) for m in mounted):
                args += (
                    ["--tmpfs", str(path)]
                    if path.is_dir() or not path.exists()
                    else ["--ro-bind", "/dev/null", str(path)]
                )
        for path in self.writable:
            args += ["--bind", str(path), str(path)]
        for source, target in self.mapped:
            args += ["--bind", str(source), str(target)]
        return args

    def _environment(self, cwd: Path | None) -> dict[str, str]:
        """The sandbox's whole environment (bwrap clears the caller's): a fixed, single-threaded one
        that finds the kit, with ``env`` on top; ``HOME`` is ``cwd``."""
        return {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "HOME": str(cwd or "/tmp"),
            "PYTHONPATH": os.pathsep.join(str(p) for p in _kit_paths()),
            "PYTHONDONTWRITEBYTECODE": "1",
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "MPLBACKEND": "Agg",
            "PYTHONHASHSEED": "0",
            "MPLCONFIGDIR": "/tmp/matplotlib",
            **dict(self.env),
        }


def _sized_tmpfs(size_mb: int, path: str) -> list[str]:
    """A tmpfs at ``path`` of ``size_mb`` MiB (bwrap's default, half the host's memory, is never used)."""
    return ["--size", str(max(1, int(size_mb)) * 2**20), "--tmpfs", path]


def _inside(path: Path, folder: Path) -> bool:
    path, folder = Path(path), Path(folder)
    return path == folder or folder in path.parents


def _system_mounts() -> list[str]:
    """``/usr`` read-only, the merged-``/usr`` links (or folders) beside it, a few ``/etc`` files."""
    args = ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = Path("/") / name
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    for name in ETC_FILES:
        path = Path("/etc") / name
        if path.exists():
            args += ["--ro-bind", str(path), str(path)]
    return args


@functools.cache
def _kit_paths() -> tuple[Path, ...]:
    """The folder the ``deepfakelab`` package is imported from (a repo's ``lib/`` or site-packages)."""
    return (Path(deepfakelab.__file__).resolve().parent.parent,)


@functools.cache
def _python_paths() -> list[Path]:
    """The interpreter, the standard library, the venv and every folder on ``sys.path``."""
    paths = [
        Path(sys.base_prefix),
        Path(sys.base_exec_prefix),
        Path(sys.prefix),
        Path(sys.exec_prefix),
        Path(sys.executable).resolve().parent,
        *_kit_paths(),
    ]
    paths += [Path(p) for p in sys.path if p and Path(p).is_dir() and Path(p).is_absolute()]
    unique = []
    for path in sorted({p.resolve() for p in paths}, key=lambda p: len(p.parts)):
        if path != Path("/") and not any(_inside(path, u) for u in unique):
            unique.append(path)
    return unique


@functools.cache
def _kit_secrets() -> tuple[Path, ...]:
    """The kit's instructor material, masked wherever a mounted folder would show it."""
    try:
        root = kit_root()
    except Exception:  # an installed kit without its repository: nothing to mask
        return ()
    return tuple(root / name for name in ("solutions", "autograder", "tests", ".git"))


def _limits_prefix(limits: Limits, cgroup: Path | list[Path] | tuple[Path, ...] | None) -> list[str]:
    """``sh`` joins the cgroups, ``prlimit`` sets the rlimits, then bwrap starts (inheriting both)."""
    prlimit = shutil.which("prlimit")
    if prlimit is None:
        raise SandboxUnavailable(
            "prlimit (util-linux) is not installed; it sets the sandbox's resource limits"
        )
    args = [prlimit, "--core=0"]
    if limits.memory_mb:
        args.append(f"--as={int(limits.memory_mb) * 1024 * 1024}")
    if limits.cpu_seconds:
        args.append(f"--cpu={int(limits.cpu_seconds)}")
    if limits.file_mb:
        args.append(f"--fsize={int(limits.file_mb) * 1024 * 1024}")
    if limits.processes and not _cgroups(cgroup) and os.getuid() != 0:
        args.append(f"--nproc={_processes_of_this_user() + int(limits.processes)}")
    args.append("--")
    for path in reversed(_cgroups(cgroup)):  # each sh joins one and execs the next: the same process
        args = ["/bin/sh", "-c", 'echo $$ > "$0" && exec "$@"', str(path / "cgroup.procs"), *args]
    return args


def _cgroups(cgroup: Path | list[Path] | tuple[Path, ...] | None) -> list[Path]:
    if cgroup is None:
        return []
    return [Path(cgroup)] if isinstance(cgroup, (str, Path)) else [Path(p) for p in cgroup]


def _processes_of_this_user() -> int:
    """RLIMIT_NPROC counts every process of the user, so the cap is added to today's count."""
    uid = os.getuid()
    return sum(1 for p in psutil.process_iter(["uids"]) if p.info["uids"] and p.info["uids"].real == uid)


class ProcessGroup:
    """The cgroups of one sandbox: ``pids`` (always tried) and ``memory`` (with ``memory_mb``).

    ``path`` is the pids cgroup, None where this user may not make one; ``paths`` lists every
    cgroup made (the sandbox joins them all). The memory cgroup caps what the whole sandbox
    holds, tmpfs files included, which no per-process limit counts: on cgroup v2 it is the
    same cgroup (``memory.max``), on v1 one of its own under ``/sys/fs/cgroup/memory``. Where
    it cannot be made, the per-process address-space limit and the sized tmpfs mounts still hold.

    Use as a context manager: the cgroups are removed at the end (their processes are gone by
    then, since the sandbox kills them when it ends). Their names carry this process's pid, so
    the next run removes them if this one is killed first (:func:`.leftovers.sweep`).
    """

    def __init__(self, processes: int, memory_mb: int = 0):
        self.path: Path | None = None
        self.paths: list[Path] = []
        if processes > 0:
            self.path = _make_cgroup(CGROUP_ROOTS, "pids.max", str(int(processes)))
            self.paths += [self.path] if self.path else []
        if memory_mb > 0:
            limit = str(int(memory_mb) * 2**20)
            if self.path is not None and _write_setting(self.path / "memory.max", limit):
                return  # cgroup v2: one cgroup holds both limits
            memory = _make_cgroup(leftovers.MEMORY_CGROUP_ROOTS, "memory.limit_in_bytes", limit)
            self.paths += [memory] if memory else []

    def __enter__(self) -> "ProcessGroup":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Remove the cgroups, waiting up to 5 s for the kernel to reap their last processes.

        They are usually gone within milliseconds of the sandbox's end, so the first waits are
        short (a fixed 0.1 s cost every sandbox that long); a cgroup still busy after 5 s is left
        to the next run's sweep.
        """
        deadline = time.monotonic() + 5.0
        for path in self.paths:
            pause = 0.002
            while True:
                try:
                    path.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        break
                    time.sleep(pause)
                    pause = min(pause * 2, 0.1)
        self.path, self.paths = None, []


def _write_setting(path: Path, value: str) -> bool:
    try:
        path.write_text(value)
        return True
    except OSError:
        return False


def _make_cgroup(roots: tuple[Path, ...], setting: str, value: str) -> Path | None:
    """A new cgroup under the first of ``roots`` where it can be made with ``setting`` = ``value``."""
    for root in roots:
        if not os.access(root, os.W_OK):
            continue
        path = root / f"{leftovers.prefix(leftovers.CGROUP_KIND)}{secrets.token_hex(4)}"
        try:
            path.mkdir()
        except OSError:
            continue
        if _write_setting(path / setting, value):
            return path
        path.rmdir()  # no such controller here
    return None


@functools.cache
def availability() -> str | None:
    """``None`` when bubblewrap can make a sandbox here, else one line saying why not and how to fix it."""
    try:
        cmd = Sandbox(writable=()).command([sys.executable, "-c", "import deepfakelab"], cwd=Path("/tmp"))
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    except SandboxUnavailable as exc:
        return str(exc)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap could not start ({exc}); {HOW_TO_ENABLE}"
    if proc.returncode != 0:
        why = (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]
        return f"bubblewrap cannot make a sandbox here ({why}); {HOW_TO_ENABLE}"
    return None
