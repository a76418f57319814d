"""Probes: public code beside the student's, and checks that a forger cannot pass.

Issue 32, findings 3 and 8. The probes live in the kit (``deepfakelab.course.probes``) and are
loaded in the sandbox by module name, so nothing of the hidden checks enters it; what a student
function raises is cut short and cleaned of the checks' source before anyone reads it (one toy
course graded with a student function that hunts for the checks). Lab 2's training step is
checked against the update it must make: the solution passes, a forged step and the plausible
bugs fail with advice, and the checks that redo the run with it then fail too (in-process,
with the solution's own functions: no sandbox, no notebook run).
"""

from __future__ import annotations

import base64
import csv
import importlib.util
import json
import types

import nbformat
import numpy as np
import pytest

from deepfakelab.course import probes, toy
from deepfakelab.course.sandbox import wire
from deepfakelab.course.sandbox.bubblewrap import availability
from deepfakelab.course.layout import kit_root
from deepfakelab.course.probes import lab2 as lab2_probes
from deepfakelab.course.sandbox.student_code import load_student_namespace
from helpers import failure

GAN_CHECKS = kit_root() / "autograder" / "hidden_checks" / "lab2" / "test_lab2.py"
needs_bwrap = pytest.mark.skipif(availability() is not None, reason=f"no sandbox here: {availability()}")


# --- how a checks folder names its probes -----------------------------------------------------


def test_the_checks_name_a_probes_module_of_the_kit(tmp_path):
    assert probes.named_by(GAN_CHECKS.parent) == "deepfakelab.course.probes.lab2"
    assert not (GAN_CHECKS.parent / "probes.py").exists()  # nothing of the checks is copied into a sandbox
    assert probes.named_by(tmp_path) is None and probes.named_by(tmp_path / "missing") is None
    (tmp_path / "test_a.py").write_text('import os\nPROBES = "os"\n')
    with pytest.raises(ValueError, match="must be a module of deepfakelab.course.probes"):
        probes.named_by(tmp_path)
    (tmp_path / "test_a.py").write_text('PROBES = "deepfakelab.course.probes.toy"\n')
    (tmp_path / "test_b.py").write_text('PROBES = "deepfakelab.course.probes.lab2"\n')
    with pytest.raises(ValueError, match="different probes modules"):
        probes.named_by(tmp_path)


# --- what crosses back: probes by name, messages short and naming no private folder ------------

LEAKY = """
import os
def where(n):
    raise ValueError(os.getcwd() + " " + "x" * n)
def frames(n):
    return list(range(n))
"""


@pytest.mark.parametrize("sandbox", [pytest.param(True, marks=needs_bwrap), False])
def test_a_students_error_comes_back_short_and_without_the_graders_paths(tmp_path, sandbox):
    from deepfakelab.course.sandbox.remote_student import RemoteStudent

    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                LEAKY,
                metadata={
                    "nbgrader": {"solution": True, "grade_id": "answer", "grade": False, "locked": False}
                },
            )
        ]
    )
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, str(path))
    with pytest.raises(ValueError, match="must be a module of"):
        RemoteStudent(path, "os", sandbox=False)
    with RemoteStudent(
        path, "deepfakelab.course.probes.toy", sandbox=sandbox, memory_mb=4096, call_timeout=30
    ) as student:
        with pytest.raises(ValueError) as raised:
            student.where(5000)
        assert len(str(raised.value)) <= 300 and "dfl-student-" not in str(raised.value), str(raised.value)
        assert str(raised.value).startswith("…/work xxx")
        assert student.probe("returned_type", "frames", 3) == {"type": "list", "item_types": ["int"]}


