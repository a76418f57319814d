"""Lab 2's notebook as a student meets it, without grading it.

The full cycle (the notebook executed and graded, right and wrong submissions) is in
test_course_labs.py and is slow, and test_course_probes.py calls the hidden checks directly. Here:
the notebook's structure (each part shows its points, its expected time and its link to the lab
guide; each graded function has folded hints; each question has its own answer cell; each term
of the glossary links there where the notebook first uses it) and its *visible* checks, run
in-process on the solution and on the classic mistakes a beginner makes, each of which must be
told what to change.
"""

from __future__ import annotations

import json
import re

import pytest
import torch

from deepfakelab.labs.lab2 import diagnosis, notebook as lab2
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
NOTEBOOK = KIT / "solutions" / "lab2" / "lab2.ipynb"
GUIDE = KIT / "site" / "docs" / "labs" / "lab2.md"
GLOSSARY = KIT / "site" / "docs" / "glossary.md"
#: The course website's pages the notebook links to, by their published path.
PAGES = {
    "labs/lab2/": GUIDE,
    "glossary/": GLOSSARY,
    "labs/": KIT / "site" / "docs" / "labs" / "index.md",
    "theory/gans/": KIT / "site" / "docs" / "theory" / "gans.md",
    "theory/ethics/": KIT / "site" / "docs" / "theory" / "ethics.md",
}


def _cells() -> list[dict]:
    return json.loads(NOTEBOOK.read_text())["cells"]


def _parts() -> dict[str, list[dict]]:
    return notebook_parts(_cells(), r"## Part (\d+)")


# --- points, times, links ------------------------------------------------------------------------


def test_each_part_shows_its_points_time_and_link():
    assert_parts_show_points_time_and_link(
        _parts(), lab2.expected_minutes(NOTEBOOK), "lab2", GUIDE.read_text()
    )


def test_the_times_are_the_estimate_and_add_up_to_at_most_three_hours():
    minutes = lab2.expected_minutes(NOTEBOOK)
    assert sum(minutes.values()) <= 180, minutes
    intro, guide = _table(_source(_cells()[0])), _table(GUIDE.read_text())
    assert {p: int(m) for p, (_, m) in intro.items()} == minutes
    assert guide == intro, "the guide's table of parts is not the notebook's"
    total = f"**{sum(minutes.values())} min**"
    assert total in _source(_cells()[0]) and total in GUIDE.read_text()
    assert f"The sum is {sum(minutes.values())} minutes" in GUIDE.read_text()
    assert "not a measurement" in GUIDE.read_text()  # says how they were made, honestly


def test_every_website_link_leads_to_a_page_and_section_that_exist():
    assert_website_links_exist(_cells(), PAGES)


#: Each glossary term a notebook may use, as the words that use it.
TERMS = {
    "gan": r"\bGANs?\b|generative adversarial network",
    "pytorch": r"\bPyTorch\b",
    "pixel": r"\bpixels?\b",
    "generator": r"\bgenerators?\b",
    "discriminator": r"\bdiscriminators?\b",
    "noise": r"\bnoise\b",
    "training-step": r"\btraining steps?\b",
    "loss": r"\bloss(es)?\b",
    "sample": r"\bsamples?\b",
    "tensor": r"\btensors?\b",
    "batch": r"\bbatch(es)?\b",
    "channel": r"\bchannels?\b",
    "layer": r"\blayers?\b",
    "weights": r"\bweights\b",
    "convolution": r"(?<!transposed )\bconvolutions?\b",
    "transposed-convolution": r"\btransposed convolutions?\b",
    "nn-sequential": r"nn\.Sequential",
    "computation-graph": r"\bgraph\b",
    "gradient": r"\bgradients?\b",
    "optimizer": r"\boptimi[sz]ers?\b",
    "learning-rate": r"\blearning rate\b",
    "zero-grad": r"zero_grad",
    "detach": r"\bdetach",
    "feature-map": r"\bfeatures?\b",
    "kernel-size": r"\bkernel",
    "stride": r"\bstride\b",
    "padding": r"\bpadding\b",
    "batchnorm": r"BatchNorm|batch norm",
    "activation": r"\bactivations?\b",
    "tanh": r"\btanh\b",
    "logit": r"\blogits?\b",
    "sigmoid": r"\bsigmoid\b",
    "dcgan": r"\bDCGAN\b",
    "adam": r"\bAdam\b",
    "binary-cross-entropy": r"binary cross-entropy|\bBCE\b",
    "label": r"\blabels?\b",
    "hyperparameter": r"\bhyperparameters?\b",
    "seed": r"\bseeds?\b",
    "epoch": r"\bepochs?\b",
    "mode-collapse": r"mode collapse",
}


