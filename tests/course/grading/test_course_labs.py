"""Grading the real labs end to end: the solution scores 100 %, the blank notebook 0, and each
plausible mistake loses exactly the points of the checks it breaks, with a message that says
what to fix. Slow (Lab 2 trains a GAN, shortened by NBGRADER_EXECUTION; Lab 1 reenacts, decodes and
scores eight videos); the toy course in test_course_grading.py proves the same machinery in the
default run, and tests/labs/lab1/test_lab1.py calls Lab 1's hidden checks on the same mistakes
directly."""

from __future__ import annotations

import dataclasses
import json
import re

import nbformat
import pytest

pytest.importorskip("nbgrader")

from deepfakelab.course.grading.grade import GradeOptions, grade_assignment  # noqa: E402
from deepfakelab.course.layout import init_course, kit_root  # noqa: E402
from deepfakelab.course.release import generate_assignment  # noqa: E402

GAN = "lab2"
GAN_AUTOGRADED = {
    "check_primer": 1,
    "check_generator_block": 2,
    "check_discriminator_block": 2,
    "check_losses": 2,
    "check_train_step": 3,
    "check_training_history": 3,
    "check_samples": 1,
    "check_plot": 2,
    "check_run_table": 2,
}


def solution_answers(lab: str) -> dict[str, str]:
    """The instructor's answer cells without the solution markers: what a perfect student writes."""
    (path,) = sorted((kit_root() / "solutions" / lab).glob("*.ipynb"))
    answers = {}
    for cell in json.loads(path.read_text())["cells"]:
        meta = cell["metadata"].get("nbgrader", {})
        if meta.get("solution"):
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            answers[meta["grade_id"]] = re.sub(r"^\s*### (BEGIN|END) SOLUTION\s*\n", "", source, flags=re.M)
    return answers


def submit(course, lab: str, student: str, answers: dict[str, str]) -> None:
    (release,) = sorted(course.release(lab).glob("*.ipynb"))
    nb = nbformat.read(str(release), as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    folder = course.submitted(lab, student)
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(folder / release.name))


def _rows(result):
    return {r.grade_id: dataclasses.asdict(r) for r in result.cells()}


def mistake(answers: dict[str, str], grade_id: str, old: str, new: str) -> dict[str, str]:
    """The right answers with one plausible mistake in cell ``grade_id``."""
    changed = answers[grade_id].replace(old, new)
    assert changed != answers[grade_id], f"{grade_id}: {old!r} not found"
    return {**answers, grade_id: changed}


def grade_lab(tmp_path_factory, lab: str, wrong: dict[str, dict[str, str]]):
    """Grade the solution, a blank notebook and each named wrong submission of ``lab``."""
    course = init_course(tmp_path_factory.mktemp(lab), [lab])
    generate_assignment(course, lab)
    submit(course, lab, "solution", solution_answers(lab))
    submit(course, lab, "blank", {})
    for student, answers in wrong.items():
        submit(course, lab, student, answers)
    report = grade_assignment(course, lab, GradeOptions(jobs=2, progress=False, feedback=False))
    assert report.failed == {}, report.tracebacks
    return report


def _lost(report, student: str, autograded: dict) -> tuple[set, dict]:
    rows = _rows(report.graded[student])
    lost = {k for k in autograded if rows[k]["points"] == 0}
    return lost, {k: rows[k]["message"] for k in lost}


@pytest.fixture(scope="module")
def gan_graded(tmp_path_factory):
    right = solution_answers(GAN)
    swapped = mistake(right, "losses_answer", "torch.ones_like(logits_real)", "torch.zeros_like(logits_real)")
    swapped = mistake(
        swapped,
        "losses_answer",
        "torch.zeros_like(logits_fake))\n    return (real_loss",
        "torch.ones_like(logits_fake))\n    return (real_loss",
    )
    return grade_lab(
        tmp_path_factory,
        GAN,
        {
            "swapped_labels": swapped,
            "d_collapsed": mistake(right, "train_step_answer", "    opt_g.step()\n", ""),
            # the classic mistakes of issue 31, as a beginner makes them
            "no_detach": mistake(
                right, "train_step_answer", "discriminator(fake.detach())", "discriminator(fake)"
            ),
            "reused_logits": mistake(
                right,
                "train_step_answer",
                "g_loss = generator_loss(discriminator(fake))",
                "g_loss = generator_loss(logits_fake)",
            ),
            "int_target": mistake(right, "losses_answer", "torch.ones_like(logits_real))\n", "1)\n"),
            "primer_no_zero_grad": mistake(right, "primer_answer", "    opt_judge.zero_grad()\n", ""),
            "forger": {
                **right,
                "train_step_answer": FAKE_TRAIN_STEP,
                "plot_answer": "",
                "experiments_answer": right["experiments_answer"] + FORGE_ARTIFACTS,
            },
        },
    )


