"""Frame-exact extraction of frames from a video.

"Frame 32" means the 33rd frame the decoder produces, counted from 0, whatever the container
says about timestamps. Seeking by time (``cv2.CAP_PROP_POS_FRAMES``, ``ffmpeg -ss``) lands on
the nearest key frame or rounds timestamps, so two tools can disagree about which picture is
frame 32; decoding sequentially and counting cannot. We decode with the ffmpeg binary shipped by
``imageio-ffmpeg`` and ask for ``-fps_mode passthrough`` so ffmpeg never duplicates or drops
frames to fake a constant frame rate (checked on ``d12.mp4``: 183 frames, identical pixels to
OpenCV's decoder).
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from ..errors import ConfigError, DataError

#: Extensions read as still images rather than videos.
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}

_PASSTHROUGH = ["-fps_mode", "passthrough"]


@dataclass(frozen=True)
class VideoInfo:
    """What the report and the sidecar JSON say about a source video."""

    path: str
    fps: float
    frame_count: int
    width: int
    height: int


def _check_file(path: Path) -> None:
    if not path.exists():
        raise DataError(f"{path}: no such file")
    if path.is_dir():
        raise DataError(f"{path}: is a folder, expected a video file")
    if path.stat().st_size == 0:
        raise DataError(f"{path}: the file is empty (0 bytes)")


def _ffmpeg() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def count_frames(path: str | Path) -> int:
    """Number of frames the decoder produces for the first video stream of ``path``.

    Decodes the whole stream once (no pixels copied to Python): container headers are often
    missing or wrong about the frame count, and the count must agree with :func:`iter_frames`.
    """
    path = Path(path)
    _check_file(path)
    cmd = [_ffmpeg(), "-hide_banner", "-nostdin", "-i", str(path), "-map", "0:v:0",
           *_PASSTHROUGH, "-f", "null", "-"]
    proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
    counts = re.findall(r"frame=\s*(\d+)", proc.stderr)
    if proc.returncode != 0 or not counts:
        last = proc.stderr.strip().splitlines()[-1:] or ["no output"]
        raise DataError(f"{path}: not a readable video ({last[0]})")
    return int(counts[-1])


def probe_video(path: str | Path) -> VideoInfo:
    """Read fps and size from the header and count the frames by decoding (see :func:`count_frames`)."""
    import imageio_ffmpeg

    path = Path(path)
    _check_file(path)
    try:
        reader = imageio_ffmpeg.read_frames(str(path), output_params=_PASSTHROUGH)
        meta = next(reader)
        reader.close()
    except (OSError, RuntimeError, StopIteration) as exc:
        raise DataError(f"{path}: not a readable video ({str(exc).strip().splitlines()[0]})") from exc
    width, height = meta["size"]
    return VideoInfo(str(path), float(meta.get("fps") or 0.0), count_frames(path), int(width), int(height))


def iter_frames(path: str | Path, indices: set[int] | None = None) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(index, frame)`` in decoding order; frames are ``(H, W, 3)`` uint8 RGB.

    With ``indices``, only those frames are yielded (every frame is still decoded, which is the
    price of exactness) and decoding stops after the largest one.
    """
    import imageio_ffmpeg

    path = Path(path)
    _check_file(path)
    try:
        reader = imageio_ffmpeg.read_frames(str(path), output_params=_PASSTHROUGH)
        meta = next(reader)
    except (OSError, RuntimeError, StopIteration) as exc:
        raise DataError(f"{path}: not a readable video ({str(exc).strip().splitlines()[0]})") from exc
    width, height = meta["size"]
    last = max(indices) if indices else None
    try:
        for index, raw in enumerate(reader):
            if indices is None or index in indices:
                yield index, np.frombuffer(raw, np.uint8).reshape(height, width, 3).copy()
            if last is not None and index >= last:
                break
    except RuntimeError as exc:  # ffmpeg died mid-stream: a truncated or corrupt file
        raise DataError(f"{path}: decoding failed after frame {index} ({exc})") from exc
    finally:
        reader.close()


