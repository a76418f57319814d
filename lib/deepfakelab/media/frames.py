"""Choosing frames of a video and writing them as pictures, with a sidecar saying which.

Frame numbers are decoding order (see :mod:`.video`); a still image counts as a one-frame
video. Asking for more frames than a video has, or for an index past its end, is an error here;
a command that would rather use what there is (``detect``) asks for fewer and says so.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import imageio.v3 as iio
import numpy as np

from ..errors import ConfigError, DataError
from .files import is_image_path
from .photo import read_photo
from .video import VideoInfo, iter_frames, probe_video


def evenly_spaced(total: int, count: int) -> list[int]:
    """``min(count, total)`` indices spread evenly over ``range(total)``, the first and last included.

    The one rule for "a few frames of this video" across the kit (frames to extract, frames to
    show in a figure or a report, frames a bench scores), so that they all pick the same ones.
    """
    if total < 1 or count < 1:
        return []
    return np.linspace(0, total - 1, min(count, total)).round().astype(int).tolist()


def select_indices(
    frame_count: int, indices=None, every: int | None = None, count: int | None = None, source: str = "video"
) -> list[int]:
    """Resolve exactly one of ``indices`` / ``every`` / ``count`` into sorted frame indices.

    ``count`` spreads that many frames evenly over the video (the usual "32 frames a video" of
    detector training); asking for more frames than the video has is an error, as is any index
    at or past ``frame_count``.
    """
    given = [
        name
        for name, value in (("indices", indices), ("every", every), ("count", count))
        if value is not None
    ]
    if len(given) != 1:
        raise ConfigError(f"give exactly one of indices, every, count (got {given or 'none'})")
    if frame_count <= 0:
        raise DataError(f"{source}: contains no decodable frames")
    if indices is not None:
        chosen = sorted({int(i) for i in indices})
        if not chosen:
            raise ConfigError("indices is empty")
        bad = [i for i in chosen if i < 0 or i >= frame_count]
        if bad:
            raise DataError(
                f"{source}: frame index {bad[0]} is past the end: the video has "
                f"{frame_count} frames (indices 0..{frame_count - 1})"
            )
        return chosen
    if every is not None:
        if every < 1:
            raise ConfigError(f"every must be >= 1 (got {every})")
        return list(range(0, frame_count, every))
    if count < 1:
        raise ConfigError(f"count must be >= 1 (got {count})")
    if count > frame_count:
        raise DataError(f"{source}: {count} frames were asked for but the video has only {frame_count}")
    return evenly_spaced(frame_count, count)


def extract_frames(
    video: str | Path,
    indices=None,
    every: int | None = None,
    count: int | None = None,
    info: VideoInfo | None = None,
) -> tuple[VideoInfo, dict[int, np.ndarray]]:
    """Frames of ``video`` chosen by exactly one of ``indices``, ``every`` or ``count``.

    Returns the video's :class:`VideoInfo` (``info`` when the caller probed it already) and
    ``{index: (H, W, 3) uint8 RGB frame}``. A still image counts as a one-frame video (index 0).
    """
    video = Path(video)
    if is_image_path(video):
        image, _ = read_photo(video)
        info = VideoInfo(str(video), 0.0, 1, image.shape[1], image.shape[0], 1)
        chosen = select_indices(1, indices, every, count, source=str(video))
        return info, {0: image for _ in chosen}
    info = info or probe_video(video)
    chosen = select_indices(info.frame_count, indices, every, count, source=str(video))
    frames = dict(iter_frames(video, set(chosen)))
    missing = [i for i in chosen if i not in frames]
    if missing:  # header and decode pass disagreed: never skip silently
        raise DataError(
            f"{video}: frame {missing[0]} could not be decoded "
            f"(decoder stopped after {len(frames)} of the requested frames)"
        )
    return info, frames


def save_frames(
    video: str | Path,
    out_dir: str | Path,
    indices=None,
    every: int | None = None,
    count: int | None = None,
    info: VideoInfo | None = None,
) -> Path:
    """Write the chosen frames as ``frame_000032.png`` plus ``frames.json``; return the JSON path.

    The sidecar records the source file, fps, total frames and the indices written, so a
    student's report can say exactly which pictures were scored.
    """
    info, frames = extract_frames(video, indices, every, count, info=info)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {}
    for index, frame in sorted(frames.items()):
        name = f"frame_{index:06d}.png"
        iio.imwrite(out_dir / name, frame)
        files[index] = name
    sidecar = out_dir / "frames.json"
    sidecar.write_text(
        json.dumps(
            {
                "source": str(Path(video).resolve()),
                **{k: v for k, v in asdict(info).items() if k != "path"},
                "indices": sorted(files),
                "files": [files[i] for i in sorted(files)],
            },
            indent=2,
        )
    )
    return sidecar
