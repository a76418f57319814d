"""The pytest plugin that runs the hidden checks over a graded notebook's artifacts.

The worker runs, in a separate process from the student's kernel::

    python -m pytest HIDDEN_CHECKS/ASSIGNMENT -p deepfakelab.course.grading.hidden \\
        --dfl-artifacts DIR --dfl-notebook NB --dfl-results OUT.json [--dfl-no-sandbox]

No student code runs in this process: the ``student`` fixture is a
:class:`~..sandbox.remote_student.RemoteStudent`, whose calls run in the submission's sandbox and
return data, so the checks, their verdicts and the results file stay out of the student's reach.

Each check is a test marked ``@pytest.mark.grade("grade_id")`` naming the notebook's graded
cell it decides. A check says what to fix with its assertion message
(``assert ok, "frames.json: index 12 was asked for, found 13"``); only that message -- never the
assertion's code -- reaches the student. Fixtures: ``artifacts`` (the artifact folder),
``notebook_path`` and ``student`` (the student's definitions, see :mod:`..sandbox.student_code`, called
remotely; ``student.probe(name, ...)`` runs ``name(student, ...)`` of the kit's probes module
that the checks name (``PROBES = "deepfakelab.course.probes.lab2"``, see :mod:`..probes`)
beside them, for checks of what cannot cross as data, such as a ``torch.nn.Module``;
``student.exchange`` is a folder both sides see, for input files). Videos and images the
notebook wrote are decoded by :func:`..sandbox.sandboxed_media.media_files`, in a sandbox of their own:
never in this process.

Nothing of the checks enters a sandbox (their folder is hidden there too), and what a check
reports is cleaned before it is written (:func:`_message`): a student function that found the
checks' source anyway could otherwise raise it into its own feedback.
"""

from __future__ import annotations

import ast
import errno
import functools
import json
from pathlib import Path

import pytest

from ..sandbox import sandboxed_media
import deepfakelab

from ..sandbox.remote_student import RemoteStudent, without_private_paths

#: Longest message a check reports; assertion messages are a line or two of advice.
MESSAGE_CHARS = 600
#: Shortest run of a student's error message that is withheld when the checks' files hold it verbatim.
SOURCE_RUN = 20
#: Shortest line of the checks' files that is withheld from any message (shorter ones are ``else:``).
SOURCE_LINE = 12
#: Exceptions whose message the checks wrote (as advice); any other's text may be the student's.
_CHECKS_OWN = ("AssertionError", "Failed", "ArtifactError")

_RESULTS: list[dict] = []


def pytest_addoption(parser):
    group = parser.getgroup("deepfakelab hidden checks")
    group.addoption("--dfl-artifacts", help="folder of the artifacts the notebook saved")
    group.addoption("--dfl-notebook", help="the executed (autograded) notebook")
    group.addoption("--dfl-results", help="JSON file to write the per-check results to")
    group.addoption(
        "--dfl-probes", help="the kit's probes module (deepfakelab.course.probes.NAME) the checks use"
    )
    group.addoption("--dfl-no-sandbox", action="store_true", help="run the student's code without bubblewrap")
    group.addoption(
        "--dfl-memory-mb", type=int, default=8192, help="address-space limit of the student's code"
    )
    group.addoption(
        "--dfl-hide", action="append", default=[], help="a folder the sandbox must not show (the course)"
    )
    group.addoption(
        "--dfl-call-timeout", type=float, default=120.0, help="seconds one call of a student function may run"
    )


def pytest_configure(config):
    config.addinivalue_line("markers", "grade(grade_id): the graded notebook cell this check decides")
    sandboxed_media.configure(
        sandbox=not config.getoption("--dfl-no-sandbox"),
        memory_mb=config.getoption("--dfl-memory-mb"),
        timeout=config.getoption("--dfl-call-timeout"),
        hide=_hidden_folders(config),
    )


def pytest_unconfigure(config):
    sandboxed_media.configure()  # ends the decoder


@pytest.fixture(scope="session")
def artifacts(pytestconfig) -> Path:
    return Path(pytestconfig.getoption("--dfl-artifacts"))


@pytest.fixture(scope="session")
def notebook_path(pytestconfig) -> Path:
    return Path(pytestconfig.getoption("--dfl-notebook"))


def _hidden_folders(config) -> tuple[Path, ...]:
    """What no sandbox may show: the ``--dfl-hide`` folders and the checks' own.

    pytest puts the checks' folder on ``sys.path``, and the sandbox mounts the folders of
    ``sys.path``. A folder that holds the kit's package is never hidden (the sandbox imports it).
    """
    kit = Path(deepfakelab.__file__).resolve().parent
    given = (Path(str(arg).split("::")[0]).resolve() for arg in config.args)
    checks = {path if path.is_dir() else path.parent for path in given}
    checks = {folder for folder in checks if folder != kit and folder not in kit.parents}
    return (*(Path(p) for p in config.getoption("--dfl-hide")), *sorted(checks))


@pytest.fixture(scope="session")
def student(pytestconfig, notebook_path):
    with RemoteStudent(
        notebook_path,
        pytestconfig.getoption("--dfl-probes") or None,
        sandbox=not pytestconfig.getoption("--dfl-no-sandbox"),
        memory_mb=pytestconfig.getoption("--dfl-memory-mb"),
        call_timeout=pytestconfig.getoption("--dfl-call-timeout"),
        hide=list(_hidden_folders(pytestconfig)),
    ) as remote:
        yield remote


