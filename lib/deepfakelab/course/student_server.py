"""The process in the sandbox that calls a student's functions for the hidden checks.

``python -m deepfakelab.course.student_server NOTEBOOK [PROBES.py]`` loads the definitions of
the notebook's answer cells (:mod:`.student_code`: imports, defs and classes, no other code of
theirs), then answers requests on stdin with results on stdout, as :mod:`.wire` frames:

- ``{"op": "call", "name": ..., "args": [...], "kwargs": {...}}`` calls the student's function;
- ``{"op": "probe", "name": ..., ...}`` calls ``PROBES.name(student, *args, **kwargs)``: a
  function of the instructor's that uses what a student returns (a module, an optimiser step, a
  figure) and reduces it to data, for checks that cannot receive objects.

Each answer is ``{"value": ...}`` or ``{"error": {"type": ..., "message": ...}}``. The checks
themselves -- what is right, what scores -- never run here: this process holds student code,
so whatever it says is only data for the checks outside to judge. Anything the student's code
prints goes to stderr, which the grader discards, not into the answer stream.
"""

from __future__ import annotations

import importlib.util
import os
import sys


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # The answer stream is a private copy of stdout; fd 1 (print, C libraries) goes to stderr.
    answers = os.fdopen(os.dup(1), "wb")
    requests = os.fdopen(os.dup(0), "rb")
    os.dup2(2, 1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    from . import wire
    from .student_code import load_student_namespace

    student, problems = load_student_namespace(argv[0])
    probes = None
    if len(argv) > 1:
        spec = importlib.util.spec_from_file_location("dfl_probes", argv[1])
        probes = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(probes)
    names = sorted(n for n, v in vars(student).items() if callable(v) and not n.startswith("_"))
    wire.send(answers, {"ready": True, "callables": names, "problems": problems})
    while True:
        try:
            request = wire.receive(requests)
        except EOFError:
            return 0
        try:
            if request.get("op") == "probe" and probes is not None:
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
                payload = {"error": {"type": type(exc).__name__, "message": f"{exc}"[:2000]}}
        wire.send(answers, payload)


if __name__ == "__main__":
    raise SystemExit(main())
