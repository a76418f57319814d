"""A student's own phone or webcam clip, made fit for Lab 1: upright, small, at most 30 fps, short.

Phone videos are 1080p or 4K at 60 fps, and a phone held upright records the sensor's landscape
frames with a *display rotation* in the file's metadata. Lab 1 scores a few dozen frames of
256-pixel faces, so decoding full-size 60 fps frames only costs time and memory; and a reader
that ignored the rotation would hand MTCNN a face lying on its side, which it does not find.

The kit decodes with the ffmpeg binary of imageio-ffmpeg, which applies the rotation
(ffmpeg's default, ``-autorotate``): frames come out upright and imageio-ffmpeg reports the
upright size. :func:`fit_video` uses the same ffmpeg to write a small upright copy -- rotation
applied and dropped from the metadata, longer side at most ``max_side``, frame rate at most
``max_fps`` (by dropping frames), the first ``max_seconds`` -- and says in one line what it did.
The copy is an ordinary video for everything else in the kit (:mod:`deepfakelab.media.video`).
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg

from ..errors import DataError
from .video import VideoInfo, probe_video

#: Defaults: the longer side after fitting (pixels), the highest frame rate kept, the length kept (s).
MAX_SIDE = 640
MAX_FPS = 30.0
MAX_SECONDS = 20.0
LABEL = "a student's own video, fitted for Lab 1 by deepfakelab (rotation applied, resized)"


@dataclass(frozen=True)
class FittedVideo:
    """The fitted copy (``path``), what the source was, and the one-line ``note`` saying what changed."""

    path: Path
    source: Path
    rotation: int
    source_size: tuple[int, int]
    source_fps: float
    size: tuple[int, int]
    fps: float
    frames: int
    note: str


def _ffmpeg() -> str:
    return imageio_ffmpeg.get_ffmpeg_exe()


def rotation_degrees(path: str | Path) -> int:
    """The display rotation a video's metadata asks for, in degrees (0, 90, 180 or 270).

    Read from ffmpeg's description of the first video stream ("displaymatrix: rotation of
    -90.00 degrees"; counter-clockwise positive, as ffmpeg prints it) and normalised to [0, 360).
    """
    result = subprocess.run(
        [_ffmpeg(), "-hide_banner", "-nostdin", "-i", str(path)],
        capture_output=True,
        text=True,
        errors="replace",
    )
    match = re.search(r"rotation of (-?[\d.]+) degrees", result.stderr)
    return int(round(float(match.group(1)))) % 360 if match else 0


def needs_fitting(path: str | Path, max_side: int = MAX_SIDE, max_fps: float = MAX_FPS) -> bool:
    """Whether :func:`fit_video` would change more than the length: rotated, larger or faster."""
    info = probe_video(path)
    return rotation_degrees(path) != 0 or max(info.width, info.height) > max_side or info.fps > max_fps


def fit_video(
    source: str | Path,
    out: str | Path,
    max_side: int = MAX_SIDE,
    max_fps: float = MAX_FPS,
    max_seconds: float | None = MAX_SECONDS,
) -> FittedVideo:
    """Write an upright copy of ``source`` at most ``max_side`` pixels and ``max_fps`` to ``out`` (mp4).

    Smaller and slower videos keep their size and rate; the audio track, if any, is kept. A
    missing, empty or unreadable file is a :class:`~deepfakelab.errors.DataError` naming it.
    """
    source, out = Path(source), Path(out)
    before = probe_video(source)  # checks the file; its size is already the upright one
    if before.frame_count == 0:
        raise DataError(f"{source}: the video contains no frames")
    rotation = rotation_degrees(source)
    out.parent.mkdir(parents=True, exist_ok=True)
    command = _fit_command(source, before.fps, max_side, max_fps, max_seconds)
    result = subprocess.run(command + [str(out)], capture_output=True, text=True, errors="replace")
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no detail"])[-1]
        raise DataError(f"{source}: could not be re-encoded ({last})")
    after = probe_video(out)
    return FittedVideo(
        out,
        source,
        rotation,
        (before.width, before.height),
        before.fps,
        (after.width, after.height),
        after.fps,
        after.frame_count,
        _fit_note(source, out, before, after, rotation, max_seconds),
    )


def _fit_command(
    source: Path, source_fps: float, max_side: int, max_fps: float, max_seconds: float | None
) -> list[str]:
    """ffmpeg's command line for :func:`fit_video`, less the output file: scale down to ``max_side``
    (even sides, for yuv420p), drop frames down to ``max_fps`` only when the source is faster, keep
    the first video and audio streams, label the copy, cut it at ``max_seconds``. ffmpeg applies the
    rotation itself (``-autorotate``, its default)."""
    fps = min(source_fps, max_fps) if source_fps > 0 else max_fps
    scale = (
        f"scale=w='min(iw,{max_side})':h='min(ih,{max_side})':force_original_aspect_ratio=decrease"
        ":force_divisible_by=2"
    )
    filters = [scale] + ([f"fps={fps:g}"] if source_fps > max_fps else [])
    command = [
        _ffmpeg(),
        "-hide_banner",
        "-nostdin",
        "-loglevel",
        "error",
        "-y",
        "-i",
        str(source),
        "-map",
        "0:v:0",
        "-map",
        "0:a:0?",
        "-vf",
        ",".join(filters),
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        "-crf",
        "18",
        "-c:a",
        "aac",
        "-metadata",
        f"comment={LABEL}",
    ]
    if max_seconds is not None:
        command += ["-t", f"{max_seconds:g}"]
    return command


def _fit_note(
    source: Path, out: Path, before: VideoInfo, after: VideoInfo, rotation: int, max_seconds: float | None
) -> str:
    """The one line saying what :func:`fit_video` changed: size and rate before and after, the
    rotation applied, the length cut."""
    seconds = before.frame_count / before.fps if before.fps > 0 else 0.0
    cut = (
        f", first {max_seconds:g} s of {seconds:.1f} s"
        if max_seconds is not None and seconds > max_seconds + 0.05
        else ""
    )
    turned = f", rotated {rotation} degrees as its metadata asks" if rotation else ""
    return (
        f"{source.name}: {before.width}x{before.height} at {before.fps:g} fps{turned} -> "
        f"{after.width}x{after.height} at {after.fps:g} fps{cut}, {after.frame_count} frames ({out})"
    )
