"""A student's functions as seen by the hidden checks: calls into the sandbox, data back.

The hidden checks run in a process that never executes a student's code; the ``student``
fixture is a :class:`RemoteStudent`, which starts :mod:`.student_server` in the submission's
sandbox (:mod:`.bubblewrap`) and forwards each call there. Arguments and results cross as
data (:mod:`.wire`); an exception in the student's code comes back as its type and message and
is raised here as the same built-in exception (``IndexError`` stays ``IndexError``, so a check
can expect one) or as :class:`StudentError`. A call that runs past its time limit, or that
ends the server (``os._exit``, a memory bomb), fails only that call; the next one starts a
fresh server. Started without a notebook, the same server holds no student code and decodes
media files instead (:mod:`.sandboxed_media`).

A student's error message is the student's text: it reaches the check (and may reach the
student's feedback) cut to :data:`.wire.MESSAGE_CHARS` and with the grader's private folders named by
no path (:func:`without_private_paths`), since the student's code could read those paths in its
sandbox (``/proc/1/cmdline``) but has no business carrying them out.
"""

from __future__ import annotations

import builtins
import contextlib
import os
import re
import resource
import shutil
import subprocess
import sys
import threading
from pathlib import Path

from . import leftovers, wire
from ..probes import checked_name
from .bubblewrap import Limits, ProcessGroup, Sandbox

#: Built-in exceptions a student's error is re-raised as; any other becomes a StudentError.
RERAISED = (
    IndexError,
    KeyError,
    ValueError,
    TypeError,
    ZeroDivisionError,
    NotImplementedError,
    AttributeError,
    RuntimeError,
    ArithmeticError,
    LookupError,
    MemoryError,
    RecursionError,
    OverflowError,
)


#: A path through one of the grader's temporary folders (see :mod:`.leftovers`), up to that folder.
_PRIVATE = re.compile(
    r"(?:/[^\s/'\"]+)*/(?:%s)\d+-[^\s/'\"]*"
    % "|".join(
        re.escape(kind) for kind in (*leftovers.TEMP_KINDS, leftovers.STAGING_KIND, leftovers.CGROUP_KIND)
    )
)


def without_private_paths(text: str, folders=()) -> str:
    """``text`` with the grader's temporary folders and ``folders`` (the course) replaced by ``…``."""
    for folder in sorted({str(f) for f in folders if str(f) not in ("", "/")}, key=len, reverse=True):
        text = text.replace(folder, "…")
    return _PRIVATE.sub("…", text)


class StudentError(Exception):
    """An exception raised by the student's code, or the end of the process that ran it."""


class RemoteFunction:
    """A student's function: calling it runs it in the sandbox and returns its result as data."""

    def __init__(self, student: "RemoteStudent", name: str):
        self._student, self.__name__ = student, name

    def __call__(self, *args, **kwargs):
        return self._student.call(self.__name__, *args, **kwargs)

    def __repr__(self) -> str:
        return f"<student function {self.__name__}>"


