"""Video and photo I/O: synthetic labels, frame rate, audio, and clear messages for bad files."""

from __future__ import annotations

import numpy as np
import pytest

from deepfakelab.errors import DataError
from deepfakelab.faces import detect_faces
from deepfakelab.media import (
    SYNTHETIC_LABEL,
    add_visible_mark,
    read_metadata,
    read_photo,
    read_video,
    write_video,
)


def _frames(count=6, size=(48, 64)):
    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, (*size, 3), dtype=np.uint8)
    return np.stack([np.roll(base, 3 * i, axis=1) for i in range(count)])


def test_written_video_keeps_rate_and_count_and_says_synthetic(tmp_path):
    path = write_video(tmp_path / "out.mp4", _frames(7), fps=12.5)
    video = read_video(path)
    assert video.frames.shape == (7, 48, 64, 3)
    assert video.fps == pytest.approx(12.5)
    assert not video.has_audio
    tags = read_metadata(path)
    assert tags["comment"] == SYNTHETIC_LABEL and "SYNTHETIC" in tags["description"]


def test_visible_mark_is_a_band_below_the_picture_not_over_it():
    frame = np.full((120, 160, 3), 200, np.uint8)
    marked = add_visible_mark(frame)
    assert marked.shape[0] > 120 and marked.shape[1:] == frame.shape[1:]
    assert np.array_equal(marked[:120], frame)  # every pixel of the picture is kept
    assert marked[120:].max() > 240 and np.median(marked[120:]) < 60  # white text on a dark band


def test_marked_video_is_taller_by_the_band(tmp_path):
    video = read_video(write_video(tmp_path / "m.mp4", _frames(3, (48, 64)), fps=25, visible_mark=True))
    assert video.frames.shape[2] == 64 and video.frames.shape[1] > 48


def test_odd_sizes_are_padded_to_even(tmp_path):
    video = read_video(write_video(tmp_path / "odd.mp4", _frames(3, (45, 61)), fps=25))
    assert video.frames.shape == (3, 46, 62, 3)


def test_audio_is_kept_when_the_driving_video_has_it(real_data, tmp_path):
    driving = read_video(real_data / "d12.mp4", max_frames=10)
    assert driving.has_audio and driving.fps == pytest.approx(25)
    out = read_video(write_video(tmp_path / "a.mp4", driving.frames, driving.fps, audio_from=driving.path))
    assert out.has_audio and len(out.frames) == 10
    silent = read_video(real_data / "d0.mp4", max_frames=3)
    assert not silent.has_audio


def test_corrupt_empty_and_missing_videos_name_the_file(tmp_path):
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(np.random.default_rng(0).integers(0, 255, 5000, dtype=np.uint8).tobytes())
    with pytest.raises(DataError, match="corrupt.mp4: not a readable video"):
        read_video(corrupt)
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(DataError, match="empty.mp4: the file is empty"):
        read_video(empty)
    with pytest.raises(DataError, match="missing.mp4: no such file"):
        read_video(tmp_path / "missing.mp4")


def test_truncated_video_names_the_file(real_data, tmp_path):
    data = (real_data / "d0.mp4").read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 3])  # this file's index (moov atom) is at the end
    with pytest.raises(DataError, match="cut.mp4: not a readable video"):
        read_video(cut)


def test_grayscale_and_rgba_photos_are_converted_with_a_note(tmp_path):
    import imageio.v3 as iio

    gray = np.tile(np.arange(64, dtype=np.uint8) * 4, (64, 1))
    iio.imwrite(tmp_path / "gray.png", gray)
    image, notes = read_photo(tmp_path / "gray.png")
    assert image.shape == (64, 64, 3) and np.array_equal(image[..., 0], gray)
    assert "gray.png: grayscale photo" in notes[0]

    rgba = np.zeros((64, 64, 4), np.uint8)
    rgba[..., 0] = 255
    rgba[:, :32, 3] = 255  # left half opaque red, right half transparent
    iio.imwrite(tmp_path / "rgba.png", rgba)
    image, notes = read_photo(tmp_path / "rgba.png")
    assert image[0, 0].tolist() == [255, 0, 0] and image[0, 63].tolist() == [255, 255, 255]
    assert "rgba.png: photo with transparency" in notes[0]


def test_unreadable_and_tiny_photos(tmp_path):
    (tmp_path / "text.jpg").write_text("not an image")
    with pytest.raises(DataError, match="text.jpg: not a readable image"):
        read_photo(tmp_path / "text.jpg")
    import imageio.v3 as iio

    iio.imwrite(tmp_path / "tiny.png", np.zeros((8, 8, 3), np.uint8))
    image, _ = read_photo(tmp_path / "tiny.png")  # a picture all the same: too small for faces (below)
    with pytest.raises(DataError, match="tiny.png: only 8x8 pixels, too small to find a face"):
        detect_faces(image, str(tmp_path / "tiny.png"))


def test_exif_orientation_turns_the_photo_upright(tmp_path):
    from PIL import Image

    picture = np.zeros((40, 60, 3), np.uint8)
    picture[:, :30] = 255  # left half white, stored sideways
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to view"
    Image.fromarray(picture).save(tmp_path / "phone.jpg", exif=exif, quality=95)
    image, notes = read_photo(tmp_path / "phone.jpg")
    assert image.shape == (60, 40, 3)
    assert image[:20].mean() > 200 and image[40:].mean() < 50  # the white half is now on top
    assert "phone.jpg: turned upright" in notes[0]