# A train_step that trains nothing but reports a healthy-looking run, and answer cells that write
# plausible artifacts: what a student hoping for points without the work would submit.
FAKE_TRAIN_STEP = """
def train_step(generator, discriminator, opt_g, opt_d, real, z_dim=64):
    u = float(real.abs().sum()) % 1.0  # varies from batch to batch, like a real run's losses
    return {"d_loss": 0.62 + 0.05 * u, "g_loss": 0.85 + 0.1 * u, "d_real": 0.56 + 0.02 * u, "d_fake": 0.44 + 0.02 * u}
"""
FORGE_ARTIFACTS = """
import csv, numpy
with open("artifacts/history.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["step", "d_loss", "g_loss", "d_real", "d_fake"])
    for i in range(200):
        w.writerow([i, 0.65 + 0.01 * (i % 7), 0.9 - 0.001 * i, 0.55, 0.45])
numpy.save("artifacts/samples.npy", numpy.random.rand(64, 1, 28, 28).astype("float32"))
"""


@pytest.mark.slow
def test_gan_solution_scores_full_marks(gan_graded):
    rows = _rows(gan_graded.graded["solution"])
    assert {k: rows[k]["points"] for k in GAN_AUTOGRADED} == GAN_AUTOGRADED, {
        k: rows[k]["message"] for k in rows
    }
    assert all(rows[k]["points"] is None for k in rows if k not in GAN_AUTOGRADED)  # written answers: by hand


@pytest.mark.slow
def test_gan_blank_scores_zero(gan_graded):
    assert all(r["points"] == 0 for r in _rows(gan_graded.graded["blank"]).values())


@pytest.mark.slow
def test_gan_swapped_labels(gan_graded):
    rows = _rows(gan_graded.graded["swapped_labels"])
    lost = {k for k in GAN_AUTOGRADED if rows[k]["points"] == 0}
    assert lost == {"check_losses", "check_training_history"}, {k: rows[k]["message"] for k in lost}
    assert (
        "swapped" in rows["check_losses"]["message"]
        and "swapped" in rows["check_training_history"]["message"]
    )


@pytest.mark.slow
def test_gan_discriminator_collapse(gan_graded):
    rows = _rows(gan_graded.graded["d_collapsed"])
    lost = {k for k in GAN_AUTOGRADED if rows[k]["points"] == 0}
    # the runs redone with a train_step that failed its check prove nothing (issue 32, finding 8)
    assert lost == {"check_train_step", "check_training_history", "check_samples", "check_run_table"}, {
        k: rows[k]["message"] for k in lost
    }
    assert "opt_g.step()" in rows["check_train_step"]["message"]
    assert "collapsing" in rows["check_training_history"]["message"]
    assert "did not pass its check" in rows["check_samples"]["message"]


#: What a training step that fails at its first call costs: itself and the runs made with it; the
#: primer, the blocks, the losses and the plot keep their points.
BROKEN_STEP = {"check_train_step", "check_training_history", "check_samples", "check_run_table"}


@pytest.mark.slow
@pytest.mark.parametrize(
    "student,lost,advice",
    [
        ("no_detach", BROKEN_STEP, "give D the fakes with fake.detach()"),
        ("reused_logits", BROKEN_STEP, "after opt_d.step(), call the discriminator again"),
        ("int_target", BROKEN_STEP | {"check_losses"}, "torch.ones_like(logits)"),
        ("primer_no_zero_grad", {"check_primer"}, "opt_judge.zero_grad()"),
    ],
)
def test_gan_classic_mistakes_cost_only_their_checks_and_say_what_to_change(
    gan_graded, student, lost, advice
):
    rows = _rows(gan_graded.graded[student])
    got = {k: rows[k]["points"] for k in GAN_AUTOGRADED}
    assert {k for k, v in got.items() if v == 0} == lost, {k: rows[k]["message"] for k in rows if k in lost}
    assert all(got[k] == GAN_AUTOGRADED[k] for k in GAN_AUTOGRADED if k not in lost)  # partial credit
    first = min(lost, key=list(GAN_AUTOGRADED).index)  # the cell of the mistake itself
    assert advice in rows[first]["message"], rows[first]["message"]
    if student == "int_target":
        assert "failed inside discriminator_loss" in rows["check_train_step"]["message"]