def test_each_term_links_to_the_glossary_where_the_notebook_first_uses_it():
    glossary = _anchors(GLOSSARY)
    assert set(TERMS) <= glossary, set(TERMS) - glossary
    text = "\n".join(
        _prose(c) for c in _cells() if c["cell_type"] == "markdown" and not _meta(c).get("solution")
    )
    assert_terms_linked_where_first_used(text, TERMS, {"adam", "dcgan"}, every_term_used=False)


# --- hints and answer cells ----------------------------------------------------------------------


def test_every_graded_function_has_folded_hints_ending_in_a_skeleton():
    cells = _cells()
    for index, cell in enumerate(cells):
        if not (_meta(cell).get("solution") and cell["cell_type"] == "code"):
            continue
        task = next(_source(c) for c in reversed(cells[:index]) if c["cell_type"] == "markdown")
        hints = re.findall(r"<details><summary>Hint (\d+)</summary>(.*?)</details>", task, re.S)
        assert len(hints) >= 2, f"{_meta(cell)['grade_id']}: fewer than two folded hints before it"
        assert [int(n) for n, _ in hints] == list(range(1, len(hints) + 1))
        assert "```python" in hints[-1][1], f"{_meta(cell)['grade_id']}: the last hint is not a skeleton"


def test_every_question_has_its_own_answer_cell():
    cells = _cells()
    for index, cell in enumerate(cells):
        meta = _meta(cell)
        if meta.get("solution") and cell["cell_type"] == "markdown":
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


def test_the_guide_prints_no_escaped_tex():
    assert "\\_" not in GUIDE.read_text() and "\\_" not in "".join(
        _source(c) for c in _cells() if c["cell_type"] == "markdown"
    )


# --- the visible checks on the classic mistakes ----------------------------------------------------

#: The cell the visible checks need before the answers (the slow ones -- training, figures -- are left out),
#: run once; the networks' cell is run again with each submission's answers, since its classes find the
#: blocks in the namespace they were defined in.
SETUP, NETWORKS = "setup", "networks"


def _by_id(grade_id: str) -> str:
    return next(_source(c) for c in _cells() if _meta(c)["grade_id"] == grade_id)


def _answers() -> dict[str, str]:
    return {
        _meta(c)["grade_id"]: re.sub(r"^\s*### (BEGIN|END) SOLUTION\s*\n", "", _source(c), flags=re.M)
        for c in _cells()
        if _meta(c).get("solution") and c["cell_type"] == "code"
    }


@pytest.fixture(scope="module")
def base() -> dict:
    import matplotlib

    matplotlib.use("Agg")
    namespace: dict = {}
    exec(compile(_by_id(SETUP), SETUP, "exec"), namespace)  # noqa: S102 - the kit's own cell
    namespace["real_images"] = namespace["real_images"][:64]
    return namespace


def visible(base: dict, check: str, changes: dict[str, tuple[str, str] | str] | None = None) -> str:
    """The message of the visible check ``check`` with the solution's answers, ``changes`` applied
    (grade_id -> a replacement source, or (old, new) in the solution's); "" when it passes."""
    answers = _answers()
    for grade_id, change in (changes or {}).items():
        if isinstance(change, tuple):
            assert change[0] in answers[grade_id], change[0]
            answers[grade_id] = answers[grade_id].replace(*change)
        else:
            answers[grade_id] = change
    namespace = _with(base, answers)
    source = _by_id(check).split("### BEGIN HIDDEN TESTS")[0]
    try:
        exec(compile(source, check, "exec"), namespace)  # noqa: S102
    except AssertionError as error:
        return str(error)
    return ""


