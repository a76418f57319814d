"""Lab 1's notebook as a student meets it, without grading it (issue 31), as
tests/labs/lab2/test_lab2.py does for Lab 2.

The full cycle (the notebook executed and graded, right and wrong submissions) is in
test_course_labs.py and is slow; test_lab1.py calls the hidden checks directly. Here: the
notebook's structure (it opens with a finished fake, playing; each part shows its points, its
expected time and its link to the lab guide; each graded function has folded hints; each question
has its own answer cell, the FOMM question after the student has made a fake; each glossary term
links there where the notebook first uses it; the detector's limits stand beside its results,
after a prediction), the guide's tables, and the helpers the notebook's first parts call.
"""

from __future__ import annotations

import json
import re

import pytest

from deepfakelab.labs.lab1 import notebook as lab1
from deepfakelab.course.layout import kit_root
from helpers import (
    assert_parts_show_points_time_and_link,
    notebook_parts,
    assert_terms_linked_where_first_used,
    assert_website_links_exist,
    cell_prose as _prose,
    cell_source as _source,
    nbgrader_meta as _meta,
    page_anchors as _anchors,
    parts_table as _table,
)

KIT = kit_root()
NOTEBOOK = KIT / "solutions" / "lab1" / "lab1.ipynb"
RELEASE = KIT / "assignments" / "lab1" / "lab1.ipynb"
GUIDE = KIT / "site" / "docs" / "labs" / "lab1.md"
GLOSSARY = KIT / "site" / "docs" / "glossary.md"
DOCS = KIT / "site" / "docs"
#: The course website's pages the notebook links to, by their published path.
PAGES = {
    "labs/lab1/": GUIDE,
    "glossary/": GLOSSARY,
    "labs/": DOCS / "labs" / "index.md",
    "theory/reenactment/": DOCS / "theory" / "reenactment.md",
    "theory/detection/": DOCS / "theory" / "detection.md",
    "theory/provenance/": DOCS / "theory" / "provenance.md",
    "theory/ethics/": DOCS / "theory" / "ethics.md",
}
#: Points per part: what the notebook's cells hold, the guide says and the grading tests expect.
POINTS = {"0": 0, "1": 3, "2": 7, "3": 1, "4": 4, "5": 6, "6": 7, "7": 3, "8": 4}


def _cells(path=NOTEBOOK) -> list[dict]:
    return json.loads(path.read_text())["cells"]


def _parts() -> dict[str, list[dict]]:
    return notebook_parts(_cells(), r"## (\d+)\. ")


def _ids() -> list[str]:
    return [_meta(c)["grade_id"] for c in _cells()]


# --- the order: experience first -----------------------------------------------------------------


def test_the_lab_opens_with_a_finished_fake_playing_and_asks_about_fomm_after_the_student_made_one():
    ids = _ids()
    assert list(_parts()) == ["start", *POINTS, "hand in"]
    assert ids.index("look_fake") < ids.index("relative_motion_answer"), "Part 0's fake comes before any task"
    look = _source(_cells()[ids.index("look_fake")])
    assert "lab1.reference_fake()" in look and "video_html" in look, "Part 0 plays the fake in the notebook"
    first_question = min(
        i for i, c in enumerate(_cells()) if _meta(c).get("solution") and c["cell_type"] == "markdown"
    )
    assert ids[first_question] == "hard_cases" and ids.index("explain_reenactment") > ids.index(
        "check_reenactment"
    ), "the first written question comes after the student has made and watched fakes"


def test_the_fakes_play_in_the_notebook_and_the_keypoints_are_drawn():
    cells = {_meta(c)["grade_id"]: _source(c) for c in _cells()}
    assert "lab1.video_html(list(fakes.values())" in cells["reenact_hard_cases"]
    assert "lab1.video_html(list(own_fakes.values())" in cells["reenact_my_photo"]
    assert "lab1.show_keypoints" in cells["show_keypoints"]
    ids = _ids()
    assert ids.index("show_keypoints") < ids.index("relative_motion_answer")


def test_predict_then_run_and_the_detectors_limits_beside_its_table():
    ids = _ids()
    assert ids.index("check_scores_functions") < ids.index("predict_scores") < ids.index("score_frames"), (
        "the prediction is asked before the detector runs"
    )
    assert ids.index("detector_limits") == ids.index("score_frames") + 1, (
        "the limits stand right after the table"
    )
    limits = _source(_cells()[ids.index("detector_limits")])
    assert "not a proof" in limits and "never saw" in limits
    assert "read_card()" in _source(_cells()[ids.index("score_frames")]), (
        "the table says who scored and on what it was trained"
    )


