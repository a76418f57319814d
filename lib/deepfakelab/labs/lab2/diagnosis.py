"""The diagnoses Lab 2's checks give: what a beginner's loss or training step did wrong, in one sentence.

A beginner's training step fails in a few classic ways: the fakes not detached in the
discriminator's update, the generator's loss computed from the discriminator's logits of that
update, a loss whose target is the number 1 instead of a tensor, swapped labels. PyTorch reports
the first three as "backward through the graph a second time", "'int' object has no attribute
'size'" or nothing at all. :func:`trace_train_step` runs a ``train_step`` with hooks on both
networks and optimisers and records what it did (which network was called on what, whether the
discriminator's backward reached the generator, the error, if any, by kind);
:func:`train_step_advice` turns that record into one sentence that says what to change.
:func:`loss_advice` does the same for a loss that raised, and :func:`call_loss` raises it as the
visible checks' AssertionError. The notebook's visible checks call them in the student's kernel;
the hidden checks get the same record as data from a probe
(:func:`deepfakelab.course.probes.lab2.train_step_trace`) and give the same advice.

Nothing here says what the right update is: a trace holds what happened, not what should have.
"""

from __future__ import annotations

import traceback

import torch
from torch import nn


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
        raise AssertionError(
            f"{name} returned {type(value).__name__}, not a tensor: return the loss tensor itself "
            "(no .item(), no float()), so that .backward() can follow it back to the weights"
        )
    if value.numel() != 1:
        raise AssertionError(
            f"{name} returned {tuple(value.shape)} values; return one number (a scalar tensor): "
            "the cross-entropy's default reduction, the mean, does that"
        )
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


def trace_train_step(
    train_step, generator: nn.Module, discriminator: nn.Module, opt_g, opt_d, real: torch.Tensor, **kwargs
) -> dict:
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
    hooks = _StepHooks(generator, discriminator)
    handles = hooks.attach(opt_g, opt_d)
    trace = {
        "events": hooks.events,
        **hooks.flags,
        "error": None,
        "error_type": None,
        "error_in": None,
        "stats": None,
        "stats_types": {},
        "returned": None,
    }
    try:
        stats = train_step(generator, discriminator, opt_g, opt_d, real, **kwargs)
    except Exception as error:  # noqa: BLE001 - recorded by kind, for advice
        trace.update(_error_record(error))
        stats = None
    finally:
        for handle in handles:
            handle.remove()
    trace.update(hooks.flags)
    trace.update(_stats_record(stats))
    return trace


class _StepHooks:
    """Hooks on both networks and both optimisers that record what a training step does: the
    ``events`` of :func:`trace_train_step`, in order, and the ``flags`` its optimisers' steps raise."""

    def __init__(self, generator: nn.Module, discriminator: nn.Module) -> None:
        self.generator, self.discriminator = generator, discriminator
        self.events: list[str] = []
        self.flags = {
            "d_backward_reached_g": False,
            "d_step_without_grads": False,
            "g_step_without_grads": False,
        }
        self.g_at_start = _grads(generator)

    def attach(self, opt_g, opt_d) -> list:
        """Register the hooks; returns their handles, to remove once the step is over."""
        return [
            self.generator.register_forward_hook(self.generator_called),
            self.discriminator.register_forward_pre_hook(self.discriminator_called),
            opt_d.register_step_pre_hook(self.d_stepping),
            opt_g.register_step_pre_hook(self.g_stepping),
        ]

    def generator_called(self, module, inputs, output) -> None:
        self.events.append("G")

    def discriminator_called(self, module, inputs) -> None:
        attached = any(isinstance(x, torch.Tensor) and x.requires_grad for x in inputs)
        self.events.append("D<-G" if attached else "D")

    def d_stepping(self, optimizer, args, kw) -> None:
        self.events.append("opt_d.step")
        if _grads_changed(self.generator, self.g_at_start):
            self.flags["d_backward_reached_g"] = True
        if not _has_grads(self.discriminator):
            self.flags["d_step_without_grads"] = True

    def g_stepping(self, optimizer, args, kw) -> None:
        self.events.append("opt_g.step")
        if not _has_grads(self.generator):
            self.flags["g_step_without_grads"] = True


def _error_record(error: BaseException) -> dict:
    """The trace's entries for an error the step raised: its kind, class, the loss it came from and
    its first line."""
    return {
        "error": error_kind(error),
        "error_type": type(error).__name__,
        "error_in": _in_function(error, ("discriminator_loss", "generator_loss")),
        "error_text": (str(error).strip().splitlines() or [""])[0][:200],
    }


def _stats_record(stats) -> dict:
    """The trace's entries for what the step returned: the type of the whole and, for a dict, the
    type of each value and each value as a float (``stats`` None when one is no number)."""
    record: dict = {"returned": type(stats).__name__}
    if isinstance(stats, dict):
        record["stats_types"] = {str(k): type(v).__name__ for k, v in stats.items()}
        try:
            record["stats"] = {
                str(k): float(v.detach() if isinstance(v, torch.Tensor) else v) for k, v in stats.items()
            }
        except (TypeError, ValueError, RuntimeError):
            record["stats"] = None
    return record


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
    after = events[d_step + 1 :] if d_step is not None else []
    g_loss_made = d_step is not None and (
        g_step is not None or error in ("backward_twice", "modified_in_place")
    )
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