@pytest.mark.slow
def test_gan_forged_training_and_artifacts_score_nothing(gan_graded):
    rows = _rows(gan_graded.graded["forger"])
    got = {k: rows[k]["points"] for k in GAN_AUTOGRADED}
    # the blocks and losses are real work; the rest is forged
    assert got == {
        **{k: 0 for k in GAN_AUTOGRADED},
        "check_primer": 1,
        "check_generator_block": 2,
        "check_discriminator_block": 2,
        "check_losses": 2,
    }, {k: rows[k]["message"] for k in rows}
    assert "weights did not change" in rows["check_train_step"]["message"]
    for grade_id in ("check_training_history", "check_samples", "check_run_table"):
        assert "did not pass its check (check_train_step)" in rows[grade_id]["message"], rows[grade_id][
            "message"
        ]


LAB1 = "lab1"
LAB1_AUTOGRADED = {
    "check_relative_motion": 3,
    "check_reenactment": 2,
    "check_my_photo": 1,
    "check_extract_frame": 2,
    "check_frames": 2,
    "check_scores_functions": 2,
    "check_scores": 3,
    "check_overlay": 2,
    "check_cams": 2,
}


@pytest.fixture(scope="module")
def lab1_graded(tmp_path_factory):
    from deepfakelab.reenact.fomm.checkpoint import shipped_model

    if shipped_model() is None:
        pytest.skip("Lab 1 needs the kit's trained FOMM weights")
    right = solution_answers(LAB1)
    return grade_lab(
        tmp_path_factory,
        LAB1,
        {
            "off_by_one": mistake(
                right, "extract_frame_answer", "if count - 1 == index:", "if count == index:"
            ),
            "wrong_sign": mistake(
                right, "relative_motion_answer", "kp_source + scale *", "kp_source - scale *"
            ),
            "swapped_logits": mistake(right, "scores_answer", "[:, 1]", "[:, 0]"),
        },
    )


@pytest.mark.slow
def test_lab1_solution_scores_full_marks(lab1_graded):
    rows = _rows(lab1_graded.graded["solution"])
    assert {k: rows[k]["points"] for k in LAB1_AUTOGRADED} == LAB1_AUTOGRADED, {
        k: rows[k]["message"] for k in rows
    }
    assert all(rows[k]["points"] is None for k in rows if k not in LAB1_AUTOGRADED)


@pytest.mark.slow
def test_lab1_blank_scores_zero(lab1_graded):
    assert all(r["points"] == 0 for r in _rows(lab1_graded.graded["blank"]).values())


@pytest.mark.slow
def test_lab1_off_by_one_frame_index(lab1_graded):
    lost, messages = _lost(lab1_graded, "off_by_one", LAB1_AUTOGRADED)
    assert lost == {"check_extract_frame", "check_frames"}, messages
    assert "counted from 0" in messages["check_frames"]


@pytest.mark.slow
def test_lab1_wrong_sign_relative_motion(lab1_graded):
    lost, messages = _lost(lab1_graded, "wrong_sign", LAB1_AUTOGRADED)
    assert lost == {"check_relative_motion", "check_reenactment"}, messages
    assert "sign" in messages["check_relative_motion"] and "sign" in messages["check_reenactment"]


@pytest.mark.slow
def test_lab1_swapped_real_fake_logits(lab1_graded):
    lost, messages = _lost(lab1_graded, "swapped_logits", LAB1_AUTOGRADED)
    assert lost == {"check_scores_functions", "check_scores"}, messages
    assert "swapped" in messages["check_scores_functions"] and "swapped" in messages["check_scores"]


