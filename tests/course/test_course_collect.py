"""An LMS download (``course grade LAB --zip``) cannot be turned against other students (issue 32, finding 6).

Each test builds the download a determined student would leave in it -- a zip holding a victim's
notebook, a zip holding a classmate's, a ``../x`` entry, a zip bomb, a student id of ``..`` --
beside honest classmates, collects it, and checks exactly who ends up in ``submitted/`` with which
bytes, the one line naming the bad upload, and that nothing outside ``submitted/`` and
``downloaded/`` changed. One real grade (module fixture, through the CLI) scores the honest
students collected from a download holding every attack at once.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import json
import os
import shutil
import stat
import zipfile
from pathlib import Path

import pytest

pytest.importorskip("nbgrader")

from deepfakelab.cli import main  # noqa: E402
from deepfakelab.course import toy  # noqa: E402
from deepfakelab.course.collect import MAX_NOTEBOOK_BYTES, collect_lms_zip  # noqa: E402
from deepfakelab.course.grading.grade import GradeOptions, grade_assignment  # noqa: E402
from deepfakelab.course.layout import check_student_id, open_course  # noqa: E402
from deepfakelab.course.release import generate_assignment  # noqa: E402
from deepfakelab.errors import DataError  # noqa: E402

ID_RULE = (
    "not a safe student id (at most 100 letters, digits and _ . @ + -, starting with a letter, digit or _)"
)
NESTED = "an archive inside the download; not opened, nothing in it collected"
#: Bytes the bomb unpacks to: past the per-notebook cap from a zip of a few hundred bytes.
BOMB_BYTES = MAX_NOTEBOOK_BYTES + 2**20


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """A toy course with the assignment released (copied by each test) and the notebooks students hand in."""
    root = tmp_path_factory.mktemp("template") / "course"
    course = toy.build_toy_course(root)
    generate_assignment(course, toy.ASSIGNMENT)
    notebooks = {}
    for kind in ("correct", "off_by_one", "blank"):
        notebooks[kind] = toy.make_submission(course, "scratch", kind).read_bytes()
    shutil.rmtree(course.root / "submitted")
    return course, notebooks


@pytest.fixture
def course(made, tmp_path):
    template, _ = made
    shutil.copytree(template.root, tmp_path / "course", symlinks=True)
    return open_course(tmp_path / "course")


def _zip(entries: list[tuple[str | zipfile.ZipInfo, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries:
            zf.writestr(name, data)
    return buffer.getvalue()


def _download(path: Path, entries) -> Path:
    path.write_bytes(_zip(entries))
    return path


def _honest(notebooks) -> list[tuple[str, bytes]]:
    """Two honest classmates, named as the LMS names them (``<id>_<anything>_<notebook>``)."""
    return [("alice_1001_toy.ipynb", notebooks["correct"]), ("bob_1002_toy.ipynb", notebooks["off_by_one"])]


def _honest_collected(notebooks) -> dict[str, dict[str, str]]:
    return {
        "alice": {"toy.ipynb": _sha(notebooks["correct"])},
        "bob": {"toy.ipynb": _sha(notebooks["off_by_one"])},
    }


def _submitted(course) -> dict[str, dict[str, str]]:
    """{student: {file under submitted/<student>/toy/: sha256}} for every file under ``submitted/``."""
    found: dict[str, dict[str, str]] = {}
    base = course.root / "submitted"
    for path in sorted(base.rglob("*")) if base.is_dir() else []:
        if path.is_file() or path.is_symlink():
            student, assignment, *rest = path.relative_to(base).parts
            assert assignment == toy.ASSIGNMENT, path
            found.setdefault(student, {})["/".join(rest)] = _sha(path.read_bytes())
    return found


def _outside(course, top: Path) -> dict[str, str]:
    """Every file, folder and link under ``top`` but outside the course's submitted/ and downloaded/."""
    skip = {course.root / "submitted", course.root / "downloaded"}
    seen = {}
    for root, dirs, files in os.walk(top):
        here = Path(root)
        dirs[:] = [d for d in dirs if here / d not in skip]
        for name in dirs + files:
            path = here / name
            mode = path.lstat().st_mode
            seen[str(path)] = _sha(path.read_bytes()) if stat.S_ISREG(mode) else stat.filemode(mode)
    return seen


