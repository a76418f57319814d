"""Hidden checks of Lab 2 (``lab2``). Never given to students.

Each check decides one graded cell (``@pytest.mark.grade``). Function checks call the student's
definitions on inputs the visible checks do not use (in the sandbox; what they return crosses as
data, and the kit's public probes, :mod:`deepfakelab.course.probes.lab2`, reduce modules, a
training step and a figure to data there). The training step is checked against the update it
must make, computed here: two steps on small networks whose right update is known (a generator
that ignores its noise, a linear discriminator), so a step that only looks like training fails.
Artifact checks read what the notebook saved and compare it with the same work redone with the
student's own ``train_step`` from the notebook's seeds (the main run, the first experiment), so
files written any other way score nothing; they count only once that ``train_step`` passed its
check. Thresholds are tolerances on behaviour that holds for any seed, never values that depend
on one random initialisation. Assertion messages are what the student reads.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from deepfakelab.course.artifacts import ArtifactError, load_array, load_csv
from deepfakelab.course.grading.hidden import student_function
from deepfakelab.course.probes.lab2 import primer_nets, small_batches, small_gan
from deepfakelab.labs.lab2.diagnosis import loss_advice, train_step_advice

#: The probes these checks call (public, in the kit; read by the worker with ast, never imported from here).
PROBES = "deepfakelab.course.probes.lab2"

torch.set_num_threads(1)
# Captured before any student code is loaded, so a patched np.allclose cannot help.
allclose, isfinite = np.allclose, np.isfinite


def _names(classes) -> list[str]:
    return [f"{c.__module__}.{c.__qualname__}" for c in classes]


def _short(names: list[str]) -> list[str]:
    return [str(n).rsplit(".", 1)[-1] for n in names]


#: The primer's seed and the tolerance of its one SGD step.
PRIMER_SEED, PRIMER_ATOL = 5, 1e-5


@pytest.mark.grade("check_primer")
def test_primer_judge_step(student):
    student_function(student, "judge_step")
    got = student.probe("primer_step", PRIMER_SEED)
    maker, judge, _, x = primer_nets(PRIMER_SEED)
    judge.zero_grad()
    out = judge(maker(x).detach())
    loss = ((out - 1) ** 2).mean()
    loss.backward()
    expected = [(p - 0.1 * p.grad).detach() for p in judge.parameters()]
    assert got["loss"] is not None and abs(got["loss"] - loss.item()) < 1e-5, (
        "judge_step must return the judge's loss before its step, the mean of (judge(made) - 1) ** 2, as a float (.item())"
    )
    assert not any(got["maker_grads"]), (
        "the maker received a gradient: give the judge made.detach(), so that backward() stops before the maker"
    )
    changed = [torch.as_tensor(g, dtype=torch.float32) for g in got["judge"]]
    start = [p.detach() for p in primer_nets(PRIMER_SEED)[1].parameters()]
    if all(torch.allclose(c.reshape(e.shape), e, atol=PRIMER_ATOL) for c, e in zip(changed, start)):
        raise AssertionError(
            "the judge's weights did not change: call opt_judge.step() after loss.backward()"
        )
    stale = [(p - 0.1 * (p.grad + 100.0)).detach() for p in judge.parameters()]
    if all(torch.allclose(c.reshape(e.shape), e, atol=1e-3) for c, e in zip(changed, stale)):
        raise AssertionError(
            "the judge moved by its gradient plus one left over from an earlier step: call "
            "opt_judge.zero_grad() before loss.backward()"
        )
    assert all(torch.allclose(c.reshape(e.shape), e, atol=PRIMER_ATOL) for c, e in zip(changed, expected)), (
        "after judge_step the judge's weights are not one SGD step on its loss: zero_grad(), loss.backward(), step()"
    )


@pytest.mark.grade("check_generator_block")
def test_generator_block(student):
    student_function(student, "generator_block")
    got = student.probe("generator_block")  # builds the blocks in the sandbox, reports shapes and layers
    assert tuple(got["shape"]) == (3, 4, 8, 8), (
        f"generator_block(8, 4, kernel_size=4, stride=1) on 5x5 inputs must give 8x8 (=(5-1)*1+4); got {tuple(got['shape'])}"
    )
    assert list(got["layers"][:3]) == _names([nn.ConvTranspose2d, nn.BatchNorm2d, nn.ReLU]), (
        f"a hidden generator block is ConvTranspose2d -> BatchNorm2d -> ReLU, in that order; found {_short(got['layers'])}"
    )
    assert list(got["final_layers"]) == _names([nn.ConvTranspose2d, nn.Tanh]), (
        f"the final generator block is ConvTranspose2d -> Tanh; found {_short(got['final_layers'])}"
    )
    assert tuple(got["final_shape"]) == (2, 3, 9, 9), (
        "the final block must use the given channels, kernel and stride"
    )


@pytest.mark.grade("check_discriminator_block")
def test_discriminator_block(student):
    student_function(student, "discriminator_block")
    got = student.probe("discriminator_block")
    assert tuple(got["shape"]) == (2, 6, 5, 5), (
        f"discriminator_block(3, 6, 3, 2) on 11x11 must give 5x5; got {tuple(got['shape'])}"
    )
    assert list(got["layers"][:3]) == _names([nn.Conv2d, nn.BatchNorm2d, nn.LeakyReLU]), (
        f"a hidden discriminator block is Conv2d -> BatchNorm2d -> LeakyReLU; found {_short(got['layers'])}"
    )
    assert got["negative_slope"] is not None and abs(float(got["negative_slope"]) - 0.2) < 1e-9, (
        "use LeakyReLU with negative_slope 0.2"
    )
    assert list(got["final_layers"]) == _names([nn.Conv2d]), (
        "the final discriminator block is a single Conv2d (logits)"
    )


@pytest.mark.grade("check_losses")
def test_losses_match_binary_cross_entropy(student):
    d_loss_fn = student_function(student, "discriminator_loss")
    g_loss_fn = student_function(student, "generator_loss")
    gen = torch.Generator().manual_seed(11)
    real, fake = torch.randn(7, generator=gen) * 3, torch.randn(5, generator=gen) * 3
    expected_d = (
        F.binary_cross_entropy_with_logits(real, torch.ones(7))
        + F.binary_cross_entropy_with_logits(fake, torch.zeros(5))
    ) / 2
    swapped_d = (
        F.binary_cross_entropy_with_logits(real, torch.zeros(7))
        + F.binary_cross_entropy_with_logits(fake, torch.ones(5))
    ) / 2
    got_d = _loss_value(d_loss_fn, "discriminator_loss", real, fake)
    assert abs(got_d - float(swapped_d)) > 1e-4 or abs(got_d - float(expected_d)) < 1e-5, (
        "discriminator_loss has real and fake swapped: real images get label 1, generated images label 0"
    )
    assert abs(got_d - float(expected_d)) < 1e-5, (
        f"discriminator_loss on other logits gave {got_d:.5f}, expected {float(expected_d):.5f}: "
        "the mean of BCE(real logits, 1) and BCE(fake logits, 0)"
    )
    expected_g = F.binary_cross_entropy_with_logits(fake, torch.ones(5))
    got_g = _loss_value(g_loss_fn, "generator_loss", fake)
    assert abs(got_g - float(expected_g)) < 1e-5, (
        f"generator_loss gave {got_g:.5f}, expected {float(expected_g):.5f}: BCE(fake logits, 1), the non-saturating loss"
    )


def _loss_value(loss, name: str, *logits) -> float:
    """The student's loss at ``logits``, or a failure that says what to change (a number as the
    target, a target of the wrong shape or type, probabilities expected)."""
    try:
        return float(loss(*logits))
    except Exception as error:  # the student's error, re-raised from the sandbox
        raise AssertionError(loss_advice(name, error, show_error=False)) from None


#: The training step's check: its seed, two steps (the second shows stale gradients), a learning rate
#: large enough that a wrong update differs by far more than the tolerances.
STEP_SEED, STEP_COUNT, STEP_LR = 7, 2, 0.01
#: Tolerances of the comparison: float32 sums in another order differ by ~1e-7.
WEIGHTS_ATOL, STATS_RTOL = 1e-5, 1e-4
_VERIFIED: dict[int, tuple] = {}


def _true_d_loss(logits_real, logits_fake):
    """The discriminator's loss as the lab defines it: its value and its gradient on each logit."""
    logits_real, logits_fake = (
        logits_real.clone().requires_grad_(True),
        logits_fake.clone().requires_grad_(True),
    )
    loss = (
        F.binary_cross_entropy_with_logits(logits_real, torch.ones_like(logits_real))
        + F.binary_cross_entropy_with_logits(logits_fake, torch.zeros_like(logits_fake))
    ) / 2
    return float(loss.detach()), list(torch.autograd.grad(loss, (logits_real, logits_fake)))


