"""Pictures a person can look at: a contact sheet of identities and a strip of a talking video.

Both are matplotlib figures drawn without pyplot (headless, whatever pyplot's backend) saved as
PNG; landmarks can be drawn on top, green where visible and red where hidden, so the ground truth
can be checked by eye too.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from ..media.frames import evenly_spaced
from .identity import ACCESSORY_KINDS, Identity
from .motion import random_trajectory, talk
from .render import RenderedFrame, render_frame, render_video


def _figure(rows: int, columns: int, size_in: float):
    """A figure drawn without pyplot (saving it uses the Agg renderer; pyplot's backend is left alone)."""
    from matplotlib.figure import Figure  # deferred: --help loads the heads package; matplotlib +0.5 s

    fig = Figure(figsize=(columns * size_in, rows * size_in * 1.12))
    axes = fig.subplots(rows, columns, squeeze=False)
    for ax in axes.ravel():
        ax.set_axis_off()
    return fig, axes


def _save(fig, path: Path) -> Path:
    """Save as a 256-colour PNG: the renders have few colours, and a small file fits the docs."""
    fig.tight_layout(pad=0.3)
    buffer = io.BytesIO()
    fig.savefig(buffer, dpi=100, format="png")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.open(buffer).convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT)
    image.save(path, optimize=True)
    return path


def _show(ax, frame: RenderedFrame, title: str, landmarks: bool) -> None:
    ax.imshow(frame.image, interpolation="nearest")
    if landmarks:
        pts, vis = frame.landmarks, frame.visible
        ax.scatter(pts[vis, 0], pts[vis, 1], s=2, c="lime", linewidths=0)
        ax.scatter(pts[~vis, 0], pts[~vis, 1], s=2, c="red", linewidths=0)
    ax.set_title(title, fontsize=7, pad=2)


def contact_sheet(
    path: Path, seed: int = 0, size: int = 128, rows: int = 6, columns: int = 8, landmarks: bool = False
) -> Path:
    """PNG grid of ``rows * columns`` identities, cycling through every accessory kind, each
    in a random pose and expression from :func:`random_trajectory`; titles name the accessory."""
    fig, axes = _figure(rows, columns, 1.3)
    for k, ax in enumerate(axes.ravel()):
        kind = ACCESSORY_KINDS[k % len(ACCESSORY_KINDS)]
        identity = Identity.sample(seed * 10_000 + k).wearing(kind)
        state = random_trajectory(seed * 10_000 + k, 30)[int(np.random.default_rng(k).integers(30))]
        _show(ax, render_frame(identity, state, size), kind, landmarks)
    return _save(fig, path)


def talking_strip(path: Path, seed: int = 0, size: int = 128, frames: int = 50, shown: int = 8) -> Path:
    """PNG of ``shown`` evenly spaced frames of a talking video, with landmarks underneath."""
    identity = Identity.sample(seed, accessory_rate=0.0)
    video = render_video(identity, talk(frames, seed=seed), size)
    picks = evenly_spaced(frames, shown)
    fig, axes = _figure(2, shown, 1.3)
    for ax_top, ax_bottom, k in zip(axes[0], axes[1], picks):
        _show(ax_top, video[k], f"frame {k}", landmarks=False)
        _show(ax_bottom, video[k], f"mouth {video[k].state.mouth_open:.2f}", landmarks=True)
    return _save(fig, path)
