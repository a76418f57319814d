"""``deepfakelab reenact`` end to end on the real photos and videos in ../shared/data/real/."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from deepfakelab.cli import main
from deepfakelab.errors import ConfigError
from deepfakelab.faces import paste_back
from deepfakelab.faces.drawing import draw_mesh
from deepfakelab.media.photo import read_photo
from deepfakelab.reenact import pipeline
from deepfakelab.reenact.fomm.checkpoint import SHIPPED_WEIGHTS
from deepfakelab.reenact.pipeline import ReenactOptions, mesh_warp_faces, prepare_source
from deepfakelab.reenact.views import side_by_side
from deepfakelab.reenact.fomm.checkpoint import save_checkpoint
from deepfakelab.reenact.fomm.config import model_config_from_dict
from deepfakelab.media import SYNTHETIC_LABEL, read_metadata, read_video
from deepfakelab.reenact.fomm.model import build_model
from deepfakelab.reenact.pipeline import WARP_NOTE


def test_mesh_warp_is_the_default_for_a_real_photo_and_keeps_count_rate_and_audio(
    real_data, tmp_path, capsys
):
    out = tmp_path / "s12_d12.mp4"
    code = main(
        [
            "reenact",
            str(real_data / "s12.jpg"),
            str(real_data / "d12.mp4"),
            "-o",
            str(out),
            "--max-frames",
            "12",
            "--mark",
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "mesh warp" in printed and "12 frames at 25 fps, mesh-warp" in printed
    video = read_video(out)
    assert video.frames.shape[0] == 12 and video.frames.shape[2:] == (256, 3)
    assert video.frames.shape[1] > 256  # --mark: the label is a band below the 256-px result
    assert video.fps == pytest.approx(25) and video.has_audio
    assert read_metadata(out)["comment"] == SYNTHETIC_LABEL
    assert out.with_suffix(".png").is_file()


def test_mesh_warp_keeps_every_frame_of_a_real_video_and_its_rate(real_data, tmp_path):
    # d18.mp4: 216 frames at its own rate, no audio track expected to appear from nowhere
    out = tmp_path / "s1_d18.mp4"
    assert (
        main(
            [
                "reenact",
                str(real_data / "s1.jpg"),
                str(real_data / "d18.mp4"),
                "-o",
                str(out),
                "--max-frames",
                "40",
                "--side-by-side",
            ]
        )
        == 0
    )
    driving, video = read_video(real_data / "d18.mp4", max_frames=40), read_video(out)
    assert len(video.frames) == 40 and video.fps == pytest.approx(driving.fps)
    assert video.has_audio == driving.has_audio
    assert video.frames.shape[1:] == (256, 3 * 256, 3)  # source | driving | result
    assert read_metadata(out)["comment"] == SYNTHETIC_LABEL


def test_side_by_side_draws_the_mesh(real_data, tmp_path):
    source = prepare_source(read_photo(real_data / "s12.jpg")[0], "s12.jpg", 256, 1.8)
    driving = read_video(real_data / "d12.mp4", max_frames=3)
    warped = mesh_warp_faces(source, driving, "d12.mp4", ReenactOptions())
    plain = side_by_side(source.crop, warped.driving_crops, warped.frames)
    meshed = side_by_side(
        source.crop,
        warped.driving_crops,
        warped.frames,
        warped.source_points,
        warped.driving_points,
        warped.moved_points,
        draw_mesh,
    )
    changed = np.any(plain != meshed, axis=-1)
    # the mesh is drawn over the face of each of the three panels: hundreds of pixels each, not 5 dots
    for panel in range(3):
        assert changed[0, :, panel * 256 : (panel + 1) * 256].sum() > 2000


def test_the_warped_face_is_pasted_back_without_a_seam(real_data):
    photo = read_photo(real_data / "s12.jpg")[0]
    source = prepare_source(photo, "s12.jpg", 256, 1.8)
    warped = mesh_warp_faces(
        source, read_video(real_data / "d12.mp4", max_frames=8), "d12.mp4", ReenactOptions()
    )
    moved = np.abs(warped.frames[-1].astype(int) - source.crop).mean(axis=-1)
    assert moved.max() > 30  # the face did move
    pasted = paste_back(photo, warped.frames[-1], source.box).astype(int)
    x0, y0, x1, y1 = (int(v) for v in source.box)
    outside = np.ones(photo.shape[:2], bool)
    outside[max(y0, 0) : y1, max(x0, 0) : x1] = False
    assert np.array_equal(pasted[outside], photo[outside])
    # the crop's border rows and columns are pinned by the warp: pasting back leaves no step there,
    # only the resampling of the crop (a couple of grey levels)
    band = np.zeros(photo.shape[:2], bool)
    band[max(y0, 0) : y1, max(x0, 0) : x1] = True
    inner = band.copy()
    inner[max(y0, 0) + 8 : y1 - 8, max(x0, 0) + 8 : x1 - 8] = False
    assert np.abs(pasted[inner] - photo[inner]).mean() < 3


def test_the_5_point_warp_stays_as_a_baseline(real_data, tmp_path, capsys):
    out = tmp_path / "five.mp4"
    assert (
        main(
            [
                "reenact",
                str(real_data / "s12.jpg"),
                str(real_data / "d12.mp4"),
                "-o",
                str(out),
                "--max-frames",
                "4",
                "--method",
                "landmark-warp",
            ]
        )
        == 0
    )
    assert "4 frames at 25 fps, landmark-warp" in capsys.readouterr().out
    assert read_video(out).frames.shape == (4, 256, 256, 3)


def test_the_shipped_small_fomm_on_a_real_photo_warns_before_any_work(
    real_data, tmp_path, capsys, monkeypatch
):
    def no_work(*args, **kwargs):
        raise ConfigError("stopped: the test only needs what is said before the driving video is read")

    monkeypatch.setattr(pipeline, "read_video", no_work)
    shipped = Path(pipeline.__file__).resolve().parents[1] / SHIPPED_WEIGHTS
    assert (
        main(
            [
                "reenact",
                str(real_data / "s12.jpg"),
                str(real_data / "d12.mp4"),
                "-o",
                str(tmp_path / "x.mp4"),
                "--checkpoint",
                str(shipped),
                "--size",
                "64",
            ]
        )
        == 2
    )
    captured = capsys.readouterr()
    warnings = [line for line in captured.out.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "trained on synthetic heads only" in warnings[0]
    assert "mesh warp" in warnings[0] and "vox-256" in warnings[0]
    assert "stopped" in captured.err


def test_a_method_that_cannot_use_the_inputs_is_one_line(real_data, tmp_path, capsys):
    args = ["reenact", str(real_data / "s12.jpg"), str(real_data / "d12.mp4"), "-o", str(tmp_path / "x.mp4")]
    assert main(args + ["--method", "fomm"]) == 2
    assert "--method fomm needs --checkpoint" in capsys.readouterr().err


def test_paste_back_writes_frames_of_the_source_photo_size(real_data, tmp_path):
    out = tmp_path / "pasted.mp4"
    assert (
        main(
            [
                "reenact",
                str(real_data / "s12.jpg"),
                str(real_data / "d0.mp4"),
                "-o",
                str(out),
                "--max-frames",
                "4",
                "--paste-back",
                "--best-frame",
                "auto",
            ]
        )
        == 0
    )
    assert read_video(out).frames.shape == (4, 500, 376, 3)  # 375 wide, padded to even


def test_fomm_checkpoint_side_by_side(real_data, vectors_path, tmp_path, capsys):
    vectors = torch.load(vectors_path, weights_only=True)
    model = build_model(model_config_from_dict(vectors["config"]))
    model.generator.load_state_dict(vectors["generator"])
    model.kp_detector.load_state_dict(vectors["kp_detector"])
    checkpoint = save_checkpoint(tmp_path / "tiny.pth.tar", model)
    out = tmp_path / "fomm.mp4"
    assert (
        main(
            [
                "reenact",
                str(real_data / "d8.jpg"),
                str(real_data / "d0.mp4"),
                "-o",
                str(out),
                "--checkpoint",
                str(checkpoint),
                "--size",
                "128",
                "--max-frames",
                "3",
                "--side-by-side",
            ]
        )
        == 0
    )
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
    args = [
        "reenact",
        str(folder.get(source, tmp_path / source)),
        str(folder.get(driving, tmp_path / driving)),
        "-o",
        str(tmp_path / "x.mp4"),
        "--max-frames",
        "2",
    ]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "x.mp4").exists()


def test_bad_checkpoint_is_refused_with_a_message(real_data, tmp_path, capsys):
    (tmp_path / "vox-cpk.pth.tar").write_bytes(b"PK\x03\x04 truncated")
    assert (
        main(
            [
                "reenact",
                str(real_data / "s12.jpg"),
                str(real_data / "d0.mp4"),
                "-o",
                str(tmp_path / "x.mp4"),
                "--checkpoint",
                str(tmp_path / "vox-cpk.pth.tar"),
                "--max-frames",
                "2",
            ]
        )
        == 2
    )
    assert "vox-cpk.pth.tar could not be read" in capsys.readouterr().err


def test_warp_note_says_what_ran():
    assert "mesh warp" in WARP_NOTE and "not the First Order Motion Model" in WARP_NOTE


@pytest.mark.slow
def test_full_driving_video(real_data, tmp_path):
    out = tmp_path / "full.mp4"
    assert main(["reenact", str(real_data / "s9.jpg"), str(real_data / "d0.mp4"), "-o", str(out)]) == 0
    video = read_video(out)
    assert len(video.frames) == 78 and video.fps == pytest.approx(25)


def test_the_mesh_warp_runs_its_frames_on_one_torch_thread(monkeypatch, real_data, tmp_path):
    """``reenact_files`` gives the warps one torch thread (the decoder and the encoder want the other
    core: ``bench/reenact_speed.py`` measured 35-38 against 24 frames/s on 2 cores) and gives the
    caller's count back afterwards."""
    seen = []

    def tracking(*args, **kwargs):
        seen.append(torch.get_num_threads())
        raise RuntimeError("stop here")

    monkeypatch.setattr(pipeline, "mesh_warp_faces", tracking)
    before = torch.get_num_threads()
    torch.set_num_threads(2)  # the command's default on 2 cores (the test run may use fewer)
    try:
        with pytest.raises(RuntimeError, match="stop here"):
            pipeline.reenact_files(real_data / "s1.jpg", real_data / "d12.mp4", tmp_path / "out.mp4")
        assert seen == [1] and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
