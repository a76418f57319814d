"""What the detector was trained on, and whether an input looks like it.

A verdict on a face unlike every face the network learnt from is a guess, however confident
its probability (the old synthetic-only detector said "fake 100 %" on every real video). So a
trained detector carries, in its weights file, a one-line description of its training data and
the statistics of its pooled features on it; the console then names the detector and its
training domain whenever an input falls outside.

The test is a diagonal Mahalanobis distance of a crop's pooled features to the training
features' mean, averaged over feature dimensions (about 1 for a training crop). An input is
*unlike the training data* when the median of its frames' distances exceeds the 99th
percentile of the distances of the validation split's crops, people the network never
trained on.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import torch
from torch import nn

from .faceset import FaceSet, FaceTensors


def describe(train: FaceSet) -> str:
    """One line about a training face set: how many people or identities, which fakes."""
    from .realdata import PERSONS

    groups = set(train.group.tolist())
    people = sorted(g for g in groups if g in set(PERSONS.values()) and not g.startswith("photo"))
    photos = sorted(g for g in groups if g.startswith("photo"))
    heads = len(groups) - len(people) - len(photos)
    kinds = ", ".join(k for k, _ in Counter(train.kind[train.labels == 1].tolist()).most_common())
    parts = []
    if people:
        parts.append(f"real talking-head videos of {len(people)} people")
    if photos:
        parts.append(f"{len(photos)} real photos")
    if heads:
        parts.append(f"{heads} synthetic head identities")
    return f"{' + '.join(parts)}; fakes: {kinds}"


def embed(model: nn.Module, inputs: torch.Tensor) -> torch.Tensor:
    """Pooled last-stage features ``(N, C)`` of normalised crops ``(N, 3, S, S)``."""
    if hasattr(model, "embed"):
        return model.embed(inputs)
    return model.features(inputs).mean(dim=(2, 3))


@torch.no_grad()
def embeddings(model: nn.Module, faces: FaceSet, batch_size: int = 64, device="cpu") -> np.ndarray:
    model.eval()
    data = FaceTensors(faces, train=False)
    out = []
    for start in range(0, len(data), batch_size):
        x = torch.stack([data[i][0] for i in range(start, min(start + batch_size, len(data)))]).to(device)
        out.append(embed(model, x).cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, 0))


def distances(features: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """``(N,)`` mean squared z-score of each feature row."""
    return (((np.asarray(features) - mean) / std) ** 2).mean(axis=1)


def domain_stats(model: nn.Module, train: FaceSet, val: FaceSet, device="cpu") -> dict:
    """What goes into the weights file: description, feature mean/std and the distance threshold."""
    train_features = embeddings(model, train, device=device)
    mean, std = train_features.mean(axis=0), train_features.std(axis=0) + 1e-3
    reference = embeddings(model, val, device=device) if len(val) else train_features
    return {"trained_on": describe(train), "feature_mean": mean.astype(np.float32).tolist(),
            "feature_std": std.astype(np.float32).tolist(),
            "threshold": float(np.percentile(distances(reference, mean, std), 99))}


def unlike_training(model: nn.Module, inputs: torch.Tensor, stats: dict) -> tuple[bool, float]:
    """Whether crops ``(N, 3, S, S)`` of one input are unlike the training data, and their median distance."""
    with torch.no_grad():
        features = embed(model.eval(), inputs).cpu().numpy()
    d = float(np.median(distances(features, np.array(stats["feature_mean"]), np.array(stats["feature_std"]))))
    return d > stats["threshold"], d