def _true_g_loss(logits_fake):
    """The generator's (non-saturating) loss: its value and its gradient on each logit."""
    logits_fake = logits_fake.clone().requires_grad_(True)
    loss = F.binary_cross_entropy_with_logits(logits_fake, torch.ones_like(logits_fake))
    return float(loss.detach()), list(torch.autograd.grad(loss, (logits_fake,)))


def _own_loss(student, name: str):
    """The student's loss ``name`` as value and gradients, from the sandbox (probe ``loss_gradients``)."""

    def loss(*logits):
        got = student.probe("loss_gradients", name, *[x.detach() for x in logits])
        return float(got["value"]), [torch.as_tensor(g, dtype=torch.float32) for g in got["grads"]]

    return loss


def _reference_steps(d_loss, g_loss) -> list[dict]:
    """What ``train_step`` must do to :func:`small_gan`, step by step, with the losses ``d_loss`` and ``g_loss``.

    One Adam step of D on the real batch (label 1) and the generated one, detached (label 0);
    then one Adam step of G on D's verdict, by the updated D, on the same generated images (label
    1). A loss enters only through its value and its gradient on the logits, so the student's own
    losses, evaluated in the sandbox, can stand in for the lab's.
    """
    generator, discriminator, opt_g, opt_d = small_gan(STEP_SEED, STEP_LR)
    steps = []
    for real in small_batches(STEP_SEED, STEP_COUNT, 8):
        fake = generator(torch.zeros(len(real), 1))
        logits_real, logits_fake = discriminator(real), discriminator(fake.detach())
        d_value, (grad_real, grad_fake) = d_loss(logits_real.detach(), logits_fake.detach())
        opt_d.zero_grad()
        ((logits_real * grad_real).sum() + (logits_fake * grad_fake).sum()).backward()
        opt_d.step()
        opt_g.zero_grad()
        logits_again = discriminator(fake)
        g_value, (grad_again,) = g_loss(logits_again.detach())
        (logits_again * grad_again).sum().backward()
        opt_g.step()
        steps.append(
            {
                "d_loss": d_value,
                "g_loss": g_value,
                "d_real": float(torch.sigmoid(logits_real.detach()).mean()),
                "d_fake": [float(torch.sigmoid(x.detach()).mean()) for x in (logits_fake, logits_again)],
                "generator": [p.detach().clone() for p in generator.parameters()],
                "discriminator": [p.detach().clone() for p in discriminator.parameters()],
            }
        )
    return steps


