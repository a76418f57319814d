"""Grading the real labs end to end: the solution scores 100 %, the blank notebook 0, and each
plausible mistake loses exactly the points of the checks it breaks, with a message that says
what to fix. Slow (each notebook trains a GAN, shortened by NBGRADER_EXECUTION); the toy course
in test_course_grading.py proves the same machinery in the default run."""

from __future__ import annotations

import json
import re

import nbformat
import pytest

pytest.importorskip("nbgrader")

from deepfakelab.course.grade import GradeOptions, grade_assignment  # noqa: E402
from deepfakelab.course.layout import init_course, kit_root  # noqa: E402
from deepfakelab.course.release import generate_assignment  # noqa: E402

GAN = "gan-lab"
GAN_AUTOGRADED = {"check_generator_block": 2, "check_discriminator_block": 2, "check_losses": 2, "check_train_step": 3,
                  "check_training_history": 3, "check_samples": 1, "check_plot": 2, "check_run_table": 2}


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
    return {r["grade_id"]: r for nb in result["notebooks"].values() for r in nb["cells"]}


@pytest.fixture(scope="module")
def gan_graded(tmp_path_factory):
    course = init_course(tmp_path_factory.mktemp("gan-course"), [GAN])
    generate_assignment(course, GAN)
    right = solution_answers(GAN)
    submit(course, GAN, "solution", right)
    submit(course, GAN, "blank", {})
    swapped = right["losses_answer"].replace("torch.ones_like(logits_real)", "torch.zeros_like(logits_real)") \
        .replace("torch.zeros_like(logits_fake))\n    return (real_loss", "torch.ones_like(logits_fake))\n    return (real_loss")
    assert swapped != right["losses_answer"]
    submit(course, GAN, "swapped_labels", {**right, "losses_answer": swapped})
    no_g_step = right["train_step_answer"].replace("    opt_g.step()\n", "")
    assert no_g_step != right["train_step_answer"]
    submit(course, GAN, "d_collapsed", {**right, "train_step_answer": no_g_step})
    report = grade_assignment(course, GAN, GradeOptions(jobs=2, progress=False, feedback=False))
    assert report.failed == {}, report.tracebacks
    return report


@pytest.mark.slow
def test_gan_solution_scores_full_marks(gan_graded):
    rows = _rows(gan_graded.graded["solution"])
    assert {k: rows[k]["points"] for k in GAN_AUTOGRADED} == GAN_AUTOGRADED, {k: rows[k]["message"] for k in rows}
    assert all(rows[k]["points"] is None for k in rows if k not in GAN_AUTOGRADED)  # written answers: by hand


@pytest.mark.slow
def test_gan_blank_scores_zero(gan_graded):
    assert all(r["points"] == 0 for r in _rows(gan_graded.graded["blank"]).values())


@pytest.mark.slow
def test_gan_swapped_labels(gan_graded):
    rows = _rows(gan_graded.graded["swapped_labels"])
    lost = {k for k in GAN_AUTOGRADED if rows[k]["points"] == 0}
    assert lost == {"check_losses", "check_training_history"}, {k: rows[k]["message"] for k in lost}
    assert "swapped" in rows["check_losses"]["message"] and "swapped" in rows["check_training_history"]["message"]


@pytest.mark.slow
def test_gan_discriminator_collapse(gan_graded):
    rows = _rows(gan_graded.graded["d_collapsed"])
    lost = {k for k in GAN_AUTOGRADED if rows[k]["points"] == 0}
    assert lost == {"check_train_step", "check_training_history"}, {k: rows[k]["message"] for k in lost}
    assert "opt_g.step()" in rows["check_train_step"]["message"]
    assert "collapsing" in rows["check_training_history"]["message"]
