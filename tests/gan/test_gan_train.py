"""GAN training: files of a run, losses that move, exact resume after a kill, and NaN handling."""

import csv

import pytest
import torch

from deepfakelab.errors import ConfigError, TrainingDiverged
from deepfakelab.gan.config import classic28
from deepfakelab.gan.data import procedural_bags
from deepfakelab.gan.training import latest_checkpoint, load_run, read_history, train


@pytest.fixture(scope="module")
def bags():
    return procedural_bags(96, seed=0)


def tiny(epochs=2, **changes):
    return classic28().replace(
        **{
            "train.epochs": epochs,
            "train.batch_size": 16,
            "train.max_steps_per_epoch": 3,
            "train.num_samples": 16,
            **changes,
        }
    )


def test_a_run_writes_everything_and_learns(tmp_path, bags):
    result = train(tiny(epochs=3), bags, tmp_path, progress=False)
    for name in ("config.json", "history.csv", "epochs.csv", "losses.png", "samples/epoch_0003.png"):
        assert (tmp_path / name).is_file(), name
    assert latest_checkpoint(tmp_path).name == "epoch_0003.pt"
    assert len(list((tmp_path / "checkpoints").glob("*.pt"))) == 2  # keep_checkpoints prunes older ones
    history = read_history(tmp_path)
    assert [r["step"] for r in history] == list(range(1, 10))
    assert [r["epoch"] for r in result.epochs] == [1, 2, 3]
    d_losses = [r["d_loss"] for r in history]
    g_losses = [r["g_loss"] for r in history]
    assert len(set(d_losses)) > 5 and len(set(g_losses)) > 5  # losses move
    assert all(0 <= r["d_real"] <= 1 and 0 <= r["d_fake"] <= 1 for r in history)
    generator, config = load_run(tmp_path)
    initial, _ = train.__globals__["build_models"](config)
    assert not torch.equal(generator.net[0][0].weight, initial.net[0][0].weight)
    from PIL import Image
    import numpy as np

    first = np.asarray(Image.open(tmp_path / "samples" / "epoch_0001.png"), dtype=float)
    last = np.asarray(Image.open(tmp_path / "samples" / "epoch_0003.png"), dtype=float)
    assert np.abs(first - last).mean() > 0.25  # the same noise draws different images as G learns


def test_same_seed_same_run(tmp_path, bags):
    a = train(tiny(), bags, tmp_path / "a", progress=False).history
    b = train(tiny(), bags, tmp_path / "b", progress=False).history
    c = train(tiny(**{"train.seed": 1}), bags, tmp_path / "c", progress=False).history
    assert a == b
    assert a != c


class Killed(Exception):
    pass


def test_killed_run_resumes_to_the_same_history(tmp_path, bags):
    config = tiny(epochs=3, **{"discriminator.blocks": classic28().discriminator.blocks})
    config.discriminator.blocks[
        0
    ].dropout = 0.2  # dropout draws from torch's global stream: it must be restored too
    uninterrupted = train(config, bags, tmp_path / "full", progress=False).history

    def kill_after_first_epoch(epoch, summary):
        if epoch == 1:
            raise Killed()

    with pytest.raises(Killed):
        train(config, bags, tmp_path / "killed", progress=False, on_epoch_end=kill_after_first_epoch)
    assert latest_checkpoint(tmp_path / "killed").name == "epoch_0001.pt"
    torch.manual_seed(12345)  # whatever happened in between must not matter
    resumed = train(config, bags, tmp_path / "killed", progress=False)
    assert resumed.resumed_from_epoch == 1
    assert resumed.history == uninterrupted
    with open(tmp_path / "killed" / "history.csv") as fh:
        assert len(list(csv.DictReader(fh))) == 9


def test_more_epochs_extend_a_finished_run(tmp_path, bags):
    train(tiny(epochs=1), bags, tmp_path, progress=False)
    longer = train(tiny(epochs=2), bags, tmp_path, progress=False)
    assert longer.resumed_from_epoch == 1 and len(longer.history) == 6


def test_a_different_config_in_the_same_folder_is_refused(tmp_path, bags):
    train(tiny(epochs=1), bags, tmp_path, progress=False)
    with pytest.raises(ConfigError, match="holds a run with a different config"):
        train(tiny(epochs=1, **{"train.lr": 1e-3}), bags, tmp_path, progress=False)
    fresh = train(tiny(epochs=1, **{"train.lr": 1e-3}), bags, tmp_path, resume=False, progress=False)
    assert fresh.resumed_from_epoch == 0


def test_nan_losses_stop_the_run_and_keep_the_last_good_checkpoint(tmp_path, bags):
    train(tiny(epochs=1), bags, tmp_path, progress=False)
    poisoned = bags.clone()
    poisoned[:, :, 5, 5] = float("nan")
    with pytest.raises(
        TrainingDiverged, match=r"diverged at epoch 2, step 1: d_loss=nan.*epoch_0001.pt.*lower learning rate"
    ):
        train(tiny(epochs=2), poisoned, tmp_path, progress=False)
    assert latest_checkpoint(tmp_path).name == "epoch_0001.pt"
    load_run(tmp_path)  # still loadable


def test_data_that_does_not_fit_the_config_is_explained(tmp_path):
    with pytest.raises(
        ConfigError, match=r"data are \(3, 64, 64\) images but the config expects \(1, 28, 28\)"
    ):
        train(tiny(), torch.rand(32, 3, 64, 64), tmp_path, progress=False)
    with pytest.raises(ConfigError, match="only 8 training images for batch_size 16"):
        train(tiny(), torch.rand(8, 1, 28, 28), tmp_path, progress=False)


def test_cuda_request_without_a_gpu_is_explained(tmp_path, bags):
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(ConfigError, match="no CUDA GPU is visible"):
        train(tiny(**{"train.device": "cuda"}), bags, tmp_path, progress=False)
