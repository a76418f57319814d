"""Detection figures: how ROC, AUC and EER are read, and the detector's explainability maps.

The metrics figure feeds scores to the kit's own :mod:`deepfakelab.detect.metrics`, the code
that computes every AUC and EER the kit reports. Its scores are drawn at random from two
stated distributions (an imaginary detector), and the caption says so: the figure teaches how
to read the curve, not how good the kit's detector is.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .snippets import Figure, NotDrawn


def _metrics_figure(out_dir: Path) -> Figure:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import roc_curve

    from deepfakelab.detect.metrics import auc, eer

    rng = np.random.default_rng(0)
    n = 400
    real = rng.beta(2.0, 5.0, n)  # an imaginary detector: reals mostly low...
    fake = rng.beta(5.0, 2.0, n)  # ...fakes mostly high, with overlap
    labels = np.r_[np.zeros(n, int), np.ones(n, int)]
    scores = np.r_[real, fake]
    area, equal_error = auc(labels, scores), eer(labels, scores)
    fpr, tpr, _ = roc_curve(labels, scores)

    fig, (ax_hist, ax_roc) = plt.subplots(1, 2, figsize=(10, 4))
    bins = np.linspace(0, 1, 26)
    ax_hist.hist(real, bins=bins, alpha=0.6, color="tab:green", label="real videos")
    ax_hist.hist(fake, bins=bins, alpha=0.6, color="tab:red", label="fake videos")
    ax_hist.axvline(0.5, color="k", linestyle="--", linewidth=1, label="threshold 0.5")
    ax_hist.set_xlabel("detector score P(fake)")
    ax_hist.set_ylabel("number of videos")
    ax_hist.set_title("Scores of real and fake videos")
    ax_hist.legend(fontsize=8)

    ax_roc.plot(fpr, tpr, color="tab:blue", linewidth=2, label=f"ROC, AUC = {area:.3f}")
    ax_roc.plot([0, 1], [0, 1], color="gray", linestyle=":", label="coin toss, AUC = 0.5")
    ax_roc.plot([0, 1], [1, 0], color="tab:orange", linewidth=1, alpha=0.6, label="FPR = 1 - TPR")
    ax_roc.scatter([equal_error], [1 - equal_error], color="tab:orange", zorder=3, label=f"EER = {equal_error:.3f}")
    ax_roc.set_xlabel("false positive rate (reals called fake)")
    ax_roc.set_ylabel("true positive rate (fakes caught)")
    ax_roc.set_title("ROC curve")
    ax_roc.set_aspect("equal")
    ax_roc.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    path = out_dir / "roc.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return Figure(
        "fig_detect_metrics",
        path,
        "Score histograms of real and fake videos, and the ROC curve with its AUC and EER",
        "How to read a detector's numbers. The scores are those of an *imaginary* detector, drawn "
        f"at random ({n} real videos from Beta(2, 5), {n} fakes from Beta(5, 2)); AUC and EER are "
        "computed by the kit's `deepfakelab.detect.metrics`, the code behind every number the kit "
        f"reports. Left: where the two kinds of video score. Right: the ROC curve (AUC {area:.3f}) "
        f"and the equal error rate, where it crosses the line FPR = 1 − TPR (EER {equal_error:.3f}).",
        {"auc": round(area, 4), "eer": round(equal_error, 4)},
    )


def make(out_dir: Path, quick: bool) -> list[Figure | NotDrawn]:
    return [
        _metrics_figure(out_dir),
        NotDrawn(
            "fig_detect_cam",
            "the site's figure script does not draw the detector's maps in this version yet; "
            "`deepfakelab detect VIDEO... -o REPORT_DIR` draws them for your own videos.",
        ),
    ]