def _same_weights(got, expected) -> bool:
    """The same weights, value by value (shapes as the wire gives them back: a scalar comes back 1-d)."""
    got = [torch.as_tensor(g, dtype=torch.float32).flatten() for g in got]
    return len(got) == len(expected) and all(
        g.numel() == e.numel() and bool(torch.allclose(g, e.flatten(), rtol=0, atol=WEIGHTS_ATOL))
        for g, e in zip(got, expected)
    )


def _same_stats(values: dict, expected: dict) -> bool:
    def close(key, value):
        return abs(float(values[key]) - value) <= STATS_RTOL * max(1.0, abs(value))

    # d_fake: D's verdict on the generated images before its update or after it, either is fine
    return all(close(k, expected[k]) for k in ("d_loss", "g_loss", "d_real")) and any(
        close("d_fake", v) for v in expected["d_fake"]
    )


def _update_problem(got: list[dict], expected: list[dict]) -> str | None:
    """What is wrong in the student's steps against ``expected``, in words a student can act on; None if nothing."""
    start_g, start_d = (small_gan(STEP_SEED, STEP_LR)[i] for i in (0, 1))
    for number, (mine, right) in enumerate(zip(got, expected), start=1):
        d_ok, g_ok = (
            _same_weights(mine["discriminator"], right["discriminator"]),
            _same_weights(mine["generator"], right["generator"]),
        )
        stats_ok = _same_stats(mine["values"], right)
        if d_ok and g_ok and stats_ok:
            continue
        if number > 1 and not (d_ok and g_ok):
            return (
                "train_step's first step is right but its second is not: gradients left over from the "
                "previous step are added in. Call opt_d.zero_grad() before d_loss.backward() and "
                "opt_g.zero_grad() before g_loss.backward(), in every step"
            )
        if not d_ok:
            unchanged = number == 1 and _same_weights(mine["discriminator"], list(start_d.parameters()))
            return (
                "the discriminator's weights did not change: call opt_d.step() after d_loss.backward()"
                if unchanged
                else "after your train_step the discriminator's weights are not what one Adam step on the "
                "discriminator loss gives: call opt_d.zero_grad(), compute d_loss from D's logits on the real "
                "batch and on the generated batch with .detach(), then d_loss.backward() and opt_d.step(), "
                "before the generator's update"
            ) + _stats_too(stats_ok)
        if not g_ok:
            unchanged = number == 1 and _same_weights(mine["generator"], list(start_g.parameters()))
            return (
                "the generator's weights did not change: call opt_g.step() after g_loss.backward()"
                if unchanged
                else "the discriminator is updated right, but the generator's weights are not what one Adam step "
                "on the generator loss gives: after D's update call opt_g.zero_grad(), compute g_loss from "
                "the updated D's logits on the generated images (no .detach() there), then g_loss.backward() "
                "and opt_g.step()"
            ) + _stats_too(stats_ok)
        return (
            "both networks are updated right, but the values train_step returns are not this step's: d_loss "
            "and g_loss are the two losses (.item()), d_real and d_fake the mean of torch.sigmoid of D's "
            "logits on the real and on the generated images"
        )
    return None


