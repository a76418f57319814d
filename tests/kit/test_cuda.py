"""CUDA paths: what the kit computes on a GPU agrees with what it computes on the CPU.

CI has no GPU, so these are skipped there (with the reason); on a machine with one, run
``pytest tests/kit/test_cuda.py``. Every test compares a GPU result with the CPU result of the same
weights and inputs, and checks that what a GPU run saves loads on a CPU-only machine (a student
who trained on a lab's GPU and grades on a laptop).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")


@pytest.fixture(scope="module")
def head_video() -> np.ndarray:
    """Eight 64 px frames of one synthetic talking head, uint8 ``(8, 64, 64, 3)``."""
    from deepfakelab.heads import HeadsConfig, TalkingHeads

    item = TalkingHeads([3], videos_per_identity=1, config=HeadsConfig(size=64, frames=8, seed=0))[0]
    return (item["video"].permute(0, 2, 3, 1).numpy() * 255 + 0.5).astype(np.uint8)


def test_gan_trains_on_cuda_and_its_run_loads_on_cpu(tmp_path):
    from deepfakelab.gan.config import classic28
    from deepfakelab.gan.data import procedural_bags
    from deepfakelab.gan.training import load_run, read_history, train

    config = classic28().replace(
        **{
            "train.epochs": 2,
            "train.batch_size": 16,
            "train.max_steps_per_epoch": 3,
            "train.num_samples": 16,
            "train.device": "cuda",
        }
    )
    train(config, procedural_bags(64, seed=0), tmp_path, progress=False)
    history = read_history(tmp_path)
    assert len(history) == 6 and all(np.isfinite(r["d_loss"]) and np.isfinite(r["g_loss"]) for r in history)
    generator, _ = load_run(tmp_path, device="cpu")
    assert next(generator.parameters()).device.type == "cpu"
    on_gpu, _ = load_run(tmp_path, device="cuda")
    z = torch.randn(4, generator.z_dim, 1, 1)
    with torch.no_grad():
        assert torch.allclose(generator(z), on_gpu(z.cuda()).cpu(), atol=1e-4)


def test_shipped_fomm_animates_the_same_on_cuda(head_video):
    from deepfakelab.labs.lab1.notebook import load_model
    from deepfakelab.reenact.fomm.animate import animate

    model = load_model()
    cpu = animate(head_video[0], list(head_video), model, progress=False)
    gpu = animate(head_video[0], list(head_video), model.cuda(), progress=False)
    assert gpu.device.type == "cpu"  # results always come back to the CPU
    assert (gpu - cpu).abs().max().item() < 2e-3


def test_fomm_training_on_cuda_resumes_on_cpu(tmp_path):
    import yaml

    from deepfakelab.reenact.fomm.training import train

    from helpers import TINY

    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(TINY))
    first = train(path, tmp_path / "run", stop_after=2, device="cuda", progress=False)
    assert first["step"] == 2
    second = train(path, tmp_path / "run", device="cpu", progress=False)
    assert second["step"] == 4 and all(np.isfinite(v) for v in second["losses"].values())


def test_detector_scores_and_maps_agree_on_cuda(head_video):
    import cv2

    from deepfakelab.detect.inference import DeepfakeDetector

    side = 128
    crops = [cv2.resize(f, (side, side), interpolation=cv2.INTER_CUBIC) for f in head_video[:4]]
    cpu_scores, cpu_maps = DeepfakeDetector(device="cpu").score_crops(crops)
    gpu_scores, gpu_maps = DeepfakeDetector(device="cuda").score_crops(crops)
    assert np.abs(cpu_scores - gpu_scores).max() < 1e-3
    for method in cpu_maps:
        assert np.abs(cpu_maps[method] - gpu_maps[method]).max() < 2e-2, method


def test_mtcnn_on_cuda_finds_the_face_the_cpu_finds():
    from deepfakelab.faces.cropper import FaceCropper
    from deepfakelab.heads import HeadsConfig, TalkingHeads

    item = TalkingHeads([5], videos_per_identity=1, config=HeadsConfig(size=256, frames=1, seed=0))[0]
    frame = (item["video"][0].permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8)
    cpu = FaceCropper(size=128, device="cpu").crop(frame)
    gpu = FaceCropper(size=128, device="cuda").crop(frame)
    assert cpu is not None and gpu is not None
    assert np.abs(np.subtract(cpu.box, gpu.box)).max() <= 2


def test_detector_trains_on_cuda_and_loads_on_cpu(tmp_path):
    from deepfakelab.detect.inference import load_detector
    from deepfakelab.detect.model import DetectorConfig
    from deepfakelab.detect.train import TrainConfig, train_detector
    from deepfakelab.fakes.synthetic import build_faceset

    from helpers import toy_sources

    faces = build_faceset(
        toy_sources(identities=4, videos=1, frames=3), ["self_blend", "face_swap"], size=48, progress=False
    )
    config = TrainConfig(detector=DetectorConfig(size=48, width=8), epochs=2, batch_size=16, device="cuda")
    result = train_detector(faces, faces, tmp_path, config, progress=False)
    assert all(np.isfinite(h["loss"]) for h in result["history"])
    model, _ = load_detector(result["weights"], "cpu")
    assert next(model.parameters()).device.type == "cpu"
