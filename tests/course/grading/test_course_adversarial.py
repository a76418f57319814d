"""Submissions by a determined student, one per attack the grader must hold against.

One grading run (module fixture) of a toy course with two honest classmates and one attacker
per mechanism. The attacks know the course's absolute path (as a student who guessed it would)
and try what the issue lists: rewrite the hidden checks' results, strip the asserts of the test
cells, find the course through ``/proc`` and change it, read the instructor's source and other
students' work, leave a daemon behind, use the network, plant symlinks. Each test asserts the
exact score and that nothing outside the attacker's own graded folder changed.
"""

from __future__ import annotations

import socket
import time
import nbformat
import pytest

from helpers import tree_hashes

pytest.importorskip("nbgrader")

from deepfakelab.course import toy  # noqa: E402
from deepfakelab.course.sandbox.bubblewrap import availability  # noqa: E402
from deepfakelab.course.grading.grade import GradeOptions, grade_assignment  # noqa: E402
from deepfakelab.course.grading.gradebook import gradebook_digest  # noqa: E402
from deepfakelab.course.release import generate_assignment  # noqa: E402

pytestmark = pytest.mark.skipif(availability() is not None, reason=f"no sandbox here: {availability()}")

MARKER = "dfl-adversary"  # in the command line of every process an attack starts
SECRET = "CLASSMATE-SECRET-7431"  # in a classmate's answer; must never reach the attacker's feedback
OFF_BY_ONE = toy.OFF_BY_ONE

RESULTS_FILE = """
def pick_frames(n_frames, every):
    import glob, json, os
    for cmdline in glob.glob("/proc/*/cmdline"):
        try:
            parts = open(cmdline, "rb").read().split(b"\\0")
        except OSError:
            continue
        if b"--dfl-results" in parts:
            path = parts[parts.index(b"--dfl-results") + 1].decode()
            json.dump([], open(path, "w"))
            os._exit(0)
    for target in ("COURSE/hidden_checks/toy/conftest.py", "COURSE/.deepfakelab/snapshot/toy/conftest.py"):
        try:
            open(target, "w").write("def pytest_collection_modifyitems(items):\\n    items.clear()\\n")
        except OSError:
            pass
    return list(range(1, n_frames, every))
"""

STRIP_ASSERTS = (
    OFF_BY_ONE
    + """
import ast
class _NoAsserts(ast.NodeTransformer):
    def visit_Assert(self, node):
        return ast.Pass()
get_ipython().ast_transformers.append(_NoAsserts())
"""
)

PROC_HUNT = (
    toy.RIGHT["verdict_answer"]
    + """
import glob, os, shutil
found = set()
for link in glob.glob("/proc/*/cwd"):
    try:
        here = os.readlink(link)
    except OSError:
        continue
    for up in [here, *map(str, __import__("pathlib").Path(here).parents)]:
        if os.path.isfile(os.path.join(up, "nbgrader_config.py")) and os.path.isdir(os.path.join(up, "source")):
            found.add(up)
found.add("COURSE")
for course in found:
    for action in (
        lambda: open(os.path.join(course, "hidden_checks", "toy", "conftest.py"), "w").write("collect_ignore_glob = ['*']"),
        lambda: open(os.path.join(course, "source", "toy", "toy.ipynb"), "a").write(" "),
        lambda: shutil.rmtree(os.path.join(course, "submitted", "honest-2")),
        lambda: open(os.path.join(course, "submitted", "honest-1", "toy", "toy.ipynb"), "w").write("{}"),
        lambda: open(os.path.join(course, "grades.csv"), "w").write("pwned"),
    ):
        try:
            action()
        except OSError:
            pass
"""
)

READ_SECRETS = (
    toy.RIGHT["verdict_answer"]
    + """
import glob, os, pathlib
import deepfakelab
kit = pathlib.Path(deepfakelab.__file__).resolve().parents[2]
for pattern in ["../" * k + "source/toy/toy.ipynb" for k in range(1, 8)] + [
        "COURSE/source/toy/toy.ipynb", "COURSE/hidden_checks/toy/test_toy.py",
        "COURSE/submitted/honest-1/toy/toy.ipynb", "COURSE/.deepfakelab/journal/toy/*.json",
        str(kit / "autograder" / "hidden_checks" / "*" / "*.py"), str(kit / "solutions" / "*" / "*.ipynb"),
        "/etc/shadow", "/root/*", os.path.expanduser("~/*")]:
    for path in glob.glob(pattern):
        try:
            print(path, open(path).read()[:100000])
        except OSError:
            pass
"""
)

