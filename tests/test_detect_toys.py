"""Tiny stand-ins for talking heads (an ellipse face with eyes and a mouth), for fast tests."""

from __future__ import annotations

import cv2
import numpy as np

from deepfakelab.fakes.synthetic import SourceVideo


def toy_source(identity: int, video: int, frames: int = 3, size: int = 96) -> SourceVideo:
    rng = np.random.default_rng(identity * 100 + video)
    skin = rng.uniform(90, 230, size=3)
    images, masks, points = [], [], []
    for t in range(frames):
        image = np.zeros((size, size, 3), np.uint8)
        image[:] = rng.uniform(0, 255, size=3)
        image = np.clip(image + rng.normal(0, 8, image.shape), 0, 255).astype(np.uint8)
        cx, cy = size // 2 + int(rng.integers(-4, 5)), size // 2 + int(rng.integers(-4, 5))
        ax, ay = size // 4, size // 3
        mask = np.zeros((size, size), np.uint8)
        cv2.ellipse(mask, (cx, cy), (ax, ay), 0, 0, 360, 1, -1)
        image[mask > 0] = skin
        eyes = [(cx - ax // 2, cy - ay // 3), (cx + ax // 2, cy - ay // 3)]
        mouth = (cx, cy + ay // 2)
        for e in eyes:
            cv2.circle(image, e, 3, (30, 30, 30), -1)
        cv2.ellipse(image, mouth, (ax // 2, 2 + t % 3), 0, 0, 360, (120, 20, 20), -1)
        images.append(image)
        masks.append(mask.astype(np.float32))
        points.append(np.array([*eyes, mouth, (cx - ax, cy), (cx + ax, cy), (cx, cy - ay), (cx, cy + ay)],
                               np.float64))
    return SourceVideo(f"id{identity}", f"id{identity}_v{video}", np.stack(images), np.stack(masks),
                       np.stack(points))


def toy_sources(identities: int = 4, videos: int = 1, frames: int = 3) -> list[SourceVideo]:
    return [toy_source(i, v, frames) for i in range(identities) for v in range(videos)]


def test_toy_source_is_consistent():
    src = toy_source(0, 0, frames=2, size=64)
    assert src.frames.shape == (2, 64, 64, 3) and src.face_masks.shape == (2, 64, 64)
    assert src.landmarks.shape == (2, 7, 2)
    assert 0.05 < src.face_masks.mean() < 0.5
