"""The kit's First Order Motion Model against reference vectors from the published code.

See ../shared/conformance/fomm/README.md for what each vector is.
"""

from __future__ import annotations

import json

import pytest
import torch

from deepfakelab.reenact.fomm.config import load_model_config, model_config_from_dict
from deepfakelab.reenact.fomm.model import FirstOrderModel, build_model
from deepfakelab.reenact.fomm.motion_transfer import transfer_motion

KP_TOL = 1e-5
IMAGE_TOL = 1e-4
#: The relative Jacobians go through the inverse of driving frame 0's Jacobians, whose condition
#: number here is 436: float32 rounding alone moves them by ~1e-4 (the reference's own keypoints,
#: re-transferred with this torch, differ from its stored result by 7.9e-5, and by 9.0e-5 in
#: float64), so 1e-5 would test the LAPACK build, not the kit. Measured in
#: test_relative_jacobian_tolerance_is_rounding below.
RELATIVE_JACOBIAN_TOL = 2e-4


@pytest.fixture(scope="module")
def conformance_dir(shared_dir):
    path = shared_dir / "conformance" / "fomm"
    if not path.is_dir():
        pytest.skip(f"{path} not found")
    return path


@pytest.fixture(scope="module")
def vectors(conformance_dir):
    return torch.load(conformance_dir / "fomm_tiny_conformance.pt", weights_only=True)


@pytest.fixture(scope="module")
def tiny_model(vectors):
    model = FirstOrderModel(model_config_from_dict(vectors["config"])).eval()
    model.generator.load_state_dict(vectors["generator"], strict=True)
    model.kp_detector.load_state_dict(vectors["kp_detector"], strict=True)
    return model


def max_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    assert a.shape == b.shape, (a.shape, b.shape)
    return (a - b).abs().max().item()


def test_vox256_state_dict_keys_and_shapes_match_the_published_model(conformance_dir):
    published = json.loads((conformance_dir / "vox256_state_dict_shapes.json").read_text())
    config = load_model_config("vox-256")
    # The shipped YAML is the published model_params block, value for value.
    assert model_config_from_dict(published["config"]) == config
    model = build_model(config)
    for name in ("generator", "kp_detector"):
        ours = {key: list(value.shape) for key, value in getattr(model, name).state_dict().items()}
        assert ours == published[name], f"{name}: keys or shapes differ from the published model"
        params = sum(p.numel() for p in getattr(model, name).parameters())
        assert params == published["param_count"][name]


def test_keypoints_and_jacobians_match(tiny_model, vectors):
    with torch.inference_mode():
        kp_source = tiny_model.kp_detector(vectors["source"])
        kp_driving = tiny_model.kp_detector(vectors["driving"])
    assert max_diff(kp_source.value, vectors["kp_source_value"]) < KP_TOL
    assert max_diff(kp_source.jacobian, vectors["kp_source_jacobian"]) < KP_TOL
    assert max_diff(kp_driving.value, vectors["kp_driving_value"]) < KP_TOL
    assert max_diff(kp_driving.jacobian, vectors["kp_driving_jacobian"]) < KP_TOL


def test_relative_jacobian_tolerance_is_rounding(vectors):
    """The reference's own Jacobians, transferred in float32 and in float64, differ by what
    RELATIVE_JACOBIAN_TOL allows: the looser tolerance is the inversion's rounding, nothing more."""
    driving, source = vectors["kp_driving_jacobian"], vectors["kp_source_jacobian"]
    assert torch.linalg.cond(driving[0]).max() > 100  # ill-conditioned: why the tolerance is looser
    single = driving @ torch.inverse(driving[:1]) @ source
    double = driving.double() @ torch.inverse(driving[:1].double()) @ source.double()
    assert KP_TOL < max_diff(single.double(), double) < RELATIVE_JACOBIAN_TOL


def test_relative_motion_with_adapted_scale_matches(tiny_model, vectors):
    with torch.inference_mode():
        kp_source = tiny_model.kp_detector(vectors["source"])
        kp_driving = tiny_model.kp_detector(vectors["driving"])
        kp_norm = transfer_motion(
            kp_source, kp_driving, kp_driving.take(0), relative=True, adapt_movement_scale=True
        )
        generated = tiny_model.generator(vectors["source"], kp_driving=kp_norm, kp_source=kp_source)
    assert max_diff(kp_norm.value, vectors["relative_kp_value"]) < KP_TOL
    assert max_diff(kp_norm.jacobian, vectors["relative_kp_jacobian"]) < RELATIVE_JACOBIAN_TOL
    assert max_diff(generated.prediction, vectors["relative_prediction"]) < IMAGE_TOL
    assert max_diff(generated.occlusion_map, vectors["relative_occlusion_map"]) < IMAGE_TOL


def test_absolute_motion_matches(tiny_model, vectors):
    with torch.inference_mode():
        kp_source = tiny_model.kp_detector(vectors["source"])
        kp_driving = tiny_model.kp_detector(vectors["driving"][1:2])
        kp_norm = transfer_motion(kp_source, kp_driving, relative=False, adapt_movement_scale=True)
        generated = tiny_model.generator(vectors["source"], kp_driving=kp_norm, kp_source=kp_source)
    assert kp_norm is kp_driving  # absolute motion: driving keypoints as they are
    assert max_diff(generated.prediction, vectors["absolute_prediction_frame1"]) < IMAGE_TOL


def test_reference_images_differ_enough_for_the_tolerance_to_mean_something(vectors):
    # Guards the tests above: if relative and absolute outputs were nearly equal, a wrong
    # motion transfer could still pass the image tolerance.
    assert (
        max_diff(vectors["relative_prediction"][1:2], vectors["absolute_prediction_frame1"]) > 100 * IMAGE_TOL
    )