# --- a determined student of Lab 1 ----------------------------------------------------------------
# Two wrong functions (the motion's sign, the logits' columns) hidden behind every attack a student
# could try on this lab: the visible asserts stripped by an AST transformer, artifacts remade with the
# kit's own helpers (the fakes and the scores), a student function that the hidden checks call hunting
# for the results file through /proc, a cell that hunts for the course through /proc/*/cwd (conftest,
# source, a classmate's submission, the exports) and a setsid daemon that strikes after the run.
STRIP_ASSERTS = """
import ast
class _NoAsserts(ast.NodeTransformer):
    def visit_Assert(self, node):
        return ast.Pass()
get_ipython().ast_transformers.append(_NoAsserts())
"""
FORGE_FAKES_AND_HUNT = """
import glob, os, pathlib, shutil, subprocess, sys
for _name in media.photos:  # the fakes again, by the kit's own motion transfer instead of mine
    _fake = lab1_media.reenact(media, _name, driving, fomm)
    save_array(_fake.motion, f"reenacted_{_name}.npy")
    fakes[_name] = write_video(f"artifacts/videos/{_name}.mp4", _fake.frames, media.fps)
_found = {"COURSE"}
for _link in glob.glob("/proc/*/cwd"):
    try:
        _here = os.readlink(_link)
    except OSError:
        continue
    for _up in [_here, *map(str, pathlib.Path(_here).parents)]:
        if os.path.isfile(os.path.join(_up, "nbgrader_config.py")) and os.path.isdir(os.path.join(_up, "source")):
            _found.add(_up)
for _course in _found:
    for _action in (
        lambda: open(os.path.join(_course, "hidden_checks", "lab1", "conftest.py"), "w").write(
            "def pytest_collection_modifyitems(items):\\n    items.clear()\\n"),
        lambda: open(os.path.join(_course, ".deepfakelab", "snapshot", "lab1", "conftest.py"), "w").write(
            "collect_ignore_glob = ['*']\\n"),
        lambda: open(os.path.join(_course, "source", "lab1", "lab1.ipynb"), "a").write(" "),
        lambda: open(os.path.join(_course, "submitted", "blank", "lab1", "lab1.ipynb"), "w").write("{}"),
        lambda: shutil.rmtree(os.path.join(_course, "submitted", "blank")),
        lambda: open(os.path.join(_course, "grades.csv"), "w").write("pwned"),
    ):
        try:
            _action()
        except OSError:
            pass
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(4); open('COURSE/grades.csv', 'w').write('pwned')"],
                 start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
"""
FORGE_SCORES = """
_forged = {}
for _name in videos:  # the detector's P(fake), computed without my fake_probability
    _kept = [i for i in lab1.SCORE_INDICES if (_name, i) in faces]
    with torch.no_grad():
        _logits = detector(to_tensor([faces[_name, i] for i in _kept])) if _kept else torch.zeros(0, 2)
    _p = torch.softmax(_logits, dim=1)[:, 1].numpy()
    _forged[_name] = {"frames": {str(i): float(v) for i, v in zip(_kept, _p)}, "mtcnn_missed": scores[_name]["mtcnn_missed"]}
    if len(_p):
        _forged[_name].update(video_verdict(_p))
save_json(_forged, "scores.json")
"""
RESULTS_FILE = """
def _rewrite_the_results():
    import glob, json, os
    for cmdline in glob.glob("/proc/*/cmdline"):
        try:
            parts = open(cmdline, "rb").read().split(b"\\\\0")
        except OSError:
            continue
        if b"--dfl-results" in parts:
            json.dump([], open(parts[parts.index(b"--dfl-results") + 1].decode(), "w"))
            os._exit(0)
"""


def lab1_attack(right: dict[str, str]) -> dict[str, str]:
    """The answers of the Lab 1 attacker (see above): 9 of the 19 autograded points are its own work."""
    answers = mistake(right, "relative_motion_answer", "kp_source + scale *", "kp_source - scale *")
    answers = mistake(answers, "scores_answer", "[:, 1]", "[:, 0]")
    answers["relative_motion_answer"] += STRIP_ASSERTS
    answers["my_photo_answer"] += FORGE_FAKES_AND_HUNT
    overlay = answers["overlay_answer"].replace('"""\n', '"""\n    _rewrite_the_results()\n', 1)
    assert overlay != answers["overlay_answer"]
    answers["overlay_answer"] = RESULTS_FILE + overlay + FORGE_SCORES
    return answers


