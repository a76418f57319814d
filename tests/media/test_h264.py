"""The H.264 round trip the detector's training puts faces through (deepfakelab.media.h264)."""

from __future__ import annotations

import numpy as np
import pytest

import deepfakelab.detect.dataset as dataset
from deepfakelab.media.h264 import h264_available, h264_round_trip

needs_av = pytest.mark.skipif(not h264_available(), reason="PyAV with libx264 is not installed")


def _face(height: int = 64, width: int = 64) -> np.ndarray:
    """A smooth picture with fine texture on it, as skin is: what a codec smooths away."""
    ys, xs = np.mgrid[0:height, 0:width]
    base = np.stack([120 + 60 * np.sin(xs / 9.0), 100 + 50 * np.cos(ys / 7.0), 90 + 0 * xs], -1)
    texture = np.random.default_rng(0).normal(0, 12, (height, width, 3))
    return np.clip(base + texture, 0, 255).astype(np.uint8)


@needs_av
def test_round_trip_keeps_the_picture_and_damages_it_more_at_a_higher_crf():
    face = _face()
    light, heavy = h264_round_trip(face, 18), h264_round_trip(face, 35)
    assert light.shape == face.shape and light.dtype == np.uint8
    error = [np.abs(out.astype(int) - face).mean() for out in (light, heavy)]
    assert 0 < error[0] < error[1]
    assert np.abs(heavy.astype(int) - face).mean() < 30  # still the same picture


@needs_av
def test_odd_sides_come_back_as_they_went_in():
    assert h264_round_trip(_face(47, 33), 28).shape == (47, 33, 3)


def test_augment_uses_the_codec_only_when_asked(monkeypatch):
    calls = []
    monkeypatch.setattr(dataset, "h264_round_trip", lambda image, crf: calls.append(crf) or image)
    face, mask = _face(), np.zeros((64, 64), np.uint8)
    dataset.augment(face, mask, np.random.default_rng(0))
    assert calls == []
    dataset.augment(face, mask, np.random.default_rng(0), h264=1.0)
    assert len(calls) == 1 and 18 <= calls[0] <= 35