def test_a_check_message_loses_the_checks_source(tmp_path):
    from deepfakelab.course.grading.hidden import _message
    from deepfakelab.course.sandbox.remote_student import StudentError

    (tmp_path / "test_x.py").write_text(toy.HIDDEN_CHECKS)

    def message(exc, private=()):
        return _message(types.SimpleNamespace(value=exc), tmp_path, private)

    stolen = "found: " + toy.HIDDEN_CHECKS[200:700]
    assert "test_pick_frames_other_inputs" in stolen
    for exc in (StudentError(stolen), RuntimeError(stolen), AssertionError(f"gave {stolen.splitlines()}")):
        text = message(exc)
        assert "test_pick_frames_other_inputs" not in text and "…" in text, text
    # a check's own advice is kept whole, with the course's and the grader's folders named by no path
    advice = "pick_frames(7, 2) gave [1, 3, 5]; frames start at 0 and stop before n_frames"
    assert message(AssertionError(advice)) == advice
    advice = "call opt_d.zero_grad(), then d_loss.backward() and opt_d.step()"  # code in Lab 2's checks, too
    assert _message(types.SimpleNamespace(value=AssertionError(advice)), GAN_CHECKS.parent) == advice
    assert (
        message(AssertionError("/srv/course/x and /tmp/dfl-grade-12-ab/y"), ("/srv/course",)) == "…/x and …/y"
    )
    assert len(message(AssertionError("x" * 5000))) == 600


# --- Lab 2's training step, checked in this process -------------------------------------------


class LocalStudent(types.SimpleNamespace):
    """A student's functions called in this process; ``probe`` runs the kit's probe as the sandbox would,
    its arguments and its answer sent through the wire (a scalar tensor comes back 1-d, say)."""

    def probe(self, name: str, *args, **kwargs):
        sent = wire.loads(wire.dumps({"args": list(args), "kwargs": kwargs}))
        value = getattr(lab2_probes, name)(self, *sent["args"], **sent["kwargs"])
        return wire.loads(wire.dumps({"value": value}))["value"]


