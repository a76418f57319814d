"""Detection metrics as DeepfakeBench reports them: frame AUC, video AUC, EER, AP.

Labels are 1 for fake and 0 for real; scores are the detector's probability of "fake" in
[0, 1]. A video's score is the mean of its frames' probabilities (DeepfakeBench's video-level
protocol), so a video AUC rewards a detector that is right on most frames of a video, not on
every frame.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve


def _check(labels, scores) -> tuple[np.ndarray, np.ndarray]:
    labels = np.asarray(labels, dtype=int).ravel()
    scores = np.asarray(scores, dtype=float).ravel()
    if labels.shape != scores.shape:
        raise ValueError(f"{labels.size} labels but {scores.size} scores")
    if set(np.unique(labels)) != {0, 1}:
        raise ValueError("AUC, EER and AP need both real (0) and fake (1) examples")
    return labels, scores


def auc(labels, scores) -> float:
    """Area under the ROC curve: the chance a random fake scores above a random real (ties count 1/2)."""
    return float(roc_auc_score(*_check(labels, scores)))


def average_precision(labels, scores) -> float:
    """Average precision with fakes as the positive class (area under precision-recall, step-wise)."""
    return float(average_precision_score(*_check(labels, scores)))


def eer(labels, scores) -> float:
    """Equal error rate: where the false-positive rate meets the false-negative rate.

    Computed on the ROC's step points; between the two points where FNR - FPR changes sign the
    value is interpolated linearly, as in DeepfakeBench.
    """
    fpr, tpr, _ = roc_curve(*_check(labels, scores))
    fnr = 1.0 - tpr
    diff = fnr - fpr  # decreasing from 1 to -1 along the curve
    i = int(np.argmax(diff <= 0))
    if diff[i] == 0 or i == 0:
        return float(fpr[i])
    # crossing between point i-1 (diff > 0) and i (diff < 0)
    t = diff[i - 1] / (diff[i - 1] - diff[i])
    return float(fpr[i - 1] + t * (fpr[i] - fpr[i - 1]))


def video_scores(video_ids, labels, scores) -> tuple[list, np.ndarray, np.ndarray]:
    """Aggregate frames to videos: ``(ids, labels, mean frame probability)``, in first-seen order."""
    grouped: dict = defaultdict(list)
    label_of: dict = {}
    for vid, label, score in zip(video_ids, labels, scores):
        grouped[vid].append(float(score))
        if label_of.setdefault(vid, int(label)) != int(label):
            raise ValueError(f"video {vid!r} has frames labelled both real and fake")
    ids = list(grouped)
    return ids, np.array([label_of[v] for v in ids]), np.array([np.mean(grouped[v]) for v in ids])


@dataclass
class DetectionMetrics:
    """The four numbers of one evaluation row."""

    frame_auc: float
    video_auc: float
    eer: float
    ap: float
    frames: int
    videos: int

    def as_dict(self) -> dict:
        return asdict(self)


def evaluate(video_ids, labels, scores) -> DetectionMetrics:
    """Frame AUC, video AUC, frame EER and frame AP of one set of scored frames."""
    _, vlabels, vscores = video_scores(video_ids, labels, scores)
    return DetectionMetrics(
        frame_auc=auc(labels, scores),
        video_auc=auc(vlabels, vscores),
        eer=eer(labels, scores),
        ap=average_precision(labels, scores),
        frames=len(scores),
        videos=len(vscores),
    )


def expected_calibration_error(labels, scores, bins: int = 15) -> float:
    """ECE (Guo et al., 2017) of P(fake) as a binary forecast: sum over equal-width confidence bins
    of (share of crops in the bin) x |accuracy - mean confidence| in that bin.

    Confidence is max(p, 1 - p), the probability of the predicted class; 0 is perfectly
    calibrated, and a detector that says "fake 100 %" on reals scores near 1.
    """
    labels = np.asarray(labels, dtype=int).ravel()
    scores = np.asarray(scores, dtype=float).ravel()
    if labels.shape != scores.shape or labels.size == 0:
        raise ValueError(f"{labels.size} labels but {scores.size} scores")
    confidence = np.maximum(scores, 1.0 - scores)
    correct = ((scores >= 0.5).astype(int) == labels).astype(float)
    edges = np.linspace(0.5, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        sel = which == b
        if sel.any():
            total += sel.mean() * abs(correct[sel].mean() - confidence[sel].mean())
    return float(total)
