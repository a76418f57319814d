"""Motion over time: smooth sequences of :class:`~deepfakelab.heads.state.FaceState`.

Scripts (:func:`talk`, :func:`nod`, :func:`shake`, :func:`look_around`, :func:`surprise`) act
out one recognisable behaviour; :func:`random_trajectory` mixes everything with random smooth
curves, the default for datasets. Every function takes ``frames`` (count), ``fps`` (frames per
second, sets the speed of movements and blinks) and ``seed``, and returns a list of ``frames``
states. Curves are C1-smooth (monotone cubic interpolation between random key values, or
sines), because real heads do not jump and a motion model learns from consecutive frames.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from scipy.interpolate import PchipInterpolator

from ..errors import ConfigError
from .state import LIMITS, FaceState


def _rng(seed: int, salt: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([int(seed), salt]))


def smooth_curve(
    rng: np.random.Generator, frames: int, low: float, high: float, knot_every: float
) -> np.ndarray:
    """``(frames,)`` smooth random curve in [low, high], with a new key value every ``knot_every`` frames."""
    knots = max(2, int(np.ceil(frames / knot_every)) + 1)
    x = np.linspace(0, max(frames - 1, 1), knots)
    y = rng.uniform(low, high, knots)
    return PchipInterpolator(x, y)(np.arange(frames))


def blinks(rng: np.random.Generator, frames: int, fps: float) -> np.ndarray:
    """``(frames,)`` blink curve in [0, 1]: a blink every 2-5 s, closing in ~80 ms, opening in ~150 ms."""
    curve = np.zeros(frames)
    t = rng.uniform(0.3, 2.5) * fps
    close, reopen = max(1.0, 0.08 * fps), max(1.5, 0.15 * fps)
    frame_idx = np.arange(frames)
    while t < frames:
        rise = np.clip(1 - (t - frame_idx) / close, 0, 1) * (frame_idx <= t)
        fall = np.clip(1 - (frame_idx - t) / reopen, 0, 1) * (frame_idx > t)
        curve = np.maximum(curve, rise + fall)
        t += rng.uniform(2.0, 5.0) * fps
    return curve


def _idle(frames: int, fps: float, seed: int, amount: float = 1.0) -> dict[str, np.ndarray]:
    """Small natural drift of a head at rest, with blinks and saccade-like gaze."""
    rng = _rng(seed, 1)
    slow = 1.2 * fps
    return {
        "yaw": smooth_curve(rng, frames, -4 * amount, 4 * amount, slow),
        "pitch": smooth_curve(rng, frames, -3 * amount, 3 * amount, slow),
        "roll": smooth_curve(rng, frames, -3 * amount, 3 * amount, slow),
        "tx": smooth_curve(rng, frames, -0.01, 0.01, slow),
        "ty": smooth_curve(rng, frames, -0.01, 0.01, slow),
        "scale": smooth_curve(rng, frames, 0.98, 1.02, slow),
        "blink": blinks(rng, frames, fps),
        "gaze_x": smooth_curve(rng, frames, -0.3, 0.3, 0.8 * fps),
        "gaze_y": smooth_curve(rng, frames, -0.2, 0.2, 0.8 * fps),
        "smile": smooth_curve(rng, frames, 0.0, 0.2, 2 * fps),
    }


def _to_states(curves: dict[str, np.ndarray], frames: int) -> list[FaceState]:
    for name, values in curves.items():
        curves[name] = np.clip(values, *LIMITS[name])
    return [FaceState(**{k: float(v[i]) for k, v in curves.items()}) for i in range(frames)]


def _check(frames: int, fps: float) -> None:
    if int(frames) < 1:
        raise ConfigError(f"frames must be at least 1, got {frames}")
    if fps <= 0:
        raise ConfigError(f"fps must be positive, got {fps}")


def talk(frames: int, fps: float = 25.0, seed: int = 0) -> list[FaceState]:
    """Speaking: the mouth opens and closes at syllable rate (~4 per second), small head motion."""
    _check(frames, fps)
    curves = _idle(frames, fps, seed)
    rng = _rng(seed, 2)
    t = np.arange(frames) / fps
    syllables = 0.5 + 0.5 * np.sin(2 * np.pi * rng.uniform(3.0, 4.5) * t + rng.uniform(0, 6.3))
    loudness = smooth_curve(rng, frames, 0.4, 1.0, 0.5 * fps)
    pauses = smooth_curve(rng, frames, -0.3, 2.5, 1.0 * fps).clip(0, 1)
    curves["mouth_open"] = syllables * loudness * pauses
    curves["brow_raise"] = smooth_curve(rng, frames, 0.0, 0.4, 0.7 * fps)
    curves["smile"] = smooth_curve(rng, frames, 0.0, 0.5, 1.5 * fps)
    return _to_states(curves, frames)


def _swing(
    frames: int,
    fps: float,
    seed: int,
    stream: int,
    axis: str,
    amplitude: tuple[float, float],
    frequency: tuple[float, float],
) -> list[FaceState]:
    """Idle motion plus a sine swing of one head angle, amplitude (degrees) and frequency (Hz)
    drawn from the given ranges."""
    _check(frames, fps)
    curves = _idle(frames, fps, seed, amount=0.5)
    rng = _rng(seed, stream)
    t = np.arange(frames) / fps
    curves[axis] = curves[axis] + rng.uniform(*amplitude) * np.sin(2 * np.pi * rng.uniform(*frequency) * t)
    return _to_states(curves, frames)


def nod(frames: int, fps: float = 25.0, seed: int = 0) -> list[FaceState]:
    """Nodding "yes": pitch swings of ~15 degrees at about 1.5 per second."""
    return _swing(frames, fps, seed, 3, "pitch", (10, 18), (1.2, 1.8))


def shake(frames: int, fps: float = 25.0, seed: int = 0) -> list[FaceState]:
    """Shaking "no": yaw swings of ~25 degrees at about 1.2 per second."""
    return _swing(frames, fps, seed, 4, "yaw", (18, 30), (0.9, 1.5))


def look_around(frames: int, fps: float = 25.0, seed: int = 0) -> list[FaceState]:
    """Looking around: slow large yaw and pitch, the eyes leading the head."""
    _check(frames, fps)
    curves = _idle(frames, fps, seed, amount=0.3)
    rng = _rng(seed, 5)
    yaw = smooth_curve(rng, frames, -35, 35, 1.0 * fps)
    pitch = smooth_curve(rng, frames, -15, 15, 1.0 * fps)
    lead = max(1, int(0.2 * fps))  # gaze turns ~200 ms before the head
    ahead = lambda c: np.concatenate([c[lead:], np.repeat(c[-1:], lead)])[:frames]  # noqa: E731
    curves["yaw"] = curves["yaw"] + yaw
    curves["pitch"] = curves["pitch"] + pitch
    curves["gaze_x"] = np.clip((ahead(yaw) - yaw) / 10, -1, 1) + 0.3 * yaw / 35
    curves["gaze_y"] = np.clip(-(ahead(pitch) - pitch) / 10, -1, 1) - 0.3 * pitch / 15
    return _to_states(curves, frames)


def surprise(frames: int, fps: float = 25.0, seed: int = 0) -> list[FaceState]:
    """Surprise: brows shoot up, the mouth drops open, the head pulls back; then it relaxes."""
    _check(frames, fps)
    curves = _idle(frames, fps, seed, amount=0.5)
    rng = _rng(seed, 6)
    t = np.arange(frames) / max(frames - 1, 1)
    onset = rng.uniform(0.15, 0.3)
    # Fast rise (smoothstep over 8 % of the clip), slow decay from the middle on.
    rise = np.clip((t - onset) / 0.08, 0, 1)
    rise = rise * rise * (3 - 2 * rise)
    decay = np.clip(1 - (t - 0.65) / 0.35, 0, 1)
    peak = rise * decay
    curves["brow_raise"] = peak
    curves["mouth_open"] = 0.75 * peak
    curves["pitch"] = curves["pitch"] + 8 * peak
    curves["scale"] = curves["scale"] * (1 - 0.04 * peak)
    curves["blink"] = curves["blink"] * (1 - peak)
    curves["smile"] = curves["smile"] * (1 - peak)
    return _to_states(curves, frames)


def random_trajectory(seed: int, frames: int, fps: float = 25.0) -> list[FaceState]:
    """Everything at once: smooth random pose (yaw +-30, pitch +-15, roll +-12 degrees, shifts,
    scale 0.85-1.15) and expression, with talking spells and blinks. The default for datasets."""
    _check(frames, fps)
    rng = _rng(seed, 7)
    curves = _idle(frames, fps, seed)
    knot = rng.uniform(0.6, 1.5) * fps
    curves["yaw"] = curves["yaw"] + smooth_curve(rng, frames, -30, 30, knot)
    curves["pitch"] = curves["pitch"] + smooth_curve(rng, frames, -15, 15, knot)
    curves["roll"] = curves["roll"] + smooth_curve(rng, frames, -12, 12, knot)
    curves["tx"] = curves["tx"] + smooth_curve(rng, frames, -0.06, 0.06, knot)
    curves["ty"] = curves["ty"] + smooth_curve(rng, frames, -0.05, 0.05, knot)
    curves["scale"] = curves["scale"] * smooth_curve(rng, frames, 0.85, 1.15, knot)
    speech = talk(frames, fps, seed)
    speaking = smooth_curve(rng, frames, -0.5, 1.5, fps).clip(0, 1)
    curves["mouth_open"] = np.array([s.mouth_open for s in speech]) * speaking + smooth_curve(
        rng, frames, -0.6, 1.0, fps
    ).clip(0, 1) * (1 - speaking)
    curves["smile"] = smooth_curve(rng, frames, -0.4, 1.0, 1.5 * fps).clip(0, 1)
    curves["brow_raise"] = smooth_curve(rng, frames, -0.5, 1.0, fps).clip(0, 1)
    curves["gaze_x"] = smooth_curve(rng, frames, -0.8, 0.8, 0.7 * fps)
    curves["gaze_y"] = smooth_curve(rng, frames, -0.5, 0.5, 0.7 * fps)
    return _to_states(curves, frames)


#: Motion scripts by name, for the CLI and datasets: ``SCRIPTS[name](frames, fps, seed)``.
SCRIPTS: dict[str, Callable[..., list[FaceState]]] = {
    "talk": talk,
    "nod": nod,
    "shake": shake,
    "look_around": look_around,
    "surprise": surprise,
    "random": lambda frames, fps=25.0, seed=0: random_trajectory(seed, frames, fps),
}


def script(name: str, frames: int, fps: float = 25.0, seed: int = 0) -> list[FaceState]:
    """Run the motion script ``name`` (a key of :data:`SCRIPTS`)."""
    if name not in SCRIPTS:
        raise ConfigError(f"unknown motion script {name!r}; choose one of {', '.join(SCRIPTS)}")
    return SCRIPTS[name](frames, fps, seed)
