"""Export synthetic videos as files, in the First Order Motion Model's dataset layout.

FOMM reads ``root/train/`` and ``root/test/``, each holding one entry per video: a folder of
frames (``0000000.png``, ``0000001.png``...) or an ``.mp4``. The ground truth of each video goes
beside, not inside, those folders (``root/ground_truth/<split>/<video>.npz``), so FOMM's loader
sees only videos; ``root/heads.json`` records the settings that made the files.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import imageio.v3 as iio
import numpy as np
from tqdm import tqdm

from ..errors import ConfigError
from ..media.files import check_output_folder
from ..media.writer import write_video
from .dataset import HeadsConfig, split_identities, video_spec
from .render import RenderedFrame, render_video

FORMATS = ("png", "mp4")
#: What the exported mp4s say they are, in their metadata.
HEADS_LABEL = "SYNTHETIC: procedural talking head rendered by deepfakelab.heads, not a real person"


def video_name(identity_index: int, video_index: int) -> str:
    """File name stem of a video: ``id00042#v00``.

    The ``#`` follows VoxCeleb's naming in FOMM, whose ``id_sampling`` option groups videos by
    the part before ``#`` (one identity) and then picks one of that person's mp4s.
    """
    return f"id{identity_index:05d}#v{video_index:02d}"


def write_frames(frames: list[RenderedFrame], folder: Path) -> None:
    """Write frames as ``folder/0000000.png``, ``0000001.png``..."""
    folder.mkdir(parents=True, exist_ok=True)
    for k, frame in enumerate(frames):
        iio.imwrite(folder / f"{k:07d}.png", frame.image)


def write_mp4(frames: list[RenderedFrame], path: Path, fps: float = 25.0) -> None:
    """Write frames as an H.264 mp4 (yuv420p, so the frame side must be even)."""
    size = frames[0].image.shape[0]
    if size % 2:
        raise ConfigError(
            f"mp4 needs an even frame size (H.264 yuv420p); got {size}, use --format png or an even --size"
        )
    write_video(path, [f.image for f in frames], fps, label=HEADS_LABEL)


def write_ground_truth(frames: list[RenderedFrame], path: Path, identity_seed: int) -> None:
    """Landmarks ``(T, 68, 2)``, visibility ``(T, 68)``, pose and expression ``(T, 6)`` as ``.npz``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        path,
        landmarks=np.stack([f.landmarks for f in frames]),
        visible=np.stack([f.visible for f in frames]),
        pose=np.stack([f.pose for f in frames]),
        expression=np.stack([f.expression for f in frames]),
        identity_seed=np.int64(identity_seed),
    )


def write_dataset(
    out: Path,
    videos: int,
    config: HeadsConfig = HeadsConfig(),
    test_fraction: float = 0.1,
    fmt: str = "png",
    progress: bool = True,
) -> dict[str, list[str]]:
    """Render ``videos`` videos (one identity each) into ``out`` in FOMM's layout.

    Identities are split into ``train`` and ``test`` by :func:`split_identities`, so no person
    appears in both. Returns the video names per split.
    """
    if fmt not in FORMATS:
        raise ConfigError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if videos < 1:
        raise ConfigError(f"videos must be at least 1, got {videos}")
    if fmt == "mp4" and config.size % 2:
        raise ConfigError(
            f"mp4 needs an even frame size (H.264 yuv420p); got {config.size}, use --format png or an even --size"
        )
    out = check_output_folder(out)
    splits = split_identities(videos, val_fraction=0.0, test_fraction=test_fraction, seed=config.seed)
    jobs = [(name, int(k)) for name in ("train", "test") for k in splits[name]]
    written: dict[str, list[str]] = {"train": [], "test": []}
    for split, identity_index in tqdm(jobs, desc="heads", unit="video", disable=not progress):
        spec = video_spec(config, identity_index, 0)
        frames = render_video(spec.identity, spec.states, config.size, spec.effects, config.fps)
        name = video_name(identity_index, 0)
        if fmt == "png":
            write_frames(frames, out / split / name)
        else:
            write_mp4(frames, out / split / f"{name}.mp4", config.fps)
        write_ground_truth(frames, out / "ground_truth" / split / f"{name}.npz", spec.identity.seed)
        written[split].append(name)
    (out / "heads.json").write_text(
        json.dumps(
            {
                "config": asdict(config),
                "videos": videos,
                "test_fraction": test_fraction,
                "format": fmt,
                "splits": written,
            },
            indent=2,
        )
    )
    return written
