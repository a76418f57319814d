"""The media commands: ``deepfakelab info FILE`` (what a photo or video is, and whether it says it is
synthetic) and ``deepfakelab fit-video`` (a phone clip made fit for Lab 1, :mod:`.phone`).

The kit's videos carry their synthetic label in the container metadata; ``ffprobe`` would show
it but is not installed with the kit, so this command reads it with the bundled ffmpeg.
"""

from __future__ import annotations

import argparse

from .files import check_input_file, is_image_path
from .phone import MAX_FPS, MAX_SECONDS, MAX_SIDE, fit_video
from .photo import read_photo
from .video import probe_video, read_header, short_video_note
from .writer import read_metadata


def describe(path) -> list[str]:
    """Lines describing ``path``: size, frame rate, frames decoded and announced, duration, audio, label."""
    path = check_input_file(path)
    if is_image_path(path):
        image, notes = read_photo(path)
        return [
            f"{path}: photo",
            f"  size: {image.shape[1]}x{image.shape[0]} pixels",
            *(f"  note: {note.removeprefix(f'{path}: ')}" for note in notes),
        ]
    info = probe_video(path)
    header = read_header(path)
    announced = "" if info.announced_frames is None else f" (the header announces {info.announced_frames})"
    duration = f"{info.frame_count / info.fps:.2f} s" if info.fps > 0 else "unknown"
    audio = header.get("audio_codec")
    tags = read_metadata(path)
    label = tags.get("comment") or tags.get("description")
    lines = [
        f"{path}: video ({header.get('codec', 'unknown codec')})",
        f"  size: {info.width}x{info.height} pixels",
        f"  frames: {info.frame_count} decoded{announced}",
        f"  frame rate: {info.fps:g} fps" if info.fps > 0 else "  frame rate: not given",
        f"  duration: {duration}",
        f"  audio: {audio}" if audio else "  audio: none",
        f"  label: {label}" if label else "  label: none (no comment or description in the metadata)",
    ]
    note = short_video_note(info)
    if note:
        lines.append(f"  note: {note.removeprefix(f'{path}: ')}")
    return lines


def _info(args: argparse.Namespace) -> int:
    for line in describe(args.file):
        print(line)
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "info",
        help="show a photo's or video's size, frame rate, frames, duration, audio and synthetic label",
        description="Describe FILE: for a video its size, frame rate, the frames decoded and the frames its header "
        "announces, duration, audio track and the label in its metadata (every video the kit writes says it is "
        "synthetic there); for a photo its size and any conversion the kit would make.",
    )
    p.add_argument("file", help="photo or video")
    p.set_defaults(func=_info)
    _register_fit(subparsers)


def _fit(args: argparse.Namespace) -> int:
    fitted = fit_video(args.video, args.output, args.max_side, args.max_fps, args.seconds or None)
    print(fitted.note)
    return 0


def _register_fit(subparsers) -> None:
    parser = subparsers.add_parser(
        "fit-video",
        help="make a phone or webcam video fit for Lab 1 (upright, smaller, <= 30 fps)",
        description="Write an upright, smaller copy of a video: its rotation metadata applied, the longer side "
        "at most --max-side, the frame rate at most --max-fps, the first --seconds. Prints what changed.",
    )
    parser.add_argument("video", help="the video to fit (mp4, mov, webm, ...)")
    parser.add_argument("-o", "--output", required=True, help="the mp4 to write")
    parser.add_argument(
        "--max-side", type=int, default=MAX_SIDE, help="longer side in pixels (default: %(default)s)"
    )
    parser.add_argument(
        "--max-fps", type=float, default=MAX_FPS, help="highest frame rate (default: %(default)s)"
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=MAX_SECONDS,
        help="keep the first this many seconds; 0 keeps all (default: %(default)s)",
    )
    parser.set_defaults(func=_fit)