LAB1_ATTACK_LOST = {"check_relative_motion", "check_reenactment", "check_scores_functions", "check_scores"}


@pytest.fixture(scope="module")
def lab1_attacked(tmp_path_factory):
    """One grading of the Lab 1 attacker beside a blank classmate; the course's files before and after."""
    import time

    from helpers import tree_hashes

    from deepfakelab.course.sandbox.bubblewrap import availability
    from deepfakelab.course.grading.gradebook import gradebook_digest
    from deepfakelab.reenact.fomm.checkpoint import shipped_model

    if shipped_model() is None:
        pytest.skip("Lab 1 needs the kit's trained FOMM weights")
    if availability() is not None:
        pytest.skip(f"no sandbox here: {availability()}")
    course = init_course(tmp_path_factory.mktemp("lab1-attack"), [LAB1])
    generate_assignment(course, LAB1)
    attack = {
        k: v.replace("COURSE", str(course.root)) for k, v in lab1_attack(solution_answers(LAB1)).items()
    }
    submit(course, LAB1, "attacker", attack)
    submit(course, LAB1, "blank", {})
    folders = [course.root / n for n in ("source", "hidden_checks", "submitted")] + [
        kit_root() / "autograder" / "hidden_checks",
        kit_root() / "solutions",
    ]
    before = {str(f): tree_hashes(f) for f in folders}
    report = grade_assignment(course, LAB1, GradeOptions(jobs=2, progress=False, feedback=False))
    exports = {n: (course.root / n).read_bytes() for n in ("grades.csv", f"grades-{LAB1}.csv")}
    gradebook = gradebook_digest(course.gradebook)
    time.sleep(6)  # longer than the daemon waits before it strikes
    after = {str(f): tree_hashes(f) for f in folders}
    return course, report, before, after, exports, gradebook


@pytest.mark.slow
def test_lab1_attacker_gets_exactly_the_points_of_its_own_work(lab1_attacked):
    course, report, before, after, exports, gradebook = lab1_attacked
    assert report.failed == {} and set(report.graded) == {"attacker", "blank"}, report.failed
    lost, messages = _lost(report, "attacker", LAB1_AUTOGRADED)
    assert lost == LAB1_ATTACK_LOST, messages
    points = sum(
        r["points"] for r in _rows(report.graded["attacker"]).values() if r["grade_id"] in LAB1_AUTOGRADED
    )
    assert points == 9.0
    assert "your relative_keypoints" in messages["check_reenactment"]
    assert "not what your fake_probability gives" in messages["check_scores"]
    assert all(r["points"] == 0 for r in _rows(report.graded["blank"]).values())
    # The attacks did run: their cells ended without error, and the stripped visible asserts did not fail.
    nb = nbformat.read(str(course.autograded(LAB1, "attacker") / f"{LAB1}.ipynb"), as_version=4)
    errors = {
        c.metadata.get("nbgrader", {}).get("grade_id"): [
            o.ename for o in c.get("outputs", []) if o.output_type == "error"
        ]
        for c in nb.cells
    }
    assert all(errors[g] == [] for g in ("relative_motion_answer", "my_photo_answer", "overlay_answer")), (
        errors
    )
    assert errors["check_relative_motion"] == ["HiddenCheckFailed"] and errors["check_scores"] == [
        "HiddenCheckFailed"
    ]


@pytest.mark.slow
def test_lab1_attacker_changes_nothing_outside_its_graded_folder(lab1_attacked):
    from deepfakelab.course.grading.gradebook import gradebook_digest

    course, report, before, after, exports, gradebook = lab1_attacked
    for folder, hashes in before.items():
        assert after[folder] == hashes, f"{folder} changed during or after grading"
    for name, content in exports.items():
        assert (course.root / name).read_bytes() == content and b"pwned" not in content, f"{name} changed"
    assert gradebook_digest(course.gradebook) == gradebook and report.tampered is None
    assert not (course.root / "hidden_checks" / LAB1 / "conftest.py").exists()


