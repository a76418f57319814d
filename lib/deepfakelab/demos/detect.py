"""The detection part of ``deepfakelab demo``: score real and fake videos side by side, explain.

Inputs, at least four as the course asks: two real synthetic-head videos (identities the
detector never saw), a face swap and a landmark-warp reenactment made from them, and the
videos the reenactment part of the demo wrote (``<out>/../reenact/*.mp4``) when it ran first.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch

from ..errors import DataError
from ..heads.effects import CameraEffects
from ..heads.identity import Identity
from ..heads.motion import random_trajectory
from ..heads.render import render_video
from ..media.writer import write_video
from ..provenance.marking import Provenance
from ..fakes.synthetic import SourceVideo, make_fakes
from ..detect.inference import DeepfakeDetector
from ..detect.report import write_report

#: Identity seeds far from the training identities (0..39 at seed 0).
DEMO_IDENTITY_SEEDS = (90_001, 90_002)
#: Frame rate of the demo's videos.
FPS = 25.0


def make_demo_videos(out_dir: Path, frames: int = 24, size: int = 256) -> dict[str, Path]:
    """Two real head videos and two fakes made from them; returns ``{name: mp4 path}``."""
    sources = []
    for n, seed in enumerate(DEMO_IDENTITY_SEEDS):
        rendered = render_video(
            Identity.sample(seed),
            random_trajectory(seed, frames),
            size=size,
            effects=CameraEffects.sample(seed, strength=0.5),
        )
        masks = []
        for frame in rendered:
            hull = np.zeros((size, size), np.uint8)
            cv2.fillConvexPoly(hull, cv2.convexHull(cv2.findNonZero(frame.masks["face"].astype(np.uint8))), 1)
            masks.append(hull.astype(np.float32))
        sources.append(
            SourceVideo(
                f"demo{n}",
                f"real_{n}",
                np.stack([f.image for f in rendered]),
                np.stack(masks),
                np.stack([f.landmarks for f in rendered]).astype(np.float64),
            )
        )
    real_label = "real video of a synthetic talking head (deepfakelab.heads)"
    videos = {
        f"real_{n}": write_video(out_dir / "inputs" / f"real_{n}.mp4", s.frames, FPS, label=real_label)
        for n, s in enumerate(sources)
    }
    for kind, source in (("face_swap", sources[0]), ("landmark_warp", sources[1])):
        fakes = [fake.image for src, _, fake in make_fakes(sources, [kind], seed=3) if src is source]
        label = f"SYNTHETIC: {kind.replace('_', ' ')} of a synthetic talking head made with deepfakelab"
        # the kit's fakes carry its marks like every fake it makes: the report shows the mark deciding
        # and the detector's guess beside it (issue 30)
        videos[f"fake_{kind}"] = write_video(
            out_dir / "inputs" / f"fake_{kind}.mp4",
            np.stack(fakes),
            FPS,
            label=label,
            provenance=Provenance(),
        )
    return videos


def run(out_dir: Path, quick: bool = False) -> dict:
    """Write ``report.html`` (and its PNGs, JSON) under ``out_dir``; return paths and verdicts."""
    out_dir = Path(out_dir)
    torch.set_num_threads(max(1, min(2, torch.get_num_threads())))
    try:
        detector = DeepfakeDetector(methods=("gradcam", "gradcam++", "layercam"))
    except DataError as exc:
        print(f"detection skipped: {exc}")
        return {"files": {}, "skipped": str(exc)}
    videos = make_demo_videos(out_dir, frames=12 if quick else 24)
    # the reenactment part's results (not its side-by-side composites, which show the real driver too)
    reenacted = [
        p for p in sorted((out_dir.parent / "reenact").glob("*.mp4")) if "side_by_side" not in p.name
    ]
    reenacted = reenacted[: 1 if quick else 2]
    inputs = list(videos.values()) + reenacted
    results = [detector.analyse(v, count=6 if quick else 12) for v in inputs]
    files = write_report(
        results,
        out_dir,
        list(detector.methods),
        info={"weights": "shipped", **detector.config.as_dict()},
        card=detector.card,
    )
    for result in results:
        print(
            f"  {Path(result.path).name}: {result.error or ''}{'' if result.error else round(100 * result.p_fake)}"
            f"{'' if result.error else ' % fake'}"
        )
    return {
        "files": {"report": str(files["html"]), "summary plot": str(files["summary"])},
        "p_fake": {Path(r.path).name: r.p_fake for r in results},
    }