def _collect(course, zip_path: Path, **caps) -> list[str]:
    """Collect ``zip_path``, checking that nothing outside submitted/ and downloaded/ changed."""
    top = course.root.parent
    before = _outside(course, top)
    problems = collect_lms_zip(course, toy.ASSIGNMENT, zip_path, **caps)
    assert _outside(course, top) == before
    return problems


@functools.cache
def _bomb_zip(name: str) -> bytes:
    """A zip of a few hundred bytes whose one entry ``name`` unpacks to :data:`BOMB_BYTES` (bzip2 of zeros)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_BZIP2) as zf, zf.open(name, "w", force_zip64=True) as entry:
        zeros = bytes(2**20)
        for _ in range(BOMB_BYTES // len(zeros)):
            entry.write(zeros)
    return buffer.getvalue()


def test_a_zip_holding_a_victims_notebook_is_not_opened(course, made, tmp_path):
    _, notebooks = made
    payload = _zip([("victim_1_toy.ipynb", notebooks["blank"])])
    lms = _download(
        tmp_path / "download.zip",
        [
            *_honest(notebooks),
            ("mallory_1003_toy.ipynb", notebooks["blank"]),
            ("mallory_1003_payload.zip", payload),
        ],
    )
    problems = _collect(course, lms)
    assert problems == [f"mallory_1003_payload.zip: {NESTED}"]
    assert _submitted(course) == {
        **_honest_collected(notebooks),
        "mallory": {"toy.ipynb": _sha(notebooks["blank"])},
    }
    assert not [p for p in (course.root / "downloaded").rglob("*") if "victim" in p.name]


def test_a_zip_holding_a_classmates_notebook_stops_nobody(course, made, tmp_path):
    _, notebooks = made  # nbgrader stopped here: "Duplicate submission file", and nobody was collected
    forged = _zip([("bob_1_toy.ipynb", notebooks["blank"])])
    lms = _download(tmp_path / "download.zip", [*_honest(notebooks), ("mallory_1003_for-bob.zip", forged)])
    assert _collect(course, lms) == [f"mallory_1003_for-bob.zip: {NESTED}"]
    assert _submitted(course) == _honest_collected(notebooks)  # bob's own notebook, not the forged one


def test_entries_that_leave_the_folder_are_refused_one_by_one(course, made, tmp_path):
    _, notebooks = made
    link = zipfile.ZipInfo("mallory_1003_toy.ipynb")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16  # a symbolic link to a file of the instructor's
    lms = _download(
        tmp_path / "download.zip",
        [
            ("../x", b"outside"),
            *_honest(notebooks),
            ("/tmp/eve_1004_toy.ipynb", notebooks["blank"]),
            (link, b"/etc/passwd"),
        ],
    )
    assert _collect(course, lms) == [
        "../x: '..' in the path; not extracted",
        "/tmp/eve_1004_toy.ipynb: an absolute path; not extracted",
        "mallory_1003_toy.ipynb: a symbolic link; not extracted",
    ]
    assert _submitted(course) == _honest_collected(notebooks)
    assert not (tmp_path / "x").exists() and not (course.root / "downloaded" / "x").exists()


def test_a_zip_bomb_stops_at_the_cap_and_only_its_sender_is_set_aside(course, made, tmp_path):
    _, notebooks = made
    bomb = _bomb_zip("mallory_1003_toy.ipynb")
    with zipfile.ZipFile(io.BytesIO(bomb)) as zf:
        assert len(bomb) < 10_000 and zf.getinfo("mallory_1003_toy.ipynb").file_size == BOMB_BYTES
    lms = tmp_path / "download.zip"
    lms.write_bytes(bomb)
    # Honest classmates after it, and the same bomb one zip deeper.
    with zipfile.ZipFile(lms, "a", zipfile.ZIP_DEFLATED) as zf:
        for name, data in _honest(notebooks):
            zf.writestr(name, data)
        zf.writestr("eve_1004_bomb.zip", _bomb_zip("victim_1_toy.ipynb"))
    assert lms.stat().st_size < 10_000
    problems = _collect(course, lms)
    assert problems == [
        f"eve_1004_bomb.zip: {NESTED}",
        "mallory_1003_toy.ipynb: more than 64 MiB unpacked; not collected, nothing of mallory collected",
    ]
    assert _submitted(course) == _honest_collected(notebooks)
    assert sum(p.stat().st_size for p in (course.root / "downloaded").rglob("*") if p.is_file()) == 2 * (
        len(notebooks["correct"]) + len(notebooks["off_by_one"])
    )  # archive/ and nbgrader's extracted/


def test_the_download_total_is_capped_by_the_bytes_streamed(course, made, tmp_path):
    _, notebooks = made
    entries = [*_honest(notebooks), ("carol_1005_toy.ipynb", notebooks["blank"])]
    lms = _download(tmp_path / "download.zip", entries)
    cap = len(notebooks["correct"]) + len(notebooks["off_by_one"]) + 10
    problems = _collect(course, lms, max_download_bytes=cap)
    assert problems == [
        f"carol_1005_toy.ipynb: the download passed {cap} bytes unpacked in all; not collected, "
        "nothing of carol collected"
    ]
    assert _submitted(course) == _honest_collected(notebooks)


def test_a_second_upload_of_a_notebook_sets_that_student_aside(course, made, tmp_path):
    _, notebooks = made
    earlier = toy.make_submission(course, "carol", "correct")  # collected from an earlier download
    lms = _download(
        tmp_path / "download.zip",
        [
            ("carol_1005_toy.ipynb", notebooks["blank"]),
            *_honest(notebooks),
            ("carol_1006_toy.ipynb", notebooks["off_by_one"]),
        ],
    )
    assert _collect(course, lms) == [
        "carol_1006_toy.ipynb: a second toy.ipynb from student carol (the first: carol_1005_toy.ipynb); "
        "both set aside, nothing of carol collected"
    ]
    assert _submitted(course) == {
        **_honest_collected(notebooks),
        "carol": {"toy.ipynb": _sha(earlier.read_bytes())},
    }


def test_a_student_id_of_dot_dot_in_the_download_is_refused(course, made, tmp_path):
    _, notebooks = made  # nbgrader wrote this one to submitted/../toy/toy.ipynb, beside the course's source/
    lms = _download(
        tmp_path / "download.zip",
        [
            (".._1003_toy.ipynb", notebooks["blank"]),
            *_honest(notebooks),
            (".hidden_1004_toy.ipynb", notebooks["blank"]),
        ],
    )
    assert _collect(course, lms) == [
        f".._1003_toy.ipynb: '..': {ID_RULE}; not collected",
        f".hidden_1004_toy.ipynb: '.hidden': {ID_RULE}; not collected",
    ]
    assert _submitted(course) == _honest_collected(notebooks)
    assert not (course.root / toy.ASSIGNMENT).exists()


def test_ordinary_student_ids_are_accepted():
    for student in ("alice", "s1234567", "jo.smith@uni.edu", "ana-maria+2", "_x", "Zoë"):
        assert check_student_id(student) == student


@pytest.mark.parametrize("student", ["..", "../alice", "a/b", ".hidden", "-rf", ""])
def test_a_student_id_given_by_the_instructor_is_refused_before_anything_runs(course, capsys, student):
    before = _outside(course, course.root.parent)
    code = main(
        [
            "course",
            "grade",
            toy.ASSIGNMENT,
            "--course",
            str(course.root),
            "--student=alice",
            f"--student={student}",
        ]
    )
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert captured.err == f"deepfakelab: error: {student!r}: {ID_RULE}\n"
    with pytest.raises(DataError, match="not a safe student id"):
        grade_assignment(course, toy.ASSIGNMENT, GradeOptions(students=[student], progress=False))
    assert _outside(course, course.root.parent) == before  # no gradebook backup, no journal: nothing ran
    assert not (course.root / "submitted").exists() and not (course.root / "downloaded").exists()


# --- one real grade of a download holding every attack ------------------------------------------

EVERY_ATTACK = [
    f"mallory_1003_payload.zip: {NESTED}",
    f"mallory_1003_for-bob.zip: {NESTED}",
    "../x: '..' in the path; not extracted",
    f".._1003_toy.ipynb: '..': {ID_RULE}; not collected",
    "eve_1004_toy.ipynb: more than 64 MiB unpacked; not collected, nothing of eve collected",
]


@pytest.fixture(scope="module")
def graded(made, tmp_path_factory):
    """``course grade toy --zip`` (the CLI, sandboxed, no feedback) on a download holding every attack; its output."""
    template, notebooks = made
    root = tmp_path_factory.mktemp("graded") / "course"
    shutil.copytree(template.root, root, symlinks=True)
    course = open_course(root)
    lms = root.parent / "download.zip"
    lms.write_bytes(_bomb_zip("eve_1004_toy.ipynb"))
    with zipfile.ZipFile(lms, "a", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("mallory_1003_payload.zip", _zip([("victim_1_toy.ipynb", notebooks["correct"])]))
        zf.writestr("mallory_1003_for-bob.zip", _zip([("bob_1_toy.ipynb", notebooks["correct"])]))
        zf.writestr("../x", b"outside")
        zf.writestr(".._1003_toy.ipynb", notebooks["correct"])
        for name, data in _honest(notebooks):
            zf.writestr(name, data)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(
            [
                "course",
                "grade",
                toy.ASSIGNMENT,
                "--course",
                str(root),
                "--zip",
                str(lms),
                "--jobs",
                "2",
                "--no-feedback",
            ]
        )
    assert code == 0, out.getvalue()
    return course, lms, out.getvalue()


def test_every_attack_is_reported_in_one_line_each(graded):
    _, lms, out = graded
    lines = out.splitlines()
    at = lines.index(f"  {len(EVERY_ATTACK)} upload(s) of {lms} not collected (the rest were):")
    assert lines[at + 1 : at + 1 + len(EVERY_ATTACK)] == [f"  NOT COLLECTED: {line}" for line in EVERY_ATTACK]


def test_only_the_honest_students_are_graded_with_their_exact_scores(graded):
    course, _, out = graded
    assert sorted(os.listdir(course.root / "submitted")) == ["alice", "bob"]
    assert sorted(os.listdir(course.root / "autograded")) == ["alice", "bob"]
    journal = course.state / "journal" / toy.ASSIGNMENT
    points = {}
    for student in ("alice", "bob"):
        result = json.loads((journal / f"{student}.json").read_text())
        points[student] = {
            row["grade_id"]: row["points"] for nb in result["notebooks"].values() for row in nb["cells"]
        }
    assert points == {
        "alice": {**toy.AUTOGRADED_POINTS, "explain_verdict": None},  # 5.0 autograded, toy correct
        "bob": {
            "check_pick_frames": 0.0,
            "check_verdict": 1.0,
            "check_frames_artifact": 0.0,
            "explain_verdict": None,
        },
    }  # 1.0, toy off by one
    assert "  alice                5 / 8 (autograded part; written answers wait for you)" in out.splitlines()
    assert "victim" not in (course.root / "grades.csv").read_text()
    assert not (course.root.parent / "x").exists() and not (course.root / toy.ASSIGNMENT).exists()


def test_a_download_of_too_many_entries_is_refused_whole(tmp_path, monkeypatch):
    """A zip listing more entries than any class uploads is one line, before anything is unpacked."""
    from deepfakelab.course import collect
    from deepfakelab.course.release import generate_assignment
    from deepfakelab.errors import DataError

    monkeypatch.setattr(collect, "MAX_ENTRIES", 5)
    course = toy.build_toy_course(tmp_path / "course")
    generate_assignment(course, toy.ASSIGNMENT)
    download = tmp_path / "many.zip"
    with zipfile.ZipFile(download, "w") as zf:
        for i in range(6):
            zf.writestr(f"s{i}_x_toy.ipynb", "{}")
    with pytest.raises(DataError, match=r"many.zip: lists 6 entries, more than the 5 an LMS download"):
        collect.collect_lms_zip(course, toy.ASSIGNMENT, download)
    assert not (course.root / "submitted").exists() or not any((course.root / "submitted").iterdir())
