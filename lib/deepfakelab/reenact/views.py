"""Pictures of a reenactment: keypoints drawn on frames, side-by-side videos and a PNG strip."""

from __future__ import annotations

from pathlib import Path

import cv2
import matplotlib
import numpy as np
from matplotlib.figure import Figure

from ..media.frames import evenly_spaced
from ..provenance.marking import save_marked_figure


def keypoints_to_pixels(points: np.ndarray, size: int) -> np.ndarray:
    """``(..., 2)`` coordinates in [-1, 1] (-1/1 = first/last pixel centre) -> pixels in a ``size`` image."""
    return (np.asarray(points, dtype=np.float64) + 1) / 2 * (size - 1)


def _colours(count: int) -> list[tuple[int, int, int]]:
    cmap = matplotlib.colormaps["tab10"]
    return [tuple(int(255 * c) for c in cmap(i % 10)[:3]) for i in range(count)]


def draw_points(image: np.ndarray, points: np.ndarray | None) -> np.ndarray:
    """A copy of ``image (H, W, 3)`` uint8 with ``points (K, 2)`` pixels drawn as coloured dots (one colour per point)."""
    out = image.copy()
    if points is None:
        return out
    radius = max(2, image.shape[0] // 90)
    for (x, y), colour in zip(points, _colours(len(points))):
        cv2.circle(out, (int(round(x)), int(round(y))), radius, colour, -1, cv2.LINE_AA)
        cv2.circle(out, (int(round(x)), int(round(y))), radius, (255, 255, 255), 1, cv2.LINE_AA)
    return out


def _label(image: np.ndarray, text: str) -> np.ndarray:
    scale = max(image.shape[1] / 512, 0.35)
    cv2.putText(
        image, text, (6, int(22 * scale) + 4), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 3, cv2.LINE_AA
    )
    cv2.putText(
        image,
        text,
        (6, int(22 * scale) + 4),
        cv2.FONT_HERSHEY_SIMPLEX,
        scale,
        (255, 255, 255),
        1,
        cv2.LINE_AA,
    )
    return image


def side_by_side(
    source: np.ndarray,
    driving: np.ndarray,
    result: np.ndarray,
    source_points: np.ndarray | None = None,
    driving_points: np.ndarray | None = None,
    result_points: np.ndarray | None = None,
    draw=draw_points,
) -> np.ndarray:
    """``source | driving | result`` frames, keypoints drawn: ``(N, S, 3S, 3)`` uint8.

    source: ``(S, S, 3)``; driving and result: ``(N, S, S, 3)`` uint8, resized to ``S`` if needed.
    Points are pixels: ``(K, 2)`` for the source and ``(N, K, 2)`` for the others. ``draw(image,
    points)`` draws them: coloured dots by default (5 landmarks, 10 FOMM keypoints), or
    :func:`~deepfakelab.faces.drawing.draw_mesh` for the 468-point mesh.
    """
    size = source.shape[0]

    def fit(image):
        return (
            image
            if image.shape[:2] == (size, size)
            else cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)
        )

    left = _label(draw(fit(source), source_points), "source")
    frames = []
    for index, (drv, res) in enumerate(zip(driving, result)):
        middle = _label(draw(fit(drv), None if driving_points is None else driving_points[index]), "driving")
        right = _label(
            draw(fit(res), None if result_points is None else result_points[index]), "result (synthetic)"
        )
        frames.append(np.concatenate([left, middle, right], axis=1))
    return np.stack(frames)


def save_strip(
    path: str | Path,
    source: np.ndarray,
    driving: np.ndarray,
    result: np.ndarray,
    columns: int = 6,
    title: str = "",
    provenance=None,
) -> Path:
    """A PNG: the source, then ``columns`` evenly spaced driving frames above the matching results.

    The results are generated, so the picture carries the kit's watermark and a signed C2PA manifest
    (``provenance``, a :class:`~deepfakelab.provenance.marking.Provenance`; by default one without inputs).
    """
    path = Path(path)
    picks = evenly_spaced(len(result), columns)
    fig = Figure(figsize=(1.9 * (len(picks) + 1), 4.0))  # no pyplot: its backend is left as it is
    axes = fig.subplots(2, len(picks) + 1, squeeze=False)
    axes[0, 0].imshow(source)
    axes[0, 0].set_title("source", fontsize=9)
    axes[1, 0].axis("off")
    for column, index in enumerate(picks, start=1):
        axes[0, column].imshow(driving[index])
        axes[0, column].set_title(f"driving {index}", fontsize=9)
        axes[1, column].imshow(result[index])
        axes[1, column].set_title(f"result {index}", fontsize=9)
    for axis in axes.flat:
        axis.set_xticks([])
        axis.set_yticks([])
    fig.suptitle(title or "Reenactment (the results are synthetic)", fontsize=10)
    fig.tight_layout()
    return save_marked_figure(path, fig, provenance, dpi=100)