@pytest.fixture(scope="module")
def checks():
    spec = importlib.util.spec_from_file_location("lab2_checks", GAN_CHECKS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def solution() -> dict:
    """The solution notebook's definitions, loaded as the student server loads a submission's."""
    (path,) = sorted((kit_root() / "solutions" / "lab2").glob("*.ipynb"))
    namespace, problems = load_student_namespace(path)
    assert problems == []
    return vars(namespace)


def student_with(solution: dict, source: str = "") -> LocalStudent:
    """The solution's functions, with ``source`` (a submission's replacement definitions) run over them."""
    namespace = dict(solution)
    exec(source, namespace)  # noqa: S102 - definitions written in this file
    namespace.pop("__builtins__", None)
    return LocalStudent(**namespace)


# Each nudges every weight and reports losses that look like a run's: the forgery of issue 32.
FORGED_STEP = """
def train_step(generator, discriminator, opt_g, opt_d, real, z_dim=Z_DIM):
    with torch.no_grad():
        for p in [*generator.parameters(), *discriminator.parameters()]:
            p.add_(1e-4 * torch.sign(torch.randn_like(p)))
    u = float(real.abs().mean())
    return {"d_loss": 0.62 + 0.05 * u, "g_loss": 0.85 + 0.1 * u, "d_real": 0.56, "d_fake": 0.44}
"""
NO_DETACH = """
def train_step(generator, discriminator, opt_g, opt_d, real, z_dim=Z_DIM):
    opt_d.zero_grad()
    opt_g.zero_grad()
    fake = generator(torch.randn(real.shape[0], z_dim))
    logits_real, logits_fake = discriminator(real), discriminator(fake)
    d_loss = discriminator_loss(logits_real, logits_fake)
    d_loss.backward(retain_graph=True)
    opt_d.step()
    g_loss = generator_loss(discriminator(fake))
    g_loss.backward()
    opt_g.step()
    return {"d_loss": d_loss.item(), "g_loss": g_loss.item(), "d_real": torch.sigmoid(logits_real).mean().item(),
            "d_fake": torch.sigmoid(logits_fake).mean().item()}
"""
#: kind -> (a replacement train_step, or (old, new) in the solution's), the advice the check must give.
WRONG_TRAIN_STEP = {
    "forged": (
        FORGED_STEP,
        "the discriminator's weights are not what one Adam step on the discriminator loss gives",
    ),
    # retain_graph=True hides PyTorch's error; the trace still sees D's backward reach G (issue 31)
    "no_detach_retained": (
        NO_DETACH,
        "the discriminator's backward reached the generator: in D's update, give D the "
        "fakes with fake.detach()",
    ),
    # the mistake as a beginner makes it: G's backward then fails ("backward through the graph a second time")
    "no_detach": (
        ("discriminator(fake.detach())", "discriminator(fake)"),
        "the discriminator's backward reached the generator: in D's update, give D the fakes with fake.detach()",
    ),
    "reused_logits": (
        ("    g_loss = generator_loss(discriminator(fake))\n", "    g_loss = generator_loss(logits_fake)\n"),
        "after opt_d.step(), call the discriminator again on the fakes, not detached",
    ),
    "g_loss_on_detached_fakes": (
        ("generator_loss(discriminator(fake))", "generator_loss(discriminator(fake.detach()))"),
        "opt_g.step() ran with no gradient in the generator",
    ),
    "g_before_d": (
        ("    # (1) Update D", "    opt_g.step()\n    # (1) Update D"),
        "updated the generator before the discriminator",
    ),
    "no_opt_g_step": (
        ("    opt_g.step()\n", ""),
        "the generator's weights did not change: call opt_g.step()",
    ),
    "no_opt_d_step": (
        ("    opt_d.step()\n", ""),
        "the discriminator's weights did not change: call opt_d.step()",
    ),
    "no_zero_grad": (("    opt_d.zero_grad()\n", ""), "first step is right but its second is not"),
    "made_up_losses": (
        ('"d_loss": d_loss.item()', '"d_loss": 0.69'),
        "the values train_step returns are not",
    ),
}


def _train_step_source(solution_source: str, change) -> str:
    """The train_step of a submission: ``change`` itself, or the solution's with one edit."""
    if isinstance(change, str):
        return change
    old, new = change
    assert old in solution_source, old
    return solution_source.replace(old, new)


@pytest.fixture(scope="module")
def train_step_source() -> str:
    (path,) = sorted((kit_root() / "solutions" / "lab2").glob("*.ipynb"))
    cell = next(
        c
        for c in json.loads(path.read_text())["cells"]
        if c["metadata"].get("nbgrader", {}).get("grade_id") == "train_step_answer"
    )
    return "".join(cell["source"])


def test_the_solutions_train_step_passes(checks, solution):
    assert failure(checks.test_train_step_updates_both_networks, LocalStudent(**solution)) == ""


@pytest.mark.parametrize("kind", list(WRONG_TRAIN_STEP))
def test_a_wrong_or_forged_train_step_fails_with_advice(checks, solution, train_step_source, kind):
    change, expected = WRONG_TRAIN_STEP[kind]
    student = student_with(solution, _train_step_source(train_step_source, change))
    message = failure(checks.test_train_step_updates_both_networks, student)
    assert expected in message, message


def test_d_fake_after_the_discriminators_update_is_accepted(checks, solution, train_step_source):
    after = _train_step_source(
        train_step_source,
        (
            "    g_loss = generator_loss(discriminator(fake))\n",
            "    logits_fake = discriminator(fake)\n    g_loss = generator_loss(logits_fake)\n",
        ),
    )
    assert failure(checks.test_train_step_updates_both_networks, student_with(solution, after)) == ""


SWAPPED_LOSSES = """
def discriminator_loss(logits_real, logits_fake):
    return (F.binary_cross_entropy_with_logits(logits_real, torch.zeros_like(logits_real))
            + F.binary_cross_entropy_with_logits(logits_fake, torch.ones_like(logits_fake))) / 2
"""
# Right values, no gradient: with a train_step that does nothing, the "own losses" allowance must not help.
FLAT_LOSSES = """
def discriminator_loss(logits_real, logits_fake):
    right = (F.binary_cross_entropy_with_logits(logits_real, torch.ones_like(logits_real))
             + F.binary_cross_entropy_with_logits(logits_fake, torch.zeros_like(logits_fake))) / 2
    return right.detach() + 0 * (logits_real.sum() + logits_fake.sum())

def generator_loss(logits_fake):
    right = F.binary_cross_entropy_with_logits(logits_fake, torch.ones_like(logits_fake))
    return right.detach() + 0 * logits_fake.sum()

def train_step(generator, discriminator, opt_g, opt_d, real, z_dim=Z_DIM):
    fake = generator(torch.randn(real.shape[0], z_dim))
    logits_real, logits_fake = discriminator(real), discriminator(fake)
    return {"d_loss": discriminator_loss(logits_real, logits_fake).item(),
            "g_loss": generator_loss(logits_fake).item(),
            "d_real": torch.sigmoid(logits_real).mean().item(), "d_fake": torch.sigmoid(logits_fake).mean().item()}
"""


INT_TARGET = """
def discriminator_loss(logits_real, logits_fake):
    return (F.binary_cross_entropy_with_logits(logits_real, 1) + F.binary_cross_entropy_with_logits(logits_fake, 0)) / 2
"""


def test_a_target_that_is_not_a_tensor_is_told_to_use_ones_like(checks, solution, train_step_source):
    """F.binary_cross_entropy_with_logits(logits, 1) fails with "'int' object has no attribute 'size'":
    the losses' check says what to write instead, and the training step's says where it failed (issue 31).
    (train_step is defined again after the loss, as in a notebook, so that it calls this loss.)"""
    student = student_with(solution, INT_TARGET + train_step_source)
    message = failure(checks.test_losses_match_binary_cross_entropy, student)
    assert (
        "must be a tensor of the same shape as the logits" in message and "torch.ones_like(logits)" in message
    ), message
    message = failure(checks.test_train_step_updates_both_networks, student)
    assert (
        message.startswith("train_step failed inside discriminator_loss") and "torch.ones_like" in message
    ), message


@pytest.mark.parametrize(
    "target,advice",
    [("torch.tensor(1.0)", "another shape"), ("torch.ones(len(logits_real), dtype=torch.long)", "floats")],
)
def test_a_target_of_another_shape_or_type_is_told_so(checks, solution, target, advice):
    wrong = INT_TARGET.replace("(logits_real, 1)", f"(logits_real, {target})").replace(
        "(logits_fake, 0)", "(logits_fake, torch.zeros_like(logits_fake))"
    )
    assert advice in failure(checks.test_losses_match_binary_cross_entropy, student_with(solution, wrong))


def test_a_wrong_loss_costs_the_losses_check_not_the_training_step(checks, solution):
    swapped = student_with(solution, SWAPPED_LOSSES)
    assert "swapped" in failure(checks.test_losses_match_binary_cross_entropy, swapped)
    assert failure(checks.test_train_step_updates_both_networks, swapped) == ""


def test_losses_without_gradient_do_not_excuse_a_step_that_trains_nothing(checks, solution):
    flat = student_with(solution, FLAT_LOSSES)
    assert failure(checks.test_losses_match_binary_cross_entropy, flat) == ""  # the values are right
    assert "did not change" in failure(checks.test_train_step_updates_both_networks, flat)


@pytest.fixture()
def forged_artifacts(tmp_path):
    """Artifacts that pass every test of their own: a healthy-looking history, samples and run table."""
    with open(tmp_path / "history.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["step", "d_loss", "g_loss", "d_real", "d_fake"])
        for i in range(200):
            writer.writerow([i, 0.65 + 0.01 * (i % 7), 0.9 - 0.001 * i, 0.55, 0.45])
    np.save(tmp_path / "samples.npy", np.random.default_rng(0).random((64, 1, 28, 28)).astype("float32"))
    with open(tmp_path / "runs.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Run No.", "lr", "batch_size", "z_dim", "steps", "final_d_loss", "final_g_loss"])
        writer.writerow([1, 2e-4, 64, 64, 30, 0.65, 0.9])
        writer.writerow([2, 2e-3, 64, 64, 30, 0.6, 1.1])
    return tmp_path


def test_a_forger_scores_nothing_on_the_checks_that_redo_its_run(checks, solution, forged_artifacts):
    forger = student_with(solution, FORGED_STEP)
    for check in (checks.test_training_history_is_healthy, checks.test_samples, checks.test_run_table):
        assert "did not pass its check (check_train_step)" in failure(check, forged_artifacts, forger), (
            check.__name__
        )


# --- a student function that hunts for the hidden checks in its sandbox --------------------------

#: Written into the course's copy of the toy's hidden checks only (never into the kit, nor the notebook).
CHECKS_SECRET = "CHECKS-ONLY-" + "SECRET-4471"

HUNT = '''
_hunted = {}


def _hunt():
    """Every place in this sandbox that shows text of the hidden checks: files, modules, /proc (once)."""
    import glob, inspect, os, sys
    if _hunted:
        return _hunted["found"], _hunted["read"]
    # spelt in pieces: the notebook itself must not hold what the test looks for in the run's files
    marks = ("test_pick_frames_" + "other_inputs", "mark" + ".grade", "frames.json" + " holds",
             "student_" + "function(", "CHECKS-ONLY-" + "SECRET", "dfl" + "-")
    found, read = [], 0

    def look(where, text):
        for mark in marks:
            at = text.find(mark)
            if at >= 0:
                found.append((mark, where, text[max(0, at - 60):at + 240]))

    for root, dirs, files in os.walk("/"):
        if root in ("/proc", "/sys", "/dev") or os.path.basename(root) in ("site-packages", "dist-packages"):
            dirs[:] = []
            continue
        for name in files:
            path = os.path.join(root, name)
            try:
                if os.path.islink(path) or os.path.getsize(path) > 2_000_000:
                    continue
                with open(path, "rb") as handle:
                    look(path, handle.read().decode("utf-8", "replace"))
                read += 1
            except OSError:
                pass
    for name, module in list(sys.modules.items()):
        if any(word in name for word in ("probe", "toy", "hidden", "check", "test")):
            try:
                look(f"module {name}", inspect.getsource(module))
            except (TypeError, OSError):
                pass
    for fd in glob.glob("/proc/self/fd/*"):
        try:
            target = os.readlink(fd)
            if target.startswith("/"):
                look(f"fd {target}", open(target, errors="replace").read())
        except OSError:
            pass
    for path in ["/proc/1/cmdline", "/proc/self/cmdline", "/proc/self/environ", *glob.glob("/proc/*/cmdline")]:
        try:
            look(path, open(path, "rb").read().replace(b"\\0", b" ").decode("utf-8", "replace"))
        except OSError:
            pass
    _hunted.update(found=found, read=read)
    return found, read
'''

# pick_frames(7, 2) is asked only by the hidden checks: it answers with a code of where the secret was found.
ATTACK_PICK_FRAMES = (
    HUNT
    + """
def pick_frames(n_frames, every):
    if n_frames == 7:
        import base64, json
        found, read = _hunt()
        where = [w for mark, w, _ in found if mark.startswith("CHECKS-ONLY")]
        raise ValueError("hunt:" + base64.b64encode(json.dumps({"read": read, "where": where[:3]}).encode()).decode())
    return list(range(0, n_frames, every))
"""
)
# verdict(..., threshold=0.7) is asked only by the hidden checks: it raises what it found, as it found it.
ATTACK_VERDICT = (
    HUNT
    + """
def verdict(scores, threshold=0.5):
    if threshold != 0.5:
        found, _ = _hunt()
        found.sort(key=lambda f: not f[0].startswith("test_"))  # the checks' own text first
        raise RuntimeError(" | ".join(f"{where}: {text}" for _, where, text in found))
    return "fake" if sum(scores) / len(scores) > threshold else "real"
"""
)


@pytest.fixture(scope="module")
def hunted(tmp_path_factory):
    """One grading of the toy course: an honest student, and one whose functions hunt for the checks."""
    pytest.importorskip("nbgrader")
    from deepfakelab.course.grading.grade import GradeOptions, grade_assignment
    from deepfakelab.course.release import generate_assignment

    if availability() is not None:
        pytest.skip(f"no sandbox here: {availability()}")
    course = toy.build_toy_course(tmp_path_factory.mktemp("course"))
    checks = course.root / "hidden_checks" / toy.ASSIGNMENT / "test_toy.py"
    checks.write_text(checks.read_text() + f"\n# {CHECKS_SECRET}\n")
    generate_assignment(course, toy.ASSIGNMENT)
    toy.submit_answers(course, "honest", toy.RIGHT)
    toy.submit_answers(
        course,
        "hunter",
        {**toy.RIGHT, "pick_frames_answer": ATTACK_PICK_FRAMES, "verdict_answer": ATTACK_VERDICT},
    )
    report = grade_assignment(course, toy.ASSIGNMENT, GradeOptions(jobs=2, progress=False))
    assert report.failed == {}, report.failed
    return course, report


def _rows(report, student: str) -> dict:
    return {r.grade_id: r for r in report.graded[student].cells()}


def _written(course) -> dict[str, str]:
    """Every file the run wrote for the students to read or the instructor to export, by path."""
    files = [
        *course.autograded(toy.ASSIGNMENT, "hunter").rglob("*"),
        *(course.root / "feedback").rglob("*"),
        *(course.state / "journal").rglob("*"),
        course.root / f"grades-{toy.ASSIGNMENT}.csv",
        course.root / "grades.csv",
    ]
    return {str(p): p.read_text(errors="replace") for p in files if p.is_file()}


def test_the_hunt_ran_and_found_nothing_of_the_checks(hunted):
    course, report = hunted
    rows = _rows(report, "hunter")
    assert rows["check_pick_frames"].points == 0 and rows["check_verdict"].points == 0
    assert rows["check_frames_artifact"].points == 2  # pick_frames(20, 5) is right
    hunt = _hunt_report(rows["check_pick_frames"].message)
    assert hunt["read"] > 1000 and hunt["where"] == [], hunt  # it read the sandbox; the checks were not there
    # what it raised, cut short and with every run of the checks' source withheld
    assert rows["check_verdict"].message.startswith("RuntimeError: /"), rows["check_verdict"].message
    assert len(rows["check_verdict"].message) < 400 and "…" in rows["check_verdict"].message


def test_nothing_of_the_checks_reaches_what_the_run_wrote(hunted):
    course, report = hunted
    written = _written(course)
    assert any("feedback" in path for path in written) and any("journal" in path for path in written)
    for path, text in written.items():
        for secret in (
            CHECKS_SECRET,
            "test_pick_frames_other_inputs",
            "mark.grade",
            "student_function(",
            "frames.json holds",
            "dfl-student-",
            str(course.root),
        ):
            assert secret not in text, f"{path} shows {secret!r}"


def test_the_honest_student_keeps_full_marks(hunted):
    _, report = hunted
    assert all(
        r.points == toy.AUTOGRADED_POINTS[g]
        for g, r in _rows(report, "honest").items()
        if g in toy.AUTOGRADED_POINTS
    ), _rows(report, "honest")


def _hunt_report(message: str) -> dict:
    return json.loads(base64.b64decode(message.split("hunt:", 1)[1].split()[0]))


def test_the_checks_folder_is_hidden_when_the_checks_run_in_a_new_process(hunted):
    """pytest puts the checks' folder on sys.path, whose folders the sandbox mounts: in a ``python -m
    pytest`` that computes them afresh (a partial result's checks) it must be masked all the same."""
    from deepfakelab.course.grading.worker import run_hidden_checks

    course, _ = hunted
    graded = course.autograded(toy.ASSIGNMENT, "hunter") / f"{toy.NOTEBOOK}.ipynb"
    results, problem = run_hidden_checks(
        course.root / "hidden_checks" / toy.ASSIGNMENT,
        graded,
        graded.parent / "artifacts",
        120,
        1536,
        hide=[str(course.root)],
        fork=False,
    )
    assert problem is None, problem
    (message,) = [r["message"] for r in results if r["function"] == "test_pick_frames_other_inputs"]
    hunt = _hunt_report(message)
    assert hunt["read"] > 1000 and hunt["where"] == [], hunt


# --- Part 1's primer, checked in this process ------------------------------------------------------


def test_the_solutions_judge_step_passes(checks, solution):
    assert failure(checks.test_primer_judge_step, LocalStudent(**solution)) == ""


@pytest.mark.parametrize(
    "old,new,advice",
    [
        ("judge(made.detach())", "judge(made)", "give the judge made.detach()"),
        ("    opt_judge.zero_grad()\n", "", "call opt_judge.zero_grad() before loss.backward()"),
        ("    opt_judge.step()\n", "", "call opt_judge.step() after loss.backward()"),
        ("((out - 1) ** 2).mean()", "((out - 1) ** 2).sum()", "the mean of (judge(made) - 1) ** 2"),
    ],
)
def test_a_wrong_judge_step_is_told_what_to_change(checks, solution, old, new, advice):
    (path,) = sorted((kit_root() / "solutions" / "lab2").glob("*.ipynb"))
    cell = next(
        c
        for c in json.loads(path.read_text())["cells"]
        if c["metadata"].get("nbgrader", {}).get("grade_id") == "primer_answer"
    )
    source = "".join(cell["source"])
    assert old in source, old
    assert advice in failure(checks.test_primer_judge_step, student_with(solution, source.replace(old, new)))


def test_a_train_step_that_returns_no_dict_is_told_so(checks, solution):
    student = student_with(
        solution,
        "def train_step(generator, discriminator, opt_g, opt_d, real, z_dim=64):\n    return [0.7, 0.7]\n",
    )
    assert "must return a dict" in failure(checks.test_train_step_updates_both_networks, student)