class RemoteStudent:
    """The student's definitions of one graded notebook, in a sandboxed server process.

    ``exchange`` is a folder both sides see (at the same path): a check writes input files
    there (a test video) and passes their paths. ``notebook=None`` starts a decoder that loads
    no student code (see :meth:`decode`).
    """

    def __init__(
        self,
        notebook: Path | None,
        probes: str | None = None,
        *,
        sandbox: bool = True,
        memory_mb: int = 8192,
        call_timeout: float = 120.0,
        hide: list[Path] = (),
    ):
        self._hide = tuple(hide)
        self._scratch = leftovers.private_folder("dfl-student-")
        (self._scratch / "in").mkdir()
        self.exchange = self._scratch / "exchange"
        self.exchange.mkdir()
        (self._scratch / "work").mkdir()
        self._notebook = None
        if notebook is not None:
            self._notebook = self._scratch / "in" / "notebook.ipynb"
            shutil.copyfile(notebook, self._notebook)
        # A module name of the kit's (see .probes), imported there: no file of the checks is copied in.
        self._probes = None if probes is None else checked_name(probes)
        self._sandboxed, self._memory_mb, self.call_timeout = sandbox, memory_mb, call_timeout
        self._proc: subprocess.Popen | None = None
        self._group = None
        self.callables: list[str] = []
        self.problems: list[str] = []
        self._start()

    # --- the server --------------------------------------------------------------------------
    def _command(self) -> list[str]:
        argv = [
            sys.executable,
            "-m",
            "deepfakelab.course.sandbox.student_server",
            str(self._notebook) if self._notebook is not None else "--decode",
        ]
        if self._probes is not None:
            argv.append(self._probes)
        if not self._sandboxed:
            return argv
        limits = Limits(memory_mb=self._memory_mb, processes=256, file_mb=256)
        self._group = ProcessGroup(limits.processes, limits.total_mb())
        return Sandbox(
            writable=(self._scratch,),
            limits=limits,
            hidden=self._hide,
            env=(("NBGRADER_EXECUTION", "autograde"),),
        ).command(argv, cwd=self._scratch / "work", cgroup=self._group.paths)

    def _start(self) -> None:
        memory = self._memory_mb

        def limit():  # without the sandbox: today's same-user limits
            os.setsid()
            if memory > 0:
                resource.setrlimit(resource.RLIMIT_AS, (memory * 2**20, memory * 2**20))
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

        env = {**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1"}
        self._proc = subprocess.Popen(
            self._command(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=self._scratch / "work",
            env=env,
            preexec_fn=None if self._sandboxed else limit,
        )
        hello = self._exchange(None, self.call_timeout)
        if "error" in hello:
            raise StudentError(self._cleaned(hello["error"]["message"]))
        self.callables = [str(n) for n in hello.get("callables", [])]
        self.problems = [str(p) for p in hello.get("problems", [])]

    def _stop(self) -> None:
        if self._proc is not None:
            with contextlib.suppress(OSError):
                self._proc.stdin.close()
            with contextlib.suppress(ProcessLookupError):
                self._proc.kill()
            self._proc.wait()
            self._proc.stdout.close()
            self._proc = None
        if self._group is not None:
            self._group.close()
            self._group = None

    def close(self) -> None:
        self._stop()
        shutil.rmtree(self._scratch, ignore_errors=True)

    def __enter__(self) -> "RemoteStudent":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _exchange(self, request: dict | None, timeout: float) -> dict:
        """Send ``request`` (None: read the greeting) and return the answer, within ``timeout`` s."""
        proc = self._proc
        expired = threading.Event()

        def stop():
            expired.set()
            with contextlib.suppress(ProcessLookupError):
                proc.kill()

        timer = threading.Timer(timeout, stop)
        timer.start()
        try:
            if request is not None:
                wire.send(proc.stdin, request)
            return wire.receive(proc.stdout)
        except (EOFError, BrokenPipeError, wire.WireError) as exc:
            self._stop()
            if expired.is_set():
                return {
                    "error": {"type": "TimeoutError", "message": f"did not finish within {timeout:.0f} s"}
                }
            if isinstance(exc, wire.WireError):
                return {"error": {"type": "WireError", "message": f"sent back something unreadable ({exc})"}}
            code = proc.wait()
            why = (
                "ran out of memory or was killed"
                if code in (-9, 137)
                else f"ended the process (exit status {code})"
            )
            return {"error": {"type": "ProcessEnded", "message": f"your code {why}"}}
        finally:
            timer.cancel()

    # --- calls -------------------------------------------------------------------------------
    def _cleaned(self, message: str) -> str:
        """A message of the student's code as a check may show it: short, and naming no private folder."""
        folders = (self._scratch, self._scratch.resolve(), *self._hide)
        return without_private_paths(str(message), folders)[: wire.MESSAGE_CHARS]

    def _answer(self, op: str, name: str, args: tuple, kwargs: dict) -> dict:
        if self._proc is None or self._proc.poll() is not None:
            self._stop()
            self._start()
        return self._exchange(
            {"op": op, "name": name, "args": list(args), "kwargs": kwargs}, self.call_timeout
        )

    def _request(self, op: str, name: str, args: tuple, kwargs: dict):
        answer = self._answer(op, name, args, kwargs)
        if "error" in answer:
            kind, message = (
                str(answer["error"].get("type"))[:80],
                self._cleaned(answer["error"].get("message")),
            )
            cls = getattr(builtins, kind, None)
            if isinstance(cls, type) and issubclass(cls, RERAISED):
                raise cls(message)
            where = f"`{name}`" if op == "call" else "your code"
            raise StudentError(
                f"{where} raised {kind}: {message}"
                if kind not in ("TimeoutError", "ProcessEnded", "WireError")
                else f"{where} {message}"
            )
        return answer.get("value")

    def call(self, name: str, *args, **kwargs):
        """``name(*args, **kwargs)`` of the student's, run in the sandbox."""
        return self._request("call", name, args, kwargs)

    def probe(self, name: str, *args, **kwargs):
        """The probe ``name(student, *args, **kwargs)`` of the kit's probes module (see :mod:`..probes`)."""
        return self._request("probe", name, args, kwargs)

    def decode(self, kind: str, *args) -> dict:
        """The answer (``{"value": ...}`` or ``{"error": ...}``) of the decoder started without a notebook."""
        if self._notebook is not None:
            raise ValueError("media are decoded by a server without student code (RemoteStudent(None))")
        return self._answer("decode", kind, args, {})

    def function(self, name: str) -> RemoteFunction | None:
        return RemoteFunction(self, name) if name in self.callables else None

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        fn = self.function(name)
        if fn is None:
            raise AttributeError(f"`{name}` is not defined in the answer cells")
        return fn
