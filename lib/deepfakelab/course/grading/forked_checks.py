"""The hidden checks' pytest in a forked child of the grading worker, not in a new interpreter.

A fresh ``python -m pytest`` costs about a third of a second per graded notebook in interpreter
start and imports, on a machine whose cores the submissions share. The worker was forked from a
server that has imported pytest and the checks' plugin already (:data:`.worker.PRELOAD`), so a
fork of it starts the checks at once.

The trust is the same as before: the worker never runs student code (it reads notebooks as data
and hears from the sandboxed kernel only through messages), so its child holds none either; the
student's functions are still called only in the sandbox (:mod:`..sandbox.remote_student`), and the child
gets the limits the separate process had (its own session, the address-space cap).

A process is only forked while it has a single thread (a fork of a threaded process can inherit
a lock held by another thread, and deadlock on it); otherwise -- the deciding process scoring a
killed worker's cells, for one -- :func:`run_pytest` returns None and the caller starts
``python -m pytest`` as before.
"""

from __future__ import annotations

import gc
import os
import resource
import select
import signal
import sys
import time
import traceback
from pathlib import Path

import pytest

#: Exit status of a child that failed before pytest could report one.
CHILD_FAILED = 70


def single_threaded() -> bool:
    """Whether this process has one thread, C threads (zmq's, OpenMP's) included: safe to fork."""
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return False


def run_pytest(
    args: list[str], cwd: Path, env: dict[str, str], memory_mb: int, timeout: float, log: Path
) -> int | None:
    """``pytest.main(args)`` in a forked child: its exit status, or None where forking is not safe.

    The child runs in ``cwd`` with ``env`` added to its environment, in a session of its own and
    (``memory_mb`` > 0) under that address-space limit; its stdout and stderr go to ``log``.
    Raises :class:`TimeoutError` after killing it (its session) once ``timeout`` s have passed.
    """
    if not single_threaded():
        return None
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        code = CHILD_FAILED
        try:
            os.setsid()
            out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(out, 1)
            os.dup2(out, 2)
            devnull = os.open(os.devnull, os.O_RDONLY)
            os.dup2(devnull, 0)
            # Nothing of the worker's stays open here: not its result pipe (the parent must see the
            # worker's end as soon as the worker ends), its gradebook or the kernel's sockets.
            _release_inherited_fds(devnull)
            # The parent's sys.stdout/stderr may wrap descriptors just released (a test's capture):
            # write to the log through fds 1 and 2 themselves.
            sys.stdout = open(1, "w", closefd=False, buffering=1, errors="replace")
            sys.stderr = open(2, "w", closefd=False, buffering=1, errors="replace")
            os.chdir(cwd)
            os.environ.update(env)
            sys.dont_write_bytecode = True
            if memory_mb > 0:
                limit = memory_mb * 2**20
                resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
            gc.freeze()  # the worker's objects: pytest's closing gc.collect() then skips them
            code = int(pytest.main(list(args)))
        except BaseException:  # reported through the log and the exit status
            traceback.print_exc()
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(code)  # no atexit handlers or finalizers of the parent's objects
    return _wait(pid, timeout)


def _release_inherited_fds(devnull: int) -> None:
    """Let go of every descriptor the fork inherited, keeping their numbers taken (by ``/dev/null``).

    Closing them (``closerange``) would free their numbers while the worker's Python objects that
    own them (a pipe, a socket, a selector of jupyter_client's) live on in this child: the pipes
    to the sandboxed student server and decoder would then get those numbers, and the first such
    object to be finalised here would close one of them -- ``OSError: [Errno 9] Bad file
    descriptor`` in the middle of a hidden check, at random, more often under load. Pointing each
    number at ``/dev/null`` drops the worker's pipes and sockets all the same, and a later close
    of an old number closes only that.
    """
    for fd in _open_fds():
        if fd > 2 and fd != devnull:
            try:
                os.dup2(devnull, fd, inheritable=False)
            except OSError:  # closed meanwhile
                pass


def _open_fds() -> list[int]:
    try:
        return [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:  # no /proc: every number up to the limit
        return list(range(3, min(os.sysconf("SC_OPEN_MAX"), 65536)))


def _wait(pid: int, timeout: float) -> int:
    """The exit status of child ``pid``; kill its session and raise TimeoutError after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):  # before Linux 5.3: poll
        pidfd = None
    try:
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return os.waitstatus_to_exitcode(status)
            left = deadline - time.monotonic()
            if left <= 0:
                break
            if pidfd is not None:
                select.select([pidfd], [], [], left)
            else:
                time.sleep(min(0.01, left))
    finally:
        if pidfd is not None:
            os.close(pidfd)
    for kill in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
        try:
            kill()
        except ProcessLookupError:  # not yet its own session, or gone
            pass
    os.waitpid(pid, 0)
    raise TimeoutError(f"pytest did not finish within {timeout:.0f} s")
