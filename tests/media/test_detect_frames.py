"""Frame-exact extraction, the sidecar JSON, and clear errors for bad videos."""

from __future__ import annotations

import json

import cv2
import imageio.v3 as iio
import numpy as np
import pytest

from deepfakelab.media import extract_frames, probe_video, save_frames, select_indices
from deepfakelab.media.frames import evenly_spaced
from deepfakelab.errors import ConfigError, DataError


@pytest.fixture(scope="module")
def numbered_video(tmp_path_factory):
    """20 frames whose index is written into the pixels (frame i is grey level 10 * i)."""
    path = tmp_path_factory.mktemp("video") / "numbered.mp4"
    frames = np.stack([np.full((64, 64, 3), 10 * i, np.uint8) for i in range(20)])
    iio.imwrite(path, frames, fps=10, codec="libx264", macro_block_size=16)
    return path


def test_frames_are_exact_by_decoding_order(numbered_video):
    info, frames = extract_frames(numbered_video, indices=[0, 7, 19])
    assert info.frame_count == 20
    assert sorted(frames) == [0, 7, 19]
    for index, frame in frames.items():
        assert frame.shape == (64, 64, 3) and frame.dtype == np.uint8
        assert abs(float(frame.mean()) - 10 * index) < 3  # lossy codec, but never a neighbour's 10 levels


def test_index_past_the_end_is_an_error(numbered_video):
    with pytest.raises(DataError, match="frame index 20 is past the end.*20 frames"):
        extract_frames(numbered_video, indices=[3, 20])


def test_count_longer_than_video_is_an_error(numbered_video):
    with pytest.raises(DataError, match="21 frames were asked for.*only 20"):
        extract_frames(numbered_video, count=21)


def test_select_indices_modes():
    assert select_indices(10, every=4) == [0, 4, 8]
    assert select_indices(10, count=3) == [0, 4, 9]  # evenly spread, first and last included
    assert select_indices(10, indices=[5, 1, 5]) == [1, 5]
    with pytest.raises(ConfigError):
        select_indices(10, every=2, count=3)
    with pytest.raises(ConfigError):
        select_indices(10, every=0)


def test_evenly_spaced_is_the_one_rule_for_a_few_frames():
    assert evenly_spaced(10, 3) == [0, 4, 9]
    assert evenly_spaced(5, 8) == [0, 1, 2, 3, 4]  # never more than there are, never a repeat
    assert evenly_spaced(0, 4) == [] and evenly_spaced(7, 0) == []
    assert select_indices(97, count=6) == evenly_spaced(97, 6)


def test_sidecar_names_files_by_index(numbered_video, tmp_path):
    sidecar = save_frames(numbered_video, tmp_path, every=8)
    meta = json.loads(sidecar.read_text())
    assert meta["indices"] == [0, 8, 16]
    assert meta["frame_count"] == 20 and meta["fps"] == pytest.approx(10.0)
    assert meta["source"].endswith("numbered.mp4")
    assert sorted(p.name for p in tmp_path.glob("*.png")) == [
        "frame_000000.png",
        "frame_000008.png",
        "frame_000016.png",
    ]


@pytest.mark.parametrize("content", [b"", b"\x00garbage" * 500])
def test_empty_and_corrupt_files_are_clear_errors(tmp_path, content):
    path = tmp_path / "broken.mp4"
    path.write_bytes(content)
    with pytest.raises(DataError, match="broken.mp4"):
        extract_frames(path, count=2)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        probe_video(tmp_path / "nope.mp4")


def test_real_video_frame_count_and_exactness(real_data):
    """d12.mp4 decodes to 183 frames; frame 32 equals the 33rd frame OpenCV decodes."""
    video = real_data / "d12.mp4"
    info, frames = extract_frames(video, indices=[32, 79, 182])
    assert info.frame_count == 183 and info.width == 512
    capture = cv2.VideoCapture(str(video))
    for _ in range(33):
        ok, reference = capture.read()
    capture.release()
    assert ok
    assert np.abs(frames[32].astype(int) - reference[..., ::-1]).mean() < 1.0
    with pytest.raises(DataError, match="past the end"):
        extract_frames(video, indices=[183])


def test_real_video_count(real_data):
    info, frames = extract_frames(real_data / "d0.mp4", count=32)
    assert info.frame_count == 78 and len(frames) == 32
