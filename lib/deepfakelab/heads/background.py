"""Backgrounds behind a head: flat, gradient, textured, or a cluttered room.

A background belongs to the identity (a person is filmed in one place), so it is drawn from
the identity's seed and is the same in every frame of its videos; :func:`render_video` draws
it once per video.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np

from .identity import Identity


def make_background(identity: Identity, size: int) -> np.ndarray:
    """``(size, size, 3)`` float32 RGB in [0, 1] for ``identity.background`` (read-only, cached)."""
    return _cached_background(identity.seed, identity.background, identity.background_colours, int(size))


@functools.lru_cache(maxsize=16)
def _cached_background(seed, kind, colours, size) -> np.ndarray:
    image = _draw_background(seed, kind, colours, size)
    image.flags.writeable = False
    return image


def _draw_background(seed: int, kind: str, colours, size: int) -> np.ndarray:
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0xB6]))
    c1 = np.array(colours[0], dtype=np.float32)
    c2 = np.array(colours[1], dtype=np.float32)
    if kind == "flat":
        return np.broadcast_to(c1, (size, size, 3)).copy()
    ramp = _gradient(rng, size)
    image = c1 + (c2 - c1) * ramp[..., None]
    if kind == "textured":
        image *= 0.75 + 0.5 * _noise(rng, size, cells=rng.integers(3, 9))[..., None]
        image += 0.08 * (_noise(rng, size, cells=size // 6) - 0.5)[..., None]
    elif kind == "clutter":
        image = _clutter(rng, image, size)
    return np.clip(image, 0.0, 1.0).astype(np.float32)


def _gradient(rng: np.random.Generator, size: int) -> np.ndarray:
    angle = rng.uniform(0, 2 * np.pi)
    t = (np.arange(size, dtype=np.float32) + 0.5) / size - 0.5
    ramp = np.cos(angle) * t[None, :] + np.sin(angle) * t[:, None]
    return np.clip(ramp / 1.2 + 0.5, 0, 1).astype(np.float32)


def _noise(rng: np.random.Generator, size: int, cells: int) -> np.ndarray:
    """Smooth value noise in [0, 1]: random ``cells x cells`` values, bicubic-upsampled."""
    cells = int(max(2, cells))
    grid = rng.uniform(0, 1, (cells, cells)).astype(np.float32)
    return np.clip(cv2.resize(grid, (size, size), interpolation=cv2.INTER_CUBIC), 0, 1)


def _clutter(rng: np.random.Generator, image: np.ndarray, size: int) -> np.ndarray:
    """Shelves, frames, lamps and plants: random rectangles and ellipses, slightly out of focus."""
    image = np.ascontiguousarray(image)
    for _ in range(rng.integers(5, 12)):
        colour = tuple(float(v) for v in rng.uniform(0.05, 0.95, 3))
        x, y = rng.uniform(-0.1, 1.0, 2) * size
        w, h = rng.uniform(0.05, 0.45, 2) * size
        if rng.uniform() < 0.6:
            cv2.rectangle(image, (int(x), int(y)), (int(x + w), int(y + h)), colour, -1, cv2.LINE_AA)
        else:
            cv2.ellipse(image, (int(x), int(y)), (int(w / 2), int(h / 2)), 0, 0, 360, colour, -1, cv2.LINE_AA)
    sigma = max(0.5, size / 150)
    return cv2.GaussianBlur(image, (0, 0), sigma)