def _with(base: dict, answers: dict[str, str]) -> dict:
    """The set-up's namespace with the networks' cell and ``answers`` run in it."""
    namespace = dict(base)
    for grade_id, source in [(NETWORKS, _by_id(NETWORKS)), *answers.items()]:
        exec(compile(source, grade_id, "exec"), namespace)  # noqa: S102 - the kit's cell, a submission's cells
    return namespace


@pytest.mark.parametrize(
    "check",
    [
        "check_primer",
        "check_generator_block",
        "check_discriminator_block",
        "check_losses",
        "check_train_step",
    ],
)
def test_the_solution_passes_its_visible_checks(base, check):
    assert visible(base, check) == ""


INT_TARGET = ("torch.ones_like(logits_real))\n", "1)\n")
NO_DETACH = ("discriminator(fake.detach())", "discriminator(fake)")
REUSED_LOGITS = (
    "    g_loss = generator_loss(discriminator(fake))\n",
    "    g_loss = generator_loss(logits_fake)\n",
)

#: check -> mistake -> (the change, words the advice must hold)
MISTAKES = {
    "check_primer": {
        "no detach": ({"primer_answer": ("judge(made.detach())", "judge(made)")}, "made.detach()"),
        "no zero_grad": ({"primer_answer": ("    opt_judge.zero_grad()\n", "")}, "opt_judge.zero_grad()"),
        "no step": ({"primer_answer": ("    opt_judge.step()\n", "")}, "call opt_judge.step()"),
        "a tensor returned": ({"primer_answer": ("return loss.item()", "return loss")}, "loss.item()"),
    },
    "check_losses": {
        "the number 1 as target": ({"losses_answer": INT_TARGET}, "torch.ones_like(logits)"),
        "a 0-d target": (
            {"losses_answer": ("torch.ones_like(logits_real))\n", "torch.tensor(1.0))\n")},
            "another shape",
        ),
        "a long target": (
            {
                "losses_answer": (
                    "torch.ones_like(logits_real))\n",
                    "torch.ones(len(logits_real), dtype=torch.long))\n",
                )
            },
            "floats",
        ),
        "probabilities expected": (
            {
                "losses_answer": (
                    "real_loss = F.binary_cross_entropy_with_logits",
                    "real_loss = F.binary_cross_entropy",
                )
            },
            "_with_logits",
        ),
        "the sum, not the mean": (
            {"losses_answer": ("return (real_loss + fake_loss) / 2", "return real_loss + fake_loss")},
            "you returned their sum",
        ),
        "swapped labels": (
            {
                "losses_answer": (
                    "torch.ones_like(logits_real))\n    fake_loss = "
                    "F.binary_cross_entropy_with_logits(logits_fake, torch.zeros_like",
                    "torch.zeros_like(logits_real))\n    fake_loss = "
                    "F.binary_cross_entropy_with_logits(logits_fake, torch.ones_like",
                )
            },
            "the labels are swapped",
        ),
        "G's target 0": (
            {
                "losses_answer": (
                    "return F.binary_cross_entropy_with_logits(logits_fake, torch.ones_like",
                    "return F.binary_cross_entropy_with_logits(logits_fake, torch.zeros_like",
                )
            },
            "G's target is label 1",
        ),
        "a float returned": (
            {
                "losses_answer": (
                    "return (real_loss + fake_loss) / 2",
                    "return ((real_loss + fake_loss) / 2).item()",
                )
            },
            "not a tensor",
        ),
    },
    "check_train_step": {
        "no detach": ({"train_step_answer": NO_DETACH}, "fake.detach()"),
        "D's logits reused for G": (
            {"train_step_answer": REUSED_LOGITS},
            "after opt_d.step(), call the discriminator again",
        ),
        "the number 1 as a loss's target": (
            {"losses_answer": INT_TARGET},
            "failed inside discriminator_loss",
        ),
        "G's loss on detached fakes": (
            {
                "train_step_answer": (
                    "generator_loss(discriminator(fake))",
                    "generator_loss(discriminator(fake.detach()))",
                )
            },
            "no gradient in the generator",
        ),
        "no opt_g.step": ({"train_step_answer": ("    opt_g.step()\n", "")}, "call opt_g.step()"),
        "no opt_d.step": ({"train_step_answer": ("    opt_d.step()\n", "")}, "call opt_d.step()"),
        "tensors returned": (
            {"train_step_answer": ('"d_loss": d_loss.item()', '"d_loss": d_loss')},
            ".item()",
        ),
    },
}
MISTAKES["check_train_step"]["both"] = (
    {"train_step_answer": f"{_answers()['train_step_answer']}".replace(*NO_DETACH).replace(*REUSED_LOGITS)},
    "fake.detach()",
)


