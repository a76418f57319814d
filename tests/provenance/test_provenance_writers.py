"""Every picture and video the kit generates carries both marks (issue 30), and a signature that
fails leaves nothing behind.

The main commands run on tiny inputs; then every photo or video file in their output folders is
verified as ``deepfakelab verify`` would: the watermark found with the kit's payload, and a C2PA
manifest that ``c2pa-python``'s reader says is valid. A writer added later without the marks
fails here, unless its file is one of :data:`NOT_GENERATED` (charts, with no generated picture in them).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from deepfakelab import __version__
from deepfakelab.cli import main
from deepfakelab.errors import ConfigError, DataError
from deepfakelab.media.photo import astronaut
from deepfakelab.media.writer import write_video
from deepfakelab.provenance import c2pa_manifest
from deepfakelab.provenance.marking import Provenance, save_marked_image
from deepfakelab.provenance.verify import verify_file
from deepfakelab.demos.reenact import driving_video
from helpers import TINY

MEDIA = {".png", ".jpg", ".jpeg", ".mp4", ".mov", ".m4v"}
#: Files the commands write that show no generated picture: loss curves.
NOT_GENERATED = {"losses.png"}
VERSION = ".".join(__version__.split(".")[:2])


@pytest.fixture(autouse=True)
def _local_key(tmp_path_factory, monkeypatch):
    """A kit-made key in a temporary folder: tests never touch the user's ~/.config."""
    monkeypatch.setenv(c2pa_manifest.DIR_ENV, str(tmp_path_factory.getbasetemp() / "provenance-key"))
    monkeypatch.delenv(c2pa_manifest.KEY_ENV, raising=False)
    monkeypatch.delenv(c2pa_manifest.CERTS_ENV, raising=False)


def media_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in MEDIA)


def assert_all_marked(folder: Path, expected: set[str]) -> None:
    """Every media file under ``folder`` but :data:`NOT_GENERATED` verifies as the kit's, and
    ``expected`` (names) are among them; no temporary file is left."""
    files = media_files(folder)
    assert expected <= {p.name for p in files}, f"missing: {expected - {p.name for p in files}}"
    assert not [p for p in folder.rglob("*.partial*")], "a temporary file was left behind"
    unmarked = []
    for path in files:
        if path.name in NOT_GENERATED:
            continue
        report = verify_file(path)
        if not (report.c2pa == "valid" and report.watermark and report.payload["version"] == VERSION):
            unmarked.append(report.line())
    assert not unmarked, "\n".join(unmarked)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> tuple[Path, Path]:
    """A real photo and a plain (unmarked) driving video of a synthetic head, 10 frames."""
    folder = tmp_path_factory.mktemp("inputs")
    photo, driving = folder / "astronaut.png", folder / "driving.mp4"
    Image.fromarray(astronaut()).save(photo)
    write_video(driving, driving_video(10)[0], 25.0, label="driving (synthetic head)")
    return photo, driving


def test_reenact_marks_the_video_and_the_strip(inputs, tmp_path):
    """``deepfakelab reenact`` (mesh warp, with the face pasted back) writes OUT.mp4 and OUT.png: both marked."""
    photo, driving = inputs
    out = tmp_path / "out" / "fake.mp4"
    assert main(["reenact", str(photo), str(driving), "-o", str(out), "--paste-back", "--mark"]) == 0
    assert_all_marked(out.parent, {"fake.mp4", "fake.png"})
    assert not verify_file(driving).watermark and not verify_file(photo).watermark  # inputs stay as they were


@pytest.mark.slow  # the same writers as above, in another layout
def test_reenact_side_by_side_is_marked(inputs, tmp_path):
    photo, driving = inputs
    out = tmp_path / "out" / "side.mp4"
    assert main(["reenact", str(photo), str(driving), "-o", str(out), "--side-by-side"]) == 0
    assert_all_marked(out.parent, {"side.mp4", "side.png"})


def test_reenact_demo_marks_everything_it_writes(tmp_path):
    from deepfakelab.demos import reenact as demo

    summary = demo.run(tmp_path, quick=True)
    names = {Path(p).name for p in summary["files"].values()}
    assert {"astronaut_warp.mp4", "astronaut_side_by_side.mp4", "astronaut_strip.png"} <= names
    assert_all_marked(tmp_path, names)


GAN_TINY = ["--source", "procedural", "--epochs", "1", "--max-steps-per-epoch", "2", "--batch-size", "16"]


def test_gan_train_sample_and_sweep_mark_their_pictures(tmp_path):
    """Per-epoch sample grids (64 samples: a 242 px grid of 28 px bags, whose watermark lives in the
    label band), ``gan sample`` (PNG and JPEG), and the sweep's figure of samples beside curves."""
    run = tmp_path / "train"
    assert main(["gan", "train", *GAN_TINY, "--out", str(run)]) == 0
    assert main(["gan", "sample", str(run), "-n", "16", "-o", str(tmp_path / "train" / "s.png")]) == 0
    assert main(["gan", "sample", str(run), "-n", "9", "-o", str(tmp_path / "train" / "s.jpg")]) == 0
    assert_all_marked(run, {"epoch_0001.png", "s.png", "s.jpg"})
    sweep = tmp_path / "sweep"
    assert main(["gan", "sweep", *GAN_TINY, "--out", str(sweep), "--vary", "train.lr=[0.001,0.0002]"]) == 0
    assert_all_marked(sweep, {"runs.png", "epoch_0001.png"})


#: The helpers' tiny FOMM, two steps long.
FOMM_TINY = {**TINY, "train_params": {**TINY["train_params"], "steps": 2}}