def _stats_too(stats_ok: bool) -> str:
    return "" if stats_ok else "; the losses it returns are not this step's either"


def _format_problem(got: list[dict]) -> str | None:
    """What is wrong with what train_step returns, before its numbers are compared; None if nothing."""
    for step in got:
        if not (step["is_dict"] and {"d_loss", "g_loss", "d_real", "d_fake"} <= set(step["keys"])):
            return "train_step must return a dict with d_loss, g_loss, d_real and d_fake"
        values = [float(step["values"][k]) for k in ("d_loss", "g_loss", "d_real", "d_fake")]
        if not all(isfinite(v) for v in values):
            return f"train_step returned non-finite values: {step['values']}"
        if not (0 <= values[2] <= 1 and 0 <= values[3] <= 1):
            return "d_real and d_fake are probabilities in [0, 1]: apply torch.sigmoid to D's logits"
    return None


def _step_problem(student) -> str | None:
    """Why the student's train_step is not a training step, or None: once per student, for every check that needs it.

    It must make the update of :func:`_reference_steps` with the lab's losses, or with the
    student's own (a wrong loss costs the losses' check, not this one): then, and only then, it
    trains, so the runs redone with it below mean something.
    """
    if id(student) not in _VERIFIED:
        _VERIFIED[id(student)] = (
            student,
            _first_step_problem(student),
        )  # the student is kept: its id stays its own
    return _VERIFIED[id(student)][1]


def _first_step_problem(student) -> str | None:
    try:  # the classic mistakes first (a missing detach, the wrong logits for G, a loss that raised), in words
        advice = train_step_advice(student.probe("train_step_trace", STEP_SEED), show_error=False)
    except Exception as exc:  # the end of the student's process, say
        return f"train_step failed on a small test GAN: {exc}"
    if advice is not None:
        return advice
    try:
        got = student.probe("train_step_update", STEP_SEED, STEP_COUNT, STEP_LR)["steps"]
    except Exception as exc:  # the student's error, or the end of their process
        return f"train_step failed on a small test GAN: {exc}"
    problem = _format_problem(got) or _update_problem(got, _reference_steps(_true_d_loss, _true_g_loss))
    if problem is None or _format_problem(got):
        return problem
    try:  # right with the student's own losses? Those are graded by check_losses alone.
        own = _reference_steps(_own_loss(student, "discriminator_loss"), _own_loss(student, "generator_loss"))
    except Exception:  # losses missing, or not differentiable: nothing else to compare with
        return problem
    start = small_gan(STEP_SEED, STEP_LR)
    trains = all(
        not _same_weights(own[0][net], list(start[i].parameters()))
        for i, net in enumerate(("generator", "discriminator"))
    )
    return None if trains and _update_problem(got, own) is None else problem


def _require_trained(student) -> None:
    """A check that redoes a run with the student's train_step counts only if that train_step trains."""
    student_function(student, "train_step")
    assert _step_problem(student) is None, (
        "your train_step did not pass its check (check_train_step), so a run redone with it proves nothing: "
        "fix train_step first"
    )


