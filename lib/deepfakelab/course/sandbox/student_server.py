"""The process in the sandbox that calls a student's functions for the hidden checks.

``python -m deepfakelab.course.sandbox.student_server NOTEBOOK [PROBES]`` imports the kit's probes module
``PROBES`` by name (a module of :mod:`..probes`: public code that holds no answers, so nothing of
the hidden checks enters the sandbox), loads the definitions of the notebook's answer cells
(:mod:`.student_code`: imports, defs and classes, no other code of theirs), then answers
requests on stdin with results on stdout, as :mod:`.wire` frames:

- ``{"op": "call", "name": ..., "args": [...], "kwargs": {...}}`` calls the student's function;
- ``{"op": "probe", "name": ..., ...}`` calls ``PROBES.name(student, *args, **kwargs)``: a
  probe that uses what a student returns (a module, an optimiser step, a figure) and reduces
  it to data, for checks that cannot receive objects.

``python -m deepfakelab.course.sandbox.student_server --decode`` loads no student code and answers only
``{"op": "decode", "name": KIND, "args": [BYTES, FILENAME, ...]}``: a media file decoded by the kit
(:func:`.sandboxed_media.decode`), so that the grading process never parses one. The other server
refuses to decode: what a process holding student code says a file contains proves nothing.

Each answer is ``{"value": ...}`` or ``{"error": {"type": ..., "message": ...}}``. The checks
themselves -- what is right, what scores -- never run here: this process holds student code,
so whatever it says is only data for the checks outside to judge. Anything the student's code
prints goes to stderr, which the grader discards, not into the answer stream. An error's message
is the student's text, so it is cut to :data:`.wire.MESSAGE_CHARS` here (and cleaned outside, by
:mod:`.remote_student` and :mod:`..grading.hidden`).
"""

from __future__ import annotations

import importlib
import os
import sys

from ..probes import checked_name
from . import wire
from .sandboxed_media import decode
from .student_code import load_student_namespace


def _load_probes(name: str):
    """The kit's probes module ``name``, imported before any student code is loaded (see :mod:`..probes`)."""
    return importlib.import_module(checked_name(name))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # The answer stream is a private copy of stdout; fd 1 (print, C libraries) goes to stderr.
    answers = os.fdopen(os.dup(1), "wb")
    requests = os.fdopen(os.dup(0), "rb")
    os.dup2(2, 1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)

    decoder = argv[0] == "--decode"
    probes = _load_probes(argv[1]) if len(argv) > 1 and not decoder else None
    student, problems = (None, []) if decoder else load_student_namespace(argv[0])
    names = (
        []
        if decoder
        else sorted(n for n, v in vars(student).items() if callable(v) and not n.startswith("_"))
    )
    wire.send(answers, {"ready": True, "callables": names, "problems": problems})
    while True:
        try:
            request = wire.receive(requests)
        except EOFError:
            return 0
        try:
            if decoder or request.get("op") == "decode":
                if not decoder:
                    raise PermissionError("this server holds student code; media are decoded by another")
                value = decode(str(request["name"]), *request.get("args", []))
            elif request.get("op") == "probe" and probes is not None:
                fn = getattr(probes, str(request["name"]))
                value = fn(student, *request.get("args", []), **request.get("kwargs", {}))
            else:
                fn = getattr(student, str(request["name"]))
                value = fn(*request.get("args", []), **request.get("kwargs", {}))
            payload = {"value": value}
            wire.dumps(payload)  # refuse a value that cannot cross before answering
        except BaseException as exc:  # the student's error, reported as data
            if isinstance(exc, (SystemExit, KeyboardInterrupt)):
                payload = {"error": {"type": type(exc).__name__, "message": "the function tried to exit"}}
            else:
                payload = {"error": {"type": type(exc).__name__, "message": f"{exc}"[: wire.MESSAGE_CHARS]}}
        wire.send(answers, payload)


if __name__ == "__main__":
    raise SystemExit(main())