def test_fomm_training_marks_its_validation_strips(tmp_path):
    from deepfakelab.reenact.fomm.training import train

    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump(FOMM_TINY))
    train(config, tmp_path / "run", progress=False)
    assert_all_marked(tmp_path / "run", {"validation_000002.png"})


# --------------------------------------------------------------- a signature that fails


def _pair(tmp_path: Path, name: str) -> tuple[Path, Path]:
    """A key file and a chain file of a freshly made identity."""
    c2pa_manifest._make_local_identity(tmp_path / name)
    key, chain = c2pa_manifest._split_pem((tmp_path / name / c2pa_manifest.LOCAL_SIGNER).read_bytes())
    (tmp_path / f"{name}-key.pem").write_bytes(key)
    (tmp_path / f"{name}-chain.pem").write_bytes(chain)
    return tmp_path / f"{name}-key.pem", tmp_path / f"{name}-chain.pem"


@pytest.fixture(scope="module")
def gan_run(tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("gan") / "run"
    assert main(["gan", "train", *GAN_TINY, "--out", str(run)]) == 0
    return run


@pytest.mark.parametrize("problem", ["corrupt key", "key of another certificate"])
def test_a_key_that_cannot_sign_stops_a_command_before_it_writes(
    problem, gan_run, tmp_path, monkeypatch, capsys
):
    """One clear line, exit status 2, no output and no temporary file; a file already there is kept."""
    key, chain = _pair(tmp_path, "a")
    if problem == "corrupt key":
        key.write_bytes(b"-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    else:
        key = _pair(tmp_path, "b")[0]
    monkeypatch.setenv(c2pa_manifest.KEY_ENV, str(key))
    monkeypatch.setenv(c2pa_manifest.CERTS_ENV, str(chain))
    run, out = tmp_path / "run", tmp_path / "out"
    out.mkdir()
    (out / "before.png").write_bytes(b"an earlier result")
    capsys.readouterr()
    assert main(["gan", "train", *GAN_TINY, "--out", str(run)]) == 2
    assert main(["gan", "sample", str(gan_run), "-o", str(out / "before.png")]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2 and all(
        line.startswith("deepfakelab: error:") and "signing key" in line for line in lines
    )
    assert not run.exists() or not media_files(run)
    assert sorted(p.name for p in out.iterdir()) == ["before.png"]
    assert (out / "before.png").read_bytes() == b"an earlier result"
    with pytest.raises(ConfigError, match="signing key"):
        write_video(out / "fake.mp4", [np.zeros((64, 64, 3), np.uint8)] * 3, 12.0, provenance=Provenance())
    assert sorted(p.name for p in out.iterdir()) == ["before.png"]


def test_a_signature_failing_after_the_work_leaves_no_file(tmp_path, monkeypatch):
    """Signing fails after the frames are encoded (here: simulated, as a full disk would): one
    DataError that names the output, and neither a half-made nor an unsigned file is left."""

    def fail(path, *args, **kwargs):
        raise c2pa_manifest.SigningError(Path(path), "No space left on device (simulated)")

    monkeypatch.setattr(c2pa_manifest, "sign_file", fail)
    frames = [np.full((96, 96, 3), 90 + i, np.uint8) for i in range(6)]
    existing = tmp_path / "kept.mp4"
    existing.write_bytes(b"an earlier result")
    for path in (tmp_path / "fake.mp4", existing):
        with pytest.raises(
            DataError, match=rf"^{path}: cannot sign its C2PA manifest .*simulated.*no file was written"
        ):
            write_video(path, frames, 12.0, provenance=Provenance())
    with pytest.raises(DataError, match="no file was written"):
        save_marked_image(tmp_path / "fake.png", frames[0])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.mp4"]
    assert existing.read_bytes() == b"an earlier result"


def test_a_failed_write_keeps_the_earlier_file(tmp_path):
    """Frames of two sizes are refused halfway: the earlier file at that path is not deleted."""
    path = tmp_path / "fake.mp4"
    shutil.copyfile(write_video(tmp_path / "first.mp4", [np.zeros((64, 64, 3), np.uint8)] * 2, 12.0), path)
    before = path.read_bytes()
    with pytest.raises(DataError, match="differ in size"):
        write_video(
            path,
            [np.zeros((64, 64, 3), np.uint8), np.zeros((32, 32, 3), np.uint8)],
            12.0,
            provenance=Provenance(),
        )
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fake.mp4", "first.mp4"]


@pytest.mark.parametrize("suffix", [".mov", ".m4v"])
def test_every_video_container_the_kit_writes_is_signed(suffix, tmp_path):
    """reenact -o also takes .mov and .m4v: those are signed too (they were refused after encoding)."""
    path = write_video(tmp_path / f"fake{suffix}", driving_video(8)[0], 12.0, provenance=Provenance())
    assert_all_marked(tmp_path, {path.name})


def test_the_detection_demos_fakes_are_marked_and_its_real_videos_are_not(tmp_path):
    """``demos/detect.py`` makes two fakes of synthetic heads for the report: both carry the kit's
    marks (the report then shows the mark deciding, the detector's guess beside it); the two
    real head videos carry none, so the detector alone decides them."""
    from deepfakelab.demos.detect import make_demo_videos

    videos = make_demo_videos(tmp_path, frames=6, size=128)
    for name, path in videos.items():
        report = verify_file(path)
        if name.startswith("fake_"):
            assert report.c2pa == "valid" and report.watermark, report.line()
        else:
            assert report.c2pa == "none" and not report.watermark, report.line()
