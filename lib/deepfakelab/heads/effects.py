"""Camera effects, per video: lighting that changes over time, sensor noise, JPEG compression.

Real footage is never clean; detectors and motion models should not learn that "no noise"
means "synthetic". All effects are deterministic in ``(effects.seed, frame index)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..errors import ConfigError


def _direction(azimuth: float, elevation: float) -> np.ndarray:
    """Unit vector towards a light at ``azimuth`` (right of the camera axis) and ``elevation`` (up), radians."""
    return np.array(
        [np.sin(azimuth) * np.cos(elevation), -np.sin(elevation), np.cos(azimuth) * np.cos(elevation)]
    )


# The fixed key light: from the upper left, 35 degrees to the side and 35 degrees up.
_KEY_LIGHT = _direction(np.radians(-35.0), np.radians(35.0))
_KEY_LIGHT.flags.writeable = False


@dataclass(frozen=True)
class CameraEffects:
    """What the camera adds to a video.

    - ``lighting``: in [0, 1], how much the light's direction and brightness drift over the video
      (0 = a fixed key light from the upper left).
    - ``noise``: standard deviation of Gaussian sensor noise, in [0, 1] image units (0.02 ~ 5/255).
    - ``jpeg_quality``: 1-100 to pass every frame through JPEG at that quality, None for lossless.
    - ``seed``: seeds the lighting drift and the noise.
    """

    lighting: float = 0.0
    noise: float = 0.0
    jpeg_quality: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0.0 <= self.lighting <= 1.0:
            raise ConfigError(f"CameraEffects.lighting must be in [0, 1], got {self.lighting}")
        if not 0.0 <= self.noise <= 0.5:
            raise ConfigError(f"CameraEffects.noise must be in [0, 0.5], got {self.noise}")
        if self.jpeg_quality is not None and not 1 <= self.jpeg_quality <= 100:
            raise ConfigError(f"CameraEffects.jpeg_quality must be 1-100 or None, got {self.jpeg_quality}")

    @classmethod
    def sample(cls, seed: int, strength: float = 1.0) -> "CameraEffects":
        """Random effects for a dataset video; ``strength`` 0 gives a clean camera."""
        rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0xCA]))
        use_jpeg = rng.uniform() < 0.5 * strength
        return cls(
            lighting=float(rng.uniform(0, strength)),
            noise=float(rng.uniform(0, 0.025) * strength),
            jpeg_quality=int(rng.integers(40, 95)) if use_jpeg else None,
            seed=int(seed),
        )

    def light(self, frame: int, fps: float = 25.0) -> tuple[np.ndarray, float]:
        """Unit light direction (camera space, pointing towards the light) and gain at ``frame``."""
        if self.lighting == 0:
            return _KEY_LIGHT, 1.0
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, 0x11]))
        phases = rng.uniform(0, 2 * np.pi, 3)
        freqs = rng.uniform(0.05, 0.25, 3)  # slow: one swing every 4-20 s
        t = frame / fps
        swing = np.sin(2 * np.pi * freqs * t + phases) * self.lighting
        azimuth = np.radians(-35 + 45 * swing[0])
        elevation = np.radians(35 + 20 * swing[1])
        return _direction(azimuth, elevation), float(1.0 + 0.25 * swing[2])

    def apply(self, image: np.ndarray, frame: int) -> np.ndarray:
        """Noise then JPEG on an ``(H, W, 3)`` uint8 RGB frame; returns a new uint8 array."""
        if self.noise > 0:
            rng = np.random.default_rng(np.random.SeedSequence([self.seed, 0x22, int(frame)]))
            noisy = image.astype(np.float32) + rng.normal(0, self.noise * 255, image.shape).astype(np.float32)
            image = np.clip(noisy + 0.5, 0, 255).astype(np.uint8)
        if self.jpeg_quality is not None:
            ok, data = cv2.imencode(
                ".jpg", image[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, int(self.jpeg_quality)]
            )
            image = cv2.imdecode(data, cv2.IMREAD_COLOR)[..., ::-1].copy()
        return image
