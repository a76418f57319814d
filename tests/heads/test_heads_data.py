"""Synthetic head datasets: exact splits by identity, deterministic items, files in FOMM's layout."""

from __future__ import annotations

import json

import imageio.v3 as iio
import numpy as np
import pytest
import torch

from deepfakelab.cli import main
from deepfakelab.errors import ConfigError
from deepfakelab.heads import FramePairs, HeadsConfig, TalkingHeads, split_identities, write_dataset

SMALL = HeadsConfig(size=64, frames=6, seed=5, accessory_rate=0.5)


def test_splits_are_disjoint_complete_and_reproducible():
    splits = split_identities(1000, val_fraction=0.1, test_fraction=0.2, seed=3)
    sets = {k: set(v.tolist()) for k, v in splits.items()}
    assert [len(sets[k]) for k in ("train", "val", "test")] == [700, 100, 200]
    assert (
        not (sets["train"] & sets["val"])
        and not (sets["train"] & sets["test"])
        and not (sets["val"] & sets["test"])
    )
    assert set().union(*sets.values()) == set(range(1000))
    again = split_identities(1000, val_fraction=0.1, test_fraction=0.2, seed=3)
    assert all(np.array_equal(splits[k], again[k]) for k in splits)
    assert not np.array_equal(split_identities(1000, 0.1, 0.2, seed=4)["test"], splits["test"])
    with pytest.raises(ConfigError, match="fraction"):
        split_identities(10, 0.5, 0.5)


def test_videos_are_deterministic_and_identities_do_not_leak_across_splits():
    splits = split_identities(20, 0.2, 0.2, seed=SMALL.seed)
    train = TalkingHeads(splits["train"], videos_per_identity=2, config=SMALL, masks=True)
    test = TalkingHeads(splits["test"], config=SMALL)
    assert len(train) == 24 and len(test) == 4
    item = train[3]
    assert item["video"].shape == (6, 3, 64, 64) and item["video"].dtype == torch.float32
    assert 0.0 <= item["video"].min() and item["video"].max() <= 1.0
    assert item["landmarks"].shape == (6, 68, 2) and item["visible"].shape == (6, 68)
    assert item["pose"].shape == (6, 6) and item["expression"].shape == (6, 6)
    assert item["masks"].shape == (6, 7, 64, 64) and item["masks"].dtype == torch.bool
    assert item["identity"] == splits["train"][1] and item["video_index"] == 1
    assert torch.equal(train[3]["video"], item["video"])  # same index, same pixels
    assert not torch.equal(train[2]["video"], item["video"])  # same person, another video
    seen_train = {train.spec(i).identity.seed for i in range(len(train))}
    seen_test = {test.spec(i).identity.seed for i in range(len(test))}
    assert len(seen_train) == 12 and not seen_train & seen_test
    assert torch.equal(item["video"][0], torch.from_numpy(train.render(3)[0].image).permute(2, 0, 1) / 255)


def test_frame_pairs_come_from_one_video():
    pairs = FramePairs(range(4), config=SMALL, repeats=3)
    assert len(pairs) == 12
    item = pairs[5]
    assert item["source"].shape == (3, 64, 64) and item["driving"].shape == (3, 64, 64)
    assert item["source_landmarks"].shape == (68, 2) and item["driving_state"].shape == (12,)
    assert item["source_face_mask"].shape == (64, 64) and item["source_face_mask"].any()
    first, second = item["frames"].tolist()
    assert first != second
    video = TalkingHeads(range(4), config=SMALL)[5 % 4]
    assert torch.equal(video["video"][first], item["source"])
    assert torch.equal(video["video"][second], item["driving"])
    assert torch.equal(video["landmarks"][second], item["driving_landmarks"])
    assert torch.equal(pairs[5]["driving"], item["driving"])
    batch = next(iter(torch.utils.data.DataLoader(pairs, batch_size=4)))
    assert batch["source"].shape == (4, 3, 64, 64)
    with pytest.raises(IndexError):
        pairs[12]


def test_bad_dataset_settings():
    with pytest.raises(ConfigError, match="motion"):
        HeadsConfig(motion="dance")
    with pytest.raises(ConfigError, match="size"):
        HeadsConfig(size=8)
    with pytest.raises(ConfigError, match="seed"):
        HeadsConfig(seed=-1)
    with pytest.raises(ConfigError, match="at least 2 frames"):
        FramePairs(range(2), config=HeadsConfig(frames=1))


def test_writer_makes_fomm_layout_with_ground_truth(tmp_path):
    config = HeadsConfig(size=64, frames=4, seed=1)
    written = write_dataset(tmp_path / "png", 5, config, test_fraction=0.2, progress=False)
    root = tmp_path / "png"
    assert len(written["train"]) == 4 and len(written["test"]) == 1
    assert not set(written["train"]) & set(written["test"])
    for split, names in written.items():
        for name in names:
            frames = sorted((root / split / name).iterdir())
            assert [f.name for f in frames] == [f"{k:07d}.png" for k in range(4)]
            truth = np.load(root / "ground_truth" / split / f"{name}.npz")
            assert truth["landmarks"].shape == (4, 68, 2) and truth["visible"].shape == (4, 68)
    assert sorted(p.name for p in (root / "train").iterdir()) == sorted(written["train"])
    assert json.loads((root / "heads.json").read_text())["config"]["size"] == 64
    # The files hold exactly what the dataset renders.
    name = written["test"][0]
    identity_index = int(name[2:7])
    image = iio.imread(root / "test" / name / "0000002.png")
    expected = TalkingHeads([identity_index], config=config)[0]["video"][2]
    assert np.array_equal(image, (expected.permute(1, 2, 0) * 255).round().byte().numpy())

    write_dataset(tmp_path / "mp4", 2, config, test_fraction=0.5, fmt="mp4", progress=False)
    videos = sorted((tmp_path / "mp4").glob("*/*.mp4"))
    assert len(videos) == 2
    decoded = iio.imread(videos[0], plugin="FFMPEG")
    assert decoded.shape == (4, 64, 64, 3)


def test_cli_make_and_clear_errors(tmp_path, capsys):
    out = tmp_path / "made"
    code = main(
        [
            "heads",
            "make",
            str(out),
            "--videos",
            "2",
            "--frames",
            "2",
            "--size",
            "64",
            "--seed",
            "3",
            "--test-fraction",
            "0.5",
        ]
    )
    assert code == 0 and len(list((out / "train").iterdir())) == 1
    code = main(["heads", "make", str(tmp_path / "bad"), "--videos", "1", "--size", "63", "--format", "mp4"])
    assert code == 2 and "even frame size" in capsys.readouterr().err
    code = main(["heads", "make", str(tmp_path / "bad"), "--size", "4000"])
    assert code == 2 and "size must be between" in capsys.readouterr().err


def test_cli_sheet_writes_both_pictures(tmp_path):
    code = main(
        ["heads", "sheet", str(tmp_path), "--rows", "1", "--columns", "3", "--size", "64", "--landmarks"]
    )
    assert code == 0
    sheet, strip = iio.imread(tmp_path / "heads_sheet.png"), iio.imread(tmp_path / "heads_talking.png")
    assert sheet.ndim == 3 and sheet.shape[1] > sheet.shape[0]  # one row of three
    assert strip.shape[1] > 3 * strip.shape[0]  # a strip of eight frames over two rows
