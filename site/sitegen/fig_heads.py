"""Synthetic-heads figures: a contact sheet of identities and a strip of a talking video.

Both are drawn by the heads package's own picture functions (:func:`deepfakelab.heads.contact_sheet`
and :func:`deepfakelab.heads.talking_strip`), the same ones ``deepfakelab heads sheet`` runs.
"""

from __future__ import annotations

from pathlib import Path

from .snippets import Figure


def make(out_dir: Path, quick: bool) -> list[Figure]:
    from deepfakelab.heads import ACCESSORY_KINDS, contact_sheet, talking_strip

    size = 96 if quick else 128
    rows, columns = (3, 8) if quick else (4, 8)
    sheet = contact_sheet(out_dir / "contact_sheet.png", seed=0, size=size, rows=rows, columns=columns)
    strip = talking_strip(out_dir / "talking_strip.png", seed=0, size=size, frames=40, shown=8)
    kinds = ", ".join(str(k) for k in ACCESSORY_KINDS)
    return [
        Figure(
            "fig_heads_sheet",
            sheet,
            "A contact sheet of synthetic talking heads with different accessories",
            f"{rows * columns} identities drawn by `deepfakelab.heads` when this site was built "
            f"({size} px, seed 0), each in a random pose and expression, cycling through the "
            f"accessory kinds ({kinds}). Nobody in these pictures exists; the kit knows every "
            "landmark and every mask, which is what makes them useful for training and for "
            "testing detectors and their explanations.",
        ),
        Figure(
            "fig_heads_strip",
            strip,
            "Frames of a synthetic talking video, with its landmarks",
            "Eight frames of a synthetic talking video (the `talk` motion script) with their "
            "ground-truth landmarks, drawn by `deepfakelab.heads.talking_strip`.",
        ),
    ]