@pytest.fixture(scope="module")
def lab1_pack_graded(tmp_path_factory, shared_dir):
    """Lab 1 released with a media pack of real photos and videos (``course release --media``): the
    solution and the blank release submitted with the release's folder (as ``nbgrader submit`` copies
    it, ``media/`` included) and graded by ``deepfakelab course grade``; the per-cell CSV, by student."""
    import csv
    import shutil

    from deepfakelab.cli import main
    from deepfakelab.course.layout import open_course
    from deepfakelab.labs.lab1.media_pack import init_pack

    real = shared_dir / "data" / "real"
    if not real.is_dir():
        pytest.skip(f"{real} not found")
    root = tmp_path_factory.mktemp("lab1-pack")
    pack = root / "lab1_media"
    init_pack(
        pack,
        [real / p for p in ("d8.jpg", "d19.jpg", "s1.jpg", "s12.jpg")],
        [real / v for v in ("d18.mp4", "d10.mp4", "vox_dpe_d.mp4")],
        driving=real / "d18.mp4",
        link=True,
    )
    course_root = root / "course"
    assert main(["course", "release", LAB1, "--course", str(course_root), "--media", str(pack)]) == 0
    course = open_course(course_root)
    assert (course.release(LAB1) / "media" / "lab1.yaml").is_file()
    for student, answers in (("solution", solution_answers(LAB1)), ("blank", {})):
        submit(course, LAB1, student, answers)
        shutil.copytree(course.release(LAB1) / "media", course.submitted(LAB1, student) / "media")
    assert main(["course", "grade", LAB1, "--course", str(course_root), "--no-feedback"]) == 0
    rows = {}
    with open(course_root / f"grades-{LAB1}.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            rows.setdefault(row["student"], {})[row["grade_id"]] = row
    return rows


@pytest.mark.slow
def test_lab1_on_a_media_pack_solution_full_marks_blank_zero(lab1_pack_graded):
    solution, blank = lab1_pack_graded["solution"], lab1_pack_graded["blank"]
    assert {k: float(solution[k]["points"]) for k in LAB1_AUTOGRADED} == LAB1_AUTOGRADED, {
        k: solution[k]["message"] for k in LAB1_AUTOGRADED
    }
    assert all(float(blank[k]["points"] or 0) == 0 for k in blank)


# --- honest Lab 1 students beside hostile classmates, graded again and again (issue 32, finding 10) ---
LOOP_FOREVER = "\nwhile True:\n    pass\n"
MEMORY_BOMB = "\n_hog = [bytearray(2**30) for _ in range(64)]\n"


@pytest.mark.slow
def test_lab1_honest_students_keep_full_marks_beside_hostile_ones_every_time(tmp_path_factory):
    """Two honest full solutions graded with --jobs 2 beside an endless loop, a memory bomb and the attacker
    above, three times over: they get every point every time (an honest one once got 15 of 19 here, its
    checks failing with 'Bad file descriptor' -- a grader fault scored as the student's)."""
    from deepfakelab.course.sandbox.bubblewrap import availability
    from deepfakelab.reenact.fomm.checkpoint import shipped_model

    if shipped_model() is None:
        pytest.skip("Lab 1 needs the kit's trained FOMM weights")
    if availability() is not None:
        pytest.skip(f"no sandbox here: {availability()}")
    course = init_course(tmp_path_factory.mktemp("lab1-stress"), [LAB1])
    generate_assignment(course, LAB1)
    right = solution_answers(LAB1)
    for student in ("honest-1", "honest-2"):
        submit(course, LAB1, student, right)
    submit(
        course, LAB1, "loop", {**right, "extract_frame_answer": right["extract_frame_answer"] + LOOP_FOREVER}
    )
    submit(
        course, LAB1, "bomb", {**right, "extract_frame_answer": right["extract_frame_answer"] + MEMORY_BOMB}
    )
    submit(
        course,
        LAB1,
        "attacker",
        {k: v.replace("COURSE", str(course.root)) for k, v in lab1_attack(right).items()},
    )
    full = float(sum(LAB1_AUTOGRADED.values()))
    for round_ in range(3):
        report = grade_assignment(
            course, LAB1, GradeOptions(jobs=2, force=True, progress=False, feedback=False, cell_timeout=120)
        )
        for student in ("honest-1", "honest-2"):
            rows = _rows(report.graded[student])
            lost = {
                k: r["message"] for k, r in rows.items() if not r["manual"] and r["points"] != r["max_points"]
            }
            assert not lost and student not in report.failed, (
                round_,
                student,
                lost,
                report.failed.get(student),
            )
            assert report.graded[student].score >= full
