"""FOMM training: TPS equivariance, losses, checkpoints, exact resume, and a 2-process DDP run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from deepfakelab.errors import ConfigError
from deepfakelab.reenact.fomm.checkpoint import load_model, read_checkpoint
from deepfakelab.reenact.fomm.losses import equivariance_losses
from deepfakelab.reenact.fomm.model import build_model
from deepfakelab.reenact.fomm.training import TrainParams, load_training_config, train
from deepfakelab.reenact.fomm.transforms import RandomTPS
from helpers import TINY


@pytest.fixture()
def tiny_config(tmp_path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(TINY))
    return path


def test_tps_jacobian_matches_finite_differences():
    transform = RandomTPS(
        3, sigma_affine=0.1, sigma_tps=0.05, points_tps=4, generator=torch.Generator().manual_seed(0)
    )
    points = torch.rand(3, 6, 2, dtype=torch.float64) * 1.6 - 0.8
    transform.theta, transform.control_params = transform.theta.double(), transform.control_params.double()
    jacobian = transform.jacobian(points)
    eps = 1e-6
    columns = []
    for axis in range(2):
        step = torch.zeros(2, dtype=torch.float64)
        step[axis] = eps
        columns.append(
            (transform.warp_coordinates(points + step) - transform.warp_coordinates(points - step))
            / (2 * eps)
        )
    assert torch.allclose(jacobian, torch.stack(columns, dim=-1), atol=1e-6)


def test_zero_noise_transform_is_the_identity_on_coordinates():
    transform = RandomTPS(2, sigma_affine=0.0, sigma_tps=0.0)
    points = torch.rand(2, 5, 2) * 2 - 1
    assert torch.allclose(transform.warp_coordinates(points), points)
    assert torch.allclose(transform.jacobian(points), torch.eye(2).expand(2, 5, 2, 2))


def test_equivariance_losses_reach_the_keypoint_detector():
    model = build_model(load_model_config_from_tiny()).train()
    driving = torch.rand(2, 3, 64, 64)
    transform = RandomTPS(2, generator=torch.Generator().manual_seed(1))
    value, jacobian = equivariance_losses(model.kp_detector, driving, model.kp_detector(driving), transform)
    (value + jacobian).backward()
    assert value.item() > 0 and jacobian.item() > 0
    assert model.kp_detector.kp.weight.grad.abs().sum() > 0
    assert model.kp_detector.jacobian.weight.grad.abs().sum() > 0


def load_model_config_from_tiny():
    from deepfakelab.reenact.fomm.config import model_config_from_dict

    return model_config_from_dict(TINY["model_params"])


def test_training_writes_checkpoints_log_and_strips(tiny_config, tmp_path):
    summary = train(tiny_config, tmp_path / "run", progress=False)
    run = tmp_path / "run"
    assert summary["step"] == 4
    lines = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert [line["step"] for line in lines] == [1, 2, 3, 4]
    assert all(key in lines[0] for key in ("reconstruction", "equivariance_value", "equivariance_jacobian"))
    assert (run / "validation_000002.png").is_file() and (run / "validation_000004.png").is_file()
    checkpoint = read_checkpoint(run / "last.pth.tar")  # weights_only=True loads it
    assert checkpoint["step"] == 4 and "optimizer" in checkpoint
    model = load_model(run / "last.pth.tar")  # self-describing: the config is inside
    assert model.config.common_params.num_kp == 5
    again = train(tiny_config, run, progress=False, dataset=[])  # finished: no data needed, nothing trained
    assert again["step"] == 4 and again["parameter_checksum"] == summary["parameter_checksum"]


def test_resume_after_a_kill_continues_exactly(tiny_config, tmp_path):
    torch.set_num_threads(1)  # bitwise-stable CPU kernels for the comparison
    train(tiny_config, tmp_path / "straight", progress=False)
    first = train(tiny_config, tmp_path / "killed", progress=False, stop_after=2)  # "killed" after step 2
    assert first["step"] == 2
    second = train(tiny_config, tmp_path / "killed", progress=False)
    assert second["step"] == 4
    a = read_checkpoint(tmp_path / "straight" / "last.pth.tar")
    b = read_checkpoint(tmp_path / "killed" / "last.pth.tar")
    for name in ("generator", "kp_detector"):
        for key, value in a[name].items():
            assert torch.allclose(value.float(), b[name][key].float(), atol=1e-5), key


def test_train_params_reject_unknown_settings():
    with pytest.raises(ConfigError, match=r"unknown setting\(s\) \['epochs'\]"):
        TrainParams.from_dict({"epochs": 3})
    with pytest.raises(ConfigError, match="transform_params"):
        TrainParams.from_dict({"transform_params": {"sigma": 1}})


def test_shipped_small_config_parses():
    model_config, params = load_training_config("fomm-small-64")
    assert params.data["kind"] == "heads" and params.data["size"] == 64
    assert sum(p.numel() for p in build_model(model_config).parameters()) < 3_000_000


def test_two_process_ddp_on_gloo_keeps_ranks_in_sync(tiny_config, tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
        "-m",
        "deepfakelab.reenact.fomm.training",
        str(tiny_config),
        "--out",
        str(tmp_path / "ddp"),
        "--threads",
        "1",
        "--steps",
        "2",
    ]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    summaries = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert sorted(s["rank"] for s in summaries) == [0, 1]
    assert all(s["world_size"] == 2 and s["step"] == 2 for s in summaries)
    # Different data on each rank (different losses) but identical weights: gradients were all-reduced.
    assert summaries[0]["losses"] != summaries[1]["losses"]
    assert summaries[0]["parameter_checksum"] == summaries[1]["parameter_checksum"]
    assert (tmp_path / "ddp" / "last.pth.tar").is_file()
