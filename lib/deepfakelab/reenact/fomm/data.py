"""Training data for FOMM: pairs of frames (source, driving) from the same video.

- Synthetic talking heads (:mod:`deepfakelab.heads`), the default: rendered on the fly, with
  ground-truth landmarks, split by identity so validation faces are never trained on.
- A folder in FOMM's layout for users with real data: ``root/train/<video>.mp4`` (or a folder of
  frames ``root/train/<video>/*.png``) and ``root/test/...``.

Every item is a dict with ``source`` and ``driving``: float32 ``(3, S, S)`` in [0, 1]; training
uses only these two keys, so any dataset that yields them works.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from ...errors import ConfigError, DataError
from ...heads import FramePairs, HeadsConfig, split_identities
from ...media.photo import read_photo
from ...media.video import read_video

VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".webm", ".gif"}
FRAME_SUFFIXES = {".png", ".jpg", ".jpeg"}


def heads_pairs(
    split: str,
    size: int = 64,
    frames: int = 32,
    identities: int = 200,
    videos_per_identity: int = 2,
    accessory_rate: float = 0.3,
    motion: str = "mixed",
    repeats: int = 1,
    seed: int = 0,
) -> Dataset:
    """Source/driving pairs of synthetic talking heads for ``split`` ('train', 'val' or 'test')."""
    splits = split_identities(identities, seed=seed)
    if split not in splits:
        raise ConfigError(f"split {split!r}: choose one of {sorted(splits)}")
    config = HeadsConfig(size=size, frames=frames, accessory_rate=accessory_rate, motion=motion, seed=seed)
    return FramePairs(splits[split], videos_per_identity=videos_per_identity, config=config, repeats=repeats)


class FolderPairs(Dataset):
    """Pairs of frames from videos in FOMM's folder layout, resized to ``size`` x ``size``.

    Item ``i`` uses video ``i % len(videos)`` and two frames drawn with a generator seeded by
    ``(seed, i)``, so an epoch is reproducible.
    """

    def __init__(
        self, root: str | Path, split: str = "train", size: int = 256, repeats: int = 1, seed: int = 0
    ):
        folder = Path(root) / split
        if not folder.is_dir():
            raise DataError(
                f"{folder}: not found; FOMM's layout is ROOT/train/<video>.mp4 (or ROOT/train/<video>/*.png) "
                "and ROOT/test/..."
            )
        self.videos = sorted(p for p in folder.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES or p.is_dir())
        if not self.videos:
            raise DataError(f"{folder}: no videos or frame folders inside")
        self.size, self.repeats, self.seed = size, repeats, seed

    def __len__(self) -> int:
        return len(self.videos) * self.repeats

    def _frames(self, path: Path) -> list:
        if path.is_dir():
            return sorted(p for p in path.iterdir() if p.suffix.lower() in FRAME_SUFFIXES)
        return list(read_video(path).frames)

    def __getitem__(self, index: int) -> dict:
        path = self.videos[index % len(self.videos)]
        frames = self._frames(path)
        if len(frames) < 2:
            raise DataError(f"{path}: needs at least 2 frames, has {len(frames)}")
        rng = np.random.default_rng([self.seed, index])
        chosen = rng.choice(len(frames), size=2, replace=False)
        item = {}
        for role, k in zip(("source", "driving"), chosen):
            frame = frames[k]
            if isinstance(frame, Path):
                frame = read_photo(frame)[0]
            frame = cv2.resize(frame, (self.size, self.size), interpolation=cv2.INTER_AREA)
            item[role] = torch.from_numpy(frame).permute(2, 0, 1).float() / 255
        return item
