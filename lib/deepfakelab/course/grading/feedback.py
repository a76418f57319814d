"""Feedback pages: nbgrader's HTML of one student's graded notebooks, in a process of its own.

Feedback renders what the student wrote (nbconvert's markdown and maths patterns, a walk of every
file beside the notebook), so a hostile submission can make it slow; run in the grading process
it would hold up every result behind it. So each student's feedback is written by a process
forked from the workers' server (:mod:`.pool`), stopped after :data:`FEEDBACK_TIMEOUT` s, and its
pages get a Content-Security-Policy (:func:`.sanitize.add_feedback_csp`). A failure or a
time-out is one line for the report, never raised: the grade is already recorded.
"""

from __future__ import annotations

import threading
from pathlib import Path

from ..layout import Course
from ..release import nbgrader_api
from .pool import kill_tree, main_module_hidden, process_context, receive_within
from .sanitize import add_feedback_csp

#: Seconds nbgrader may take to write one student's feedback before it is stopped.
FEEDBACK_TIMEOUT = 120.0


def _feedback_main(root: str, assignment: str, student: str, conn) -> None:
    """Entry point of the process that writes one student's feedback (see :func:`write_student_feedback`)."""
    try:
        result = nbgrader_api(Path(root)).generate_feedback(assignment, student, force=True)
        if result.get("success"):  # issue 32: the pages forbid script (sanitize.add_feedback_csp)
            add_feedback_csp(Path(root) / "feedback" / student / assignment)
        result = {
            "success": bool(result.get("success")),
            "error": str(result.get("error") or ""),
            "log": str(result.get("log") or "")[-2000:],
        }
    except Exception as exc:  # reported to the grading process as this student's problem
        result = {"success": False, "error": f"{type(exc).__name__}: {exc}", "log": ""}
    conn.send(result)
    conn.close()


def write_student_feedback(
    course: Course,
    assignment: str,
    student: str,
    timeout: float = FEEDBACK_TIMEOUT,
    stop: threading.Event | None = None,
) -> str | None:
    """nbgrader's feedback HTML for one student, in a process of its own stopped after ``timeout`` s.

    Returns None when the pages were written (or there was nothing readable to write them for:
    the CSV and the gradebook say why), else the problem, in one line for the report.
    """
    if not any(course.autograded(assignment, student).glob("*.ipynb")):
        return None
    ctx = process_context()
    receive, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(
        target=_feedback_main, args=(str(course.root), assignment, student, send), daemon=False
    )
    with main_module_hidden():
        proc.start()
    send.close()
    try:
        result = receive_within(receive, timeout, stop)
    finally:
        receive.close()
        proc.join(1)
        if proc.is_alive():
            kill_tree(proc.pid)
    if result is None:
        why = (
            "stopped with the run"
            if stop is not None and stop.is_set()
            else f"did not finish within {timeout:.0f} s"
        )
        return f"feedback: {why}; its grade is recorded (rerun `grade` to write it)"
    if not result.get("success"):
        return "feedback: " + (result.get("error") or result.get("log") or "")[-500:]
    return None