def test_the_detectors_paragraph_is_the_lead_engineers():
    """The cell of Part 5 keeps its heading, and its paragraph on what the detector was trained on
    and where it fails is untouched (it is rewritten with measured facts elsewhere)."""
    (cell,) = [c for c in _cells() if _source(c).startswith("## 5. Fake or real? The detector's verdict\n")]
    assert "The course's detector is torchvision's MobileNetV2" in _source(cell)


# --- points, times, links ------------------------------------------------------------------------


def test_each_part_shows_its_points_time_and_link():
    minutes = lab1.expected_minutes(NOTEBOOK)
    assert_parts_show_points_time_and_link(_parts(), minutes, "lab1", GUIDE.read_text())
    shown = {part: sum(_meta(c).get("points", 0) for c in cells) for part, cells in _parts().items()}
    assert {part: n for part, n in shown.items() if part not in ("start", "hand in")} == POINTS
    assert f"**About {minutes['hand in']} minutes.**" in _source(_parts()["hand in"][0])


def test_the_times_are_the_estimate_and_add_up_to_at_most_three_hours():
    minutes = lab1.expected_minutes(NOTEBOOK)
    assert sum(minutes.values()) <= 180, minutes
    intro, guide = _table(_source(_cells()[0])), _table(GUIDE.read_text())
    assert {p: int(m) for p, (_, m) in intro.items()} == minutes
    assert {p: int(n) for p, (n, _) in intro.items() if n} == POINTS
    assert guide == intro, "the guide's table of parts is not the notebook's"
    total = f"**{sum(minutes.values())} min**"
    points = f"**{sum(POINTS.values())}**"
    assert total in _source(_cells()[0]) and total in GUIDE.read_text()
    assert points in _source(_cells()[0]) and points in GUIDE.read_text()
    assert f"The sum is {sum(minutes.values())} minutes" in GUIDE.read_text()
    assert "not a measurement" in GUIDE.read_text()
    assert "labs.lab1.notebook.expected_minutes" in GUIDE.read_text()


def test_the_points_are_the_graders():
    """19 points autograded (the grading tests' LAB1_AUTOGRADED), the rest by hand; the guide and the
    instructors' page say the same."""
    auto = sum(_meta(c)["points"] for c in _cells() if _meta(c).get("grade") and not _meta(c).get("solution"))
    manual = sum(_meta(c)["points"] for c in _cells() if _meta(c).get("grade") and _meta(c).get("solution"))
    assert (auto, manual) == (19, 16)
    assert "19 points autograded, 16 by hand" in " ".join((DOCS / "instructors.md").read_text().split())
    assert (
        "The automatic checks give 19 points; your instructor grades the six written answers (16 points)"
        in " ".join(GUIDE.read_text().split())
    )


def test_every_website_link_leads_to_a_page_and_section_that_exist():
    assert_website_links_exist(_cells(), PAGES)


#: Each glossary term the notebook may use, as the words that use it.
TERMS = {
    "deepfake": r"\bdeepfakes?\b",
    "reenactment": r"\breenact",
    "fomm": r"\bFOMM\b",
    "neural-network": r"\bneural networks?\b",
    "frame": r"\bframes?\b",
    "fine-tuning": r"\bfine-tun",
    "probability": r"\bprobabilit(y|ies)\b",
    "grad-cam": r"Grad-CAM",
    "provenance": r"\bprovenance\b",
    "keypoint": r"\bkeypoints?\b",
    "jacobian": r"\bJacobians?\b",
    "affine-map": r"\baffine\b",
    "pytorch": r"\bPyTorch\b",
    "tensor": r"\btensors?\b",
    "broadcasting": r"\bbroadcast",
    "batch": r"\bbatch(es)?\b",
    "pixel": r"\bpixels?\b",
    "checkpoint": r"\bcheckpoints?\b",
    "dense-motion-network": r"dense motion",
    "occlusion-map": r"occlusion map",
    "imagenet": r"\bImageNet\b",
    "logit": r"\blogits?\b",
    "softmax": r"\bsoftmax\b",
    "auc": r"\bAUC\b",
    "no-grad": r"no_grad",
    "mtcnn": r"\bMTCNN\b",
    "feature-map": r"\bfeature maps?\b",
    "gradient": r"\bgradients?\b",
    "c2pa-manifest": r"\bC2PA\b",
    "watermark": r"\bwatermarks?\b",
}
CASE_SENSITIVE = {"fomm", "auc", "mtcnn", "imagenet", "c2pa-manifest"}


