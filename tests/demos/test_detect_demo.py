"""The demo's inputs (two real head videos, two fakes made from them) and the demo part itself."""

from __future__ import annotations

import pytest

from deepfakelab.demos.detect import make_demo_videos, run
from deepfakelab.detect.inference import DEFAULT_WEIGHTS
from deepfakelab.media import probe_video


def test_demo_videos_are_four_readable_clips(tmp_path):
    videos = make_demo_videos(tmp_path, frames=3, size=128)
    assert set(videos) == {"real_0", "real_1", "fake_face_swap", "fake_landmark_warp"}
    for path in videos.values():
        info = probe_video(path)
        assert info.frame_count == 3 and (info.width, info.height) == (128, 128)


@pytest.mark.slow
def test_demo_part_writes_a_report(tmp_path):
    result = run(tmp_path / "detect", quick=True)
    if not DEFAULT_WEIGHTS.exists():
        assert "no detector weights" in result["skipped"]
        return
    assert (tmp_path / "detect" / "report.html").is_file()
    assert len(result["p_fake"]) >= 4
    assert all(p is None or 0 <= p <= 1 for p in result["p_fake"].values())
