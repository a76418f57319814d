"""``deepfakelab verify FILE...``: what a file says about where it came from.

Two independent answers per file, because they fail differently:

* the C2PA manifest (:mod:`.c2pa_manifest`): signed and specific (the kit, its version, the inputs'
  hashes), but it lives in the file's metadata, so any re-encode, screenshot or upload strips it;
* the invisible watermark (:mod:`.watermark`): in the pixels, so it survives much of that, but it
  says little (kit version, an 8-bit file id) and is read statistically.

When the manifest is gone but the watermark holds, the line says so: that is the case provenance
marks exist for. A file that cannot be read is one line, like everywhere in the kit, and verify
still exits 0: it reports, it does not judge.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import numpy as np

from ..errors import DataError
from ..media.files import check_input_file, is_image_path
from ..media.photo import read_photo
from ..media.video import iter_frames, read_header
from . import c2pa_manifest, watermark

#: A video whose header does not say its length is read up to this frame (the detector samples
#: :data:`~.watermark.MAX_FRAMES` of them).
MAX_DECODED_FRAMES = 300


@dataclass
class FileReport:
    """One file's provenance, as ``verify --json`` writes it."""

    path: str
    c2pa: str = "none"  # "valid", "invalid" or "none"
    watermark: bool = False
    payload: dict | None = None
    c2pa_trusted: bool = False
    c2pa_signer: str | None = None
    c2pa_generator: str | None = None
    c2pa_source_type: str | None = None
    c2pa_failures: list[str] = field(default_factory=list)
    watermark_score: float | None = None
    watermark_scale: float | None = None
    note: str | None = None
    error: str | None = None

    def line(self) -> str:
        if self.error:
            return f"{self.path}: cannot verify: {self.error}"
        if self.c2pa == "valid":
            trust = "trusted signer" if self.c2pa_trusted else "signer not on any trust list"
            manifest = f"C2PA manifest valid ({self.c2pa_generator or 'unknown generator'}, {trust})"
        elif self.c2pa == "invalid":
            manifest = f"C2PA manifest INVALID ({', '.join(self.c2pa_failures) or 'does not validate'})"
        else:
            manifest = "no C2PA manifest"
        if self.watermark:
            payload = self.payload or {}
            mark = f"watermark found: deepfakelab {payload.get('version')}, file id {payload.get('file_id')}"
        else:
            mark = "no watermark found"
        line = f"{self.path}: {manifest}; {mark}"
        return line + (f" ({self.note})" if self.note else "")


def _frames(path: Path) -> list[np.ndarray]:
    """A photo, or up to :data:`~.watermark.MAX_FRAMES` frames spread over a video (only those
    are kept: a long 1080p video never sits in memory whole)."""
    if is_image_path(path):
        return [read_photo(path)[0]]
    meta = read_header(path)
    fps, duration = float(meta.get("fps") or 0), float(meta.get("duration") or 0)
    announced = int(round(fps * duration)) if fps > 0 and duration > 0 else MAX_DECODED_FRAMES
    picks = set(
        np.linspace(0, max(announced - 1, 0), min(announced, watermark.MAX_FRAMES))
        .round()
        .astype(int)
        .tolist()
    )
    frames = [frame for _, frame in iter_frames(path, picks)]
    if not frames:
        raise DataError(f"{path}: the video contains no decodable frames")
    return frames


def _rgb(frame):
    """Grey or RGBA photos as RGB uint8, the detector's input."""
    if frame.ndim == 2:
        frame = np.repeat(frame[:, :, None], 3, axis=2)
    return np.ascontiguousarray(frame[:, :, :3], dtype=np.uint8)


def verify_file(path: str | Path) -> FileReport:
    """The manifest and the watermark of one file; an unreadable file is a report with ``error``."""
    report = FileReport(str(path))
    try:
        path = check_input_file(path, "photo or video")
        frames = [_rgb(f) for f in _frames(path)]
    except DataError as exc:
        report.error = str(exc).removeprefix(f"{path}: ")
        return report
    manifest = c2pa_manifest.read_manifest(path)
    report.c2pa, report.c2pa_trusted, report.c2pa_signer = manifest.state, manifest.trusted, manifest.signer
    report.c2pa_generator, report.c2pa_source_type = manifest.generator, manifest.digital_source_type
    report.c2pa_failures = list(manifest.failures)
    found = watermark.detect_frames(frames)
    report.watermark = found.found
    report.payload = found.payload.as_dict() if found.payload else None
    report.watermark_score = round(found.sync_z, 2)
    report.watermark_scale = round(found.scale, 3) if found.found else None
    if found.found and manifest.state == "none":
        report.note = (
            "the manifest is gone (re-encoded or stripped?) but the watermark holds: made by deepfakelab"
        )
    elif found.found and manifest.state == "invalid":
        report.note = "the file was changed after signing; the watermark still says deepfakelab made it"
    elif manifest.state == "valid" and not found.found:
        report.note = "signed, but no watermark found in the pixels"
    return report


def verify_files(paths: Iterable[str | Path]) -> list[FileReport]:
    return [verify_file(p) for p in paths]


def write_json(reports: list[FileReport], out: str | Path) -> Path:
    """``{"files": [...]}``, one object per file (see :class:`FileReport`)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"files": [vars(r) for r in reports]}, indent=2) + "\n")
    return out
