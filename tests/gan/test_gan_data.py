"""Bag data: the Debian Fashion-MNIST layout, torchvision roots, image folders, and the fallback."""

import gzip
import os
import struct
import warnings

import numpy as np
import pytest
import torch
from PIL import Image

from deepfakelab.errors import DataError
from deepfakelab.gan import data as bagdata
from deepfakelab.gan.data import DataWarning, load_bags, load_image_folder, procedural_bags, read_idx


def write_idx(path, array):
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(">" + "I" * array.ndim, *array.shape)
    with gzip.open(path, "wb") as fh:
        fh.write(header + array.astype(np.uint8).tobytes())


def fake_fashion_mnist(folder, n_train=30, n_test=20):
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28)))
        write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", np.arange(n) % 10)


def test_idx_reader_and_torchvision_root(tmp_path):
    fake_fashion_mnist(tmp_path / "FashionMNIST" / "raw")
    bags = load_bags("fashion-mnist", tmp_path)
    assert bags.source == "fashion-mnist"
    assert bags.train.shape == (3, 1, 28, 28)  # labels 0..9 repeated: three 8s in 30
    assert bags.test.shape == (2, 1, 28, 28)
    assert 0 <= bags.train.min() and bags.train.max() <= 1
    raw = read_idx(tmp_path / "FashionMNIST" / "raw" / "train-images-idx3-ubyte.gz")
    assert torch.allclose(bags.train[0, 0], torch.from_numpy(raw[8] / 255.0).float())


def test_corrupt_idx_file_is_a_clear_error(tmp_path):
    (tmp_path / "bad.gz").write_bytes(b"not gzip at all")
    with pytest.raises(DataError, match="bad.gz: not a readable IDX file"):
        read_idx(tmp_path / "bad.gz")


def test_debian_package_layout():
    if not bagdata.DEBIAN_FASHION_MNIST.is_dir():
        if os.environ.get("CI"):
            pytest.fail("CI installs dataset-fashion-mnist (make test), but it is missing")
        pytest.skip("Debian's dataset-fashion-mnist is not installed")
    bags = load_bags()
    assert bags.source == "fashion-mnist"
    assert bags.train.shape == (6000, 1, 28, 28) and bags.test.shape == (1000, 1, 28, 28)
    assert "Fashion-MNIST" in bags.description


def test_image_folder_skips_corrupt_files_and_names_them(tmp_path):
    rng = np.random.default_rng(1)
    Image.fromarray(rng.integers(0, 256, (80, 120, 3), dtype=np.uint8)).save(tmp_path / "wide.png")
    Image.fromarray(rng.integers(0, 256, (100, 50, 3), dtype=np.uint8)).save(tmp_path / "tall.jpg")
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff garbage")
    with pytest.warns(DataWarning, match="broken.jpg"):
        images = load_image_folder(tmp_path, size=64)
    assert images.shape == (2, 3, 64, 64)
    assert images.dtype == torch.float32 and 0 <= images.min() and images.max() <= 1


def test_folder_without_readable_images_is_an_error(tmp_path):
    (tmp_path / "notes.txt").write_text("no images here")
    (tmp_path / "x.png").write_bytes(b"")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        with pytest.raises(DataError, match="no readable images in"):
            load_image_folder(tmp_path)


def test_folder_source_splits_train_and_held_out(tmp_path):
    rng = np.random.default_rng(2)
    for i in range(20):
        Image.fromarray(rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)).save(tmp_path / f"{i}.png")
    bags = load_bags(path=tmp_path, image_size=32)
    assert bags.source == "folder"
    assert (len(bags.train), len(bags.test)) == (18, 2)
    assert bags.train.shape[1:] == (3, 32, 32)


def test_procedural_bags_are_deterministic_and_varied():
    a, b, c = procedural_bags(16, seed=3), procedural_bags(16, seed=3), procedural_bags(16, seed=4)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    assert a.shape == (16, 1, 28, 28) and 0 <= a.min() and a.max() <= 1
    assert (a.flatten(1).std(1) > 0.05).all()  # every image has content
    assert torch.cdist(a.flatten(1), a.flatten(1)).fill_diagonal_(1e9).min() > 0.5  # no two alike
    colour = procedural_bags(4, size=64, channels=3, seed=0)
    assert colour.shape == (4, 3, 64, 64)


def test_without_fashion_mnist_the_kit_falls_back_and_says_so(monkeypatch, tmp_path):
    monkeypatch.setattr(bagdata, "DEBIAN_FASHION_MNIST", tmp_path / "missing")
    monkeypatch.delenv("DEEPFAKELAB_FASHION_MNIST", raising=False)
    bags = load_bags(procedural_count=60)
    assert bags.source == "procedural"
    assert "procedural bags" in bags.description and "no Fashion-MNIST installed" in bags.description
    with pytest.raises(DataError, match="apt-get install dataset-fashion-mnist"):
        load_bags("fashion-mnist")