DAEMON = (
    toy.RIGHT["verdict_answer"]
    + """
import subprocess, sys
code = "import time; time.sleep(4); open('COURSE/grades.csv', 'w').write('pwned')  # MARKER"
subprocess.Popen([sys.executable, "-c", code], start_new_session=True,
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
"""
)

NETWORK = (
    toy.RIGHT["verdict_answer"]
    + """
import socket
for host in ("127.0.0.1", "localhost", "::1"):
    try:
        socket.create_connection((host, PORT), timeout=2).sendall(b"exfiltrated")
    except OSError:
        pass
"""
)

SYMLINKS = (
    toy.RIGHT["verdict_answer"]
    + """
import os
os.makedirs("artifacts", exist_ok=True)
for link, target in (("artifacts/stolen.ipynb", "COURSE/submitted/honest-1/toy/toy.ipynb"),
                     ("toy.ipynb", "COURSE/source/toy/toy.ipynb"), ("artifacts/etc", "/etc")):
    try:
        if os.path.lexists(link):
            os.remove(link)
        os.symlink(target, link)
    except OSError:
        pass
"""
)

KILL_GRADER = (
    toy.RIGHT["verdict_answer"]
    + """
import os, signal
for pid in sorted((int(p) for p in os.listdir("/proc") if p.isdigit()), reverse=True):
    if pid != os.getpid():
        for sig in (signal.SIGKILL, signal.SIGTERM):
            try:
                os.kill(pid, sig)
            except OSError:
                pass
for group in (0, os.getpgid(os.getppid())):
    try:
        os.killpg(group, 0)
    except OSError:
        pass
"""
)

#: attacker -> (answers replaced, autograded points it must get out of 5)
ATTACKS = {
    "results-file": ({"pick_frames_answer": RESULTS_FILE}, 1.0),
    "strip-asserts": ({"pick_frames_answer": STRIP_ASSERTS}, 1.0),
    "proc-hunt": ({"verdict_answer": PROC_HUNT}, 5.0),
    "read-secrets": ({"verdict_answer": READ_SECRETS}, 5.0),
    "daemon": ({"verdict_answer": DAEMON}, 5.0),
    "network": ({"verdict_answer": NETWORK}, 5.0),
    "symlinks": ({"verdict_answer": SYMLINKS}, 5.0),
    "kill-grader": ({"verdict_answer": KILL_GRADER}, 5.0),
}
HONEST = {"honest-1": 5.0, "honest-2": 1.0}  # a correct and an off-by-one classmate


def _submit(course, student: str, answers: dict[str, str], port: int) -> None:
    nb = nbformat.read(str(course.release(toy.ASSIGNMENT) / f"{toy.NOTEBOOK}.ipynb"), as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = (
                answers[grade_id]
                .replace("COURSE", str(course.root))
                .replace("MARKER", MARKER)
                .replace("PORT", str(port))
            )
    folder = course.submitted(toy.ASSIGNMENT, student)
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(folder / f"{toy.NOTEBOOK}.ipynb"))


def _points(result: dict) -> float:
    return sum(r.points or 0.0 for r in result.cells() if not r.manual)


def _stray_processes() -> list[str]:
    import psutil

    stray = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if MARKER in cmdline and "pytest" not in cmdline:
            stray.append(cmdline)
    return stray