@pytest.mark.grade("check_train_step")
def test_train_step_updates_both_networks(student):
    student_function(student, "train_step")
    problem = _step_problem(student)
    assert problem is None, problem


#: Longest main run a history may claim (the graded notebook runs 200 steps).
MAX_MAIN_STEPS = 600


def _main_run(student, steps: int) -> dict:
    """The notebook's main run redone with the student's train_step in the sandbox (probe ``main_run``)."""
    _require_trained(student)
    if not 1 <= steps <= MAX_MAIN_STEPS:
        raise ArtifactError(f"history.csv has {steps} steps; the main run has at most {MAX_MAIN_STEPS}")
    return student.probe("main_run", steps)


def _same_as_redone(rows, student) -> None:
    """history.csv is what the training cell writes with this train_step, and that train_step trains."""
    redone = _main_run(student, len(rows))
    assert redone["d_changed"] and redone["g_changed"], (
        "your train_step does not change the networks' weights, so this history is not a training run"
    )
    for step, (row, again) in enumerate(zip(rows, redone["history"])):
        for key, value in again.items():
            if abs(row[key] - value) > 1e-6 * max(1.0, abs(value)):
                raise ArtifactError(
                    f"history.csv step {step}: {key} is {row[key]:.4f}, but the training cell gives {value:.4f} with "
                    "your train_step and the same seeds: save the history with the cell provided"
                )


def _history(artifacts):
    return load_csv(
        artifacts / "history.csv",
        ["step", "d_loss", "g_loss", "d_real", "d_fake"],
        numeric=["step", "d_loss", "g_loss", "d_real", "d_fake"],
    )


