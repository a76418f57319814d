"""Detection figures: how ROC, AUC and EER are read, and the detector's explainability maps.

The metrics figure feeds scores to the kit's own :mod:`deepfakelab.detect.metrics`, the code
that computes every AUC and EER the kit reports. Its scores are drawn at random from two
stated distributions (an imaginary detector), and the caption says so: the figure teaches how
to read the curve, not how good the kit's detector is.

The maps figure needs *trained* detector weights (the shipped ones, or ``site/build.py
--detector-weights FILE``): it makes fakes of synthetic heads exactly as the detector's training
set does (:func:`deepfakelab.fakes.synthetic.build_faceset`, which knows each fake's changed
region), scores them and draws the maps of several methods with that region outlined.
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
    ax_roc.scatter(
        [equal_error], [1 - equal_error], color="tab:orange", zorder=3, label=f"EER = {equal_error:.3f}"
    )
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


#: Detector weights to draw the maps with (``--detector-weights``); None: the shipped ones.
WEIGHTS: Path | None = None

#: The methods the maps figure compares (names as in :data:`deepfakelab.detect.explain.CAM_METHODS`).
MAP_METHODS = ("gradcam", "gradcam++", "eigencam")


def maps_figure(model, config, out_dir: Path, weights: str) -> Figure:
    """A real crop and kit-made fakes of it, with each method's map and the changed region."""
    import cv2
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from deepfakelab.detect.explain import fake_maps, overlay, pointing_hits
    from deepfakelab.detect.model import to_tensor
    from deepfakelab.fakes.synthetic import build_faceset, heads_sources

    sources = heads_sources(identities=2, videos_per_identity=1, frames_per_video=1, seed=7, progress=False)
    faces = build_faceset(sources, ["self_blend", "face_swap"], size=config.size, seed=0, progress=False)
    first = faces.source == faces.source[0]
    rows = [int(i) for i in np.flatnonzero(first)][:3]  # the real crop, then its fakes
    images, masks = faces.images[rows], faces.masks[rows] > 127
    fig, axes = plt.subplots(
        len(rows),
        1 + len(MAP_METHODS),
        figsize=(2.3 * (1 + len(MAP_METHODS)), 2.5 * len(rows)),
        squeeze=False,
    )
    hits = {}
    p_fake = None
    for column, method in enumerate(MAP_METHODS, start=1):
        maps, p_fake = fake_maps(model, to_tensor(images), method)
        for row in range(len(rows)):
            ax = axes[row, column]
            ax.imshow(overlay(images[row], maps[row]))
            if masks[row].any():
                contours, _ = cv2.findContours(
                    masks[row].astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE
                )
                for contour in contours:
                    ax.plot(contour[:, 0, 0], contour[:, 0, 1], color="white", linewidth=1, linestyle="--")
                hit = bool(pointing_hits(maps[row : row + 1], masks[row : row + 1].astype(np.float32))[0])
                hits.setdefault(method, []).append(hit)
                ax.set_title(f"{method}: max {'inside' if hit else 'outside'}", fontsize=8)
            else:
                ax.set_title(method, fontsize=8)
        for row in range(len(rows)):
            kind = str(faces.kind[rows[row]])
            axes[row, 0].imshow(images[row])
            axes[row, 0].set_title(f"{kind}: P(fake) {p_fake[row]:.2f}", fontsize=8)
    for ax in axes.ravel():
        ax.axis("off")
    fig.tight_layout()
    path = out_dir / "maps.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    kinds = [str(faces.kind[i]) for i in rows]
    scores = ", ".join(f"{kind} {p:.2f}" for kind, p in zip(kinds, p_fake))
    wrong = [kind for kind, p, label in zip(kinds, p_fake, faces.labels[rows]) if (p >= 0.5) != bool(label)]
    remark = (
        f" At the 0.5 threshold the detector gets {', '.join(wrong)} wrong here: single frames can be "
        "wrong, which is why a video's verdict averages many frames."
        if wrong
        else ""
    )
    return Figure(
        "fig_detect_cam",
        path,
        "A real face crop and two kit-made fakes, with the detector's maps for three methods",
        f"Drawn when this site was built, with the detector {weights}. Rows: a real crop of a "
        "synthetic head, then a self-blended fake and a face swap made from it, as in the "
        "detector's training set; left, the detector's fake probability. Columns: maps for the "
        "*fake* logit by three methods of `pytorch-grad-cam`; the dashed outline is the region the "
        "manipulation really changed, and each title says whether the map's maximum fell inside it "
        f"(the pointing game). P(fake) of the three crops: {scores}.{remark} The real crop gets a "
        "map too: a map alone proves nothing.",
        {method: [int(h) for h in values] for method, values in hits.items()},
    )


def make(out_dir: Path, quick: bool) -> list[Figure | NotDrawn]:
    from deepfakelab.detect.inference import DEFAULT_WEIGHTS, TRAIN_HINT, load_detector

    figures: list[Figure | NotDrawn] = [_metrics_figure(out_dir)]
    weights = Path(WEIGHTS) if WEIGHTS else DEFAULT_WEIGHTS
    if weights.is_file():
        model, config = load_detector(weights)
        label = "shipped with the kit" if weights == DEFAULT_WEIGHTS else f"`{weights.name}`"
        figures.append(maps_figure(model, config, out_dir, label))
    else:
        figures.append(
            NotDrawn(
                "fig_detect_cam",
                "no trained detector weights ship with this version of the kit yet, and maps of an "
                f"untrained detector would show nothing real. Train them with `{TRAIN_HINT.split(' (')[0]}`, "
                "then build the site with `--detector-weights FILE`; `deepfakelab detect VIDEO... -o "
                "REPORT_DIR` draws the maps for your own videos.",
            )
        )
    return figures
