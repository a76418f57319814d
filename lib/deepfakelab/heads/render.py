"""Rendering: ``(Identity, FaceState)`` to an image with its ground truth.

:func:`render_frame` paints one frame back to front (background, hair behind, shoulders, ears,
shaded head, eyes, brows, nose, mouth, hair in front, accessories) on a float canvas with
anti-aliased edges, and returns a :class:`RenderedFrame`: the uint8 image, the 68 landmarks
(pixels, from the same 3-D points the painter used), their visibility, semantic masks, and the
state itself (pose and expression). :func:`render_video` does it for a sequence of states with
the per-video background and camera effects.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..errors import ConfigError
from .background import make_background
from .effects import CameraEffects
from .face_model import FaceModel, Projection
from .identity import Identity
from .raster import Canvas, Coverage, ShellHits, region_alpha
from .state import FaceState

MIN_SIZE, MAX_SIZE = 32, 1024

_SCLERA = (0.93, 0.91, 0.88)
_DARK = (0.07, 0.04, 0.04)
_MOUTH_INSIDE = (0.3, 0.07, 0.07)
_TEETH = (0.93, 0.9, 0.83)


@dataclass
class RenderedFrame:
    """One rendered frame and its ground truth.

    - ``image``: ``(S, S, 3)`` uint8 RGB.
    - ``landmarks``: ``(68, 2)`` float32 pixel coordinates (x, y), iBUG 68-point order
      (see :mod:`deepfakelab.heads.face_model`), also for hidden points.
    - ``visible``: ``(68,)`` bool; False where the point faces away from the camera, is
      covered by hair or an accessory, or falls outside the frame.
    - ``masks``: ``(S, S)`` bool arrays keyed ``background``, ``body`` (neck, shoulders,
      ears), ``face`` (skin of the head, eyes and mouth included), ``eyes``, ``mouth`` (lips
      and mouth interior), ``hair``, ``accessories``. Except for ``face`` (which contains
      ``eyes`` and ``mouth``) every pixel is in exactly one of them: the layer on top.
      Translucent things (stubble, clear lenses, anti-aliased edges below 50 % cover) leave
      the pixel in the layer underneath; facial hair other than stubble is an accessory.
    - ``state``: the :class:`FaceState` rendered; ``pose`` and ``expression`` are its arrays.
    """

    image: np.ndarray
    landmarks: np.ndarray
    visible: np.ndarray
    masks: dict[str, np.ndarray]
    state: FaceState

    @property
    def pose(self) -> np.ndarray:
        """``(6,)`` yaw, pitch, roll (degrees), tx, ty (image fraction), scale."""
        return self.state.pose

    @property
    def expression(self) -> np.ndarray:
        """``(6,)`` mouth_open, smile, blink, brow_raise, gaze_x, gaze_y."""
        return self.state.expression


def check_size(size: int) -> int:
    if not MIN_SIZE <= int(size) <= MAX_SIZE:
        raise ConfigError(f"size must be between {MIN_SIZE} and {MAX_SIZE} pixels, got {size}")
    return int(size)


def render_frame(
    identity: Identity,
    state: FaceState,
    size: int = 128,
    effects: CameraEffects | None = None,
    frame_index: int = 0,
    fps: float = 25.0,
    background: np.ndarray | None = None,
) -> RenderedFrame:
    """Render ``identity`` in ``state`` as a ``size`` x ``size`` frame.

    ``effects`` (lighting drift, noise, JPEG) are evaluated at ``frame_index`` / ``fps``
    seconds; ``background`` (``(size, size, 3)`` float32 in [0, 1]) skips redrawing the
    identity's background, as :func:`render_video` does.
    """
    size = check_size(size)
    effects = effects or CameraEffects()
    state = state.clipped()
    if background is None:
        background = make_background(identity, size)
    light, gain = effects.light(frame_index, fps)
    # The light's brightness changes the whole scene, not only the head.
    canvas = Canvas(background if gain == 1.0 else np.clip(background * gain, 0.0, 1.0))
    painter = _HeadPainter(identity, state, canvas, light, gain)
    painter.paint()
    image = effects.apply(painter.canvas.image(), frame_index)
    landmarks, visible = painter.landmarks()
    return RenderedFrame(image, landmarks, visible, painter.canvas.masks(), state)


def render_video(
    identity: Identity,
    states: list[FaceState],
    size: int = 128,
    effects: CameraEffects | None = None,
    fps: float = 25.0,
) -> list[RenderedFrame]:
    """Render one identity acting out ``states`` (one frame each) with one background."""
    size = check_size(size)
    if len(states) == 0:
        raise ConfigError("render_video needs at least one FaceState")
    background = make_background(identity, size)
    return [render_frame(identity, s, size, effects, i, fps, background) for i, s in enumerate(states)]


class _HeadPainter:
    """Paints one head on a canvas; one method per part, called back to front by :meth:`paint`."""

    def __init__(self, identity: Identity, state: FaceState, canvas: Canvas, light: np.ndarray, gain: float):
        self.id = identity
        self.st = state
        self.canvas = canvas
        self.size = canvas.size
        self.light = light
        self.gain = gain
        self.proj = Projection.for_state(state, self.size)
        self.model = FaceModel(identity, state)
        self.px = self.proj.scale  # pixels per head unit
        # Below ~96 px, details thinner than a pixel (creases, glints, highlights) are skipped.
        self.detail = self.size >= 96
        self.b = identity.head_height
        self.c = identity.head_depth

    # -- helpers ----------------------------------------------------------------------------
    def shell(self, axes, offset=(0.0, 0.0, 0.0), back: bool = False, box=None) -> ShellHits | None:
        """Ray hits on an ellipsoid around the head, or None when it is off the canvas."""
        hits = ShellHits(
            self.canvas,
            self.proj.centre,
            self.px,
            self.proj.rotation,
            np.asarray(axes, float),
            np.asarray(offset, float),
            self.light,
            back,
            box,
        )
        return hits if hits.box is not None else None

    def shade_at(self, point: np.ndarray) -> float:
        """Brightness factor of the surface at a head-space point (Lambert plus ambient)."""
        normal = point / np.array([1.0, self.b, self.c]) ** 2
        normal = self.proj.rotation @ (normal / np.linalg.norm(normal))
        return float((0.45 + 0.65 * max(0.0, normal @ self.light)) * self.gain)

    def shaded(self, colour, light: np.ndarray, ambient=0.42, diffuse=0.7) -> np.ndarray:
        return np.asarray(colour, np.float32) * ((ambient + diffuse * light) * self.gain)[..., None]

    def poly(self, points3d: np.ndarray, box=None) -> Coverage | None:
        return self.canvas.polygon(self.proj(points3d), box)

    def line(self, points3d: np.ndarray, width_units: float) -> Coverage | None:
        return self.canvas.stroke(self.proj(points3d), width_units * self.px)

    def blob(self, point3d: np.ndarray, rx: float, ry: float) -> Coverage | None:
        centre = self.proj(point3d[None])[0]
        return self.canvas.blob(centre, (rx * self.px, ry * self.px), np.radians(self.st.roll))

    # -- the picture, back to front -------------------------------------------------------
    def paint(self) -> None:
        self.hair_shell = None
        if self.id.hair_style != "bald":
            # Hair is pressed flat under a hat or a hood.
            vol = self.id.hair_volume if self.id.headwear is None else min(self.id.hair_volume, 0.05)
            self.hair_axes = np.array([1 + vol, self.b + 1.2 * vol, self.c + vol])
            self.hair_offset = np.array([0.0, -0.5 * vol, -0.04])
            self.hair_shell = self.shell(self.hair_axes, self.hair_offset, back=True)
            if self.hair_shell is not None:
                self.hair_behind()
        self.body()
        if self.id.headwear == "hood":
            self.hood(front=False)
        ears_front = [self.ear(side, in_front=False) for side in (-1, 1)]
        self.head()
        for side, in_front in zip((-1, 1), ears_front):
            if in_front:
                self.ear(side, in_front=True)
        self.face_shading()
        self.brows()
        self.eyes()
        self.nose()
        if self.id.facial_hair in ("beard", "stubble"):
            self.beard(stubble=self.id.facial_hair == "stubble")
        self.mouth()
        if self.id.facial_hair in ("beard", "moustache"):
            self.moustache()
        if self.hair_shell is not None:
            self.hair_front()
        if self.id.face_cover:
            self.face_cover()
        if self.id.headwear == "hat":
            self.hat()
        elif self.id.headwear == "hood":
            self.hood(front=True)
        if self.id.eyewear:
            self.eyewear()
        if self.id.glasses:
            self.glasses()

    # -- hair --------------------------------------------------------------------------------
    def hair_boundary(self, u, w) -> np.ndarray:
        """Normalised height ``v`` above which a point of the hair shell is hair."""
        front = self.id.hairline + 0.45 * u * u
        back = {"short": 0.35, "medium": 0.55, "long": 0.75, "bun": 0.3}[self.id.hair_style]
        # Short styles show the ears: the front hairline wraps round to behind them.
        start = 0.1 if self.id.hair_style in ("medium", "long") else 0.5
        t = np.clip((w + start) / 0.45, 0, 1)
        t = t * t * (3 - 2 * t)
        return back + (front - back) * t

    def hair_colour(self, hits_u, hits_v, light) -> np.ndarray:
        strands = 0.88 + 0.12 * np.sin(38 * hits_u + 5 * np.sin(7 * hits_v))
        return self.shaded(self.id.hair, light * strands, ambient=0.35, diffuse=0.8)

    def hair_behind(self) -> None:
        hits = self.hair_shell
        if self.id.hair_style == "long":
            vol = self.id.hair_volume
            sides = []
            for side in (-1, 1):
                sides.append([side * (0.95 + vol), -0.1, -0.35])
                sides.append([side * (1.1 + vol), self.b + 0.9, -0.6])
            curtain = np.array([sides[0], sides[1], sides[3], sides[2]])
            self.canvas.paint(self.poly(curtain), np.asarray(self.id.hair) * 0.55 * self.gain, label="hair")
        if self.id.hair_style == "bun":
            centre = self.proj(np.array([[0.0, -0.85 * self.b, -0.85 * self.c]]))[0]
            angles = np.linspace(0, 2 * np.pi, 20, endpoint=False)
            circle = centre + 0.42 * self.px * np.stack([np.cos(angles), np.sin(angles)], 1)
            self.canvas.paint(
                self.canvas.polygon(circle), np.asarray(self.id.hair) * 0.7 * self.gain, label="hair"
            )
        u, v, w = hits.back
        inside = region_alpha(self.hair_boundary(u, w) - v, self.px * self.hair_axes[1])
        self.canvas.paint(
            hits.coverage_of(hits.coverage * inside), self.hair_colour(u, v, 0.5 * hits.light), label="hair"
        )

    def hair_front(self) -> None:
        hits = self.hair_shell
        u, v, w = hits.front
        alpha = hits.coverage * region_alpha(self.hair_boundary(u, w) - v, self.px * self.hair_axes[1])
        self.canvas.paint(
            hits.coverage_of(alpha), self.hair_colour(u, v, hits.light), label="hair", occludes=True
        )

    # -- body, ears, head ---------------------------------------------------------------------
    def flat(self, points: np.ndarray, roll_share: float = 0.4) -> np.ndarray:
        """Head-unit points of the neck and shoulders to pixels: they follow the head's
        position and a share of its roll, not its yaw or pitch."""
        a = np.radians(self.st.roll * roll_share)
        rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
        return self.proj.centre + self.px * points @ rot.T

    def body(self) -> None:
        b = self.b
        neck = np.array([[-0.5, 0.2], [0.5, 0.2], [0.56, b + 0.75], [-0.56, b + 0.75]])
        skin = np.asarray(self.id.skin)
        self.canvas.paint(self.canvas.polygon(self.flat(neck)), skin * 0.72 * self.gain, label="body")
        chin_shadow = self.flat(np.array([[0.0, b + 0.05]]))[0]
        self.canvas.paint(
            self.canvas.blob(chin_shadow, (0.55 * self.px, 0.3 * self.px)),
            skin * 0.35,
            alpha=0.5,
            within="body",
        )
        t = np.linspace(0, 1, 9)
        left = [[-0.55 - 1.9 * s, b + 0.6 + 0.9 * s**0.6] for s in t]  # neck to shoulder tip
        right = [[-x, y] for x, y in left]
        torso = np.array(left[::-1] + right + [[2.6, b + 4.0], [-2.6, b + 4.0]])
        clothes = np.asarray(self.id.clothes) * self.gain
        self.canvas.paint(self.canvas.polygon(self.flat(torso)), clothes, label="body")
        if not self.detail:
            return
        collar = np.array([[-0.62, b + 0.58], [0.0, b + 0.95], [0.62, b + 0.58]])
        self.canvas.paint(self.canvas.stroke(self.flat(collar), 0.06 * self.px), clothes * 0.6)

    def ear(self, side: int, in_front: bool) -> bool:
        """Paint the ear on ``side`` if it belongs to this pass; return whether it is in front."""
        centre = np.array([side * 0.98, 0.16, -0.15])
        is_front = float(self.proj.camera(centre[None])[0, 2]) > 0.1
        if is_front != in_front:
            return is_front
        out = np.array([side * 0.8, 0.0, -0.6])
        out /= np.linalg.norm(out)
        theta = np.linspace(0, 2 * np.pi, 18, endpoint=False)[:, None]
        size = self.id.ear_size
        rim = centre + np.cos(theta) * size * np.array([0, 1, 0]) + np.sin(theta) * 0.16 * out
        inner = (
            centre + 0.1 * out + np.cos(theta) * 0.6 * size * np.array([0, 1, 0]) + np.sin(theta) * 0.07 * out
        )
        shade = self.shade_at(centre * np.array([1, 1, 0]) + np.array([0, 0, 0.2]))
        skin = np.asarray(self.id.skin)
        self.canvas.paint(self.poly(rim), skin * shade * 0.92, label="body", occludes=in_front)
        if self.detail:
            self.canvas.paint(self.poly(inner), skin * shade * 0.62, alpha=0.7)
        return is_front

    def head(self) -> None:
        hull = cv2.convexHull(self.proj(self.model.silhouette_points).astype(np.float32))[:, 0, :]
        box = self.canvas.box(hull)
        if box is None:
            return
        coverage = self.canvas.polygon(hull, box)
        hits = self.shell([1.0, self.b, self.c], box=box)
        colour = self.shaded(self.id.skin, hits.light, ambient=0.48, diffuse=0.62)
        # A specular sheen, stronger on darker skin, where it carries much of the face's shape.
        sheen = 0.05 + 0.12 * (1 - float(np.mean(self.id.skin)))
        colour += (sheen * hits.light**6 * self.gain)[..., None]
        self.canvas.paint(coverage, colour, label="face")

    def face_shading(self) -> None:
        """Blush, eye sockets and the shadow under the chin that make the head read as a face."""
        m, skin = self.model, np.asarray(self.id.skin)
        for side in (-1, 1):
            cheek = m.surface(side * 0.55, 0.38, 0.0)[0]
            self.canvas.paint(
                self.blob(cheek, 0.22, 0.14), (0.85, 0.35, 0.35), alpha=0.45 * self.id.blush, within="face"
            )
            socket = m.eye_centres[(side + 1) // 2] + np.array([0.0, -0.04, 0.0])
            self.canvas.paint(
                self.blob(socket, 1.5 * self.id.eye_width, 0.14), skin * 0.4, alpha=0.45, within="face"
            )

    # -- features ------------------------------------------------------------------------------
    def brows(self) -> None:
        brow = np.asarray(self.id.brow) * self.gain
        for outline in self.model.brow_outline:
            self.canvas.paint(self.poly(outline), brow, alpha=0.92)

    def eyes(self) -> None:
        m = self.model
        lash = max(0.7, 0.022 * self.px)
        for i in range(2):
            upper, lower = m.eye_upper[i], m.eye_lower[i]
            shade = self.shade_at(m.eye_centres[i])
            outline = np.concatenate([upper, lower[::-1]])
            if self.st.blink < 0.97:
                sclera = self.poly(outline)
                if sclera is not None:
                    box = (
                        sclera.x0,
                        sclera.y0,
                        sclera.x0 + sclera.alpha.shape[1],
                        sclera.y0 + sclera.alpha.shape[0],
                    )
                    self.canvas.paint(sclera, np.asarray(_SCLERA) * min(shade, 1.1), label="eyes")
                    ring, pupil = m.iris(i)
                    iris = self.poly(ring, box)
                    inner = self.poly(ring.mean(0) + (ring - ring.mean(0)) * 0.78, box)
                    dot = self.poly(pupil, box)
                    iris_colour = np.asarray(self.id.iris) * shade
                    for cov, colour in ((iris, iris_colour * 0.45), (inner, iris_colour), (dot, _DARK)):
                        if cov is not None:
                            cov.alpha *= sclera.alpha
                            self.canvas.paint(cov, colour)
                    if not self.detail:
                        continue
                    glint = ring.mean(0) + np.array([-0.06, -0.06, 0.02]) * self.id.eye_width * 2
                    self.canvas.paint(
                        self.blob(glint, 0.025, 0.025), (1.0, 1.0, 1.0), alpha=0.8 * (1 - self.st.blink)
                    )
            self.canvas.paint(self.line(upper, lash / self.px), _DARK, alpha=0.95)
            if not self.detail:
                continue
            self.canvas.paint(
                self.line(lower, 0.5 * lash / self.px), np.asarray(self.id.skin) * 0.4, alpha=0.5
            )
            crease = upper + np.array([0.0, -0.06 - 0.03 * self.st.brow_raise, 0.0])
            self.canvas.paint(
                self.line(crease, 0.5 * lash / self.px), np.asarray(self.id.skin) * 0.45, alpha=0.35
            )

    def nose(self) -> None:
        m, nose, skin = self.model, self.model.nose, np.asarray(self.id.skin)
        tip_y, base_y, nw = m.nose_tip_y, m.nose_base_y, self.id.nose_width
        # The side of the nose away from the light is in shadow (light side sign in head space).
        light_x = (self.proj.rotation.T @ self.light)[0]
        dark = 1.0 if light_x < 0 else -1.0
        ridge = m.surface(
            dark * np.array([0.07, 0.08, 0.1, nw * 0.9]),
            np.array([-0.02, tip_y * 0.45, tip_y * 0.85, base_y - 0.06]),
            np.array([0.04, 0.12, 0.2, 0.08]),
        )
        self.canvas.paint(self.line(ridge, 0.08), skin * 0.4 * self.gain, alpha=0.3)
        if self.detail:
            self.canvas.paint(self.blob(nose[3] + np.array([0, 0, 0.05]), 0.07, 0.05), (1, 1, 1), alpha=0.18)
        self.canvas.paint(
            self.blob(m.surface(0.0, base_y + 0.05, 0.05)[0], 0.12, 0.04), skin * 0.35, alpha=0.45
        )
        for side in (-1, 1):
            angles = np.linspace(0, 2 * np.pi, 12, endpoint=False)
            nostril = m.surface(
                side * nw * 0.48 + 0.05 * np.cos(angles), base_y - 0.01 + 0.022 * np.sin(angles), 0.12
            )
            self.canvas.paint(self.poly(nostril), (0.2, 0.09, 0.07), alpha=0.85)
            if not self.detail:
                continue
            arc = m.surface(
                side * nw * np.array([0.55, 0.95, 1.05, 0.85, 0.5]),
                base_y + np.array([-0.14, -0.1, -0.04, 0.0, 0.01]),
                np.array([0.1, 0.06, 0.05, 0.06, 0.1]),
            )
            self.canvas.paint(self.line(arc, 0.022), skin * 0.38 * self.gain, alpha=0.6)
            fold = m.surface(
                side * np.array([nw + 0.04, nw + 0.1, m.mouth_half_width + 0.05]),
                np.array([base_y - 0.05, m.mouth_y - 0.06, m.mouth_y + 0.08]),
                0.02,
            )
            self.canvas.paint(self.line(fold, 0.02), skin * 0.45, alpha=0.15 + 0.35 * self.st.smile)

    def mouth(self) -> None:
        lips = self.model.lip_curves()
        shade = self.shade_at(self.model.surface(0.0, self.model.mouth_y)[0])
        lip_colour = np.asarray(self.id.lips) * shade
        outer = np.concatenate([lips["outer_upper"], lips["outer_lower"][::-1]])
        self.canvas.paint(self.poly(outer), lip_colour, label="mouth")
        upper = np.concatenate([lips["outer_upper"], lips["inner_upper"][::-1]])
        self.canvas.paint(self.poly(upper), lip_colour * 0.82)
        if self.st.mouth_open > 0.03:
            inside = self.poly(np.concatenate([lips["inner_upper"], lips["inner_lower"][::-1]]))
            if inside is not None:
                box = (
                    inside.x0,
                    inside.y0,
                    inside.x0 + inside.alpha.shape[1],
                    inside.y0 + inside.alpha.shape[0],
                )
                self.canvas.paint(inside, np.asarray(_MOUTH_INSIDE) * shade)
                teeth_down = np.array([0.0, 0.055, 0.0])
                upper_teeth = self.poly(
                    np.concatenate([lips["inner_upper"], (lips["inner_upper"] + teeth_down)[::-1]]), box
                )
                lower_teeth = self.poly(
                    np.concatenate([lips["inner_lower"] - 0.6 * teeth_down, lips["inner_lower"][::-1]]), box
                )
                for cov, amount in ((upper_teeth, 1.0), (lower_teeth, 0.8)):
                    if cov is not None:
                        cov.alpha *= inside.alpha
                        self.canvas.paint(cov, np.asarray(_TEETH) * (0.35 + 0.65 * shade) * amount)
        self.canvas.paint(self.line(lips["inner_upper"], 0.014), lip_colour * 0.45, alpha=0.7)
        if not self.detail:
            return
        mid_lower = lips["outer_lower"][len(lips["outer_lower"]) // 2]
        self.canvas.paint(
            self.blob(mid_lower + np.array([0, -0.4 * self.id.lip_thickness, 0.02]), 0.08, 0.02),
            (1, 1, 1),
            alpha=0.15,
        )

    # -- accessories ------------------------------------------------------------------------------
    def accessory(self, coverage, colour, alpha=1.0, occludes=True) -> None:
        self.canvas.paint(
            coverage,
            colour,
            alpha=alpha,
            label="accessories" if alpha >= 0.5 else None,
            occludes=occludes and alpha >= 0.5,
        )

    def beard(self, stubble: bool) -> None:
        m = self.model
        hits = self.shell([1.04, self.b + 0.06, self.c + 0.04], [0.0, 0.04, 0.0])
        if hits is None:
            return
        u, v, w = hits.front
        x, y = u * 1.04, v * (self.b + 0.06) + 0.04
        ax = np.abs(x)
        top = np.where(ax > 0.35, m.mouth_y - 0.12 + (ax - 0.35) / 0.6 * (0.05 - m.mouth_y), m.mouth_y + 0.02)
        top = np.where(ax > 0.95, 0.05, top)
        hole = (
            (x / (m.mouth_half_width + 0.07)) ** 2
            + ((y - m.mouth_y - 0.03 - m.jaw_drop) / (0.12 + m.jaw_drop)) ** 2
            - 1
        )
        alpha = hits.coverage * region_alpha(y - top, self.px) * np.clip(w * 5 + 1, 0, 1)
        if not stubble:
            alpha = alpha * region_alpha(0.3 * hole, self.px)
            colour = self.hair_colour(u, v, hits.light)
            self.accessory(hits.coverage_of(alpha), colour)
        else:
            grain = 0.6 + 0.4 * np.sin(300 * u) * np.sin(300 * v)
            colour = np.asarray(self.id.hair) * 0.5
            self.canvas.paint(hits.coverage_of(alpha * 0.32 * grain), colour)

    def moustache(self) -> None:
        m = self.model
        upper = self.model.lip_curves()["outer_upper"]
        keep = np.abs(upper[:, 0]) <= m.mouth_half_width * 1.0
        lower_edge = upper[keep] + np.array([0, -0.004, 0.02])
        top_edge = m.surface(lower_edge[:, 0] * 1.05, np.full(len(lower_edge), m.nose_base_y + 0.03), 0.09)
        colour = np.asarray(self.id.hair) * self.shade_at(m.surface(0, m.nose_base_y)[0]) * 0.9
        self.accessory(self.poly(np.concatenate([lower_edge, top_edge[::-1]])), colour)

    def face_cover(self) -> None:
        m, b = self.model, self.b
        colour = np.asarray(self.id.accessory_colour)
        if self.id.face_cover == "scarf":
            wrap = np.array([[-1.0, b * 0.55], [1.0, b * 0.55], [1.25, b + 0.9], [-1.25, b + 0.9]])
            self.accessory(self.canvas.polygon(self.flat(wrap)), colour * 0.8 * self.gain)
            hits = self.shell([1.08, b + 0.08, self.c + 0.08])
            if hits is None:
                return
            u, v, w = hits.front
            x, y = u * 1.08, v * (b + 0.08)
            top = m.nose_base_y - 0.02 + 0.12 * x * x
            alpha = hits.coverage * region_alpha(y - top, self.px) * np.clip(w * 3 + 1.5, 0, 1)
            stripes = 0.85 + 0.15 * np.sign(np.sin(22 * y + 3 * x))
            self.accessory(hits.coverage_of(alpha), self.shaded(colour, hits.light * stripes))
        else:  # a surgical mask: pleated, pale, with ear loops
            colour = 0.55 + 0.45 * colour
            hits = self.shell([1.05, b + 0.05, self.c + 0.05])
            if hits is None:
                return
            u, v, w = hits.front
            x, y = u * 1.05, v * (b + 0.05)
            top = m.nose_tip_y * 0.55 + 0.15 * x * x
            bottom = b * 0.97 + m.jaw_drop - 0.2 * x * x
            alpha = (
                hits.coverage
                * region_alpha(y - top, self.px)
                * region_alpha(bottom - y, self.px)
                * region_alpha(w - 0.2, self.px * 2)
            )
            pleats = 1 - 0.12 * (np.sin((y - top) * 28) > 0.8)
            self.accessory(
                hits.coverage_of(alpha), self.shaded(colour, hits.light * pleats, ambient=0.5, diffuse=0.55)
            )
            for side in (-1, 1):
                loop = m.surface(side * np.array([0.9, 0.97]), np.array([m.nose_tip_y * 0.6, 0.2]), 0.03)
                loop = np.concatenate([loop, [[side * 0.96, 0.3, -0.1]]])
                self.canvas.paint(self.line(loop, 0.02), colour * 0.9 * self.gain, alpha=0.8)

    def hat(self) -> None:
        colour = np.asarray(self.id.accessory_colour)
        brim_y = -0.5 * self.b
        angles = np.linspace(0, 2 * np.pi, 32, endpoint=False)
        ring = np.stack(
            [1.5 * np.cos(angles), np.full_like(angles, brim_y), (self.c + 0.5) * np.sin(angles)], 1
        )
        brim = cv2.convexHull(self.proj(ring).astype(np.float32))[:, 0, :]
        self.accessory(self.canvas.polygon(brim), colour * 0.7 * self.gain)
        axes = np.array([1.13, self.b * 0.98, self.c + 0.12])
        offset = np.array([0.0, -0.1, 0.0])
        hits = self.shell(axes, offset)
        if hits is None:
            return
        u, v, w = hits.front
        y = v * axes[1] + offset[1]
        alpha = hits.coverage * region_alpha(brim_y - y, self.px)
        self.accessory(hits.coverage_of(alpha), self.shaded(colour, hits.light))
        band = np.stack(
            [1.08 * np.cos(angles), np.full_like(angles, brim_y - 0.06), (self.c + 0.08) * np.sin(angles)], 1
        )
        front = self.proj.camera(band)[:, 2] > 0
        if front.sum() > 2:
            order = np.argsort(np.arctan2(self.proj.camera(band)[front][:, 0], 1.0))
            self.canvas.paint(self.line(band[front][order], 0.08), colour * 0.4, alpha=0.8)

    def hood(self, front: bool) -> None:
        colour = np.asarray(self.id.accessory_colour)
        axes = np.array([1.32, self.b + 0.28, self.c + 0.25])
        offset = np.array([0.0, -0.12, -0.08])
        hits = self.shell(axes, offset)
        if hits is None:
            return
        if not front:
            drape = np.array([[-1.2, 0.0], [1.2, 0.0], [1.9, self.b + 1.3], [-1.9, self.b + 1.3]])
            self.accessory(self.canvas.polygon(self.flat(drape)), colour * 0.55 * self.gain, occludes=False)
            self.accessory(
                hits.coverage_of(hits.coverage), self.shaded(colour, 0.4 * hits.light), occludes=False
            )
            return
        u, v, w = hits.front
        opening = (u / 0.74) ** 2 + ((v - 0.12) / 0.8) ** 2 - 1  # > 0 outside the face opening
        alpha = hits.coverage * np.maximum(
            region_alpha(opening * 0.5, self.px), region_alpha(0.15 - w, self.px * 2)
        )
        self.accessory(hits.coverage_of(alpha), self.shaded(colour, hits.light))

    def eyewear(self) -> None:
        m, w = self.model, self.id.eye_width
        frame_colour = np.asarray(self.id.accessory_colour) * 0.7 * self.gain
        angles = np.linspace(0, 2 * np.pi, 24, endpoint=False)
        if self.id.eyewear == "goggles":
            lenses = []
            for centre in m.eye_centres:
                lens = m.surface(centre[0] + 1.5 * w * np.cos(angles), 0.01 + 1.05 * w * np.sin(angles), 0.1)
                lenses.append(lens)
            outlines = lenses
            bridge = np.array([lenses[0][0], lenses[1][12]])
            self.canvas.paint(self.line(bridge, 0.05), frame_colour, alpha=1.0, label="accessories")
        else:  # diving mask over the eyes and nose
            xs = np.array([-0.8, -0.82, -0.55, -0.25, -0.18, 0.0, 0.18, 0.25, 0.55, 0.82, 0.8, 0.0])
            ys = np.array(
                [
                    -0.33,
                    0.15,
                    0.3,
                    0.33,
                    m.nose_base_y + 0.03,
                    m.nose_base_y + 0.05,
                    m.nose_base_y + 0.03,
                    0.33,
                    0.3,
                    0.15,
                    -0.33,
                    -0.38,
                ]
            )
            lift = np.where(np.abs(xs) < 0.3, 0.28, 0.12)
            outlines = [m.surface(xs, ys, lift)]
        for outline in outlines:
            self.accessory(self.poly(outline), (0.16, 0.24, 0.3), alpha=0.78)
            self.canvas.paint(
                self.line(np.concatenate([outline, outline[:1]]), 0.07),
                frame_colour,
                label="accessories",
                occludes=True,
            )
        self.strap(-0.02, frame_colour * 0.8)

    def strap(self, height: float, colour) -> None:
        angles = np.linspace(-np.pi, np.pi, 48)
        band = np.stack(
            [1.03 * np.sin(angles), np.full_like(angles, height), 1.03 * self.c * np.cos(angles)], 1
        )
        depth = self.proj.camera(band)[:, 2]
        for side in (-1, 1):
            part = band[(np.sign(band[:, 0]) == side) & (np.abs(band[:, 0]) > 0.7) & (depth > -0.05)]
            if len(part) > 1:
                self.canvas.paint(self.line(part, 0.07), colour, label="accessories", occludes=True)

    def glasses(self) -> None:
        m, w = self.model, self.id.eye_width
        frame = np.asarray(self.id.accessory_colour) * 0.5 * self.gain
        t = np.linspace(0, 2 * np.pi, 24, endpoint=False)
        # Rounded rectangles (superellipses) a little larger than the eyes, in front of the face.
        sx = np.sign(np.cos(t)) * np.abs(np.cos(t)) ** 0.6
        sy = np.sign(np.sin(t)) * np.abs(np.sin(t)) ** 0.6
        lenses = [
            m.surface(centre[0] + 1.35 * w * sx, 0.02 + 0.95 * w * sy, 0.13) for centre in m.eye_centres
        ]
        dark = self.id.glasses == "dark"
        for lens in lenses:
            if dark:
                self.accessory(self.poly(lens), (0.05, 0.05, 0.07), alpha=0.92)
            else:
                self.canvas.paint(self.poly(lens), (0.85, 0.92, 1.0), alpha=0.12)
            self.canvas.paint(self.line(np.concatenate([lens, lens[:1]]), 0.035), frame, label="accessories")
        bridge = m.surface(
            np.array([-0.2, 0.0, 0.2]) * m.identity.eye_spacing / 0.4, np.array([-0.02, -0.05, -0.02]), 0.16
        )
        self.canvas.paint(self.line(bridge, 0.035), frame, label="accessories")
        for side, lens in zip((-1, 1), lenses):
            outer = lens[0] if side > 0 else lens[12]
            arm = np.array([outer, [side * 1.0, -0.05, 0.1], [side * 1.02, 0.0, -0.3]])
            if self.proj.camera(arm[1:2])[0, 2] > -0.1:
                self.canvas.paint(self.line(arm, 0.03), frame, label="accessories")

    # -- ground truth ---------------------------------------------------------------------------
    def landmarks(self) -> tuple[np.ndarray, np.ndarray]:
        points3d = self.model.landmarks
        pixels = self.proj(points3d).astype(np.float32)
        facing = self.proj.facing(points3d, np.array([1.0, self.b, self.c])) > 0.05
        inside = np.all((pixels >= 0) & (pixels <= self.size - 1), axis=1)
        visible = facing & inside
        ij = np.clip(np.round(pixels).astype(int), 0, self.size - 1)
        visible &= ~self.canvas.occluded[ij[:, 1], ij[:, 0]]
        return pixels, visible
