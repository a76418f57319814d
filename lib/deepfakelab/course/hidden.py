"""The pytest plugin that runs the hidden checks over a graded notebook's artifacts.

The worker runs, in a separate process from the student's kernel::

    python -m pytest HIDDEN_CHECKS/ASSIGNMENT -p deepfakelab.course.hidden \\
        --dfl-artifacts DIR --dfl-notebook NB --dfl-results OUT.json [--dfl-no-sandbox]

No student code runs in this process: the ``student`` fixture is a
:class:`~.remote_student.RemoteStudent`, whose calls run in the submission's sandbox and
return data, so the checks, their verdicts and the results file stay out of the student's reach.

Each check is a test marked ``@pytest.mark.grade("grade_id")`` naming the notebook's graded
cell it decides. A check says what to fix with its assertion message
(``assert ok, "frames.json: index 12 was asked for, found 13"``); only that message -- never the
assertion's code -- reaches the student. Fixtures: ``artifacts`` (the artifact folder),
``notebook_path`` and ``student`` (the student's definitions, see :mod:`.student_code`, called
remotely; ``student.probe(name, ...)`` runs ``probes.py``'s ``name(student, ...)`` beside them, for
checks of what cannot cross as data, such as a ``torch.nn.Module``; ``student.exchange`` is a
folder both sides see, for input files). Videos and images the notebook wrote are decoded by
:func:`.sandboxed_media.media_files`, in a sandbox of their own: never in this process.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .remote_student import RemoteStudent

_RESULTS: list[dict] = []


def pytest_addoption(parser):
    group = parser.getgroup("deepfakelab hidden checks")
    group.addoption("--dfl-artifacts", help="folder of the artifacts the notebook saved")
    group.addoption("--dfl-notebook", help="the executed (autograded) notebook")
    group.addoption("--dfl-results", help="JSON file to write the per-check results to")
    group.addoption("--dfl-probes", help="the instructor's probes.py, loaded beside the student's code")
    group.addoption("--dfl-no-sandbox", action="store_true", help="run the student's code without bubblewrap")
    group.addoption("--dfl-memory-mb", type=int, default=8192, help="address-space limit of the student's code")
    group.addoption("--dfl-hide", action="append", default=[], help="a folder the sandbox must not show (the course)")
    group.addoption("--dfl-call-timeout", type=float, default=120.0, help="seconds one call of a student function may run")


def pytest_configure(config):
    config.addinivalue_line("markers", "grade(grade_id): the graded notebook cell this check decides")
    from . import sandboxed_media

    sandboxed_media.configure(sandbox=not config.getoption("--dfl-no-sandbox"),
                              memory_mb=config.getoption("--dfl-memory-mb"),
                              timeout=config.getoption("--dfl-call-timeout"),
                              hide=tuple(Path(p) for p in config.getoption("--dfl-hide")))


def pytest_unconfigure(config):
    from . import sandboxed_media

    sandboxed_media.configure()  # ends the decoder


@pytest.fixture(scope="session")
def artifacts(pytestconfig) -> Path:
    return Path(pytestconfig.getoption("--dfl-artifacts"))


@pytest.fixture(scope="session")
def notebook_path(pytestconfig) -> Path:
    return Path(pytestconfig.getoption("--dfl-notebook"))


@pytest.fixture(scope="session")
def student(pytestconfig, notebook_path):
    probes = pytestconfig.getoption("--dfl-probes")
    with RemoteStudent(notebook_path, Path(probes) if probes else None,
                       sandbox=not pytestconfig.getoption("--dfl-no-sandbox"),
                       memory_mb=pytestconfig.getoption("--dfl-memory-mb"),
                       call_timeout=pytestconfig.getoption("--dfl-call-timeout"),
                       hide=[Path(p) for p in pytestconfig.getoption("--dfl-hide")]) as remote:
        yield remote


def student_function(student, name: str):
    """The student's function ``name`` (called in the sandbox), or a failure naming the cell to complete."""
    # A RemoteStudent when grading; a plain namespace of functions when a test calls a check directly.
    fn = student.function(name) if hasattr(student, "function") else getattr(student, name, None)
    if not callable(fn):
        pytest.fail(f"`{name}` is not defined in your answer cells; write it in the cell that asks for it")
    return fn


def _message(excinfo) -> str:
    exc = excinfo.value
    if isinstance(exc, AssertionError):
        text = str(exc).strip()
        return text or "a hidden check failed without a message"
    if isinstance(exc, pytest.fail.Exception):
        return str(exc.msg if hasattr(exc, "msg") else exc)
    name = type(exc).__name__
    text = str(exc).strip()
    if name in ("ArtifactError", "StudentError"):
        return text
    return f"{name}: {text}" if text else name


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" or report.failed or report.skipped:
        if report.when != "call" and report.passed:
            return
        marker = item.get_closest_marker("grade")
        grade_id = marker.args[0] if marker and marker.args else None
        message = _message(call.excinfo) if call.excinfo is not None and report.failed else ""
        _RESULTS.append({"test": item.name, "function": getattr(item, "originalname", item.name),
                         "file": Path(str(item.fspath)).name, "grade_id": grade_id, "outcome": report.outcome,
                         "message": message})


def pytest_sessionfinish(session, exitstatus):
    path = session.config.getoption("--dfl-results")
    if path:
        Path(path).write_text(json.dumps(_RESULTS, indent=1))
