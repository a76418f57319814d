"""What Lab 2's notebook (gan-lab) shows, and the diagnoses its checks give.

The notebook opens with what the student is about to rebuild, so this module makes it at run
time, offline, in seconds:

- :func:`show_images` -- a grid of bags (the real training data, or a generator's samples);
- :func:`reference_run` -- the lab's DCGAN, built and trained by the kit (:mod:`deepfakelab.gan`)
  with the notebook's layout and recipe, for a short run: its loss history and its samples at a
  few steps, drawn by :func:`show_run` (which also draws each of the student's experiments);
- :func:`describe_networks` -- the finished generator and discriminator, layer by layer with the
  shape after each block, before the student writes a block of them.

The checks are the other half. A beginner's training step fails in a few classic ways: the fakes
not detached in the discriminator's update, the generator's loss computed from the
discriminator's logits of that update, a loss whose target is the number 1 instead of a tensor,
swapped labels. PyTorch reports the first three as "backward through the graph a second time",
"'int' object has no attribute 'size'" or nothing at all. :func:`trace_train_step` runs a
``train_step`` with hooks on both networks and optimisers and records what it did (which network
was called on what, whether the discriminator's backward reached the generator, the error, if
any, by kind); :func:`train_step_advice` turns that record into one sentence that says what to
change. :func:`loss_advice` does the same for a loss that raised. The notebook's visible checks
call them in the student's kernel; the hidden checks get the same record as data from a probe
(:func:`deepfakelab.course.probes.gan_lab.train_step_trace`) and give the same advice.

Nothing here says what the right update is: a trace holds what happened, not what should have.
"""

from __future__ import annotations

import os
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

#: The notebook's recipe: noise size, batch, learning rate (the DCGAN paper's), seeds.
Z_DIM, BATCH_SIZE, LR = 64, 64, 2e-4

#: The course website's address, if the instructor gives it (``export DEEPFAKELAB_SITE_URL=...``).
SITE_ENV = "DEEPFAKELAB_SITE_URL"


# --------------------------------------------------------------------------- the course website
def website() -> str | None:
    """The course website's address: ``$DEEPFAKELAB_SITE_URL``, else the kit's own local build
    (``site/_build/``, made by ``make site``) as a ``file://`` address, else None."""
    given = os.environ.get(SITE_ENV, "").strip()
    if given:
        return given if given.endswith("/") else given + "/"
    built = Path(__file__).resolve().parents[4] / "site" / "_build"
    if (built / "index.html").is_file():
        return built.as_uri() + "/"
    return None


def website_line() -> str:
    """One line for the notebook's set-up cell: where the links marked *website* lead."""
    base = website()
    if base is None:
        return ("Course website: links in this notebook are relative to its address (your instructor "
                f"gives it; set {SITE_ENV} to have it printed here).")
    return f"Course website: {base} -- links in this notebook are relative to it, e.g. {base}glossary/"