def test_each_term_links_to_the_glossary_where_the_notebook_first_uses_it():
    glossary = _anchors(GLOSSARY)
    assert set(TERMS) <= glossary, set(TERMS) - glossary
    text = "\n".join(
        _prose(c) for c in _cells() if c["cell_type"] == "markdown" and not _meta(c).get("solution")
    )
    assert_terms_linked_where_first_used(text, TERMS, CASE_SENSITIVE)


# --- hints and answer cells ----------------------------------------------------------------------


def test_every_graded_function_has_folded_hints_ending_in_a_skeleton():
    cells = _cells()
    solutions = [i for i, c in enumerate(cells) if _meta(c).get("solution") and c["cell_type"] == "code"]
    assert len(solutions) == 5
    for index in solutions:
        task = next(_source(c) for c in reversed(cells[:index]) if c["cell_type"] == "markdown")
        hints = re.findall(r"<details><summary>Hint (\d+)</summary>(.*?)</details>", task, re.S)
        grade_id = _meta(cells[index])["grade_id"]
        assert len(hints) >= 2, f"{grade_id}: fewer than two folded hints before it"
        assert [int(n) for n, _ in hints] == list(range(1, len(hints) + 1))
        assert "```python" in hints[-1][1], f"{grade_id}: the last hint is not a skeleton"


def test_every_question_has_its_own_answer_cell():
    cells = _cells()
    answers = 0
    for index, cell in enumerate(cells):
        meta = _meta(cell)
        if meta.get("solution") and cell["cell_type"] == "markdown":
            answers += 1
            assert _source(cell).lstrip().startswith("### BEGIN SOLUTION"), (
                f"{meta['grade_id']}: the answer cell holds more than the answer"
            )
            question = cells[index - 1]
            assert _meta(question).get("locked") and "Answer in the next cell" in " ".join(
                _source(question).split()
            ), f"{meta['grade_id']}: not after its own question"
            assert f"({meta['points']} point" in _source(question), (
                f"{meta['grade_id']}: its question shows no points"
            )
    assert answers == 6
    asks = [
        c
        for c in cells
        if c["cell_type"] == "markdown" and not _meta(c).get("solution") and "Which hard case" in _source(c)
    ]
    assert len(asks) == 1 and "Answer in the next cell" in " ".join(_source(asks[0]).split())


def test_the_release_is_the_same_notebook_without_the_answers():
    release = {_meta(c)["grade_id"]: _source(c) for c in _cells(RELEASE)}
    assert list(release) == _ids()
    assert all(
        "YOUR ANSWER HERE" in release[g] for g in ("hard_cases", "predict_scores", "explain_reenactment")
    )


# --- what the first parts call -------------------------------------------------------------------


def test_expected_minutes_counts_lab1_by_lab2s_rule():
    minutes = lab1.expected_minutes(NOTEBOOK)
    assert set(minutes) == {"start", *POINTS, "hand in"} and all(
        m % 5 == 0 and m >= 5 for m in minutes.values()
    )


@pytest.fixture(scope="module")
def model():
    if lab1.shipped_model() is None:
        pytest.skip("Lab 1 needs the kit's trained FOMM weights")
    return lab1.load_model()


def test_the_reference_fake_is_a_synthetic_head_side_by_side_and_plays_embedded(tmp_path, model):
    made = lab1.reference_fake(tmp_path, model)
    from deepfakelab.media import read_video
    from deepfakelab.media.writer import read_metadata

    video = read_video(made.path)
    assert video.frames.shape == (lab1.DRIVING_FRAMES, lab1.SIZE, 3 * lab1.SIZE, 3)
    assert "synthetic" in read_metadata(made.path)["comment"]
    assert made.seconds < 60
    html = lab1.video_html([made.path], ["<fake>"]).data
    assert html.count("<video") == 1 and "data:video/mp4;base64," in html and "&lt;fake&gt;" in html


def test_the_keypoints_and_their_motion_are_drawn(model):
    import matplotlib

    matplotlib.use("Agg")
    motion = lab1.keypoint_motion(lab1.reference_photo(), lab1.real_video(lab1.DRIVING), model, frame=9)
    k = len(motion.kp_source)
    assert motion.kp_driving.shape == motion.kp_moved.shape == (k, 2) and motion.jac_source.shape == (k, 2, 2)
    assert motion.source.shape == (lab1.MODEL_SIDE, lab1.MODEL_SIDE, 3)
    # the kit's relative motion: the source moved by the driving keypoints' motion since frame 0 (scaled)
    shift, driving = motion.kp_moved - motion.kp_source, motion.kp_driving - motion.kp_initial
    assert (shift * driving).sum() > 0, "the source's keypoints move the way the driving face's did"
    fig = lab1.show_keypoints(motion)
    assert len(fig.axes) == 3 and "frame 9" in fig.axes[1].get_title()
