"""The training half of the domain check: the prototypes and threshold stored in the weights.

:func:`domain_stats` makes, from a trained model and its training and validation face sets, the
``domain`` entry of a weights file: a one-line description of the training data, prototypes
(features of training crops, shared evenly between people) and the distance threshold, from
crops scored against the prototypes of other people. Why these features, this distance and this
threshold: :mod:`.domain`, which tests each input against them at inference time.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import torch
from torch import nn

from ..fakes.faceset import FaceSet
from ..fakes.roster import real_rows
from ..media.files import is_image_path
from .dataset import FaceTensors
from .domain import distances, domain_features, embed, unit_vectors

#: Prototypes stored in the weights (float16: 256 x 152 values, 78 kB for MobileNetV2).
PROTOTYPES = 256
#: The share of new people's face crops (real or fake) called in-domain. Chosen at 99 on the
#: previous shipped detector's table (weights README; chosen on those same files, so expect less
#: on new ones), where it flagged the Mona Lisa (s9), the painting s4 and the statue s6 and no
#: held-out real video, mesh-warp fake or validation video. Kept, not chosen again, for the
#: detectors since (``python bench/detect_domain.py``): at 99 the current one flags only s9 and
#: none of the real videos or fakes; the previous one, at 97, flagged s9, s4 and s8 with a
#: held-out real video (retalk_5) 0.0006 below the threshold.
NULL_PERCENTILE = 99.0


#: Where the shared photos licensed for non-commercial research only come from (their paths in
#: ``../shared/data/faces``): weights trained on them carry that licence, and say so.
RESEARCH_ONLY = ("utkface/",)


def describe(train: FaceSet) -> str:
    """One line about a training face set: how many people or identities, which fakes, and
    whether a research-only source is among them (a detector's card and every verdict show it)."""
    is_real = real_rows(train)
    real = is_real & (train.labels == 0)
    filmed = {g for g, v in zip(train.group[real], train.video[real]) if not is_image_path(v)}
    people = sorted(filmed)
    photos = sorted(set(train.group[real].tolist()) - filmed)
    heads = len(set(train.group[~is_real].tolist()))
    kinds = ", ".join(k for k, _ in Counter(train.kind[train.labels == 1].tolist()).most_common())
    parts = []
    if people:
        parts.append(f"real talking-head videos of {len(people)} people")
    if photos:
        research = {g for g, f in zip(train.group[real], train.source[real]) if f.startswith(RESEARCH_ONLY)}
        parts.append(
            f"photos of {len(photos)} real people"
            + (
                f" ({len(research & set(photos))} of them from UTKFace, licensed for non-commercial research only, "
                "so these weights are too)"
                if research
                else ""
            )
        )
    if heads:
        parts.append(f"{heads} synthetic head identities")
    return f"{' + '.join(parts)}; fakes: {kinds}"


@torch.no_grad()
def embeddings(
    model: nn.Module, faces: FaceSet, batch_size: int = 64, device="cpu", features=embed
) -> np.ndarray:
    """``features(model, crops)`` of every crop of ``faces`` (un-augmented), ``(N, C)``."""
    model.eval()
    data = FaceTensors(faces, train=False)
    out = []
    for start in range(0, len(data), batch_size):
        x = torch.stack([data[i][0] for i in range(start, min(start + batch_size, len(data)))]).to(device)
        out.append(features(model, x).cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, 0))


def choose_prototypes(groups: np.ndarray, count: int = PROTOTYPES, seed: int = 0) -> np.ndarray:
    """Indices of ``count`` crops, as evenly shared between the groups (people, identities) as
    their sizes allow: drawn at random, a photo's 17 crops go unrepresented one time in three."""
    rng = np.random.default_rng(seed)
    groups = np.asarray(groups)
    pools = {g: rng.permutation(np.flatnonzero(groups == g)).tolist() for g in sorted(set(groups.tolist()))}
    chosen: list[int] = []
    while len(chosen) < min(count, len(groups)):
        for g in list(pools):
            if pools[g] and len(chosen) < count:
                chosen.append(pools[g].pop())
    return np.sort(np.array(chosen, dtype=int))


def held_out_null(
    features: np.ndarray, groups: np.ndarray, prototypes: np.ndarray, prototype_groups: np.ndarray
) -> np.ndarray:
    """Each row's distance to the nearest prototype of *another* group: the distance of a face
    of a person the prototypes do not contain (rows whose group holds every prototype: inf)."""
    d = 1.0 - unit_vectors(features) @ unit_vectors(prototypes).T
    d[np.asarray(groups)[:, None] == np.asarray(prototype_groups)[None, :]] = np.inf
    return d.min(axis=1)


def domain_stats(
    model: nn.Module,
    train: FaceSet,
    val: FaceSet,
    device="cpu",
    count: int = PROTOTYPES,
    percentile: float = NULL_PERCENTILE,
) -> dict:
    """What goes into the weights file: the description, prototypes from ``train`` and the
    threshold, from the crops of ``train`` and ``val`` held out person by person."""
    train_features = embeddings(model, train, device=device, features=domain_features)
    picked = choose_prototypes(train.group, count)
    prototypes = train_features[picked].astype(np.float16)
    both = FaceSet.concatenate([train, val]) if len(val) else train
    features = (
        np.concatenate([train_features, embeddings(model, val, device=device, features=domain_features)])
        if len(val)
        else train_features
    )
    null = held_out_null(features, both.group, prototypes.astype(np.float32), train.group[picked])
    null = null[np.isfinite(null)]
    if not len(null):  # a single training group and no validation: its own crops are all there is
        null = distances(features, prototypes.astype(np.float32))
    return {
        "trained_on": describe(train),
        "method": "nearest-prototype cosine distance, depth features",
        "prototypes": torch.from_numpy(prototypes),
        "threshold": float(np.percentile(null, percentile)),
        "null_percentile": float(percentile),
    }
