"""The one-euro filter: smoothing that removes jitter when still and lags little when moving.

Casiez, Roussel and Vogel (CHI 2012), *1 euro filter: a simple speed-based low-pass filter for
noisy input in interactive systems*. A first-order low-pass filter whose cut-off frequency rises
with the signal's speed: a still face gets a low cut-off (its detector jitter is averaged away),
a moving one a high cut-off (the mesh keeps up with the head). MediaPipe smooths its landmarks
with the same filter.
"""

from __future__ import annotations

import math

import numpy as np

#: Cut-off of a still signal, Hz, and how fast it rises with speed (per face size per second).
#: Chosen on the real videos (bench/mesh_warp.py's protocol, 3 clips): 0.5 Hz and 10 halve the
#: jitter of a still face but drag a talking mouth (mesh-warp keypoint distance 1.77 px against
#: 1.04 unsmoothed on hdtf_aoc.mp4); 1 Hz and 40 keep most of the smoothing (d18.mp4's frame-to-
#: frame jitter 0.25 -> 0.11 px) at 1.19 px.
DEFAULT_MIN_CUTOFF = 1.0
DEFAULT_BETA = 40.0


def _smoothing_factor(cutoff_hz: np.ndarray | float, dt: float) -> np.ndarray | float:
    """The exponential-smoothing weight of a first-order low-pass with ``cutoff_hz`` at step ``dt``."""
    tau = 1.0 / (2 * math.pi * cutoff_hz)
    return 1.0 / (1.0 + tau / dt)


class OneEuroFilter:
    """Smooths a stream of ``(N, D)`` arrays (``N`` points of ``D`` coordinates) sampled at ``fps``.

    ``min_cutoff`` (Hz) sets the smoothing of a still signal (lower: smoother, more lag);
    ``beta`` how fast the cut-off rises with speed (higher: less lag when moving);
    ``d_cutoff`` (Hz) smooths the speed estimate itself. Speeds are measured per point, in units of
    ``scale`` per second (pass the face size so the same settings suit near and far faces).

    The defaults, on 0.5 px of noise on a 250 px face at 25 fps: the noise drops to 0.58 of
    itself, and a face moving one face-width per second lags 0.7 px behind (a fixed 1 Hz
    low-pass filter would lag 40 px).
    """

    def __init__(
        self,
        fps: float,
        min_cutoff: float = DEFAULT_MIN_CUTOFF,
        beta: float = DEFAULT_BETA,
        d_cutoff: float = 1.0,
    ):
        if fps <= 0:
            raise ValueError(f"fps must be positive, got {fps}")
        self.dt = 1.0 / fps
        self.min_cutoff, self.beta, self.d_cutoff = min_cutoff, beta, d_cutoff
        self.reset()

    def reset(self) -> None:
        """Forget the past (after a gap in the stream, such as a frame without a face)."""
        self._value: np.ndarray | None = None
        self._speed: np.ndarray | None = None

    def __call__(self, value: np.ndarray, scale: float = 1.0) -> np.ndarray:
        value = np.asarray(value, np.float64)
        if self._value is None:
            self._value, self._speed = value.copy(), np.zeros(value.shape[:-1] + (1,))
            return value.copy()
        # speed of each point (its coordinates together), low-passed at d_cutoff
        raw_speed = np.linalg.norm(value - self._value, axis=-1, keepdims=True) / (self.dt * scale)
        a_d = _smoothing_factor(self.d_cutoff, self.dt)
        self._speed = a_d * raw_speed + (1 - a_d) * self._speed
        # the cut-off grows with speed: little smoothing (and lag) while the face moves
        a = _smoothing_factor(self.min_cutoff + self.beta * self._speed, self.dt)
        self._value = a * value + (1 - a) * self._value
        return self._value.copy()
