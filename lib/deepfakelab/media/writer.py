"""Writing videos that say they are synthetic: the kit's one video writer.

Every video the kit writes carries a container metadata label (``comment`` and ``description``:
:data:`SYNTHETIC_LABEL` unless the caller says what else it is), readable with
``deepfakelab info FILE`` or any media player's properties panel. ``visible_mark`` adds a band
*below* the picture with :data:`VISIBLE_MARK` in it: the canvas grows, so the label never covers
a face, a side-by-side panel or the region a detector crops.

A generated video (``provenance``, a :class:`deepfakelab.provenance.marking.Provenance`) also gets
the kit's machine-readable marks: an invisible watermark in every frame's pixels (added before the
band) and a signed C2PA manifest in the finished file. Real clips are written without one.

The file is made under a temporary name beside ``path`` and renamed into place only when it is
whole (and signed): an error, a failed signature or Ctrl-C leaves no half-made file, and a file
already at ``path`` is kept until the new one replaces it.

The output keeps the frame rate it is given and, with ``audio_from``, that file's audio track,
trimmed or padded with silence to the video's length: every frame written is in the file
(``-shortest`` would drop the last frames whenever the audio ends a little early).
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import cv2
import imageio_ffmpeg
import numpy as np

from ..errors import DataError
from .files import VIDEO_OUTPUT_SUFFIXES, check_output_file, is_image_path, staged_output
from .video import read_header, ffmpeg_exe

SYNTHETIC_LABEL = (
    "SYNTHETIC: AI-generated reenactment made with deepfakelab (a teaching kit), not a real recording"
)
VISIBLE_MARK = "SYNTHETIC - deepfakelab"


def add_visible_mark(frame: np.ndarray, text: str = VISIBLE_MARK) -> np.ndarray:
    """``frame (H, W, 3)`` uint8 with a dark band added below it carrying ``text`` in white.

    The result is taller than ``frame`` by the band; the picture itself is unchanged.
    """
    height, width = frame.shape[:2]
    scale = max(width / 640, 0.35)
    thickness = max(int(round(scale * 1.5)), 1)
    (text_w, text_h), baseline = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    if text_w > width - 8:  # shrink to fit narrow frames
        scale *= (width - 8) / text_w
        (text_w, text_h), baseline = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    band = np.full((text_h + baseline + 8, width, 3), 24, np.uint8)
    cv2.putText(
        band,
        text,
        ((width - text_w) // 2, band.shape[0] - baseline - 4),
        cv2.FONT_HERSHEY_SIMPLEX,
        scale,
        (255, 255, 255),
        thickness,
        cv2.LINE_AA,
    )
    return np.concatenate([frame, band], axis=0)


def _audio_source(audio_from: str | Path | None) -> str | None:
    """``audio_from`` if it is a readable video with an audio track, else ``None``."""
    if audio_from is None or is_image_path(audio_from):
        return None
    try:
        return str(audio_from) if read_header(Path(audio_from)).get("audio_codec") else None
    except DataError:
        return None


def write_video(
    path: str | Path,
    frames: Sequence[np.ndarray] | np.ndarray,
    fps: float,
    audio_from: str | Path | None = None,
    visible_mark: bool = False,
    label: str = SYNTHETIC_LABEL,
    provenance=None,
) -> Path:
    """Write ``frames`` (each ``(H, W, 3)`` uint8 RGB) as an H.264 mp4 at ``fps`` frames per second.

    The container metadata says what the video is (``label``); ``visible_mark`` adds a band with
    :data:`VISIBLE_MARK` below every frame; ``audio_from`` copies that file's audio track, if any,
    cut or padded to exactly ``len(frames) / fps`` seconds. Odd frame sizes are padded by one
    pixel (H.264 with 4:2:0 colour needs even sizes). With ``provenance``, every frame is
    watermarked and the file is signed (see :mod:`deepfakelab.provenance.marking`).
    """
    path = check_output_file(path, VIDEO_OUTPUT_SUFFIXES, "video")
    frames = list(frames)
    if not frames:
        raise DataError(f"{path}: no frames to write")
    if not fps > 0:
        raise DataError(f"{path}: cannot write a video at {fps} frames per second")
    canvas = _Canvas.of(path, frames[0], visible_mark, provenance)
    audio = _audio_source(audio_from)
    output_params = _output_params(label, len(frames) / fps if audio else None)
    if provenance is not None:
        provenance.check()  # a signing key that cannot sign stops here, before any encoding
    path.parent.mkdir(parents=True, exist_ok=True)
    with staged_output(path) as staged:  # renamed to path only when whole and signed
        writer = imageio_ffmpeg.write_frames(
            str(staged),
            (canvas.even_w, canvas.even_h),
            fps=fps,
            codec="libx264",
            quality=8,
            macro_block_size=1,
            output_params=output_params,
            audio_path=audio,
            audio_codec="aac" if audio else None,
            ffmpeg_log_level="error",
        )
        writer.send(None)
        try:
            for frame in frames:
                writer.send(canvas.prepare(frame))
        finally:
            writer.close()
        if provenance is not None:
            provenance.sign_file(staged, final=path)
    return path


def _output_params(label: str, seconds: float | None) -> list[str]:
    """ffmpeg's output options: the metadata label and, when there is audio (``seconds``, the video's
    length), the filter that cuts or pads it to exactly that length."""
    output_params = [
        "-metadata",
        f"comment={label}",
        "-metadata",
        f"description={label}",
        "-metadata",
        "title=synthetic video (deepfakelab)",
    ]
    if seconds is not None:
        output_params += ["-af", f"atrim=duration={seconds:.6f},apad=whole_dur={seconds:.6f}"]
    return output_params


@dataclass(frozen=True)
class _Canvas:
    """What each frame of one video becomes before it is encoded: checked against the first frame's
    size, watermarked (``provenance``), given the band below (``visible_mark``) and padded to even
    sides (``even_h``, ``even_w``, the encoded size)."""

    path: Path
    height: int
    width: int
    even_h: int
    even_w: int
    visible_mark: bool
    provenance: object

    @classmethod
    def of(cls, path: Path, first: np.ndarray, visible_mark: bool, provenance) -> _Canvas:
        """The canvas of a video whose first frame is ``first``."""
        height, width = first.shape[:2]
        out_h = add_visible_mark(first).shape[0] if visible_mark else height
        return cls(path, height, width, out_h + out_h % 2, width + width % 2, visible_mark, provenance)

    def prepare(self, frame: np.ndarray) -> np.ndarray:
        """``frame`` as the encoder receives it (contiguous uint8 of the encoded size)."""
        if frame.shape[:2] != (self.height, self.width):
            raise DataError(
                f"{self.path}: frames differ in size ({frame.shape[:2]} vs {(self.height, self.width)})"
            )
        if self.provenance is not None:
            frame = self.provenance.mark_frame(frame, self.path)
        if self.visible_mark:
            frame = add_visible_mark(frame)
        if (self.even_h, self.even_w) != frame.shape[:2]:
            frame = cv2.copyMakeBorder(
                frame, 0, self.even_h - frame.shape[0], 0, self.even_w - self.width, cv2.BORDER_REPLICATE
            )
        return np.ascontiguousarray(frame, dtype=np.uint8)


def read_metadata(path: str | Path) -> dict[str, str]:
    """The container's global metadata tags (lower-case keys), read with the bundled ffmpeg."""
    result = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path), "-f", "ffmetadata", "-"],
        capture_output=True,
        text=True,
        errors="replace",
    )
    tags = {}
    for line in result.stdout.splitlines():
        if "=" in line and not line.startswith(";"):
            key, value = line.split("=", 1)
            tags[key.strip().lower()] = value.strip()
    return tags