@pytest.mark.grade("check_training_history")
def test_training_history_is_healthy(artifacts, student):
    rows = _history(artifacts)
    assert len(rows) >= 20, f"history.csv has {len(rows)} steps; the training cell saves one row per step"
    assert [r["step"] for r in rows] == list(range(len(rows))), (
        "history.csv: steps must run 0, 1, 2, ... without gaps"
    )
    for r in rows:
        if not (0 <= r["d_real"] <= 1 and 0 <= r["d_fake"] <= 1):
            raise ArtifactError(
                f"history.csv step {int(r['step'])}: d_real/d_fake are probabilities, found "
                f"{r['d_real']}, {r['d_fake']}"
            )
    late = rows[-max(1, len(rows) // 5) :]
    d_late, g_late, d_real, d_fake = (
        float(np.mean([r[k] for r in late])) for k in ("d_loss", "g_loss", "d_real", "d_fake")
    )
    # A healthy run keeps D(real) a little above D(fake) (measured gap after 200 steps: 0.15, after 600
    # steps, the notebook's ungraded run: 0.53); a G that is never updated lets D win (gap 0.6 after 200
    # steps, 0.96 after 600), swapped labels reverse it (-0.63).
    assert d_fake - d_real < 0.3, (
        f"by the end D rates the fakes as more real than the real images (D(real) {d_real:.2f}, "
        f"D(fake) {d_fake:.2f}): are the labels in discriminator_loss swapped?"
    )
    gap_limit = 0.45 if len(rows) <= 300 else 0.8
    assert d_late > 0.1 and d_real - d_fake < gap_limit, (
        f"the discriminator's loss is collapsing ({d_late:.3f}; D(real) {d_real:.2f}, D(fake) {d_fake:.2f}): D wins "
        "outright and the generator stops learning. Check that train_step updates G on every step (opt_g.step())"
    )
    assert d_late < 3, f"the discriminator's loss diverged to {d_late:.3f}: check the labels in your losses"
    assert 0.05 < g_late < 15, f"the generator's loss ended at {g_late:.3f}, outside any healthy range"
    g = np.array([r["g_loss"] for r in rows])
    assert g.std() > 1e-4, "the generator's loss never changed: is G being trained?"
    _same_as_redone(rows, student)  # last: a healthy-looking history must also be the one your code makes


@pytest.mark.grade("check_samples")
def test_samples(artifacts, student):
    samples = load_array(artifacts / "samples.npy", ndim=4)
    assert samples.shape[1:] == (1, 28, 28) and samples.shape[0] >= 16, (
        f"samples.npy: expected (64, 1, 28, 28) images, found {samples.shape}"
    )
    # The samples of the main run redone with your train_step (same seeds): images made otherwise differ.
    redone = np.asarray(_main_run(student, len(_history(artifacts)))["samples"])
    if samples.shape != redone.shape or np.abs(samples - redone).max() > 1e-5:
        raise ArtifactError(
            "samples.npy is not what the generator of the training cell makes with your train_step "
            "and the same seeds: save the samples with the cell provided"
        )
    assert samples.min() >= -1e-4 and samples.max() <= 1 + 1e-4, (
        f"samples.npy: values must be in [0, 1] (found {samples.min():.3f}..{samples.max():.3f}); map tanh's [-1, 1] with (x + 1) / 2"
    )
    # After the short graded run the images are still close to grey: only a broken pipeline
    # (a constant output, or the same image whatever the noise) is refused here.
    assert samples.std() > 1e-6, (
        "samples.npy: every pixel of every sample has the same value; is the generator's output used?"
    )
    assert np.ptp(samples, axis=0).max() > 1e-6, (
        "samples.npy: all samples are the same image whatever the noise: does the generator use z?"
    )


@pytest.mark.grade("check_plot")
def test_plot_losses(student, artifacts):
    student_function(student, "plot_losses")
    n = 37
    history = [
        {
            "step": i,
            "d_loss": 0.7 + 0.1 * np.sin(i / 3),
            "g_loss": 1.5 - i / 100,
            "d_real": 0.5,
            "d_fake": 0.4,
        }
        for i in range(n)
    ]
    got = student.probe("plot_losses", history)  # the figure's first axes, as data
    assert got["has_axes"], "plot_losses must return the matplotlib Figure (e.g. from plt.subplots)"
    lines = got["lines"]
    for label, key in (("D loss", "d_loss"), ("G loss", "g_loss")):
        assert label in lines, (
            f'no line labelled "{label}" in plot_losses\' first axes (found {sorted(lines)})'
        )
        y = np.asarray(lines[label], dtype=float)
        assert y.shape == (n,) and allclose(y, [h[key] for h in history]), (
            f'the "{label}" line must show {key} of every step of the history it is given'
        )
    assert got["xlabel"] == "step" and got["ylabel"] == "loss", (
        "label the x axis 'step' and the y axis 'loss'"
    )
    png = artifacts / "loss_curves.png"
    assert png.is_file() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", (
        "artifacts/loss_curves.png is missing or not a PNG"
    )


@pytest.mark.grade("check_run_table")
def test_run_table(artifacts, student):
    columns = ["Run No.", "lr", "batch_size", "z_dim", "steps", "final_d_loss", "final_g_loss"]
    rows = load_csv(artifacts / "runs.csv", columns, numeric=columns)
    assert len(rows) >= 2, f"runs.csv has {len(rows)} run(s); compare at least two settings"
    assert [int(r["Run No."]) for r in rows] == list(range(1, len(rows) + 1)), (
        "runs.csv: Run No. must be 1, 2, 3, ..."
    )
    settings = {(r["lr"], r["batch_size"], r["z_dim"]) for r in rows}
    assert len(settings) == len(rows), (
        "runs.csv: two runs have the same settings; vary lr, batch_size or z_dim"
    )
    for r in rows:
        assert 0 < r["lr"] < 1 and 1 <= r["batch_size"] <= 1024 and 1 <= r["z_dim"] <= 1024, (
            f"runs.csv run {int(r['Run No.'])}: settings out of range (lr in (0, 1), batch_size and z_dim 1..1024)"
        )
        assert r["steps"] >= 10 and r["final_d_loss"] >= 0 and r["final_g_loss"] >= 0, (
            f"runs.csv run {int(r['Run No.'])}: needs at least 10 steps and non-negative losses"
        )
    # Run 1 again with your train_step, as the experiments cell runs it: a table written any other way differs.
    first = rows[0]
    if first["steps"] > 60:
        raise ArtifactError(f"runs.csv run 1: {int(first['steps'])} steps; the graded experiments run 30")
    _require_trained(student)
    redone = student.probe(
        "experiment_run", 1, first["lr"], int(first["batch_size"]), int(first["z_dim"]), int(first["steps"])
    )
    assert redone["trained"], (
        "your train_step does not change the networks' weights: these runs trained nothing"
    )
    for key in ("final_d_loss", "final_g_loss"):
        assert abs(first[key] - redone[key]) <= 2e-4, (
            f"runs.csv run 1: {key} is {first[key]}, but the experiments cell gives {redone[key]} with your "
            "train_step and these settings: save the table with the cell provided"
        )