def student_function(student, name: str):
    """The student's function ``name`` (called in the sandbox), or a failure naming the cell to complete."""
    # A RemoteStudent when grading; a plain namespace of functions when a test calls a check directly.
    fn = student.function(name) if hasattr(student, "function") else getattr(student, name, None)
    if not callable(fn):
        pytest.fail(f"`{name}` is not defined in your answer cells; write it in the cell that asks for it")
    return fn


def _text(exc) -> str:
    """What a failed check says, as it was raised."""
    if isinstance(exc, AssertionError):
        return str(exc).strip() or "a hidden check failed without a message"
    if isinstance(exc, pytest.fail.Exception):
        return str(exc.msg if hasattr(exc, "msg") else exc)
    name = type(exc).__name__
    text = str(exc).strip()
    if name in ("ArtifactError", "StudentError"):
        return text
    return f"{name}: {text}" if text else name


@functools.cache
def _checks_source(folder: Path) -> tuple[str, frozenset[str]]:
    """The checks' files in ``folder``: all their text (whitespace collapsed), and their longer lines
    but those a check's own words hold (``opt_d.step()`` is code there and advice in a message)."""
    texts = [path.read_text(errors="replace") for path in sorted(folder.glob("*.py")) if path.is_file()]
    words = [literal for text in texts for literal in _literals(text)]
    lines = {line.strip() for text in texts for line in text.splitlines() if len(line.strip()) >= SOURCE_LINE}
    secret = frozenset(line for line in lines if not any(line in word for word in words))
    return " ".join(" ".join(texts).split()), secret


def _literals(text: str) -> list[str]:
    """Every string literal of a check file (of an f-string, its literal parts): its messages' words."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return []
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def _without_runs(text: str, source: str) -> str:
    """``text`` (whitespace collapsed) with every run of :data:`SOURCE_RUN` or more characters that
    ``source`` holds verbatim replaced by ``…``."""
    text, kept, i = " ".join(text.split()), [], 0
    while i < len(text):
        end = i + SOURCE_RUN
        if end <= len(text) and text[i:end] in source:
            while end < len(text) and text[i : end + 1] in source:
                end += 1
            kept.append("…")
            i = end
        else:
            kept.append(text[i])
            i += 1
    return "".join(kept)


def _message(excinfo, checks: Path | None = None, private: tuple[str, ...] = ()) -> str:
    """What the student reads of a failed check: its text, cleaned of what the student's code could
    carry out of its sandbox but never knew (see the module's docstring), and short.

    An error the checks did not write (a ``StudentError``, a built-in exception re-raised from the
    student's code) is the student's text: any run of it that the checks' files hold is withheld.
    Any message loses the checks' lines (a check may quote what a student function returned), the
    grader's private folders and ``private`` (the course's path).
    """
    exc = excinfo.value
    text = without_private_paths(_text(exc), private)
    if checks is not None and checks.is_dir():
        source, lines = _checks_source(checks)
        if type(exc).__name__ not in _CHECKS_OWN:
            text = _without_runs(text, source)
        for line in lines:
            text = text.replace(line, "…")
    if len(text) > MESSAGE_CHARS:
        text = text[: MESSAGE_CHARS - 1] + "…"
    return text.strip() or "a hidden check failed; its message was withheld"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" or report.failed or report.skipped:
        if report.when != "call" and report.passed:
            return
        marker = item.get_closest_marker("grade")
        grade_id = marker.args[0] if marker and marker.args else None
        checks = Path(str(item.fspath)).parent
        private = tuple(item.config.getoption("--dfl-hide") or ())
        message = (
            _message(call.excinfo, checks, private) if call.excinfo is not None and report.failed else ""
        )
        _RESULTS.append(
            {
                "test": item.name,
                "function": getattr(item, "originalname", item.name),
                "file": Path(str(item.fspath)).name,
                "grade_id": grade_id,
                "outcome": report.outcome,
                "message": message,
                "grader_fault": _grader_fault(call.excinfo)
                if call.excinfo is not None and report.failed
                else "",
            }
        )


def _grader_fault(excinfo) -> str:
    """What went wrong in the grader itself, or "" when the failure is the submission's.

    An ``OSError`` raised in this process (a pipe or file of the grader's: the student's own
    errors arrive as :class:`StudentError` or a re-raised built-in that is never an OSError, and
    a missing or bad artifact as ``ArtifactError``) says nothing about the student's work: the
    worker checks again, and if it persists the instructor is told it is the grader's fault.
    """
    exc = excinfo.value
    if isinstance(exc, OSError) and exc.errno in GRADER_ERRNOS:
        return f"{type(exc).__name__}: {exc}"[:300]
    return ""


#: Errors of the grading machine, not of a submission: a descriptor gone, no descriptors or space left.
GRADER_ERRNOS = {errno.EBADF, errno.EMFILE, errno.ENFILE, errno.EIO, errno.ENOSPC, errno.EAGAIN}


def pytest_sessionfinish(session, exitstatus):
    path = session.config.getoption("--dfl-results")
    if path:
        Path(path).write_text(json.dumps(_RESULTS, indent=1))
