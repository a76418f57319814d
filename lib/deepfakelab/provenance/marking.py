"""Both marks, applied where the kit writes a *generated* file.

:class:`Provenance` travels with a write: ``write_video(..., provenance=Provenance(inputs))``
watermarks every frame (before the visible band is added below it, so the band stays crisp) and
signs the finished mp4; :func:`save_marked_image` does the same for a still. Real clips the kit
copies or fits (``fit-video``, Lab 1's real videos, the detector's real training clips) are written
without one: a mark says "generated", and saying it of a real recording would be a lie.

Where the kit marks today: ``reenact``'s output (:mod:`deepfakelab.reenact.pipeline`), the
reenactment demo's videos, and ``gan sample`` grids. Not yet: the per-epoch sample grids of GAN
training, the detector's training fakes, strips and side-by-side pictures saved as PNG. A frame
smaller than one tile (64 px) gets the pattern but cannot be read back; a noise-like picture
(a barely trained GAN's 242 px grid, measured) has too little room at PSNR 40 dB: its manifest
says what it is, its watermark is not found.

Signing needs the key (:func:`.c2pa_manifest.signing_identity`): made on first use under
``~/.config/deepfakelab/provenance/`` unless an instructor's is configured.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image

from . import c2pa_manifest, watermark


@dataclass
class Provenance:
    """What to mark a generated file with: its inputs (hashed into the manifest) and a file id."""

    inputs: Sequence[str | Path] = ()
    file_id: int | None = None
    sign: bool = True
    watermark: bool = True
    identity: c2pa_manifest.SigningIdentity | None = field(default=None, repr=False)

    def check(self) -> "Provenance":
        """Load the signing key now, so a misconfigured one stops a run before its work, not after."""
        if self.sign and self.identity is None:
            self.identity = c2pa_manifest.signing_identity()
        return self

    def id_for(self, path: str | Path) -> int:
        """The file id, fixed on first use (the output's name, the time and the process)."""
        if self.file_id is None:
            self.file_id = watermark.file_id_for(f"{Path(path).name}:{time.time_ns()}:{os.getpid()}")
        return self.file_id

    def mark_frame(self, frame: np.ndarray, path: str | Path) -> np.ndarray:
        return watermark.embed(frame, self.id_for(path)) if self.watermark else frame

    def sign_file(self, path: str | Path) -> Path:
        if not self.sign:
            return Path(path)
        return c2pa_manifest.sign_file(path, [p for p in self.inputs if Path(p).is_file()], self.check().identity)


def save_marked_image(path: str | Path, image: np.ndarray, provenance: Provenance | None = None) -> Path:
    """Save ``image`` (uint8 RGB) as PNG or JPEG with the watermark and a signed manifest."""
    provenance = provenance or Provenance()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(provenance.mark_frame(np.ascontiguousarray(image, dtype=np.uint8), path)).save(path)
    return provenance.sign_file(path)
