"""Torch datasets of synthetic talking-head videos, made on the fly, exact by seed and index.

Nothing is stored: identity ``k`` of a dataset with seed ``s`` is always the same person, and
video ``v`` of that identity always the same motion, so a split by identity
(:func:`split_identities`) is exact and reproducible, and two machines see the same data.

- :class:`TalkingHeads`: one item per video (frames, landmarks, visibility, pose, expression,
  optionally masks) -- for detectors and evaluation.
- :class:`FramePairs`: one item per (source, driving) pair of frames from the same video, the
  way the First Order Motion Model trains.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from ..errors import ConfigError
from .effects import CameraEffects
from .identity import Identity
from .motion import SCRIPTS, random_trajectory
from .render import RenderedFrame, check_size, render_frame, render_video
from .state import FaceState

MOTIONS = ("random", "mixed", *[name for name in SCRIPTS if name != "random"])


@dataclass(frozen=True)
class HeadsConfig:
    """What the videos of a dataset look like.

    - ``size``: frame side in pixels (64-256 are the intended sizes).
    - ``frames``: frames per video; ``fps`` sets the speed of motions and blinks.
    - ``accessory_rate``: chance in [0, 1] that an identity wears accessories.
    - ``effects``: strength in [0, 1] of random per-video camera effects (lighting drift,
      noise, JPEG); 0 is a clean camera.
    - ``motion``: ``"random"`` (smooth random trajectories), ``"mixed"`` (a random script per
      video) or one script name (``talk``, ``nod``, ``shake``, ``look_around``, ``surprise``).
    - ``seed``: the dataset's seed; identities and videos derive from it.
    """

    size: int = 128
    frames: int = 32
    fps: float = 25.0
    accessory_rate: float = 0.5
    effects: float = 0.0
    motion: str = "random"
    seed: int = 0

    def __post_init__(self) -> None:
        check_size(self.size)
        if self.seed < 0:
            raise ConfigError(f"seed must be a non-negative integer, got {self.seed}")
        if not 0.0 <= self.accessory_rate <= 1.0:
            raise ConfigError(f"accessory_rate must be in [0, 1], got {self.accessory_rate}")
        if self.frames < 1:
            raise ConfigError(f"frames must be at least 1, got {self.frames}")
        if not 0.0 <= self.effects <= 1.0:
            raise ConfigError(f"effects must be in [0, 1], got {self.effects}")
        if self.motion not in MOTIONS:
            raise ConfigError(f"unknown motion {self.motion!r}; choose one of {', '.join(MOTIONS)}")


def _derive(*parts: int) -> int:
    return int(np.random.SeedSequence([int(p) for p in parts]).generate_state(1)[0])


def identity_for(config: HeadsConfig, index: int) -> Identity:
    """Identity number ``index`` of a dataset (the same person for the same seed and index)."""
    return Identity.sample(_derive(config.seed, index, 0x1D), config.accessory_rate)


@dataclass(frozen=True)
class VideoSpec:
    """Everything that determines one video: who, how they move, and the camera."""

    identity_index: int
    video_index: int
    identity: Identity
    states: list[FaceState] = field(repr=False)
    effects: CameraEffects


def video_spec(config: HeadsConfig, identity_index: int, video_index: int) -> VideoSpec:
    """The video ``video_index`` of identity ``identity_index`` under ``config``."""
    seed = _derive(config.seed, identity_index, video_index, 0x71D)
    if config.motion == "random":
        states = random_trajectory(seed, config.frames, config.fps)
    else:
        name = config.motion
        if name == "mixed":
            names = list(SCRIPTS)
            name = names[np.random.default_rng(seed).integers(len(names))]
        states = SCRIPTS[name](config.frames, config.fps, seed)
    effects = CameraEffects.sample(seed, config.effects) if config.effects > 0 else CameraEffects()
    return VideoSpec(identity_index, video_index, identity_for(config, identity_index), states, effects)


def split_identities(
    num_identities: int, val_fraction: float = 0.1, test_fraction: float = 0.1, seed: int = 0
) -> dict[str, np.ndarray]:
    """Split identity indices ``0 .. num_identities-1`` into disjoint ``train``/``val``/``test``.

    A seeded permutation cut by the fractions; every identity lands in exactly one split, and
    the same arguments give the same split on any machine.
    """
    if num_identities < 1:
        raise ConfigError(f"num_identities must be at least 1, got {num_identities}")
    if val_fraction < 0 or test_fraction < 0 or val_fraction + test_fraction >= 1:
        raise ConfigError(
            f"val_fraction ({val_fraction}) and test_fraction ({test_fraction}) must be >= 0 "
            "and leave some identities for training"
        )
    order = np.random.default_rng(_derive(seed, 0x5B17)).permutation(num_identities)
    n_val = int(round(val_fraction * num_identities))
    n_test = int(round(test_fraction * num_identities))
    return {
        "train": np.sort(order[n_val + n_test :]),
        "val": np.sort(order[:n_val]),
        "test": np.sort(order[n_val : n_val + n_test]),
    }


def frames_to_tensor(images: list[np.ndarray]) -> torch.Tensor:
    """``T`` uint8 ``(H, W, 3)`` frames to a float32 ``(T, 3, H, W)`` tensor in [0, 1]."""
    stacked = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2)
    return stacked.float().div_(255.0)


class _VideoIndex(Dataset):
    """Shared indexing: videos are (identity, video) pairs over the given identity indices."""

    def __init__(self, identities: Sequence[int], videos_per_identity: int, config: HeadsConfig):
        self.identities = np.asarray(list(identities), dtype=np.int64)
        if len(self.identities) == 0:
            raise ConfigError("the dataset needs at least one identity index")
        if videos_per_identity < 1:
            raise ConfigError(f"videos_per_identity must be at least 1, got {videos_per_identity}")
        self.videos_per_identity = int(videos_per_identity)
        self.config = config

    @property
    def num_videos(self) -> int:
        return len(self.identities) * self.videos_per_identity

    def spec(self, video: int) -> VideoSpec:
        """The :class:`VideoSpec` of video number ``video`` in this dataset."""
        if not 0 <= video < self.num_videos:
            raise IndexError(f"video {video} out of range 0..{self.num_videos - 1}")
        identity_index = int(self.identities[video // self.videos_per_identity])
        return video_spec(self.config, identity_index, video % self.videos_per_identity)


class TalkingHeads(_VideoIndex):
    """Videos of synthetic talking heads, one item per video.

    ``identities`` are identity indices (e.g. ``split_identities(1000)["train"]``); each has
    ``videos_per_identity`` videos. An item is a dict:

    - ``video``: float32 ``(T, 3, S, S)`` in [0, 1];
    - ``landmarks``: float32 ``(T, 68, 2)`` pixels; ``visible``: bool ``(T, 68)``;
    - ``pose``: float32 ``(T, 6)`` (yaw, pitch, roll in degrees, tx, ty, scale);
    - ``expression``: float32 ``(T, 6)`` (mouth_open, smile, blink, brow_raise, gaze_x, gaze_y);
    - ``identity``, ``video_index``: ints;
    - with ``masks=True`` also ``masks``: bool ``(T, 7, S, S)`` in the order of
      :attr:`MASK_NAMES`.
    """

    MASK_NAMES = ("background", "body", "face", "eyes", "mouth", "hair", "accessories")

    def __init__(
        self,
        identities: Sequence[int],
        videos_per_identity: int = 1,
        config: HeadsConfig = HeadsConfig(),
        masks: bool = False,
    ):
        super().__init__(identities, videos_per_identity, config)
        self.with_masks = masks

    def __len__(self) -> int:
        return self.num_videos

    def render(self, index: int) -> list[RenderedFrame]:
        """The rendered frames (with all their ground truth) of video ``index``."""
        spec = self.spec(index)
        return render_video(spec.identity, spec.states, self.config.size, spec.effects, self.config.fps)

    def __getitem__(self, index: int) -> dict:
        spec = self.spec(index)
        frames = render_video(spec.identity, spec.states, self.config.size, spec.effects, self.config.fps)
        item = {
            "video": frames_to_tensor([f.image for f in frames]),
            "landmarks": torch.from_numpy(np.stack([f.landmarks for f in frames])),
            "visible": torch.from_numpy(np.stack([f.visible for f in frames])),
            "pose": torch.from_numpy(np.stack([f.pose for f in frames])),
            "expression": torch.from_numpy(np.stack([f.expression for f in frames])),
            "identity": spec.identity_index,
            "video_index": spec.video_index,
        }
        if self.with_masks:
            item["masks"] = torch.from_numpy(
                np.stack([np.stack([f.masks[n] for n in self.MASK_NAMES]) for f in frames])
            )
        return item


class FramePairs(_VideoIndex):
    """Pairs of frames from the same video (source, driving), as FOMM trains on.

    Item ``i`` takes video ``i % num_videos`` and two different frames of it chosen by a
    generator seeded with ``(config.seed, i)``; only those two frames are rendered. ``repeats``
    multiplies the epoch length (FOMM's ``num_repeats``). An item is a dict:

    - ``source``, ``driving``: float32 ``(3, S, S)`` in [0, 1];
    - ``source_landmarks``, ``driving_landmarks``: float32 ``(68, 2)`` pixels;
    - ``source_visible``, ``driving_visible``: bool ``(68,)``;
    - ``source_state``, ``driving_state``: float32 ``(12,)`` pose then expression;
    - ``source_face_mask``, ``driving_face_mask``: bool ``(S, S)``;
    - ``identity``, ``video_index``, ``frames`` (the two frame numbers).
    """

    def __init__(
        self,
        identities: Sequence[int],
        videos_per_identity: int = 1,
        config: HeadsConfig = HeadsConfig(),
        repeats: int = 1,
    ):
        super().__init__(identities, videos_per_identity, config)
        if config.frames < 2:
            raise ConfigError("FramePairs needs videos of at least 2 frames (config.frames)")
        if repeats < 1:
            raise ConfigError(f"repeats must be at least 1, got {repeats}")
        self.repeats = int(repeats)

    def __len__(self) -> int:
        return self.num_videos * self.repeats

    def __getitem__(self, index: int) -> dict:
        if not 0 <= index < len(self):
            raise IndexError(f"pair {index} out of range 0..{len(self) - 1}")
        spec = self.spec(index % self.num_videos)
        rng = np.random.default_rng(_derive(self.config.seed, index, 0x9A1))
        first, second = (int(k) for k in rng.choice(self.config.frames, size=2, replace=False))
        item: dict = {
            "identity": spec.identity_index,
            "video_index": spec.video_index,
            "frames": torch.tensor([first, second]),
        }
        for role, k in (("source", first), ("driving", second)):
            frame = render_frame(
                spec.identity, spec.states[k], self.config.size, spec.effects, k, self.config.fps
            )
            item[role] = frames_to_tensor([frame.image])[0]
            item[f"{role}_landmarks"] = torch.from_numpy(frame.landmarks)
            item[f"{role}_visible"] = torch.from_numpy(frame.visible)
            item[f"{role}_state"] = torch.from_numpy(np.concatenate([frame.pose, frame.expression]))
            item[f"{role}_face_mask"] = torch.from_numpy(frame.masks["face"])
        return item
