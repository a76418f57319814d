"""Reading photos and videos, and writing videos that say they are synthetic.

Every video the kit writes carries a container metadata label (``comment`` and ``description``:
:data:`SYNTHETIC_LABEL`), readable with ``ffprobe`` or any media player's properties panel; a
visible mark burnt into the frames is one flag away. It keeps the driving video's frame rate and,
when it has one, its audio track. Decoding reuses the frame-exact reader of
:mod:`deepfakelab.media.video`.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np

from ..errors import DataError

SYNTHETIC_LABEL = "SYNTHETIC: AI-generated reenactment made with deepfakelab (a teaching kit), not a real recording"
VISIBLE_MARK = "SYNTHETIC - deepfakelab"
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}


@dataclass
class Video:
    """Decoded frames ``(N, H, W, 3)`` uint8 RGB, the frame rate, and whether there is audio."""

    frames: np.ndarray
    fps: float
    path: Path | None = None
    has_audio: bool = False
    notes: list[str] = field(default_factory=list)


def read_photo(path: str | Path) -> tuple[np.ndarray, list[str]]:
    """A photo as ``(H, W, 3)`` uint8 RGB, plus notes on conversions made.

    Grayscale photos are repeated to three channels; transparent (RGBA) ones are composited on
    white. Both are said in the notes, naming the file: the model was trained on colour frames.
    """
    import imageio.v3 as iio

    path = Path(path)
    _check_file(path, "photo")
    try:
        image = np.asarray(iio.imread(path))
    except Exception as exc:  # imageio raises many types for unreadable files
        raise DataError(f"{path}: not a readable image ({type(exc).__name__}: {exc})") from None
    notes = []
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    if image.dtype != np.uint8:
        if np.issubdtype(image.dtype, np.integer) and image.max() > 255:
            image = (image / 257).astype(np.uint8)
        elif np.issubdtype(image.dtype, np.floating):
            image = (np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8)
        else:
            image = image.astype(np.uint8)
    if image.ndim == 2:
        notes.append(f"{path}: grayscale photo; its gray values were copied to the three colour channels")
        image = np.repeat(image[..., None], 3, axis=2)
    elif image.ndim == 3 and image.shape[2] == 4:
        notes.append(f"{path}: photo with transparency (RGBA); composited on a white background")
        alpha = image[..., 3:4].astype(np.float32) / 255
        image = (image[..., :3] * alpha + 255 * (1 - alpha) + 0.5).astype(np.uint8)
    elif image.ndim == 3 and image.shape[2] == 2:
        notes.append(f"{path}: grayscale photo with transparency; composited on white")
        alpha = image[..., 1:2].astype(np.float32) / 255
        gray = image[..., :1] * alpha + 255 * (1 - alpha)
        image = np.repeat(gray + 0.5, 3, axis=2).astype(np.uint8)
    if image.ndim != 3 or image.shape[2] != 3:
        raise DataError(f"{path}: unsupported image layout {image.shape}; expected a colour or grayscale photo")
    if min(image.shape[:2]) < 32:
        raise DataError(f"{path}: the image is only {image.shape[1]}x{image.shape[0]} pixels; too small to hold a face")
    return np.ascontiguousarray(image), notes


def read_video(path: str | Path, max_frames: int | None = None) -> Video:
    """Decode a video (or a photo, as a one-frame video at 25 fps) into a :class:`Video`.

    A missing, empty, corrupt or frameless file is a :class:`~deepfakelab.errors.DataError`
    naming the file.
    """
    from .video import iter_frames

    path = Path(path)
    if path.suffix.lower() in IMAGE_SUFFIXES:
        image, notes = read_photo(path)
        return Video(image[None], 25.0, path, False, notes)
    _check_file(path, "video")
    fps, has_audio = _probe(path)
    frames = []
    for index, frame in iter_frames(path):
        frames.append(frame)
        if max_frames is not None and index + 1 >= max_frames:
            break
    if not frames:
        raise DataError(f"{path}: the video contains no frames")
    return Video(np.stack(frames), fps, path, has_audio)


def _check_file(path: Path, kind: str) -> None:
    if not path.exists():
        raise DataError(f"{path}: no such file (expected a {kind})")
    if path.is_dir():
        raise DataError(f"{path}: is a folder, expected a {kind} file")
    if path.stat().st_size == 0:
        raise DataError(f"{path}: the file is empty (0 bytes)")


def _probe(path: Path) -> tuple[float, bool]:
    import imageio_ffmpeg

    try:
        reader = imageio_ffmpeg.read_frames(str(path))
        meta = next(reader)
        reader.close()
    except (OSError, RuntimeError, StopIteration) as exc:
        detail = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise DataError(f"{path}: not a readable video ({detail})") from None
    fps = float(meta.get("fps") or 0.0)
    if not fps > 0:
        fps = 25.0
    return fps, bool(meta.get("audio_codec"))


def add_visible_mark(frame: np.ndarray, text: str = VISIBLE_MARK) -> np.ndarray:
    """Burn a label into the bottom of ``frame (H, W, 3)`` uint8: white text on a dark band."""
    out = frame.copy()
    height, width = out.shape[:2]
    scale = max(width / 640, 0.35)
    thickness = max(int(round(scale * 1.5)), 1)
    (text_w, text_h), baseline = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    if text_w > width - 8:  # shrink to fit narrow frames
        scale *= (width - 8) / text_w
        (text_w, text_h), baseline = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    band = text_h + baseline + 8
    out[height - band :] = (out[height - band :].astype(np.float32) * 0.35).astype(np.uint8)
    cv2.putText(out, text, ((width - text_w) // 2, height - baseline - 4), cv2.FONT_HERSHEY_SIMPLEX, scale,
                (255, 255, 255), thickness, cv2.LINE_AA)
    return out


def write_video(path: str | Path, frames: Sequence[np.ndarray] | np.ndarray, fps: float,
                audio_from: str | Path | None = None, visible_mark: bool = False,
                label: str = SYNTHETIC_LABEL) -> Path:
    """Write ``frames`` (each ``(H, W, 3)`` uint8 RGB) as an H.264 mp4 at ``fps`` frames per second.

    The container metadata says the video is synthetic (``label``); ``visible_mark`` also burns
    :data:`VISIBLE_MARK` into every frame; ``audio_from`` copies that file's audio track, if any.
    Odd frame sizes are padded by one pixel (H.264 with 4:2:0 colour needs even sizes).
    """
    import imageio_ffmpeg

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = list(frames)
    if not frames:
        raise DataError(f"{path}: no frames to write")
    height, width = frames[0].shape[:2]
    even_h, even_w = height + height % 2, width + width % 2
    output_params = ["-metadata", f"comment={label}", "-metadata", f"description={label}",
                     "-metadata", "title=synthetic video (deepfakelab)"]
    audio = None
    if audio_from is not None and Path(audio_from).suffix.lower() not in IMAGE_SUFFIXES:
        try:
            audio = str(audio_from) if _probe(Path(audio_from))[1] else None
        except DataError:
            audio = None
    if audio:
        output_params += ["-shortest"]
    writer = imageio_ffmpeg.write_frames(
        str(path), (even_w, even_h), fps=fps, codec="libx264", quality=8, macro_block_size=1,
        output_params=output_params, audio_path=audio, audio_codec="aac" if audio else None,
        ffmpeg_log_level="error",
    )
    writer.send(None)
    try:
        for frame in frames:
            if frame.shape[:2] != (height, width):
                raise DataError(f"{path}: frames differ in size ({frame.shape[:2]} vs {(height, width)})")
            if visible_mark:
                frame = add_visible_mark(frame)
            if (even_h, even_w) != (height, width):
                frame = cv2.copyMakeBorder(frame, 0, even_h - height, 0, even_w - width, cv2.BORDER_REPLICATE)
            writer.send(np.ascontiguousarray(frame, dtype=np.uint8))
    finally:
        writer.close()
    return path


def read_metadata(path: str | Path) -> dict[str, str]:
    """The container's global metadata tags (lower-case keys), read with the bundled ffmpeg."""
    import imageio_ffmpeg

    result = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path), "-f", "ffmetadata", "-"],
        capture_output=True, text=True, errors="replace",
    )
    tags = {}
    for line in result.stdout.splitlines():
        if "=" in line and not line.startswith(";"):
            key, value = line.split("=", 1)
            tags[key.strip().lower()] = value.strip()
    return tags
