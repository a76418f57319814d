"""The train-and-evaluate pipeline on toy data, and a face set from real/ and fake/ video folders."""

from __future__ import annotations

import json

import pytest

from deepfakelab.cli import main
from deepfakelab.detect import cli as detect_cli
from deepfakelab.detect.evaluation import train_and_evaluate
from deepfakelab.detect.explain import CAM_METHODS
from deepfakelab.detect.model import ARCHITECTURES
from deepfakelab.errors import ConfigError, DataError
from deepfakelab.fakes.faceset import FaceSet
from deepfakelab.fakes.folders import build_from_folders
from deepfakelab.fakes.synthetic import build_faceset

from helpers import toy_sources


def test_cli_names_match_the_modules():
    assert detect_cli.CAM_METHODS == CAM_METHODS
    assert detect_cli.ARCHITECTURES == ARCHITECTURES


@pytest.fixture(scope="module")
def toy_faces() -> FaceSet:
    return build_faceset(
        toy_sources(identities=7, videos=1, frames=2), ["self_blend", "face_swap"], size=32, progress=False
    )


def test_train_and_evaluate_writes_every_table(toy_faces, tmp_path):
    ev = train_and_evaluate(
        toy_faces,
        tmp_path,
        epochs=1,
        batch_size=16,
        device="cpu",
        hold_out="face_swap",
        progress=False,
        methods=("gradcam", "layercam"),
    )
    saved = json.loads((tmp_path / "evaluation.json").read_text())
    assert saved["config"]["hold_out"] == "face_swap"
    assert set(ev["test"]) == {"all", "self_blend", "face_swap"} == set(ev["test_jpeg50"])
    for row in ev["test"].values():
        assert 0 <= row["frame_auc"] <= 1 and 0 <= row["eer"] <= 1 and row["videos"] >= 2
    assert set(ev["explain"]) == {"gradcam", "layercam"}
    for e in ev["explain"].values():
        assert 0 <= e["pointing_game"] <= 1 and e["fakes"] > 0
        assert e["energy_in_mask"] is None or 0 <= e["energy_in_mask"] <= 1
        assert -1 <= e["rank_corr_with_random_model"] <= 1
    # the held-out manipulation never reached training: all its crops sit in the test split only
    counts = ev["counts"]
    assert counts["train"] + counts["val"] + counts["test"] < len(toy_faces)


def test_every_seed_holds_out_the_same_people(toy_faces, tmp_path):
    """--seed draws the training's randomness, not the split: runs of two seeds are evaluated on
    the same held-out identities (they were not, and a second seed's synthetic test numbers then
    came from identities the first seed had trained on)."""
    runs = [
        train_and_evaluate(
            toy_faces,
            tmp_path / str(seed),
            epochs=1,
            batch_size=16,
            device="cpu",
            seed=seed,
            progress=False,
            methods=("gradcam",),
        )
        for seed in (0, 1)
    ]
    assert runs[0]["held_out"] == runs[1]["held_out"] and runs[0]["held_out"]["test"]
    assert set(runs[0]["held_out"]["test"]).isdisjoint(runs[0]["held_out"]["val"])
    saved = json.loads((tmp_path / "1" / "evaluation.json").read_text())
    assert saved["held_out"] == runs[1]["held_out"]


def test_unknown_hold_out_is_a_clear_error(toy_faces, tmp_path):
    with pytest.raises(ConfigError, match="no such manipulation"):
        train_and_evaluate(toy_faces, tmp_path, epochs=1, hold_out="deepfacelab", progress=False)


def test_face_set_from_real_and_fake_folders(real_data, tmp_path):
    for label, name in (("real", "d0.mp4"), ("fake", "d12.mp4")):
        (tmp_path / "videos" / label).mkdir(parents=True)
        (tmp_path / "videos" / label / name).symlink_to(real_data / name)
    (tmp_path / "videos" / "fake" / "000_003.mp4").write_bytes(b"broken")
    code = main(
        [
            "detect-data",
            "--videos",
            str(tmp_path / "videos"),
            "--frames",
            "3",
            "--size",
            "64",
            "--device",
            "cpu",
            "--out",
            str(tmp_path / "faces.npz"),
        ]
    )
    assert code == 0
    faces = FaceSet.load(tmp_path / "faces.npz")
    assert faces.images.shape == (6, 64, 64, 3)
    assert faces.labels.tolist() == [0, 0, 0, 1, 1, 1]
    assert set(faces.video) == {"real/d0.mp4", "fake/d12.mp4"} and not faces.has_mask.any()


def test_folder_without_fakes_is_an_error(tmp_path):
    (tmp_path / "real").mkdir()
    with pytest.raises(DataError, match="expected sub-folders real/ and fake/, each with videos"):
        build_from_folders(tmp_path, tmp_path / "faces.npz")