@pytest.fixture(scope="module")
def attacked(tmp_path_factory):
    root = tmp_path_factory.mktemp("course")
    course = toy.build_toy_course(root)
    generate_assignment(course, toy.ASSIGNMENT)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    answers = dict(toy.RIGHT)
    answers["verdict_answer"] += f"\n# {SECRET}"
    _submit(course, "honest-1", answers, port)
    _submit(course, "honest-2", {**toy.RIGHT, "pick_frames_answer": OFF_BY_ONE}, port)
    for student, (changes, _) in ATTACKS.items():
        _submit(course, student, {**toy.RIGHT, **changes}, port)
    before = {name: tree_hashes(course.root / name) for name in ("source", "hidden_checks", "submitted")}
    report = grade_assignment(course, toy.ASSIGNMENT, GradeOptions(jobs=2, progress=False))
    exports = {name: (course.root / name).read_bytes() for name in ("grades.csv", "grades-toy.csv")}
    gradebook = gradebook_digest(course.gradebook)
    time.sleep(6)  # longer than the daemon waits before it strikes
    accepted = []
    try:
        accepted.append(listener.accept())
    except BlockingIOError:
        pass
    listener.close()
    return course, report, before, exports, gradebook, accepted


def test_every_submission_is_graded(attacked):
    _, report, *_ = attacked
    assert report.failed == {} and set(report.graded) == set(ATTACKS) | set(HONEST)


@pytest.mark.parametrize("student", list(ATTACKS) + list(HONEST))
def test_each_submission_gets_exactly_its_points(attacked, student):
    _, report, *_ = attacked
    expected = ATTACKS[student][1] if student in ATTACKS else HONEST[student]
    assert _points(report.graded[student]) == expected, report.graded[student].notebooks


def test_nothing_outside_the_graded_folders_changed(attacked):
    course, report, before, exports, gradebook, _ = attacked
    for name, hashes in before.items():
        assert tree_hashes(course.root / name) == hashes, f"{name}/ changed during or after grading"
    for name, content in exports.items():
        assert (course.root / name).read_bytes() == content, f"{name} changed after the run"
    assert gradebook_digest(course.gradebook) == gradebook and report.tampered is None
    assert not (course.root / "hidden_checks" / "toy" / "conftest.py").exists()


def test_no_process_outlives_grading(attacked):
    assert _stray_processes() == []


def test_no_network_from_the_sandbox(attacked):
    *_, accepted = attacked
    assert accepted == []


def test_secrets_never_reach_the_feedback(attacked):
    course, *_ = attacked
    for path in [
        *course.autograded(toy.ASSIGNMENT, "read-secrets").rglob("*"),
        *(course.root / "feedback" / "read-secrets").rglob("*"),
    ]:
        if path.is_file():
            text = path.read_text(errors="replace")
            for secret in (SECRET, "test_pick_frames_other_inputs", "BEGIN SOLUTION", "fingerprint", "root:"):
                assert secret not in text, f"{path.name} shows {secret!r}"
    # the attack did run and print: its own notebook is there
    assert (course.root / "feedback" / "read-secrets" / toy.ASSIGNMENT / "toy.html").is_file()


def test_planted_symlinks_are_not_followed(attacked):
    course, *_ = attacked
    graded = course.autograded(toy.ASSIGNMENT, "symlinks")
    assert not any(p.is_symlink() for p in graded.rglob("*"))
    assert (
        not (graded / "artifacts" / "stolen.ipynb").exists() and not (graded / "artifacts" / "etc").exists()
    )
    assert (graded / "toy.ipynb").is_file()


# --- the notebook's structure and the kernel's end ----------------------------------------------


