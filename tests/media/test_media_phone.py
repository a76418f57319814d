"""A 1080p, 60 fps phone video held upright (display rotation in its metadata), made in the test,
comes out of :func:`fit_video` upright, small and at 30 fps, with a note saying so."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from deepfakelab.cli import main
from deepfakelab.media.video import iter_frames, probe_video
from deepfakelab.errors import DataError
from deepfakelab.media.phone import fit_video, rotation_degrees


def _corners(frame: np.ndarray) -> dict[str, float]:
    h, w = frame.shape[:2]
    k = min(h, w) // 10
    return {
        "top-left": frame[:k, :k].mean(),
        "top-right": frame[:k, -k:].mean(),
        "bottom-left": frame[-k:, :k].mean(),
        "bottom-right": frame[-k:, -k:].mean(),
    }


def _bright_corner(frame: np.ndarray) -> str:
    corners = _corners(frame)
    return max(corners, key=corners.get)


@pytest.fixture(scope="module")
def landscape(tmp_path_factory):
    """1.5 s of 1920x1080 at 60 fps as the sensor records it: a white block at the top-left."""
    import imageio_ffmpeg

    path = tmp_path_factory.mktemp("phone") / "sensor.mp4"
    writer = imageio_ffmpeg.write_frames(
        str(path),
        (1920, 1080),
        fps=60,
        codec="libx264",
        macro_block_size=1,
        ffmpeg_log_level="error",
        output_params=["-preset", "ultrafast"],
    )
    writer.send(None)
    frame = np.full((1080, 1920, 3), 40, np.uint8)
    frame[:270, :480] = 255
    for _ in range(90):
        writer.send(frame)
    writer.close()
    return path


def _rotated(landscape, degrees: int, out):
    """The same stream with a display rotation, as a phone held upright writes it (no re-encoding)."""
    import imageio_ffmpeg

    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-display_rotation",
            str(degrees),
            "-i",
            str(landscape),
            "-c",
            "copy",
            str(out),
        ],
        check=True,
    )
    return out


@pytest.mark.parametrize("degrees, corner", [(90, "bottom-left"), (-90, "top-right")])
def test_a_rotated_1080p_60fps_video_comes_out_upright_small_and_30fps(landscape, tmp_path, degrees, corner):
    phone = _rotated(landscape, degrees, tmp_path / "phone.mp4")
    assert rotation_degrees(phone) == degrees % 360
    # the kit's decoder (imageio-ffmpeg's ffmpeg, autorotating) already reads it upright
    assert (probe_video(phone).width, probe_video(phone).height) == (1080, 1920)
    assert (
        _bright_corner(next(iter_frames(phone))[1])
        == corner
        == _bright_corner(np.rot90(next(iter_frames(landscape))[1], k=degrees // 90))
    )

    fitted = fit_video(phone, tmp_path / "fitted.mp4")
    assert fitted.size == (360, 640) and fitted.fps == 30 and fitted.frames == 45
    assert fitted.rotation == degrees % 360 and rotation_degrees(fitted.path) == 0
    info = probe_video(fitted.path)
    assert (info.width, info.height, info.fps, info.frame_count) == (360, 640, 30.0, 45)
    frames = [frame for _, frame in iter_frames(fitted.path)]
    assert all(_bright_corner(frame) == corner for frame in frames)
    assert len(fitted.note.splitlines()) == 1
    assert (
        f"1080x1920 at 60 fps, rotated {degrees % 360} degrees" in fitted.note
        and "360x640 at 30 fps" in fitted.note
    )


def test_small_slow_videos_keep_their_size_and_rate_and_long_ones_are_cut(tmp_path, real_data):
    fitted = fit_video(real_data / "d18.mp4", tmp_path / "d18.mp4", max_seconds=2)
    assert fitted.size == (480, 480) and fitted.fps == 30 and fitted.frames == 60
    assert fitted.rotation == 0 and "rotated" not in fitted.note and "first 2 s of 7.2 s" in fitted.note


def test_cli_prints_the_note_and_bad_input_is_one_line(landscape, tmp_path, capsys):
    assert (
        main(
            [
                "fit-video",
                str(landscape),
                "-o",
                str(tmp_path / "out.mp4"),
                "--max-side",
                "320",
                "--seconds",
                "0",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out.strip()
    assert out.startswith("sensor.mp4: 1920x1080 at 60 fps -> 320x180 at 30 fps, 45 frames")
    assert main(["fit-video", str(tmp_path / "missing.mov"), "-o", str(tmp_path / "x.mp4")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "missing.mov: no such file" in err
    (tmp_path / "junk.mov").write_bytes(b"not a video at all" * 100)
    with pytest.raises(DataError, match="junk.mov: not a readable video"):
        fit_video(tmp_path / "junk.mov", tmp_path / "y.mp4")
