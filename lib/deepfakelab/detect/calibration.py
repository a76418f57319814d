"""Temperature scaling (Guo et al., "On Calibration of Modern Neural Networks", ICML 2017).

A network fine-tuned with cross-entropy is over-confident: it says "fake 99 %" where it is
right 80 % of the time. One scalar ``T`` dividing the logits fixes most of that without
changing any verdict (the arg-max, and so every AUC, stays the same). ``T`` is fitted by
minimising the negative log-likelihood on a validation split whose people the network never
trained on, so "fake 87 %" means about 87 % on new people, not on the training faces.
"""

from __future__ import annotations

import numpy as np
import torch


def fit_temperature(logits, labels, max_iter: int = 200) -> float:
    """The ``T > 0`` minimising ``NLL(softmax(logits / T), labels)``.

    ``logits``: ``(N, 2)`` (real, fake) at temperature 1; ``labels``: ``(N,)`` 0 real, 1 fake.
    Optimised over ``log T`` (so ``T`` stays positive) with L-BFGS.
    """
    logits = torch.as_tensor(np.asarray(logits), dtype=torch.float64)
    labels = torch.as_tensor(np.asarray(labels), dtype=torch.long)
    if logits.ndim != 2 or len(logits) != len(labels) or len(labels) == 0:
        raise ValueError(f"need (N, 2) logits and N labels, got {tuple(logits.shape)} and {len(labels)}")
    log_t = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimiser = torch.optim.LBFGS([log_t], lr=0.1, max_iter=max_iter, line_search_fn="strong_wolfe")

    def closure():
        optimiser.zero_grad()
        loss = torch.nn.functional.cross_entropy(logits / log_t.exp(), labels)
        loss.backward()
        return loss

    optimiser.step(closure)
    return float(log_t.detach().exp().clamp(0.05, 100.0))


def scaled_probabilities(logits, temperature: float) -> np.ndarray:
    """P(fake) ``(N,)`` from ``(N, 2)`` logits divided by ``temperature``."""
    logits = torch.as_tensor(np.asarray(logits), dtype=torch.float64) / temperature
    return torch.softmax(logits, dim=1)[:, 1].numpy()
