"""Lab 1, first part, in ``deepfakelab demo``: reenact a real photo, offline.

The source is scikit-image's astronaut (a real photo that ships with a dependency). The driving
video is a synthetic talking head (:mod:`deepfakelab.heads`) looking around and talking. No published FOMM checkpoint
can ship with the kit, so the real photo is animated by the training-free mesh warp (468-point
face mesh; the output says so), as ``deepfakelab reenact`` does without a checkpoint. When the kit ships trained small-FOMM weights
(``deepfakelab/assets/fomm-small-64.pth.tar``), Lab 1's synthetic photo with dark glasses is also
reenacted by FOMM.
Every video is labelled synthetic in its metadata and carries a visible mark, the kit's invisible
watermark and a signed C2PA manifest (:mod:`deepfakelab.provenance`; its inputs live in memory,
so the manifests name no ingredients); the strip picture carries the watermark and a manifest too.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from ..labs.lab1 import notebook as lab1
from ..heads import Identity, look_around, render_video, talk
from ..media.photo import astronaut
from ..media.video import Video
from ..media.writer import write_video
from ..provenance.marking import Provenance
from ..reenact.fomm.checkpoint import SHIPPED_WEIGHTS, shipped_model
from ..faces.drawing import draw_mesh
from ..reenact.pipeline import MeshWarpResult, ReenactOptions, SourceFace, mesh_warp_faces, prepare_source
from ..reenact.views import save_strip, side_by_side


def driving_video(frames: int, size: int = 256, fps: float = 25.0) -> tuple[np.ndarray, str]:
    """A synthetic talking head: ``(frames (N, size, size, 3) uint8, description)``."""
    identity = Identity.sample(7, accessory_rate=0.0)
    # Head motion from one script, mouth from another: looking around while talking.
    moving, talking = look_around(frames, fps, seed=3), talk(frames, fps, seed=3)
    merged = [
        dataclasses.replace(move, mouth_open=say.mouth_open, smile=say.smile)
        for move, say in zip(moving, talking)
    ]
    rendered = render_video(identity, merged, size, None, fps)
    return np.stack(
        [f.image for f in rendered]
    ), "a synthetic talking head (deepfakelab.heads) looking around and talking"


def run(out_dir: Path, quick: bool = False) -> dict:
    """Reenact the astronaut with the mesh warp and, when the kit ships its small FOMM's weights,
    Lab 1's dark-glasses photo with the FOMM; write the videos and the strip to ``out_dir`` and
    return their paths and what was done."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    fps, count = 25.0, 16 if quick else 50
    frames, description = driving_video(count, fps=fps)
    options = ReenactOptions(best_frame="auto", progress=False)
    source = prepare_source(astronaut(), "astronaut (scikit-image)", options.size, options.crop_scale)
    warped = mesh_warp_faces(source, Video(frames, fps), "driving video", options)
    result, initial = warped.frames, warped.initial

    files = _write_astronaut(out_dir, source, warped, fps)
    summary = {
        "files": {label: str(path) for label, path in files.items()},
        "method": "mesh-warp (no published FOMM checkpoint ships with the kit)",
        "driving": description,
        "frames": len(result),
        "fps": fps,
        "best_frame": initial,
        "notes": source.notes + warped.notes,
    }
    path, summary["fomm"] = _fomm_reenactment(out_dir, frames, fps, description)
    if path is not None:
        summary["files"]["synthetic head reenacted (FOMM)"] = str(path)
    print(f"reenact: {summary['method']}; driving: {description}; {len(result)} frames")
    return summary


def _write_astronaut(
    out_dir: Path, source: SourceFace, warped: MeshWarpResult, fps: float
) -> dict[str, Path]:
    """The astronaut's files, by label: the reenacted video, the side-by-side video with the meshes
    drawn (both marked, watermarked and signed) and the strip."""
    return {
        "astronaut reenacted (mesh warp)": write_video(
            out_dir / "astronaut_warp.mp4", warped.frames, fps, visible_mark=True, provenance=Provenance()
        ),
        "side by side": write_video(
            out_dir / "astronaut_side_by_side.mp4",
            side_by_side(
                source.crop,
                warped.driving_crops,
                warped.frames,
                warped.source_points,
                warped.driving_points,
                warped.moved_points,
                draw_mesh,
            ),
            fps,
            visible_mark=True,
            provenance=Provenance(),
        ),
        "strip": save_strip(
            out_dir / "astronaut_strip.png",
            source.crop,
            warped.driving_crops,
            warped.frames,
            title="Astronaut animated by the mesh warp (synthetic)",
        ),
    }


def _fomm_reenactment(
    out_dir: Path, frames: np.ndarray, fps: float, description: str
) -> tuple[Path | None, str]:
    """Lab 1's hard case with dark glasses reenacted by the kit's small FOMM and pasted back into the
    photo, as a face-reenactment deepfake is made: the video written (None when no weights ship)
    and the summary's line about it.

    The driving video is the astronaut's (looking around while talking): Lab 1's own driving video
    ("talking") barely moves the head, and its clip changed 0.002 from frame 0 on average against
    0.013 with this one (0.009 vs 0.030 in the face crop)."""
    model = shipped_model()
    if model is None:
        return None, f"skipped: no trained weights at deepfakelab/{SHIPPED_WEIGHTS} in this version"
    _, pasted = lab1.reenact_photo(lab1.source_photo("dark_glasses"), frames, model, name="dark_glasses")
    path = write_video(out_dir / "heads_fomm.mp4", pasted, fps, visible_mark=True, provenance=Provenance())
    return path, (
        "the kit's small FOMM (trained on synthetic heads) on Lab 1's dark-glasses photo, "
        f"driven by {description}"
    )
