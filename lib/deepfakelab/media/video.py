"""Frame-exact video decoding and probing: the kit's one video reader.

"Frame 32" means the 33rd frame the decoder produces, counted from 0, whatever the container
says about timestamps. Seeking by time (``cv2.CAP_PROP_POS_FRAMES``, ``ffmpeg -ss``) lands on
the nearest key frame or rounds timestamps, so two tools can disagree about which picture is
frame 32; decoding sequentially and counting cannot. We decode with the ffmpeg binary shipped by
``imageio-ffmpeg`` and ask for ``-fps_mode passthrough`` so ffmpeg never duplicates or drops
frames to fake a constant frame rate (checked on ``d12.mp4``: 183 frames, identical pixels to
OpenCV's decoder).

A truncated file whose index sits at the front still decodes, only shorter: :class:`VideoInfo`
keeps both the frames the header announces and the frames decoded, and :func:`short_video_note`
says when they disagree, so such a file is never used silently.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import imageio_ffmpeg
import numpy as np

from ..errors import DataError
from .files import check_input_file, is_image_path
from .photo import read_photo

_PASSTHROUGH = ["-fps_mode", "passthrough"]
#: A photo read as a video is one frame at this rate.
PHOTO_FPS = 25.0


@dataclass(frozen=True)
class VideoInfo:
    """What the header and one decoding pass say about a video file.

    ``fps`` is 0.0 for a still image; ``frame_count`` is the frames decoded, ``announced_frames``
    the frames the header's duration and rate imply (``None`` when it gives no duration).
    """

    path: str
    fps: float
    frame_count: int
    width: int
    height: int
    announced_frames: int | None = None
    has_audio: bool = False
    duration: float | None = None


@dataclass
class Video:
    """Decoded frames ``(N, H, W, 3)`` uint8 RGB, the frame rate, and whether there is audio."""

    frames: np.ndarray
    fps: float
    path: Path | None = None
    has_audio: bool = False
    notes: list[str] = field(default_factory=list)


def ffmpeg_exe() -> str:
    """The ffmpeg binary bundled with ``imageio-ffmpeg`` (none needs to be installed)."""
    return imageio_ffmpeg.get_ffmpeg_exe()


def _unreadable(path: Path, exc: Exception) -> DataError:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    # imageio-ffmpeg puts its own summary first and ffmpeg's complaint last
    detail = next((line for line in reversed(lines) if ": " in line and not line.startswith("=")), None)
    if detail:  # ffmpeg starts its own complaint with the file name: name it once
        detail = detail.replace(f"{path}: ", "").replace(f"{path.name}: ", "")
    return DataError(
        f"{path}: not a readable video ({detail or (lines[0] if lines else type(exc).__name__)})"
    )


def read_header(path: Path) -> dict:
    """imageio-ffmpeg's metadata of the first video stream (``fps``, ``size``, ``duration``,
    ``audio_codec``), from the header alone: nothing is decoded."""
    try:
        reader = imageio_ffmpeg.read_frames(str(path), output_params=_PASSTHROUGH)
        meta = next(reader)
        reader.close()
    except (OSError, RuntimeError, StopIteration) as exc:
        raise _unreadable(path, exc) from None
    return meta


def count_frames(path: str | Path) -> int:
    """Number of frames the decoder produces for the first video stream of ``path``.

    Decodes the whole stream once (no pixels copied to Python): container headers are often
    missing or wrong about the frame count, and the count must agree with :func:`iter_frames`.
    """
    path = check_input_file(path, "video")
    cmd = [
        ffmpeg_exe(),
        "-hide_banner",
        "-nostdin",
        "-i",
        str(path),
        "-map",
        "0:v:0",
        *_PASSTHROUGH,
        "-f",
        "null",
        "-",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
    counts = re.findall(r"frame=\s*(\d+)", proc.stderr)
    if proc.returncode != 0 or not counts:
        last = proc.stderr.strip().splitlines()[-1:] or ["no output"]
        raise DataError(f"{path}: not a readable video ({last[0]})")
    return int(counts[-1])


def probe_video(path: str | Path) -> VideoInfo:
    """Header facts (rate, size, duration, audio) and the decoded frame count of a video or photo.

    A photo is a one-frame "video" with ``fps`` 0.
    """
    path = check_input_file(path, "video")
    if is_image_path(path):
        image, _ = read_photo(path)
        return VideoInfo(str(path), 0.0, 1, image.shape[1], image.shape[0], 1)
    meta = read_header(path)
    width, height = meta["size"]
    fps = float(meta.get("fps") or 0.0)
    duration = float(meta["duration"]) if meta.get("duration") else None
    announced = int(round(duration * fps)) if duration and fps > 0 else None
    decoded = count_frames(path)
    if decoded == 0:
        raise DataError(f"{path}: the video contains no decodable frames")
    return VideoInfo(
        str(path), fps, decoded, int(width), int(height), announced, bool(meta.get("audio_codec")), duration
    )


def short_video_note(info: VideoInfo) -> str | None:
    """A note when fewer frames decode than the header announces (a truncated or damaged file).

    One frame of slack, and 2 %, allow for containers whose duration is the audio's.
    """
    announced = info.announced_frames
    if announced is None or info.frame_count >= announced - max(1, 0.02 * announced):
        return None
    return (
        f"{info.path}: the header announces {announced} frames but only {info.frame_count} could be "
        f"decoded (truncated or damaged file?); using those {info.frame_count}"
    )


def iter_frames(path: str | Path, indices: set[int] | None = None) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(index, frame)`` in decoding order; frames are ``(H, W, 3)`` uint8 RGB.

    With ``indices``, only those frames are yielded (every frame is still decoded, which is the
    price of exactness) and decoding stops after the largest one.
    """
    path = check_input_file(path, "video")
    try:
        reader = imageio_ffmpeg.read_frames(str(path), output_params=_PASSTHROUGH)
        meta = next(reader)
    except (OSError, RuntimeError, StopIteration) as exc:
        raise _unreadable(path, exc) from None
    width, height = meta["size"]
    last = max(indices) if indices else None
    index = -1
    try:
        for index, raw in enumerate(reader):
            if indices is None or index in indices:
                yield index, np.frombuffer(raw, np.uint8).reshape(height, width, 3).copy()
            if last is not None and index >= last:
                break
    except RuntimeError as exc:  # ffmpeg died mid-stream: a truncated or corrupt file
        raise DataError(
            f"{path}: decoding failed after frame {index} ({str(exc).strip().splitlines()[0]})"
        ) from None
    finally:
        reader.close()


