"""The detect command end to end on the real videos: scores, maps, the report and bad inputs."""

from __future__ import annotations

import base64
import json
import re

import pytest
import torch

from deepfakelab.cli import main
from deepfakelab.detect.inference import DeepfakeDetector
from deepfakelab.detect.model import DetectorConfig, build_detector
from deepfakelab.detect.report import verdict
from deepfakelab.detect.train import save_weights


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    """An untrained small detector: the pipeline's plumbing does not depend on what it learned."""
    torch.manual_seed(0)
    config = DetectorConfig(size=64, width=8)
    path = tmp_path_factory.mktemp("weights") / "detector.pt"
    return save_weights(build_detector(config), config, path)


def test_verdict_line():
    assert verdict(0.87) == "FAKE: fake 87 % / real 13 %"
    assert verdict(0.2) == "REAL: fake 20 % / real 80 %"
    assert verdict(None) == "no verdict"


def test_real_video_scores_and_a_map_per_frame(real_data, weights):
    detector = DeepfakeDetector(weights, methods=("gradcam", "gradcam++", "layercam"))
    result = detector.analyse(real_data / "d0.mp4", count=6)
    assert result.error is None and result.frame_count == 78
    assert [f.index for f in result.frames] == [0, 15, 31, 46, 62, 77]
    for frame in result.frames:
        assert 0.0 <= frame.p_fake <= 1.0
        assert set(frame.maps) == {"gradcam", "gradcam++", "layercam"}
        assert all(m.shape == (64, 64) for m in frame.maps.values())
    assert 0.0 <= result.p_fake <= 1.0


def test_short_video_is_scored_with_the_frames_it_has_and_no_face_is_reported(real_data, weights):
    detector = DeepfakeDetector(weights, methods=())
    short = detector.analyse(real_data / "d0.mp4", count=100)
    assert short.error is None and len(short.frames) + len(short.no_face) == 78
    assert any("d0.mp4: has only 78 frames; scoring all of them instead of 100" in n for n in short.notes)
    dog = detector.analyse(real_data / "s33.jpg")
    assert dog.error is None and dog.no_face == [0] and dog.frames == []


def test_detect_command_writes_a_self_contained_report(real_data, weights, tmp_path, capsys):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video" * 100)
    out = tmp_path / "report"
    inputs = [
        real_data / "d0.mp4",
        real_data / "d12.mp4",
        real_data / "s12.jpg",
        real_data / "s33.jpg",
        broken,
    ]
    code = main(
        [
            "detect",
            *map(str, inputs),
            "-o",
            str(out),
            "--count",
            "4",
            "--weights",
            str(weights),
            "--methods",
            "gradcam",
            "eigencam",
        ]
    )
    assert code == 1  # broken.mp4 and the faceless s33.jpg could not be scored; the report holds the rest
    numbers = json.loads((out / "report.json").read_text())
    videos = {v["path"].split("/")[-1]: v for v in numbers["videos"]}
    assert len(videos["d12.mp4"]["frames"]) == 4 and videos["d12.mp4"]["frame_count"] == 183
    assert 0 <= videos["d12.mp4"]["p_fake"] <= 1
    assert videos["d12.mp4"]["p_fake"] + videos["d12.mp4"]["p_real"] == pytest.approx(1.0)
    assert videos["s33.jpg"]["no_face_frames"] == [0] and videos["s33.jpg"]["p_fake"] is None
    assert "not a readable video" in videos["broken.mp4"]["error"]
    page = (out / "report.html").read_text()
    assert "broken.mp4" in page and "No face found" in page
    assert page.count("fake ") >= 3
    assert not re.search(r'(src|href)="(?!data:)', page)  # nothing to fetch: opens offline
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(images) == 1 + 2 * 3  # summary + (scores, maps) for the three inputs with faces
    assert base64.b64decode(images[0])[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "d12_maps.png").is_file() and (out / "summary.png").is_file()
    assert "report:" in capsys.readouterr().out


def test_frames_command(real_data, tmp_path, capsys):
    assert main(["frames", str(real_data / "d12.mp4"), "--index", "32", "79", "-o", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.glob("*.png")) == ["frame_000032.png", "frame_000079.png"]
    assert main(["frames", str(real_data / "d12.mp4"), "--index", "200", "-o", str(tmp_path)]) == 2
    assert "past the end" in capsys.readouterr().err


def test_detect_reports_provenance_beside_the_verdict(weights, tmp_path, capsys):
    """A fake the kit marked is decided by its mark (certain), also after a re-encode stripped the
    manifest; an unmarked video is left to the detector (a guess). Synthetic heads, no real face."""
    import subprocess

    from deepfakelab.media.video import ffmpeg_exe
    from deepfakelab.media.writer import write_video
    from deepfakelab.provenance.marking import Provenance
    from deepfakelab.demos.reenact import driving_video

    frames = driving_video(12)[0]
    marked = write_video(
        tmp_path / "marked.mp4", frames, 12.0, visible_mark=True, provenance=Provenance(file_id=42)
    )
    plain = write_video(tmp_path / "plain.mp4", frames, 12.0, label="a synthetic head, written without marks")
    reencoded = tmp_path / "reencoded.mp4"
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(marked), "-c:v", "libx264", "-crf", "28", str(reencoded)],
        check=True,
    )
    out = tmp_path / "report"
    main(
        [
            "detect",
            str(marked),
            str(reencoded),
            str(plain),
            "-o",
            str(out),
            "--count",
            "4",
            "--weights",
            str(weights),
            "--methods",
            "gradcam",
        ]
    )
    printed = capsys.readouterr().out
    videos = {v["path"].split("/")[-1]: v for v in json.loads((out / "report.json").read_text())["videos"]}
    assert videos["marked.mp4"]["provenance"]["c2pa"] == "valid"
    assert videos["reencoded.mp4"]["provenance"]["c2pa"] == "none"
    for name in ("marked.mp4", "reencoded.mp4"):
        assert (
            videos[name]["provenance"]["watermark"]
            and videos[name]["provenance"]["payload"]["file_id"] == "2a"
        )
        assert videos[name]["decided_by"] == "provenance"
        assert videos[name]["decided_by_line"].startswith(
            "generated by deepfakelab (provenance mark: certain)"
        )
    assert videos["plain.mp4"]["provenance"] == {
        **videos["plain.mp4"]["provenance"],
        "c2pa": "none",
        "watermark": False,
        "payload": None,
    }
    assert (
        videos["plain.mp4"]["decided_by"] == "detector"
    )  # MTCNN finds the synthetic face: a verdict, a guess
    assert "generated by deepfakelab (provenance mark: certain)" in printed
    assert f"{plain}: " in printed or "plain.mp4" in printed
    page = (out / "report.html").read_text()
    assert page.count("provenance mark (certain)") == 2 and "watermark found (deepfakelab" in page
