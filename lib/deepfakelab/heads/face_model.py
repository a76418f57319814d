"""The 3-D head model: where every facial feature is, for an identity making an expression.

The head is an ellipsoid in *head coordinates* (x right, y down, z towards the viewer; the
half width is 1, the half height ``identity.head_height``, the half depth
``identity.head_depth``; the origin is the head's centre, at eye level), with the jaw narrowed
below the cheeks and dropped when the mouth opens. Features are points on that surface, some
standing out of it (nose, lips, brows). Rotating these points by the pose and projecting them
orthographically (:class:`Projection`) makes features shift and foreshorten the way a turning
head's do, and gives the 68 landmarks as exact ground truth: they are the same points the
renderer draws with.

Landmark order follows the 68-point iBUG / 300-W convention: 0-16 jaw, 17-21 and 22-26 brows,
27-30 nose bridge, 31-35 nostrils, 36-41 and 42-47 eyes, 48-59 outer lips, 60-67 inner lips;
the "right" eye (36-41) is the one on the image's left. Landmarks are 3-D-consistent: a jaw
point that turns away stays on the jaw (and is flagged not visible) instead of sliding along
the silhouette.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .identity import Identity
from .state import FaceState

JAW = slice(0, 17)
BROWS = slice(17, 27)
NOSE = slice(27, 36)
EYES = slice(36, 48)
RIGHT_EYE = slice(36, 42)
LEFT_EYE = slice(42, 48)
MOUTH = slice(48, 68)
OUTER_LIPS = slice(48, 60)
INNER_LIPS = slice(60, 68)

#: Points per eyelid curve (and half the points per lip curve) used for drawing.
_CURVE_POINTS = 12

# Fixed sampling grids, computed once: they only depend on the point counts.
_EYELID_T = np.linspace(0, 1, _CURVE_POINTS)
_LIP_U = np.linspace(-1, 1, 2 * _CURVE_POINTS + 1)
_BROW_T = np.linspace(0, 1, 9)
_IRIS_RING = np.stack(
    [np.cos(a := np.linspace(0, 2 * np.pi, 16, endpoint=False)), np.sin(a), np.zeros(16)], 1
)
_JAW_PHI = np.linspace(np.pi, 0, 17)
_SPHERE_THETA = np.linspace(0, np.pi, 14)[:, None]  # from the top to the bottom
_SPHERE_PHI = np.linspace(0, 2 * np.pi, 20, endpoint=False)[None, :]
_SPHERE = (
    (-np.cos(_SPHERE_THETA) * np.ones_like(_SPHERE_PHI)).ravel(),  # y / half height
    (np.sin(_SPHERE_THETA) * np.cos(_SPHERE_PHI)).ravel(),  # x
    (np.sin(_SPHERE_THETA) * np.sin(_SPHERE_PHI)).ravel(),  # z / half depth
)


def rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """``(3, 3)`` rotation from head to camera coordinates, angles in degrees (see ``state``)."""
    y, p, r = np.radians([yaw, pitch, roll])
    ry = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    rx = np.array([[1, 0, 0], [0, np.cos(p), -np.sin(p)], [0, np.sin(p), np.cos(p)]])
    rz = np.array([[np.cos(r), -np.sin(r), 0], [np.sin(r), np.cos(r), 0], [0, 0, 1]])
    return rz @ rx @ ry


@dataclass(frozen=True)
class Projection:
    """Orthographic camera: head coordinates to pixels.

    ``pixel = centre + scale * (R @ point)[:2]``; ``scale`` is pixels per head unit.
    """

    rotation: np.ndarray
    centre: np.ndarray
    scale: float

    @classmethod
    def for_state(cls, state: FaceState, size: int) -> "Projection":
        # The head's half width is 22 % of the frame, centred a little above the middle,
        # which leaves room for hair above and shoulders below.
        centre = np.array([(0.5 + state.tx) * size, (0.47 + state.ty) * size])
        return cls(rotation(state.yaw, state.pitch, state.roll), centre, 0.22 * size * state.scale)

    def camera(self, points: np.ndarray) -> np.ndarray:
        """``(N, 3)`` head coordinates to ``(N, 3)`` rotated camera coordinates (head units)."""
        return points @ self.rotation.T

    def __call__(self, points: np.ndarray) -> np.ndarray:
        """``(N, 3)`` head coordinates to ``(N, 2)`` float pixel coordinates."""
        return self.centre + self.scale * self.camera(points)[:, :2]

    def facing(self, points: np.ndarray, axes: np.ndarray) -> np.ndarray:
        """``(N,)`` z of the unit surface normal in camera space (> 0: the point faces the camera)."""
        normals = points / axes**2
        normals = normals / np.linalg.norm(normals, axis=1, keepdims=True)
        return self.camera(normals)[:, 2]


class FaceModel:
    """Surface points of one identity's head making one expression (head coordinates).

    Attributes hold ``(N, 3)`` arrays: ``landmarks`` (68 points), dense curves used for drawing
    (``eye_upper``/``eye_lower`` per eye, ``lip_*``, ``brow_outline`` per brow) and the
    ``silhouette_points`` whose projected convex hull is the head's outline.
    """

    def __init__(self, identity: Identity, state: FaceState):
        self.identity = identity
        self.state = state
        b, c = identity.head_height, identity.head_depth
        self.axes = np.array([1.0, b, c])
        self.nose_tip_y = identity.nose_length
        self.nose_base_y = identity.nose_length + 0.06
        self.mouth_y = self.nose_base_y + 0.24 + 0.2 * (identity.head_height - 1.3)
        # The jaw drops by up to 0.2 head units as the mouth opens fully.
        self.jaw_drop = 0.2 * state.mouth_open
        self._build_eyes()
        self._build_brows()
        self._build_nose()
        self._build_mouth()
        self._build_jaw()
        self.landmarks = np.concatenate(
            [
                self.jaw,
                self.brow_points,
                self.nose,
                self.eye_points,
                self.outer_lip_points,
                self.inner_lip_points,
            ]
        )
        self.silhouette_points = self._silhouette()

    # -- the surface ------------------------------------------------------------------------
    def jaw_scale(self, y: np.ndarray) -> np.ndarray:
        """Width factor of the head at height ``y``: 1 above the cheeks, narrower towards the chin."""
        b = self.identity.head_height
        t = np.minimum(np.maximum((y - 0.25 * b) * (1 / (0.75 * b)), 0.0), 1.0)
        return 1 - self.identity.jaw_taper * t * t

    def lower_jaw(self, y: np.ndarray) -> np.ndarray:
        """Downward shift of points at height ``y`` when the mouth opens (0 above the mouth)."""
        b = self.identity.head_height
        t = np.minimum(np.maximum((y - self.mouth_y) / (b - self.mouth_y), 0.0), 1.0)
        return self.jaw_drop * np.sqrt(t)

    def surface(self, x, y, lift=0.0) -> np.ndarray:
        """``(N, 3)`` points on the (jaw-shaped) surface at ``x``, ``y``, ``lift`` units out of it."""
        x, y = np.asarray(x, float), np.asarray(y, float)
        if x.shape != y.shape:
            x, y = np.broadcast_arrays(x, y)
        a = self.jaw_scale(y)
        b, c = self.identity.head_height, self.identity.head_depth
        z = c * np.sqrt(np.maximum(1 - (x / a) ** 2 - (y / b) ** 2, 0.0))
        return np.stack([x, y, z + lift], axis=-1).reshape(-1, 3)

    # -- features ---------------------------------------------------------------------------
    def _build_eyes(self) -> None:
        ident, st = self.identity, self.state
        w = ident.eye_width
        height = ident.eye_opening * 2 * w * (1 + 0.25 * st.brow_raise)
        up, low = 0.62 * height, 0.38 * height * (1 - 0.4 * st.smile)
        t = _EYELID_T
        self.eye_upper, self.eye_lower, self.eye_centres, points = [], [], [], []
        for side in (-1, 1):
            cx = side * ident.eye_spacing
            x = cx - w * np.cos(np.pi * t)
            # The upper lid peaks nearer the nose; a blink lowers it onto the lower lid.
            skew = np.sin(np.pi * t ** (1.15 if side < 0 else 0.85))
            # The upper lid follows the gaze: lower when looking down, higher when looking up.
            open_upper = -up * skew * (1 - 0.4 * max(st.gaze_y, 0.0) + 0.15 * max(-st.gaze_y, 0.0))
            closed_upper = 0.9 * low * np.sin(np.pi * t)
            y_up = open_upper * (1 - st.blink) + closed_upper * st.blink
            y_low = low * np.sin(np.pi * t)
            n = len(t)
            points3d = self.surface(
                np.concatenate([x, x, [cx]]), np.concatenate([y_up, y_low, [0.0]]), lift=-0.02
            )
            upper, lower = points3d[:n], points3d[n : 2 * n]
            self.eye_upper.append(upper)
            self.eye_lower.append(lower)
            self.eye_centres.append(points3d[-1])
            # Landmarks: left corner, two upper, right corner, two lower (clockwise in the image).
            pick = lambda curve, s: curve[int(round(s * (_CURVE_POINTS - 1)))]  # noqa: E731
            points += [
                upper[0],
                pick(upper, 1 / 3),
                pick(upper, 2 / 3),
                upper[-1],
                pick(lower, 2 / 3),
                pick(lower, 1 / 3),
            ]
        self.eye_points = np.array(points)
        self.eye_half_width = w

    def iris(self, side_index: int) -> tuple[np.ndarray, np.ndarray]:
        """Circle points ``(16, 3)`` of an iris, and its pupil, moved by the gaze."""
        w = self.identity.eye_width
        centre = self.eye_centres[side_index] + np.array(
            [0.42 * w * self.state.gaze_x, 0.3 * w * self.state.gaze_y - 0.02 * w, 0.0]
        )
        return centre + 0.47 * w * _IRIS_RING, centre + 0.2 * w * _IRIS_RING

    def _build_brows(self) -> None:
        ident, st = self.identity, self.state
        w = ident.eye_width
        t = _BROW_T
        self.brow_outline, points = [], []
        for side in (-1, 1):
            cx = side * ident.eye_spacing
            # Along the brow from the image-left end to the image-right end.
            x = cx + w * 1.25 * (2 * t - 1)
            inner = t if side < 0 else 1 - t  # 1 at the end nearest the nose
            arch = ident.brow_arch * np.sin(np.pi * (0.25 + 0.6 * (1 - inner)))
            y = -0.27 - 0.12 * st.brow_raise - arch + 0.03 * inner**2
            thickness = ident.brow_thickness * (0.55 + 0.6 * inner)
            n = len(t)
            points3d = self.surface(
                np.concatenate([x, x, x]),
                np.concatenate([y - thickness / 2, y + thickness / 2, y]),
                lift=0.03,
            )
            top, bottom, centre = points3d[:n], points3d[n : 2 * n], points3d[2 * n :]
            self.brow_outline.append(np.concatenate([top, bottom[::-1]]))
            points += list(centre[[0, 2, 4, 6, 8]])
        self.brow_points = np.array(points)

    def _build_nose(self) -> None:
        ident = self.identity
        tip, base, nw = self.nose_tip_y, self.nose_base_y, ident.nose_width
        bridge_y = np.linspace(-0.05, tip, 4)
        lift = 0.04 + 0.26 * ((bridge_y + 0.05) / (tip + 0.05)) ** 1.4
        bridge = self.surface(np.zeros(4), bridge_y, lift)
        nostril_x = np.array([-1, -0.5, 0, 0.5, 1]) * nw
        nostril_lift = np.array([0.06, 0.14, 0.2, 0.14, 0.06])
        nostrils = self.surface(nostril_x, base - 0.02 * np.abs(nostril_x / nw) - 0.01, nostril_lift)
        self.nose = np.concatenate([bridge, nostrils])

    def lip_curves(self) -> dict[str, np.ndarray]:
        """Dense lip curves in head coordinates, keyed ``outer_upper``, ``outer_lower``,
        ``inner_upper``, ``inner_lower``; each runs from the image-left corner to the right one."""
        return self._lips

    def _build_mouth(self) -> None:
        ident, st = self.identity, self.state
        mw = ident.mouth_width * (1 + 0.18 * st.smile - 0.12 * st.mouth_open)
        lip = ident.lip_thickness
        ym = self.mouth_y
        u = _LIP_U
        x = mw * u
        lift_corners = (-0.09 * st.smile + 0.02 * st.mouth_open) * u**2
        gap = 0.3 * st.mouth_open  # inner opening; the lower lip also rides down on the jaw
        open_shape = (1 - u**2) ** 0.8
        inner_upper = ym + lift_corners - 0.2 * gap * open_shape
        inner_lower = ym + lift_corners + (0.8 * gap + 0.6 * self.jaw_drop) * open_shape
        bow = (1 - u**2) ** 0.6 * (1 - 0.3 * np.exp(-((u / 0.18) ** 2)))
        outer_upper = inner_upper - lip * bow - 0.005
        outer_lower = inner_lower + 1.25 * lip * (1 - u**2) ** 0.55 + 0.005
        lips_lift = 0.05 + 0.05 * (1 - u**2)
        inner_x = x * 0.94
        self._lips = {
            "outer_upper": self.surface(x, outer_upper, lips_lift),
            "outer_lower": self.surface(x, outer_lower, lips_lift),
            "inner_upper": self.surface(inner_x, inner_upper, lips_lift),
            "inner_lower": self.surface(inner_x, inner_lower, lips_lift),
        }
        n = len(u) - 1
        idx = lambda s: int(round((s + 1) / 2 * n))  # noqa: E731
        ou, ol = self._lips["outer_upper"], self._lips["outer_lower"]
        iu, il = self._lips["inner_upper"], self._lips["inner_lower"]
        self.outer_lip_points = np.array(
            [ou[idx(s)] for s in (-1, -0.62, -0.25, 0, 0.25, 0.62, 1)]
            + [ol[idx(s)] for s in (0.62, 0.3, 0, -0.3, -0.62)]
        )
        self.inner_lip_points = np.array(
            [iu[idx(s)] for s in (-0.9, -0.45, 0, 0.45, 0.9)] + [il[idx(s)] for s in (0.45, 0, -0.45)]
        )
        self.mouth_half_width = mw

    def _build_jaw(self) -> None:
        b = self.identity.head_height
        phi = _JAW_PHI
        top = -0.05
        y = top + (b * 0.96 - top) * np.sin(phi)
        jaw = self.surface(0.9 * np.cos(phi) * self.jaw_scale(y), y)
        jaw[:, 1] += self.lower_jaw(jaw[:, 1])
        self.jaw = jaw

    def _silhouette(self) -> np.ndarray:
        """Points spread over the whole jaw-shaped ellipsoid (front and back), jaw dropped."""
        b, c = self.identity.head_height, self.identity.head_depth
        y_unit, x_unit, z_unit = _SPHERE
        y = b * y_unit
        x = x_unit * self.jaw_scale(y)
        z = c * z_unit
        y = y + self.lower_jaw(y) * (z > -0.3 * c)
        return np.stack([x, y, z], axis=1)
