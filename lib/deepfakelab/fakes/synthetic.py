"""Training data from the kit's synthetic talking heads: real crops and fakes made from them.

Every real video gives one fake video per manipulation (as in FaceForensics++, where each method
has its own videos of the same sources), so video-level scores and a held-out manipulation
make sense. Fakes are made at frame resolution (by :mod:`.manipulations`) and then cropped with
the real frame's face box, so the resizing softens their traces as it would in the wild. Each
fake keeps its change mask, cropped the same way.

Sources plug in through :class:`SourceVideo`, a small interface: frames, a face mask per frame,
optional landmarks. :func:`heads_sources` adapts the kit's synthetic heads; real people's videos
and photos go through :mod:`.real`, a user's labelled ``real/`` and ``fake/`` videos through
:mod:`.folders`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import cv2
import numpy as np
from tqdm.auto import tqdm

from ..errors import DataError
from ..faces.boxes import crop
from ..faces.cropper import DEFAULT_MARGIN, FaceCropper, margin_box
from ..heads.effects import CameraEffects
from ..heads.identity import Identity
from ..heads.motion import random_trajectory
from ..heads.render import render_video
from ..media.frames import evenly_spaced
from ..reenact.fomm.checkpoint import shipped_model
from ..reenact.methods import FOMM, Reenactor
from .faceset import FaceSet
from .manipulations import (
    MANIPULATIONS,
    Fake,
    aligned_points,
    blend,
    change_mask,
    deformed_mask,
    face_swap,
    landmark_warp,
    self_blend,
)


@dataclass
class SourceVideo:
    """A real video with ground truth: ``frames`` (T, H, W, 3) uint8 RGB, ``face_masks`` (T, H, W)
    float in [0, 1] (the skin of the face, where swaps blend), ``landmarks`` (T, K, 2) pixels or None."""

    identity: str
    video: str
    frames: np.ndarray
    face_masks: np.ndarray
    landmarks: np.ndarray | None = None


def mask_box(mask: np.ndarray) -> tuple[float, float, float, float]:
    """Bounding box ``(x0, y0, x1, y1)`` of ``mask > 0.5``: the face box when no detector is used."""
    ys, xs = np.nonzero(mask > 0.5)
    if len(xs) == 0:
        raise DataError("a face mask is empty")
    return float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)


def reenactment_fake(
    reenact: Reenactor,
    target: np.ndarray,
    target_mask: np.ndarray,
    driving: np.ndarray,
    rng: np.random.Generator,
    kind: str,
) -> Fake:
    """Face2Face-style: the target's face re-rendered with the driving frame's expression by
    ``reenact`` (any :class:`~deepfakelab.reenact.methods.Reenactor`), blended back."""
    generated = reenact(target, driving[None]).frames[0]
    alpha = deformed_mask(target_mask, rng)
    fake = blend(generated, target, alpha)
    return Fake(fake, change_mask(fake, target, alpha), kind)


def make_fakes(
    sources: list[SourceVideo],
    kinds: Iterable[str],
    seed: int = 0,
    reenactors: dict[str, Reenactor] | None = None,
) -> Iterable[tuple[SourceVideo, int, Fake]]:
    """Yield ``(source, frame index, fake)`` for every frame of every source and every kind."""
    reenactors = reenactors or {}
    rng = np.random.default_rng(seed)
    for vi, src in enumerate(sources):
        others = [s for s in sources if s.identity != src.identity] or [s for s in sources if s is not src]
        for kind in kinds:
            other = others[rng.integers(len(others))] if others else src
            for t in range(len(src.frames)):
                frame, mask = src.frames[t], src.face_masks[t]
                u = int(rng.integers(len(other.frames)))
                if kind == "self_blend":
                    fake = self_blend(frame, mask, rng)
                elif kind == "face_swap":
                    pts = (
                        (src.landmarks[t], other.landmarks[u])
                        if src.landmarks is not None and other.landmarks is not None
                        else (None, None)
                    )
                    fake = face_swap(frame, mask, other.frames[u], other.face_masks[u], rng, *pts)
                elif kind == "landmark_warp" and src.landmarks is not None and other.landmarks is not None:
                    driving = aligned_points(other.landmarks[u], src.landmarks[t])
                    fake = landmark_warp(frame, mask, src.landmarks[t], driving, rng)
                elif kind in reenactors:
                    fake = reenactment_fake(reenactors[kind], frame, mask, other.frames[u], rng, kind)
                else:
                    continue
                yield src, t, fake


def build_faceset(
    sources: list[SourceVideo],
    kinds: Iterable[str],
    size: int = 128,
    seed: int = 0,
    reenactors: dict[str, Reenactor] | None = None,
    progress: bool = True,
    margin: float = DEFAULT_MARGIN,
    detect: Callable | None = None,
) -> FaceSet:
    """Crop the real frames and their fakes with the real frame's face box (30 % margin).

    ``detect(frame) -> (box, confidence) | None`` (e.g. :meth:`FaceCropper.detect`) gives the
    box the detector will see at inference time; without it, or when it finds nothing, the box
    of the face mask is used.
    """
    kinds = list(kinds)
    boxes = _face_boxes(sources, detect, margin)
    rows = _Rows()
    for src in sources:
        for t, frame in enumerate(src.frames):
            box = boxes[(src.video, t)]
            rows.add(
                crop(frame, box, size),
                np.zeros((size, size), np.uint8),
                0,
                "real",
                src.video,
                src.identity,
                f"{src.video}#{t}",
            )
    total, unchanged = len(boxes) * len(kinds), 0
    for src, t, fake in tqdm(
        make_fakes(sources, kinds, seed, reenactors), total=total, desc="making fakes", disable=not progress
    ):
        box = boxes[(src.video, t)]
        mask = crop((fake.mask * 255).astype(np.uint8), box, size)
        if mask.max() < 128:  # nothing visible changed: not a fake, do not teach that it is
            unchanged += 1
            continue
        rows.add(
            crop(fake.image, box, size),
            mask,
            1,
            fake.kind,
            f"{src.video}/{fake.kind}",
            src.identity,
            f"{src.video}#{t}",
        )
    if unchanged and progress:
        print(f"{unchanged} manipulated frames changed nothing visible and were left out")
    return rows.faceset()


def _face_boxes(
    sources: list[SourceVideo], detect: Callable | None, margin: float
) -> dict[tuple[str, int], tuple]:
    """{(video, frame index): crop box} of every real frame: the detector's face box (the one it will
    see at inference time) or, without a detector or a face found, the face mask's, with ``margin``.
    A fake is cropped with the box of the real frame it was made from."""
    boxes = {}
    for s in sources:
        for t in range(len(s.frames)):
            found = detect(s.frames[t]) if detect else None
            box = found[0] if found else mask_box(s.face_masks[t])
            boxes[(s.video, t)] = margin_box(box, s.frames[t].shape, margin)
    return boxes


class _Rows:
    """The rows of a face set as :func:`build_faceset` crops them, one list per field of :class:`FaceSet`."""

    def __init__(self) -> None:
        self.rows: dict[str, list] = {
            k: [] for k in ("images", "labels", "masks", "has_mask", "kind", "video", "group", "source")
        }

    def add(self, image, mask, label, kind, video, group, source) -> None:
        """Add one crop: a real one (``label`` 0) or a fake (``label`` 1, the only kind whose mask counts)."""
        rows = self.rows
        rows["images"].append(image)
        rows["masks"].append(mask)
        rows["labels"].append(label)
        rows["has_mask"].append(label == 1)
        rows["kind"].append(kind)
        rows["video"].append(video)
        rows["group"].append(group)
        rows["source"].append(source)

    def faceset(self) -> FaceSet:
        """The face set of the crops added, in their order."""
        return FaceSet.from_rows(self.rows)


def heads_sources(
    identities: int,
    videos_per_identity: int,
    frames_per_video: int,
    seed: int = 0,
    image_size: int = 256,
    progress: bool = True,
) -> list[SourceVideo]:
    """Synthetic talking heads from :mod:`deepfakelab.heads` as :class:`SourceVideo` s.

    Each video is a 4-second random trajectory (pose, talking, blinks) with its own camera
    effects (lighting drift, noise, JPEG), of which ``frames_per_video`` evenly spread frames
    are rendered. The blending mask is the convex hull of the face's skin mask, so glasses or a
    beard do not punch holes in it (swaps in the wild blend over the whole inner face).
    """
    sources = []
    jobs = [(i, v) for i in range(identities) for v in range(videos_per_identity)]
    for i, v in tqdm(jobs, desc="rendering heads", unit="video", disable=not progress):
        identity = Identity.sample(seed * 100_003 + i)
        video_seed = (seed * 100_003 + i) * 31 + v
        states = random_trajectory(video_seed, 100)
        picks = evenly_spaced(len(states), frames_per_video)
        frames = render_video(
            identity, [states[k] for k in picks], size=image_size, effects=CameraEffects.sample(video_seed)
        )
        masks = []
        for frame in frames:
            hull = np.zeros(frame.image.shape[:2], np.uint8)
            points = cv2.findNonZero(frame.masks["face"].astype(np.uint8))
            if points is not None:
                cv2.fillConvexPoly(hull, cv2.convexHull(points), 1)
            masks.append(hull.astype(np.float32))
        sources.append(
            SourceVideo(
                identity=f"head{i:03d}",
                video=f"head{i:03d}_v{v}",
                frames=np.stack([f.image for f in frames]),
                face_masks=np.stack(masks),
                landmarks=np.stack([f.landmarks for f in frames]).astype(np.float64),
            )
        )
    return sources


def build_synthetic(
    out: str | Path,
    identities: int = 24,
    videos_per_identity: int = 2,
    frames_per_video: int = 8,
    size: int = 128,
    seed: int = 0,
    kinds: Iterable[str] | None = None,
    progress: bool = True,
) -> Path:
    """Render heads, make every manipulation's fakes, save the face set to ``out`` (.npz)."""
    sources = heads_sources(identities, videos_per_identity, frames_per_video, seed, progress=progress)
    reenactors = available_reenactors()
    kinds = list(kinds or [k for k in MANIPULATIONS if k != "fomm" or "fomm" in reenactors])
    detect = FaceCropper(size=size).detect
    return build_faceset(sources, kinds, size, seed, reenactors, progress, detect=detect).save(out)


def available_reenactors() -> dict[str, Reenactor]:
    """Reenactment models usable for fakes here: FOMM when the kit ships trained weights for it."""
    model = shipped_model()
    return {} if model is None else {"fomm": fomm_reenactor(model)}


def fomm_reenactor(model, side: int = 64) -> FOMM:
    """The FOMM as fakes use it: a model trained on ``side``-pixel talking-head frames.

    Both frames are shrunk to the model's side (the heads fill the frame as in its training
    data), the target is driven to the driving frame's keypoints (absolute motion: one pair has no
    initial frame to be relative to), and the result is enlarged back. The blur of that round trip
    is part of the fake, as it is in low-resolution reenactments in the wild.
    """
    return FOMM(model, relative=False, side=side)