def select_indices(frame_count: int, indices=None, every: int | None = None,
                   count: int | None = None, source: str = "video") -> list[int]:
    """Resolve exactly one of ``indices`` / ``every`` / ``count`` into sorted frame indices.

    ``count`` spreads that many frames evenly over the video (the usual "32 frames a video" of
    detector training); asking for more frames than the video has is an error, as is any index
    at or past ``frame_count``.
    """
    given = [name for name, value in (("indices", indices), ("every", every), ("count", count))
             if value is not None]
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
            raise DataError(f"{source}: frame index {bad[0]} is past the end: the video has "
                            f"{frame_count} frames (indices 0..{frame_count - 1})")
        return chosen
    if every is not None:
        if every < 1:
            raise ConfigError(f"every must be >= 1 (got {every})")
        return list(range(0, frame_count, every))
    if count < 1:
        raise ConfigError(f"count must be >= 1 (got {count})")
    if count > frame_count:
        raise DataError(f"{source}: {count} frames were asked for but the video has only "
                        f"{frame_count}")
    return np.linspace(0, frame_count - 1, count).round().astype(int).tolist()


def extract_frames(video: str | Path, indices=None, every: int | None = None,
                   count: int | None = None) -> tuple[VideoInfo, dict[int, np.ndarray]]:
    """Frames of ``video`` chosen by exactly one of ``indices``, ``every`` or ``count``.

    Returns the video's :class:`VideoInfo` and ``{index: (H, W, 3) uint8 RGB frame}``.
    A still image counts as a one-frame video (index 0).
    """
    video = Path(video)
    if video.suffix.lower() in IMAGE_SUFFIXES:
        image = read_image(video)
        info = VideoInfo(str(video), 0.0, 1, image.shape[1], image.shape[0])
        chosen = select_indices(1, indices, every, count, source=str(video))
        return info, {0: image for _ in chosen}
    info = probe_video(video)
    chosen = select_indices(info.frame_count, indices, every, count, source=str(video))
    frames = dict(iter_frames(video, set(chosen)))
    missing = [i for i in chosen if i not in frames]
    if missing:  # header and decode pass disagreed: never skip silently
        raise DataError(f"{video}: frame {missing[0]} could not be decoded "
                        f"(decoder stopped after {len(frames)} of the requested frames)")
    return info, frames


def read_image(path: str | Path) -> np.ndarray:
    """Read a still image as ``(H, W, 3)`` uint8 RGB, with a clear error if it is not one."""
    import imageio.v3 as iio

    path = Path(path)
    _check_file(path)
    try:
        image = np.asarray(iio.imread(path))
    except Exception as exc:  # imageio raises many types for corrupt files
        raise DataError(f"{path}: not a readable image ({exc})") from exc
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    if image.ndim != 3 or image.shape[-1] not in (3, 4):
        raise DataError(f"{path}: unexpected image shape {image.shape}")
    return np.ascontiguousarray(image[..., :3].astype(np.uint8))


def save_frames(video: str | Path, out_dir: str | Path, indices=None, every: int | None = None,
                count: int | None = None) -> Path:
    """Write the chosen frames as ``frame_000032.png`` plus ``frames.json``; return the JSON path.

    The sidecar records the source file, fps, total frames and the indices written, so a
    student's report can say exactly which pictures were scored.
    """
    import imageio.v3 as iio

    info, frames = extract_frames(video, indices, every, count)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {}
    for index, frame in sorted(frames.items()):
        name = f"frame_{index:06d}.png"
        iio.imwrite(out_dir / name, frame)
        files[index] = name
    sidecar = out_dir / "frames.json"
    sidecar.write_text(json.dumps({
        "source": str(Path(video).resolve()),
        **{k: v for k, v in asdict(info).items() if k != "path"},
        "indices": sorted(files),
        "files": [files[i] for i in sorted(files)],
    }, indent=2))
    return sidecar


def write_video(frames, path: str | Path, fps: float = 25.0, quality: int = 8) -> Path:
    """Write ``(T, H, W, 3)`` uint8 RGB frames as an H.264 MP4 (sizes rounded by ffmpeg to even)."""
    import imageio.v3 as iio

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    iio.imwrite(path, np.asarray(frames), fps=fps, codec="libx264", quality=quality, macro_block_size=2)
    return path
