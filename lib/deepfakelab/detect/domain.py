"""What the detector was trained on, and whether an input looks like it.

A verdict on a face unlike every face the network learnt from is a guess, however confident
its probability (the old synthetic-only detector said "fake 100 %" on every real video). So a
trained detector carries, in its weights file, a one-line description of its training data and
a few hundred *prototypes*: the features of training crops, a handful from every training
person or synthetic identity; the console then names the detector and its training domain
whenever an input falls outside.

The test, measured on the shared real files (paintings and a statue against the held-out
people's videos and the kit's mesh-warp fakes of them; table in the weights' README):

- *features*: the network's pooled activations at three depths (:meth:`depth_features` of the
  model: strides 4, 8 and 16 for MobileNetV2), which carry a crop's colour and texture. The
  last stage, trained to see blending traces, did not work: a diagonal Mahalanobis distance
  there put the Mona Lisa nearer the training faces than every real test video, and neither a
  shrunk full covariance nor nearest neighbours on it did better;
- *distance*: the cosine distance to the nearest prototype (a nearest-neighbour test, Sun et
  al., "Out-of-distribution detection with deep nearest neighbors", ICML 2022), which allows a
  training set of several unlike parts (real people, synthetic heads) where one Gaussian does not;
- *threshold*: a percentile (:data:`.domain_stats.NULL_PERCENTILE`) of the distances of faces of people the
  prototypes do not contain: every training and validation crop, real or fake, scored against
  the prototypes of the other people (leave one person out). That is the distance a new
  person's face, or a fake of it, has: what an input must exceed to be "unlike the training
  data". Real crops alone set it too low: fakes lie farther from the prototypes than reals,
  and a quarter of the held-out synthetic heads' fake videos were flagged.

An input is unlike the training data when the median of its frames' distances exceeds the
threshold.

This module is the inference half, what ``detect`` runs on each input (:func:`unlike_training`);
the prototypes and the threshold are made at training time by :mod:`.domain_stats`.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


def embed(model: nn.Module, inputs: torch.Tensor) -> torch.Tensor:
    """Pooled last-stage features ``(N, C)`` of normalised crops ``(N, 3, S, S)``."""
    if hasattr(model, "embed"):
        return model.embed(inputs)
    return model.features(inputs).mean(dim=(2, 3))


def domain_features(model: nn.Module, inputs: torch.Tensor) -> torch.Tensor:
    """The features the domain test compares: the model's :meth:`depth_features` where it has
    them, else its pooled last stage."""
    if hasattr(model, "depth_features"):
        return model.depth_features(inputs)
    return embed(model, inputs)


def unit_vectors(features: np.ndarray) -> np.ndarray:
    """Each row scaled to length 1 (rows of zeros stay zero)."""
    features = np.asarray(features, np.float32)
    return features / np.maximum(np.linalg.norm(features, axis=1, keepdims=True), 1e-12)


def distances(features: np.ndarray, prototypes: np.ndarray) -> np.ndarray:
    """``(N,)`` cosine distance of each feature row to its nearest prototype."""
    return (1.0 - unit_vectors(features) @ unit_vectors(prototypes).T).min(axis=1)


def has_stats(domain: dict | None) -> bool:
    """Whether a weights file's ``domain`` entry can test inputs (older files kept a mean/std)."""
    return bool(domain) and "prototypes" in domain


def unlike_training(model: nn.Module, inputs: torch.Tensor, stats: dict) -> tuple[bool, float]:
    """Whether crops ``(N, 3, S, S)`` of one input are unlike the training data, and their median distance."""
    with torch.no_grad():
        features = domain_features(model.eval(), inputs).cpu().numpy()
    d = float(np.median(distances(features, np.asarray(stats["prototypes"], np.float32))))
    return d > stats["threshold"], d
