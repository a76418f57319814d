"""Tiny stand-ins for talking heads (an ellipse face with eyes and a mouth), for fast tests."""

from __future__ import annotations

from helpers import toy_source


def test_toy_source_is_consistent():
    src = toy_source(0, 0, frames=2, size=64)
    assert src.frames.shape == (2, 64, 64, 3) and src.face_masks.shape == (2, 64, 64)
    assert src.landmarks.shape == (2, 7, 2)
    assert 0.05 < src.face_masks.mean() < 0.5
