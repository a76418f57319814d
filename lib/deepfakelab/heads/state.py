"""What a head does in one frame: its pose and its expression (:class:`FaceState`).

A video is a list of states; the renderer turns ``(Identity, FaceState)`` into pixels and the
same state is returned as ground truth, so a model's estimate can be compared with it.

Conventions (image coordinates, x right, y down):

- ``yaw`` > 0 turns the face towards the image's right (the nose moves right), degrees.
- ``pitch`` > 0 tilts the face up (the nose moves up), degrees.
- ``roll`` > 0 rotates the head clockwise in the image, degrees.
- ``tx``, ``ty`` shift the head by a fraction of the image size; ``scale`` multiplies its size.
- ``mouth_open``, ``smile``, ``blink``, ``brow_raise`` are in [0, 1] (0 = neutral, 1 = fully).
- ``gaze_x``, ``gaze_y`` in [-1, 1] move the irises right / down within the eyes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

POSE_FIELDS = ("yaw", "pitch", "roll", "tx", "ty", "scale")
EXPRESSION_FIELDS = ("mouth_open", "smile", "blink", "brow_raise", "gaze_x", "gaze_y")

# Valid range of each field, used to clip motion curves and to check user input.
LIMITS = {
    "yaw": (-60.0, 60.0),
    "pitch": (-40.0, 40.0),
    "roll": (-45.0, 45.0),
    "tx": (-0.3, 0.3),
    "ty": (-0.3, 0.3),
    "scale": (0.5, 1.5),
    "mouth_open": (0.0, 1.0),
    "smile": (0.0, 1.0),
    "blink": (0.0, 1.0),
    "brow_raise": (0.0, 1.0),
    "gaze_x": (-1.0, 1.0),
    "gaze_y": (-1.0, 1.0),
}


@dataclass(frozen=True)
class FaceState:
    """Pose and expression of a head in one frame (units in the module docstring)."""

    yaw: float = 0.0
    pitch: float = 0.0
    roll: float = 0.0
    tx: float = 0.0
    ty: float = 0.0
    scale: float = 1.0
    mouth_open: float = 0.0
    smile: float = 0.0
    blink: float = 0.0
    brow_raise: float = 0.0
    gaze_x: float = 0.0
    gaze_y: float = 0.0

    @property
    def pose(self) -> np.ndarray:
        """``(6,)`` float32: yaw, pitch, roll (degrees), tx, ty (image fraction), scale."""
        return np.array([getattr(self, f) for f in POSE_FIELDS], dtype=np.float32)

    @property
    def expression(self) -> np.ndarray:
        """``(6,)`` float32: mouth_open, smile, blink, brow_raise, gaze_x, gaze_y."""
        return np.array([getattr(self, f) for f in EXPRESSION_FIELDS], dtype=np.float32)

    def clipped(self) -> "FaceState":
        """This state with every field clipped to its valid range (:data:`LIMITS`)."""
        return FaceState(**{f: min(max(float(getattr(self, f)), lo), hi) for f, (lo, hi) in LIMITS.items()})

    def replace(self, **changes: float) -> "FaceState":
        """A copy with some fields changed, e.g. ``state.replace(mouth_open=1.0)``."""
        return dataclasses.replace(self, **changes)


def states_to_array(states: list[FaceState]) -> np.ndarray:
    """``(T, 12)`` float32 array of pose then expression fields, one row per frame."""
    return np.stack([np.concatenate([s.pose, s.expression]) for s in states])


def states_from_array(values: np.ndarray) -> list[FaceState]:
    """Inverse of :func:`states_to_array`; rows are clipped to :data:`LIMITS`."""
    fields = POSE_FIELDS + EXPRESSION_FIELDS
    return [FaceState(**dict(zip(fields, map(float, row)))).clipped() for row in np.asarray(values)]
