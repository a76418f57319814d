"""``deepfakelab reenact`` end to end on the real photos and videos in ../shared/data/real/."""

from __future__ import annotations

import pytest
import torch

from deepfakelab.cli import main
from deepfakelab.reenact.checkpoint import save_checkpoint
from deepfakelab.reenact.config import model_config_from_dict
from deepfakelab.media import SYNTHETIC_LABEL, read_metadata, read_video
from deepfakelab.reenact.model import build_model
from deepfakelab.reenact.pipeline import WARP_NOTE


def test_warp_reenactment_of_a_real_photo_keeps_count_rate_and_audio(real_data, tmp_path, capsys):
    out = tmp_path / "s12_d12.mp4"
    code = main(["reenact", str(real_data / "s12.jpg"), str(real_data / "d12.mp4"), "-o", str(out),
                 "--max-frames", "12", "--mark"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "landmark warp" in printed and "12 frames at 25 fps" in printed
    video = read_video(out)
    assert video.frames.shape[0] == 12 and video.frames.shape[2:] == (256, 3)
    assert video.frames.shape[1] > 256  # --mark: the label is a band below the 256-px result
    assert video.fps == pytest.approx(25) and video.has_audio
    assert read_metadata(out)["comment"] == SYNTHETIC_LABEL
    assert out.with_suffix(".png").is_file()


def test_paste_back_writes_frames_of_the_source_photo_size(real_data, tmp_path):
    out = tmp_path / "pasted.mp4"
    assert main(["reenact", str(real_data / "s12.jpg"), str(real_data / "d0.mp4"), "-o", str(out),
                 "--max-frames", "4", "--paste-back", "--best-frame", "auto"]) == 0
    assert read_video(out).frames.shape == (4, 500, 376, 3)  # 375 wide, padded to even


def test_fomm_checkpoint_side_by_side(real_data, vectors_path, tmp_path, capsys):
    vectors = torch.load(vectors_path, weights_only=True)
    model = build_model(model_config_from_dict(vectors["config"]))
    model.generator.load_state_dict(vectors["generator"])
    model.kp_detector.load_state_dict(vectors["kp_detector"])
    checkpoint = save_checkpoint(tmp_path / "tiny.pth.tar", model)
    out = tmp_path / "fomm.mp4"
    assert main(["reenact", str(real_data / "d8.jpg"), str(real_data / "d0.mp4"), "-o", str(out),
                 "--checkpoint", str(checkpoint), "--size", "128", "--max-frames", "3", "--side-by-side"]) == 0
    assert "fomm" in capsys.readouterr().out
    assert read_video(out).frames.shape == (3, 128, 3 * 128, 3)


@pytest.fixture()
def vectors_path(shared_dir):
    path = shared_dir / "conformance" / "fomm" / "fomm_tiny_conformance.pt"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    return path


@pytest.mark.parametrize(
    "source, driving, message",
    [
        ("s33.jpg", "d0.mp4", "s33.jpg: no face found"),
        ("s12.jpg", "nothing.mp4", "nothing.mp4: no such file"),
        ("s12.jpg", "empty.mp4", "empty.mp4: the file is empty"),
        ("s12.jpg", "s33.jpg", "s33.jpg: no face found in any of its 1 frames"),
    ],
)
def test_bad_inputs_print_one_clear_line(real_data, tmp_path, capsys, source, driving, message):
    (tmp_path / "empty.mp4").write_bytes(b"")
    folder = {name: real_data / name for name in ("s33.jpg", "s12.jpg", "d0.mp4")}
    args = ["reenact", str(folder.get(source, tmp_path / source)), str(folder.get(driving, tmp_path / driving)),
            "-o", str(tmp_path / "x.mp4"), "--max-frames", "2"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "x.mp4").exists()


def test_bad_checkpoint_is_refused_with_a_message(real_data, tmp_path, capsys):
    (tmp_path / "vox-cpk.pth.tar").write_bytes(b"PK\x03\x04 truncated")
    assert main(["reenact", str(real_data / "s12.jpg"), str(real_data / "d0.mp4"), "-o", str(tmp_path / "x.mp4"),
                 "--checkpoint", str(tmp_path / "vox-cpk.pth.tar"), "--max-frames", "2"]) == 2
    assert "vox-cpk.pth.tar could not be read" in capsys.readouterr().err


def test_warp_note_says_what_ran():
    assert "not the First Order Motion Model" in WARP_NOTE


@pytest.mark.slow
def test_full_driving_video(real_data, tmp_path):
    out = tmp_path / "full.mp4"
    assert main(["reenact", str(real_data / "s9.jpg"), str(real_data / "d0.mp4"), "-o", str(out)]) == 0
    video = read_video(out)
    assert len(video.frames) == 78 and video.fps == pytest.approx(25)