def _structural(course, student: str, how: str) -> None:
    """A correct submission whose notebook was changed in one way that must not cost points."""
    nb = nbformat.read(str(course.release(toy.ASSIGNMENT) / f"{toy.NOTEBOOK}.ipynb"), as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in toy.RIGHT:
            cell.source = toy.RIGHT[grade_id]
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]
    if how == "deleted-tests":
        nb.cells = [
            c
            for c in nb.cells
            if not c.metadata.get("nbgrader", {}).get("grade") or c.metadata["nbgrader"].get("solution")
        ]
    elif how == "renamed-test":
        nb.cells[ids.index("check_verdict")].metadata["nbgrader"]["grade_id"] = "check_verdict_mine"
    elif how == "duplicated-cells":
        nb.cells.insert(
            ids.index("check_verdict") + 1, nbformat.from_dict(nb.cells[ids.index("check_verdict")])
        )
        nb.cells.insert(
            ids.index("verdict_answer") + 1,
            nbformat.v4.new_code_cell(
                toy.RIGHT["verdict_answer"], metadata=dict(nb.cells[ids.index("verdict_answer")].metadata)
            ),
        )
    elif how == "edited-metadata":
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade") and not meta.get("solution"):
                meta["points"] = 100
                meta["locked"] = False
                cell.source = "pass"
        nb.metadata["kernelspec"] = {"name": "bash", "display_name": "Bash", "language": "bash"}
    elif how == "added-cells":
        nb.cells.insert(0, nbformat.v4.new_code_cell("raise SystemExit('stop grading')"))
        nb.cells.append(
            nbformat.v4.new_code_cell(
                "print('extra')",
                metadata={
                    "nbgrader": {
                        "grade": True,
                        "grade_id": "bonus",
                        "points": 50,
                        "locked": True,
                        "solution": False,
                        "schema_version": 3,
                    }
                },
            )
        )
    elif how == "missing-answer":
        nb.cells = [
            c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != "pick_frames_answer"
        ]
    elif how == "exit-last-cell":  # the kernel ends itself two cells after the last answer
        nb.cells[ids.index("verdict_answer")].source = toy.RIGHT["verdict_answer"] + (
            "\nimport os\n_runs = []\n"
            "def _die(*args):\n    _runs.append(1)\n    if len(_runs) >= 2:\n        os._exit(0)\n"
            "get_ipython().events.register('pre_run_cell', _die)"
        )
    elif how == "huge-print":  # 20 MB on one line: a line limit alone keeps it whole
        nb.cells[ids.index("verdict_answer")].source = (
            toy.RIGHT["verdict_answer"] + "\nprint('x' * 20_000_000)"
        )
    elif how == "unkillable":
        nb.cells[ids.index("verdict_answer")].source = (
            toy.RIGHT["verdict_answer"]
            + "\nimport time\nwhile True:\n    try:\n        time.sleep(0.05)\n    except KeyboardInterrupt:\n        pass"
        )
    folder = course.submitted(toy.ASSIGNMENT, student)
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(folder / f"{toy.NOTEBOOK}.ipynb"))


#: how the notebook was changed -> (autograded points out of 5, text the messages must hold)
STRUCTURAL = {
    "deleted-tests": (5.0, ""),
    "renamed-test": (5.0, ""),
    "duplicated-cells": (5.0, "appears 2 times"),
    "edited-metadata": (5.0, ""),
    "added-cells": (5.0, ""),
    "missing-answer": (1.0, "'pick_frames_answer' is not in your notebook"),
    "exit-last-cell": (3.0, "KernelLost"),
    "unkillable": (4.0, "could not be stopped"),  # only its own cell: the kernel is restarted and replayed
    "huge-print": (5.0, ""),
}


@pytest.fixture(scope="module")
def restructured(tmp_path_factory):
    course = toy.build_toy_course(tmp_path_factory.mktemp("course"), cell_timeout=3, notebook_timeout=30)
    generate_assignment(course, toy.ASSIGNMENT)
    for how in STRUCTURAL:
        _structural(course, how, how)
    before = {name: tree_hashes(course.root / name) for name in ("source", "hidden_checks", "submitted")}
    report = grade_assignment(course, toy.ASSIGNMENT, GradeOptions(jobs=2, progress=False, feedback=False))
    return course, report, before


@pytest.mark.parametrize("how", list(STRUCTURAL))
def test_structure_of_the_notebook_does_not_change_the_grade(restructured, how):
    course, report, before = restructured
    assert report.failed == {}, report.failed
    result = report.graded[how]
    points, text = STRUCTURAL[how]
    messages = " ".join(r.message for r in result.cells())
    assert _points(result) == points, result.notebooks
    assert text in messages
    assert {r.grade_id for r in result.cells()} == set(toy.AUTOGRADED_POINTS) | set(toy.MANUAL_POINTS)
    for name, hashes in before.items():
        assert tree_hashes(course.root / name) == hashes


def test_output_is_limited_in_bytes(restructured):
    course, *_ = restructured
    graded = course.autograded(toy.ASSIGNMENT, "huge-print") / "toy.ipynb"
    assert graded.stat().st_size < 2_000_000 and "Output truncated" in graded.read_text()
