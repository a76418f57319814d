"""The pytest plugin that runs the hidden checks over a graded notebook's artifacts.

The worker runs, in a separate process from the student's kernel::

    python -m pytest HIDDEN_CHECKS/ASSIGNMENT -p deepfakelab.course.hidden \\
        --dfl-artifacts DIR --dfl-notebook NB --dfl-results OUT.json

Each check is a test marked ``@pytest.mark.grade("grade_id")`` naming the notebook's graded
cell it decides. A check says what to fix with its assertion message
(``assert ok, "frames.json: index 12 was asked for, found 13"``); only that message -- never the
assertion's code -- reaches the student. Fixtures: ``artifacts`` (the artifact folder),
``notebook_path`` and ``student`` (the student's definitions, see :mod:`.student_code`).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .student_code import load_student_namespace

_RESULTS: list[dict] = []


def pytest_addoption(parser):
    group = parser.getgroup("deepfakelab hidden checks")
    group.addoption("--dfl-artifacts", help="folder of the artifacts the notebook saved")
    group.addoption("--dfl-notebook", help="the executed (autograded) notebook")
    group.addoption("--dfl-results", help="JSON file to write the per-check results to")


def pytest_configure(config):
    config.addinivalue_line("markers", "grade(grade_id): the graded notebook cell this check decides")


@pytest.fixture(scope="session")
def artifacts(pytestconfig) -> Path:
    return Path(pytestconfig.getoption("--dfl-artifacts"))


@pytest.fixture(scope="session")
def notebook_path(pytestconfig) -> Path:
    return Path(pytestconfig.getoption("--dfl-notebook"))


@pytest.fixture(scope="session")
def student(notebook_path):
    namespace, _problems = load_student_namespace(notebook_path)
    return namespace


def student_function(student, name: str):
    """The student's function ``name``, or a failure that says which cell to complete."""
    fn = getattr(student, name, None)
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
    if name == "ArtifactError":
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
        _RESULTS.append({"test": item.name, "grade_id": grade_id, "outcome": report.outcome, "message": message})


def pytest_sessionfinish(session, exitstatus):
    path = session.config.getoption("--dfl-results")
    if path:
        Path(path).write_text(json.dumps(_RESULTS, indent=1))