# --------------------------------------------------------------------------- images and runs
def show_images(images: torch.Tensor, title: str = "", nrow: int = 8, ax=None):
    """A grid of grey or colour images ``(N, C, H, W)`` in [0, 1]; returns the figure (None when
    drawing into ``ax``)."""
    import matplotlib.pyplot as plt

    fig = None
    if ax is None:
        rows = max(1, -(-len(images) // nrow))
        fig, ax = plt.subplots(figsize=(nrow * 0.9, rows * 0.9 + (0.4 if title else 0)))
    ax.imshow(_grid(images, nrow))
    ax.set_title(title, fontsize=10)
    ax.axis("off")
    if fig is not None:
        fig.tight_layout()
    return fig


def _grid(images: torch.Tensor, nrow: int) -> np.ndarray:
    """(N, C, H, W) in [0, 1] -> (H', W', 3) uint8, the images side by side with a white border.

    (Not :func:`deepfakelab.gan.plots.image_grid`: that module switches matplotlib to its file
    backend, and the notebook's figures would no longer show.)
    """
    from torchvision.utils import make_grid

    grid = make_grid(images.detach().float().cpu().clamp(0, 1), nrow=nrow, padding=2, pad_value=1.0)
    return (grid.permute(1, 2, 0).numpy() * 255).astype(np.uint8)


def _running_mean(values: np.ndarray, window: int) -> np.ndarray:
    """Mean of the last ``window`` values at each step (fewer at the start), the same length as ``values``."""
    sums = np.cumsum(np.insert(np.asarray(values, dtype=float), 0, 0.0))
    ends = np.arange(1, len(values) + 1)
    starts = np.maximum(0, ends - window)
    return (sums[ends] - sums[starts]) / (ends - starts)


def lab_config(steps: int = 200, seed: int = 0):
    """The notebook's DCGAN as a :class:`~deepfakelab.gan.GANConfig`: the same layers, sizes and recipe.

    Generator 64 x 1 x 1 -> 256 x 3 x 3 -> 128 x 6 x 6 -> 64 x 13 x 13 -> 1 x 28 x 28;
    discriminator 1 x 28 x 28 -> 16 x 13 x 13 -> 32 x 5 x 5 -> one logit; batch norm in every
    hidden block, weights from N(0, 0.02); Adam 2e-4, betas (0.5, 0.999), batches of 64. (The
    kit's blocks leave out a convolution's bias before a batch norm, which removes it anyway.)
    """
    from ...gan.config import BlockSpec, DiscriminatorConfig, GANConfig, GeneratorConfig, LayerSpec, TrainConfig

    return GANConfig(
        image_size=28, channels=1, bn_weight_mean=0.0,
        generator=GeneratorConfig(z_dim=Z_DIM, blocks=[BlockSpec(256, 3, 2), BlockSpec(128, 4, 1), BlockSpec(64, 3, 2)],
                                  final=LayerSpec(4, 2)),
        discriminator=DiscriminatorConfig(blocks=[BlockSpec(16, 4, 2), BlockSpec(32, 4, 2)], final=LayerSpec(4, 2),
                                          leaky_slope=0.2),
        train=TrainConfig(epochs=1, batch_size=BATCH_SIZE, lr=LR, seed=seed, device="cpu", num_samples=32,
                          max_steps_per_epoch=steps),
    ).validate()


def describe_networks() -> str:
    """The finished networks of the lab, block by block, with the shape of what each block outputs.

    Built by the kit (:func:`deepfakelab.gan.build_models` on :func:`lab_config`) and measured by
    running one batch through them, so the table is what PyTorch does, not a drawing.
    """
    from ...gan.models import build_models

    generator, discriminator = build_models(lab_config())
    lines = []
    for name, net, x, start in (("Generator", generator, torch.zeros(2, Z_DIM), f"noise z: {Z_DIM} x 1 x 1"),
                                ("Discriminator", discriminator, torch.zeros(2, 1, 28, 28), "image: 1 x 28 x 28")):
        lines += [f"{name}", f"  {'input':<9}{start}"]
        blocks = list(net.net)
        out = x.view(2, Z_DIM, 1, 1) if name == "Generator" else x
        number = 0
        with torch.no_grad():
            net.eval()
            i = 0
            while i < len(blocks):
                block = blocks[i]
                layers = list(block) if isinstance(block, nn.Sequential) else [block]
                if not isinstance(block, nn.Sequential) and i + 1 < len(blocks) and not isinstance(blocks[i + 1], nn.Sequential):
                    layers.append(blocks[i + 1])  # the final convolution and its activation
                    i += 1
                for layer in layers:
                    out = layer(out)
                number += 1
                shape = " x ".join(str(s) for s in out.shape[1:])
                final = " (final block)" if i == len(blocks) - 1 else ""
                lines.append(f"  block {number}  {' -> '.join(_layer_name(m) for m in layers):<72} {shape}{final}")
                i += 1
        lines.append("")
    return "\n".join(lines).rstrip()


def _layer_name(module: nn.Module) -> str:
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        return (f"{type(module).__name__}({module.in_channels} -> {module.out_channels}, "
                f"kernel {module.kernel_size[0]}, stride {module.stride[0]})")
    if isinstance(module, nn.BatchNorm2d):
        return f"BatchNorm2d({module.num_features})"
    if isinstance(module, nn.LeakyReLU):
        return f"LeakyReLU({module.negative_slope})"
    return type(module).__name__


@dataclass
class Run:
    """A training run to look at: its per-step history and its samples after some steps."""

    title: str
    history: list[dict]
    samples: dict[int, torch.Tensor] = field(default_factory=dict)
    seconds: float = 0.0


def reference_run(images: torch.Tensor, steps: int = 200, snapshots: int = 3, seed: int = 0) -> Run:
    """The lab's DCGAN trained by the kit for ``steps`` steps on ``images`` ((N, 1, 28, 28) in [0, 1]).

    The same layers and recipe as the notebook's (:func:`lab_config`), trained by the kit's own
    :class:`~deepfakelab.gan.train.DCGANTrainer`; its samples from one fixed noise are kept at
    ``snapshots`` evenly spaced steps (the first before any training). About 0.1 s a step on one
    CPU thread.
    """
    from ...gan.train import DCGANTrainer

    trainer = DCGANTrainer(lab_config(steps, seed), images)
    keep = sorted({round(i * steps / max(1, snapshots - 1)) for i in range(snapshots)}) if snapshots > 1 else [steps]
    run = Run(f"reference run: the lab's GAN trained by the kit, {steps} steps", [])
    started = time.perf_counter()
    step = 0
    if 0 in keep:
        run.samples[0] = trainer.samples()
    while step < steps:
        for real in trainer.epoch_batches():
            run.history.append({"step": step, **trainer.train_step(real)})
            step += 1
            if step in keep:
                run.samples[step] = trainer.samples()
            if step >= steps:
                break
    run.seconds = time.perf_counter() - started
    return run


def show_run(run: Run, window: int = 10):
    """One row for a run: its two losses per step (faint) and their running mean, D's verdicts
    (mean probability "real" on real and on generated images), and its samples at each kept step."""
    import matplotlib.pyplot as plt

    n_samples = len(run.samples)
    fig, axes = plt.subplots(1, 2 + n_samples, figsize=(4.2 * 2 + 2.6 * n_samples, 3.1),
                             gridspec_kw={"width_ratios": [1.6, 1.6] + [1] * n_samples})
    steps = [h["step"] for h in run.history]
    for key, label, colour in (("d_loss", "D loss", "tab:blue"), ("g_loss", "G loss", "tab:orange")):
        values = np.array([h[key] for h in run.history], dtype=float)
        axes[0].plot(steps, values, color=colour, alpha=0.3, linewidth=0.8)
        axes[0].plot(steps, _running_mean(values, window), color=colour, linewidth=2, label=label)
    axes[0].axhline(np.log(2), color="grey", linestyle=":", linewidth=1, label="ln 2 = 0.69")
    axes[0].set(xlabel="step", ylabel="loss", title="losses")
    axes[0].legend(fontsize=8)
    for key, label, colour in (("d_real", "D(real)", "tab:green"), ("d_fake", "D(fake)", "tab:red")):
        values = np.array([h[key] for h in run.history], dtype=float)
        axes[1].plot(steps, _running_mean(values, window), color=colour, linewidth=1.5, label=label)
    axes[1].set(xlabel="step", ylabel="mean P(real)", title="the discriminator's verdicts", ylim=(0, 1))
    axes[1].legend(fontsize=8)
    for ax, (step, images) in zip(axes[2:], sorted(run.samples.items())):
        show_images(images[:16], f"samples after {step} steps", nrow=4, ax=ax)
    fig.suptitle(run.title, fontsize=11)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- errors, by kind
#: What a loss or a training step raised, by kind: the text PyTorch uses for it.
ERROR_KINDS = (
    ("backward_twice", "backward through the graph a second time"),
    ("modified_in_place", "modified by an inplace operation"),
    ("target_not_tensor", "object has no attribute 'size'"),
    ("target_shape", "must be the same as input size"),
    ("target_dtype", "can't be cast to the desired output type"),
    ("needs_logits", "should be between 0 and 1"),
    ("no_graph", "does not require grad and does not have a grad_fn"),
)

#: Advice for a loss that raised, by kind (``{name}``: the loss's name).
LOSS_ADVICE = {
    "target_not_tensor": "{name} gives a number (like 1 or 0) as the target of the cross-entropy: the target must be "
                         "a tensor of the same shape as the logits. Write torch.ones_like(logits) for label 1 and "
                         "torch.zeros_like(logits) for label 0",
    "target_shape": "{name}: the target has another shape than the logits (torch.tensor(1.0) is one number, the "
                    "logits are one per image). Make the target with torch.ones_like(logits) or torch.zeros_like(logits)",
    "target_dtype": "{name}: the target holds whole numbers (dtype long); the cross-entropy needs floats. "
                    "torch.ones_like(logits) makes a float target of the right shape",
    "needs_logits": "{name} uses F.binary_cross_entropy, which expects probabilities in [0, 1], but the "
                    "discriminator gives logits (any real number): use F.binary_cross_entropy_with_logits",
    "not_written": "{name} is not written yet: replace the raise NotImplementedError line with your code",
}


def error_kind(error: BaseException | str) -> str:
    """The kind of a loss's or a training step's error (a key of :data:`ERROR_KINDS`), or
    ``"not_written"`` for the notebook's stub, or ``"other"``."""
    if isinstance(error, NotImplementedError) or "Write your code here" in str(error):
        return "not_written"
    text = str(error)
    for kind, words in ERROR_KINDS:
        if words in text:
            return kind
    return "other"


def loss_advice(name: str, error: BaseException | str, show_error: bool = True) -> str:
    """What to change in the loss ``name`` that raised ``error``: one sentence, or the error's
    type (and, with ``show_error``, its first line) when it is none of the classic mistakes."""
    kind = error_kind(error)
    if kind in LOSS_ADVICE:
        return LOSS_ADVICE[kind].format(name=name)
    kind_name = type(error).__name__ if isinstance(error, BaseException) else "an error"
    if not show_error:
        return f"{name} raised {kind_name} on other logits: run its visible checks to see where"
    first = (str(error).strip().splitlines() or [""])[0][:200]
    return f"{name} raised {kind_name}: {first}"


def call_loss(loss, *logits):
    """``loss(*logits)`` for a visible check: a classic mistake becomes an AssertionError that says
    what to change; a result that is not a tensor (so ``backward()`` cannot work) too."""
    name = getattr(loss, "__name__", "the loss")
    try:
        value = loss(*logits)
    except Exception as error:  # noqa: BLE001 - any error of the student's loss, explained
        raise AssertionError(loss_advice(name, error)) from None
    if not isinstance(value, torch.Tensor):
        raise AssertionError(f"{name} returned {type(value).__name__}, not a tensor: return the loss tensor itself "
                             "(no .item(), no float()), so that .backward() can follow it back to the weights")
    if value.numel() != 1:
        raise AssertionError(f"{name} returned {tuple(value.shape)} values; return one number (a scalar tensor): "
                             "the cross-entropy's default reduction, the mean, does that")
    return value


# --------------------------------------------------------------------------- training steps, traced
def _grads(module: nn.Module) -> list[torch.Tensor | None]:
    return [None if p.grad is None else p.grad.detach().clone() for p in module.parameters()]


def _grads_changed(module: nn.Module, before: list) -> bool:
    """Whether some parameter of ``module`` holds a non-zero gradient that it did not hold in ``before``."""
    for p, old in zip(module.parameters(), before):
        if p.grad is None or not bool(p.grad.abs().sum() > 0):
            continue
        if old is None or not torch.equal(p.grad, old):
            return True
    return False


def _has_grads(module: nn.Module) -> bool:
    return any(p.grad is not None and bool(p.grad.abs().sum() > 0) for p in module.parameters())


def _in_function(error: BaseException, names: tuple[str, ...]) -> str | None:
    """The first of ``names`` among the functions the error passed through, innermost first."""
    frames = [frame.name for frame in traceback.extract_tb(error.__traceback__)]
    for frame in reversed(frames):
        if frame in names:
            return frame
    return None


def trace_train_step(train_step, generator: nn.Module, discriminator: nn.Module, opt_g, opt_d,
                     real: torch.Tensor, **kwargs) -> dict:
    """Run ``train_step(generator, discriminator, opt_g, opt_d, real, **kwargs)`` and record what it did.

    Returns a dict of plain data (it crosses a sandbox's boundary as it is):

    - ``events``: in order, ``"G"`` (the generator called), ``"D"`` (the discriminator called on
      images that carry no gradient to the generator: real ones, or fakes detached), ``"D<-G"`` (on
      fakes still attached to the generator), ``"opt_d.step"``, ``"opt_g.step"``;
    - ``d_backward_reached_g``: at ``opt_d.step()``, the generator held gradients it did not hold
      when the step began (the discriminator's backward went through the generator);
    - ``d_step_without_grads`` / ``g_step_without_grads``: an optimiser stepped with no gradient
      in its network;
    - ``error``: None, or the kind of error (:func:`error_kind`), ``error_type`` its class's name,
      ``error_in`` the loss it came from (``"discriminator_loss"``, ``"generator_loss"``) or None;
    - ``stats``: what the step returned, when it is a dict of numbers (else None), each as a float;
      ``stats_types`` the type of each value as returned, ``returned`` the type of the whole.
    """
    events: list[str] = []
    flags = {"d_backward_reached_g": False, "d_step_without_grads": False, "g_step_without_grads": False}
    g_at_start = _grads(generator)

    def generator_called(module, inputs, output):
        events.append("G")

    def discriminator_called(module, inputs):
        attached = any(isinstance(x, torch.Tensor) and x.requires_grad for x in inputs)
        events.append("D<-G" if attached else "D")

    def d_stepping(optimizer, args, kw):
        events.append("opt_d.step")
        if _grads_changed(generator, g_at_start):
            flags["d_backward_reached_g"] = True
        if not _has_grads(discriminator):
            flags["d_step_without_grads"] = True

    def g_stepping(optimizer, args, kw):
        events.append("opt_g.step")
        if not _has_grads(generator):
            flags["g_step_without_grads"] = True

    handles = [generator.register_forward_hook(generator_called),
               discriminator.register_forward_pre_hook(discriminator_called)]
    step_handles = [opt_d.register_step_pre_hook(d_stepping), opt_g.register_step_pre_hook(g_stepping)]
    trace = {"events": events, **flags, "error": None, "error_type": None, "error_in": None, "stats": None,
             "stats_types": {}, "returned": None}
    try:
        stats = train_step(generator, discriminator, opt_g, opt_d, real, **kwargs)
    except Exception as error:  # noqa: BLE001 - recorded by kind, for advice
        trace.update(error=error_kind(error), error_type=type(error).__name__,
                     error_in=_in_function(error, ("discriminator_loss", "generator_loss")))
        trace["error_text"] = (str(error).strip().splitlines() or [""])[0][:200]
        stats = None
    finally:
        for handle in handles + step_handles:
            handle.remove()
    trace.update(flags)
    trace["returned"] = type(stats).__name__
    if isinstance(stats, dict):
        trace["stats_types"] = {str(k): type(v).__name__ for k, v in stats.items()}
        try:
            trace["stats"] = {str(k): float(v.detach() if isinstance(v, torch.Tensor) else v) for k, v in stats.items()}
        except (TypeError, ValueError, RuntimeError):
            trace["stats"] = None
    return trace


#: Advice on a training step, by the mistake found (see :func:`train_step_advice`).
STEP_ADVICE = {
    "detach": "the discriminator's backward reached the generator: in D's update, give D the fakes with "
              "fake.detach() (D's step must not change G, and its backward must not use up G's graph)",
    "stale_logits": "the generator's loss is computed from the discriminator's logits of D's own update (or from "
                    "before it): after opt_d.step(), call the discriminator again on the fakes, not detached, "
                    "g_loss = generator_loss(discriminator(fake)), then opt_g.zero_grad(), g_loss.backward(), "
                    "opt_g.step()",
    "g_no_grads": "opt_g.step() ran with no gradient in the generator: compute g_loss from discriminator(fake) "
                  "with fake not detached, and call g_loss.backward() before opt_g.step()",
    "d_no_grads": "opt_d.step() ran with no gradient in the discriminator: call d_loss.backward() before opt_d.step()",
    "backward_twice": "backward() went through the same part of the graph twice (PyTorch frees a graph after its "
                      "backward): build D's loss and G's loss from separate calls of the discriminator, give D the "
                      "fakes with fake.detach() in its update, and call each loss's backward() once",
    "modified_in_place": "a loss was backpropagated through the discriminator after opt_d.step() changed its weights: "
                         "compute g_loss from a new call discriminator(fake) made after opt_d.step()",
    "no_graph": "backward() was called on a value that does not depend on any weight: do not call .item() or "
                "float() on a loss before its backward(), and do not compute it under torch.no_grad()",
    "order": "train_step updated the generator before the discriminator: first D's update (zero_grad, d_loss, "
             "backward, opt_d.step()), then G's",
    "not_written": "train_step is not written yet: replace the raise NotImplementedError line with your code",
}


def train_step_advice(trace: dict, show_error: bool = True) -> str | None:
    """What to change in a training step, from its :func:`trace_train_step` record; None when it made
    none of the classic mistakes (which is not the same as right: the hidden check compares its
    update with the right one).

    ``show_error``: add the error's own first line to an advice about an error the kit does not
    know (the visible checks do; the hidden checks, which never quote a student's text, do not).
    """
    events = list(trace.get("events") or [])
    error, where = trace.get("error"), trace.get("error_in")
    if error and where and error in LOSS_ADVICE:
        return f"train_step failed inside {where}: {LOSS_ADVICE[error].format(name=where)} (its check, check_losses, says so too)"
    if error == "not_written":
        return STEP_ADVICE["not_written"]
    d_step = events.index("opt_d.step") if "opt_d.step" in events else None
    g_step = events.index("opt_g.step") if "opt_g.step" in events else None
    after = events[d_step + 1:] if d_step is not None else []
    g_loss_made = d_step is not None and (g_step is not None or error in ("backward_twice", "modified_in_place"))
    found = []
    if trace.get("d_backward_reached_g"):
        found.append("detach")
    if d_step is not None and g_step is not None and g_step < d_step:
        found.append("order")
    elif g_loss_made and "D<-G" not in after:
        # D was not called on the attached fakes after its update: G's loss came from older logits,
        # or from logits of detached fakes, which carry nothing back to G
        found.append("g_no_grads" if "D" in after else "stale_logits")
    if found:
        return "; also, ".join(STEP_ADVICE[f] for f in found)
    if error in STEP_ADVICE:
        return STEP_ADVICE[error]
    if error:
        own = f": {trace.get('error_text')}" if show_error and trace.get("error_text") else ""
        return f"train_step raised {trace.get('error_type') or 'an error'}{own}"
    if trace.get("d_step_without_grads"):
        return STEP_ADVICE["d_no_grads"]
    if trace.get("g_step_without_grads"):
        return STEP_ADVICE["g_no_grads"]
    return None


# --------------------------------------------------------------------------- expected times
#: Reading speed for new, technical text (and for the code cells a part gives), in words a minute.
READING_WPM = 120
#: Minutes per line of the instructor's solution: writing it with the hints at hand, running the
#: checks, fixing a mistake.
MINUTES_PER_LINE = 1.0
#: Minutes per written answer; the 4-point question is longer.
MINUTES_PER_ANSWER, MINUTES_PER_LONG_ANSWER = 10, 15
#: Minutes per code cell to run and look at.
MINUTES_PER_CELL = 1.0
#: Running time of the parts that train (seconds, measured on the kit's 2-core development
#: machine under load, not grading): the reference run 22 s, the main run 52 s, three experiments
#: 61 s, the whole notebook 151 s (the hand-in run).
COMPUTE_SECONDS = {"0": 22, "7": 52, "9": 61, "hand in": 151}


def expected_minutes(notebook: str | Path, heading: str = r"## Part (\d+)",
                     compute_seconds: dict[str, float] | None = None) -> dict[str, int]:
    """Lab 2's expected time per part, in minutes, estimated from the notebook itself.

    Not a measurement: a count of what each part asks (its words to read, the lines of the
    solution to write, its written answers, its cells to run and their measured running time) at
    the rates above, rounded to the nearest 5 minutes (at least 5). Parts are the notebook's
    ``## Part N`` headings; ``"start"`` is the introduction and the set-up cell, ``"hand in"`` the
    final restart-and-run-all. The notebook's and the guide's tables quote these numbers, and a
    test keeps them equal. ``heading`` (a part's heading, its number in group 1) and
    ``compute_seconds`` (running times by part, default :data:`COMPUTE_SECONDS`) let Lab 1 count
    its notebook by the same rule (:func:`deepfakelab.lab1.expected_minutes`).
    """
    import json
    import re

    cells = json.loads(Path(notebook).read_text())["cells"]
    heading_pattern, compute = heading, COMPUTE_SECONDS if compute_seconds is None else compute_seconds
    counts: dict[str, dict[str, float]] = {}
    part = "start"
    for cell in cells:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        heading = re.match(heading_pattern, source)
        if heading:
            part = heading.group(1)
        elif source.startswith("## Before you hand in"):
            part = "hand in"
        meta = cell.get("metadata", {}).get("nbgrader", {})
        c = counts.setdefault(part, {"words": 0, "lines": 0, "answers": 0, "cells": 0})
        if cell["cell_type"] == "markdown":
            if meta.get("solution"):
                c["answers"] += MINUTES_PER_LONG_ANSWER if meta.get("points", 0) >= 4 else MINUTES_PER_ANSWER
            else:
                c["words"] += len(re.findall(r"[A-Za-z0-9_']+", re.sub(r"<details>.*?</details>", "", source, flags=re.S)))
            continue
        c["cells"] += 1
        if meta.get("solution"):
            found = re.search(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", source, re.S)
            body = found.group(1) if found else ""
            c["lines"] += sum(1 for line in body.splitlines() if line.strip() and not line.strip().startswith("#"))
        elif not meta.get("grade"):
            c["words"] += len(re.findall(r"[A-Za-z0-9_']+", source))
    minutes = {}
    for part, c in counts.items():
        raw = (c["words"] / READING_WPM + c["lines"] * MINUTES_PER_LINE + c["answers"] + c["cells"] * MINUTES_PER_CELL
               + compute.get(part, 0) / 60)
        minutes[part] = max(5, 5 * round(raw / 5))
    return minutes
