"""The offline quality score: its maths against known answers, and its calibration order."""

import numpy as np
import pytest
import torch

from deepfakelab.gan.classifier import classifier_info, load_classifier
from deepfakelab.gan.config import classic28
from deepfakelab.gan.data import load_bags
from deepfakelab.gan.models import build_models
from deepfakelab.gan.quality import (
    BagQuality,
    coverage,
    frechet_distance,
    kernel_distance,
    knn_radii,
    quality_table,
)
from deepfakelab.gan.training import generate


def test_frechet_distance_of_a_shifted_copy_is_the_squared_shift():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(500, 8))
    shift = np.array([1.0, -2.0, 0, 0, 0, 0, 0, 0.5])
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    assert frechet_distance(a, a + shift) == pytest.approx(float(shift @ shift), rel=1e-6)


def test_frechet_distance_of_scaled_gaussians_matches_the_closed_form():
    # N(0, I) vs N(0, s^2 I) in d dims: FD = d (1 - s)^2. Whitened samples make it exact.
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2000, 4))
    x = (x - x.mean(0)) @ np.linalg.inv(np.linalg.cholesky(np.cov(x, rowvar=False))).T
    assert frechet_distance(x, 3 * x) == pytest.approx(4 * (1 - 3) ** 2, rel=1e-6)


def test_kernel_distance_is_near_zero_for_one_distribution_and_grows_with_a_shift():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(600, 16)), rng.normal(size=(600, 16))
    same = kernel_distance(a, b, subsets=5, subset_size=300)
    shifted = kernel_distance(a, b + 1.0, subsets=5, subset_size=300)
    assert abs(same) < 0.05
    assert shifted > 10 * max(abs(same), 1e-3)


def test_coverage_is_one_for_the_real_set_and_low_for_a_collapsed_or_distant_one():
    rng = np.random.default_rng(3)
    real = rng.normal(size=(400, 8))
    assert coverage(real, real) == 1.0
    assert coverage(real, rng.normal(size=(400, 8))) > 0.8  # a fresh sample of the same distribution
    assert coverage(real, real[:1].repeat(400, 0)) < 0.05  # mode collapse: one image, however real
    assert coverage(real, real + 10.0) == 0.0  # far from every real sample


def test_knn_radii_skip_the_point_itself():
    points = np.array([[0.0], [1.0], [3.0], [7.0]])
    assert knn_radii(points, k=1).tolist() == [1.0, 1.0, 2.0, 4.0]
    assert knn_radii(points, k=2).tolist() == [3.0, 2.0, 3.0, 6.0]


def test_shipped_classifier_is_accurate():
    info = classifier_info()
    assert info["test_accuracy"] >= 0.88
    assert "deepfakelab gan classifier" in info["command"]
    model = load_classifier()
    assert model(torch.rand(2, 1, 28, 28)).shape == (2, 10)


@pytest.fixture(scope="module")
def quality():
    bags = load_bags(procedural_count=1200)  # Fashion-MNIST where installed (CI), else procedural
    return BagQuality(bags.train, bags.test, max_images=400), bags


def test_calibration_order_floor_then_blur_then_noise(quality):
    scorer, bags = quality
    floor, blurred, noise = scorer.calibration()
    assert floor.fd < blurred.fd < noise.fd
    assert floor.kid < blurred.kid < noise.kid
    # coverage ranks noise last too (the classifier's "Bag" share it replaces called noise 100 % bag)
    assert floor.coverage > blurred.coverage > noise.coverage
    assert floor.coverage > 0.9 and noise.coverage < 0.1
    table = quality_table([floor, blurred, noise])
    assert "(floor)" in table and "(ceiling)" in table and table.count("\n") == 4


def test_an_untrained_generator_scores_worse_than_blurred_bags(quality):
    scorer, _ = quality
    torch.manual_seed(0)
    generator, _ = build_models(classic28())
    untrained = generate(generator, torch.randn(400, 64), classic28())
    _, blurred, _ = scorer.calibration()
    assert scorer.score("untrained", untrained).fd > blurred.fd


def test_copies_of_training_bags_are_flagged(quality):
    scorer, _ = quality
    copies = scorer.score("copies", scorer.train[:200])
    held_out = scorer.score("held-out", scorer.test[:200])
    assert copies.copy_share == 1.0
    assert held_out.copy_share < 0.05