def read_video(path: str | Path, max_frames: int | None = None) -> Video:
    """Decode a video (or a photo, as a one-frame video at :data:`PHOTO_FPS`) into a :class:`Video`.

    A missing, empty, corrupt or frameless file is a :class:`~deepfakelab.errors.DataError`
    naming the file; a file that decodes to fewer frames than its header announces gets a note.
    """
    path = check_input_file(path, "video")
    if is_image_path(path):
        image, notes = read_photo(path)
        return Video(image[None], PHOTO_FPS, path, False, notes)
    meta = read_header(path)
    fps = float(meta.get("fps") or 0.0)
    frames = []
    for index, frame in iter_frames(path):
        frames.append(frame)
        if max_frames is not None and index + 1 >= max_frames:
            break
    if not frames:
        raise DataError(f"{path}: the video contains no decodable frames")
    notes = []
    if max_frames is None or len(frames) < max_frames:
        duration = float(meta["duration"]) if meta.get("duration") else None
        announced = int(round(duration * fps)) if duration and fps > 0 else None
        note = short_video_note(VideoInfo(str(path), fps, len(frames), 0, 0, announced))
        notes += [note] if note else []
    if not fps > 0:
        notes.append(f"{path}: the video does not say its frame rate; assuming {PHOTO_FPS:g} fps")
        fps = PHOTO_FPS
    return Video(np.stack(frames), fps, path, bool(meta.get("audio_codec")), notes)