@pytest.mark.parametrize("check,mistake", [(c, m) for c, ms in MISTAKES.items() for m in ms])
def test_each_classic_mistake_is_told_what_to_change(base, check, mistake):
    changes, advice = MISTAKES[check][mistake]
    message = visible(base, check, changes)
    assert advice in message, message
    assert "Traceback" not in message and len(message) < 600


def test_d_reused_logits_with_the_detach_missing_too_get_both_pieces_of_advice(base):
    message = visible(base, "check_train_step", MISTAKES["check_train_step"]["both"][0])
    assert "fake.detach()" in message and "call the discriminator again" in message, message


# --- the trace itself ----------------------------------------------------------------------------


def test_a_trace_records_what_the_solution_does(base):
    namespace = _with(base, _answers())
    generator, discriminator, opt_g, opt_d = namespace["make_gan"](seed=1)
    trace = diagnosis.trace_train_step(
        namespace["train_step"], generator, discriminator, opt_g, opt_d, namespace["real_images"][:8]
    )
    assert trace["events"] == ["G", "D", "D", "opt_d.step", "D<-G", "opt_g.step"]
    assert not trace["d_backward_reached_g"] and trace["error"] is None
    assert diagnosis.train_step_advice(trace) is None
    json.dumps(trace)  # plain data: it crosses the sandbox's boundary as it is


def test_a_loss_error_of_another_kind_is_quoted_in_the_notebook_but_never_by_the_hidden_checks():
    error = ValueError("something odd in my own code")
    assert "something odd" in diagnosis.loss_advice("generator_loss", error)
    assert "something odd" not in diagnosis.loss_advice("generator_loss", error, show_error=False)
    trace = {"events": ["G"], "error": "other", "error_type": "KeyError", "error_text": "my secret"}
    assert "my secret" in diagnosis.train_step_advice(trace)
    assert "my secret" not in diagnosis.train_step_advice(trace, False)


def test_the_networks_described_are_the_notebooks():
    text = lab2.describe_networks()
    for shape in (
        "256 x 3 x 3",
        "128 x 6 x 6",
        "64 x 13 x 13",
        "1 x 28 x 28",
        "16 x 13 x 13",
        "32 x 5 x 5",
        "1 x 1 x 1",
    ):
        assert shape in text, shape
    assert "LeakyReLU(0.2)" in text and "Tanh" in text


def test_a_reference_run_is_short_and_shows_its_samples():
    from deepfakelab.gan import procedural_bags

    run = lab2.reference_run(procedural_bags(128, seed=0), steps=4, snapshots=3)
    assert [h["step"] for h in run.history] == [0, 1, 2, 3] and sorted(run.samples) == [0, 2, 4]
    assert run.samples[4].shape == (32, 1, 28, 28) and 0 <= float(run.samples[4].min())
    import matplotlib

    matplotlib.use("Agg")
    assert len(lab2.show_run(run).axes) == 5
    assert torch.is_tensor(run.samples[0])
