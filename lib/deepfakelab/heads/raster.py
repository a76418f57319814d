"""Painting on a float canvas with anti-aliased coverage, semantic labels and occluders.

The renderer paints back to front. Each paint call blends a colour into the image by a coverage
map in [0, 1] (anti-aliased polygon edges from OpenCV, or analytic edges of shaded ellipsoids),
records which semantic layer is on top where the coverage is at least 1/2 (``labels``), and,
for things drawn in front of the face, where the face is hidden (``occluded``). Work is done in
the bounding box of each shape only, which keeps a 256 px frame fast.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

#: Semantic layer ids used in ``Canvas.labels``; masks are derived from them.
LABELS = {"background": 0, "body": 1, "face": 2, "eyes": 3, "mouth": 4, "hair": 5, "accessories": 6}

_SHIFT = 4  # sub-pixel bits for cv2 polygon coordinates


@dataclass
class Coverage:
    """Coverage ``alpha`` (h, w) float32 in [0, 1] of a shape, placed at pixel ``(x0, y0)``."""

    alpha: np.ndarray
    x0: int
    y0: int

    @property
    def window(self) -> tuple[slice, slice]:
        h, w = self.alpha.shape
        return slice(self.y0, self.y0 + h), slice(self.x0, self.x0 + w)


class Canvas:
    """An ``(size, size, 3)`` float32 RGB image in [0, 1] with its label and occluder maps."""

    def __init__(self, background: np.ndarray):
        self.rgb = np.array(background, dtype=np.float32, copy=True)
        self.size = self.rgb.shape[0]
        self.labels = np.zeros(self.rgb.shape[:2], dtype=np.uint8)
        self.occluded = np.zeros(self.rgb.shape[:2], dtype=bool)

    # -- coverage makers -------------------------------------------------------------------
    def box(self, points: np.ndarray, pad: float = 1.0) -> tuple[int, int, int, int] | None:
        """Integer pixel box ``(x0, y0, x1, y1)`` around ``points``, clipped; None if off-canvas."""
        x, y, w, h = cv2.boundingRect(np.asarray(points, dtype=np.float32).reshape(-1, 1, 2))
        p = int(np.ceil(pad))
        x0, y0 = max(x - p, 0), max(y - p, 0)
        x1, y1 = min(x + w + p + 1, self.size), min(y + h + p + 1, self.size)
        if x1 <= x0 or y1 <= y0:
            return None
        return x0, y0, x1, y1

    def polygon(self, points: np.ndarray, box: tuple[int, int, int, int] | None = None) -> Coverage | None:
        """Anti-aliased coverage of the filled polygon ``points`` ``(N, 2)`` (pixels)."""
        box = box or self.box(points)
        if box is None or len(points) < 3:
            return None
        x0, y0, x1, y1 = box
        mask = np.zeros((y1 - y0, x1 - x0), dtype=np.uint8)
        pts = np.round((points - (x0, y0)) * (1 << _SHIFT)).astype(np.int32)
        cv2.fillPoly(mask, [pts], 255, cv2.LINE_AA, _SHIFT)
        return Coverage(mask.astype(np.float32) * (1 / 255), x0, y0)

    def stroke(self, points: np.ndarray, width: float, closed: bool = False) -> Coverage | None:
        """Anti-aliased coverage of a polyline ``(N, 2)`` of ``width`` pixels."""
        box = self.box(points, pad=width + 1)
        if box is None:
            return None
        x0, y0, x1, y1 = box
        mask = np.zeros((y1 - y0, x1 - x0), dtype=np.uint8)
        pts = np.round((points - (x0, y0)) * (1 << _SHIFT)).astype(np.int32)
        thickness = max(1, int(round(width)))
        cv2.polylines(mask, [pts], closed, 255, thickness, cv2.LINE_AA, _SHIFT)
        alpha = mask.astype(np.float32) * (1 / 255)
        if width < 1:  # hairlines thinner than a pixel: fainter instead of thinner
            alpha *= width
        return Coverage(alpha, x0, y0)

    def blob(self, centre: np.ndarray, radii: tuple[float, float], angle: float = 0.0) -> Coverage | None:
        """Soft Gaussian blob (for shadows, blush, highlights): 1 at ``centre``, 1/e at ``radii`` pixels."""
        r = max(radii) * 2.2
        box = self.box(np.array([centre - r, centre + r]), pad=0)
        if box is None:
            return None
        x0, y0, x1, y1 = box
        xs = np.arange(x0, x1, dtype=np.float32) + 0.5 - centre[0]
        ys = np.arange(y0, y1, dtype=np.float32) + 0.5 - centre[1]
        c, s = np.cos(angle), np.sin(angle)
        u = (xs[None, :] * c + ys[:, None] * s) / max(radii[0], 0.3)
        v = (-xs[None, :] * s + ys[:, None] * c) / max(radii[1], 0.3)
        return Coverage(np.exp(-(u * u + v * v)).astype(np.float32), x0, y0)

    # -- painting --------------------------------------------------------------------------
    def paint(
        self,
        coverage: Coverage | None,
        colour,
        alpha: float = 1.0,
        label: str | None = None,
        occludes: bool = False,
        within: str | None = None,
    ) -> None:
        """Blend ``colour`` (RGB triple or ``(h, w, 3)`` array) into the image by ``coverage * alpha``.

        ``label`` marks the painted pixels as that layer; ``occludes`` marks them as hiding the
        face; ``within`` restricts the paint to pixels already labelled so (soft shadows that
        must not spill onto the background).
        """
        if coverage is None:
            return
        a = coverage.alpha if alpha == 1.0 else coverage.alpha * alpha
        window = coverage.window
        if within is not None:
            a = a * (self.labels[window] == LABELS[within])
        region = self.rgb[window]
        colour = np.asarray(colour, dtype=np.float32)
        region += (colour - region) * a[..., None]
        if label is not None or occludes:
            solid = a >= 0.5
            if label is not None:
                self.labels[window][solid] = LABELS[label]
            if occludes:
                self.occluded[window] |= solid

    def masks(self) -> dict[str, np.ndarray]:
        """Boolean ``(H, W)`` masks by name. ``face`` includes the eyes and the mouth."""
        out = {name: self.labels == value for name, value in LABELS.items()}
        out["face"] = out["face"] | out["eyes"] | out["mouth"]
        return out

    def image(self) -> np.ndarray:
        """The picture as ``(H, W, 3)`` uint8 RGB."""
        # Colours are blends of values >= 0, so |255 x| with saturation is the usual conversion.
        return cv2.convertScaleAbs(self.rgb, alpha=255.0)


class ShellHits:
    """Where camera rays hit an ellipsoid ("shell") around the head, over the shell's outline.

    Used for everything that wraps the head (skin shading, hair, hats, hoods, scarves):
    a pixel's hit point in the shell's own normalised coordinates tells which region it is in
    (hairline, brim...), and the surface normal there gives the shading.

    Attributes: ``box`` (pixel box ``(x0, y0, x1, y1)`` of the outline, or None when it is off
    the canvas) and, as ``(h, w)`` float32 arrays over that box, ``coverage`` (anti-aliased
    inside of the outline), ``front`` (and ``back`` if asked for) hit points ``(u, v, w)``
    normalised so that the shell is the unit sphere, and ``light`` (Lambert term of the front
    hit, in [0, 1]).
    """

    def __init__(
        self,
        canvas: Canvas,
        centre: np.ndarray,
        px_per_unit: float,
        rotation: np.ndarray,
        axes: np.ndarray,
        offset: np.ndarray,
        light_dir: np.ndarray,
        back: bool = False,
        box: tuple[int, int, int, int] | None = None,
    ):
        if box is None:
            # Box of the projected ellipsoid: its half extent along camera x is |row 0 of R diag(axes)|.
            scaled = rotation * axes[None, :]
            half = np.sqrt((scaled[:2] ** 2).sum(axis=1)) * px_per_unit
            mid = centre + px_per_unit * (rotation @ offset)[:2]
            box = canvas.box(np.array([mid - half, mid + half]), pad=1.5)
        self.box = box
        if self.box is None:
            return
        x0, y0, x1, y1 = self.box
        xs = ((np.arange(x0, x1, dtype=np.float32) + 0.5 - centre[0]) / px_per_unit)[None, :]
        ys = ((np.arange(y0, y1, dtype=np.float32) + 0.5 - centre[1]) / px_per_unit)[:, None]
        # Camera ray through (x, y) along camera z, in head space scaled to the unit sphere:
        # p(t) = p0 + t d with p0 = (R^T (x, y, 0) - offset) / axes and d = R^T e_z / axes.
        inv = (1.0 / axes).astype(np.float32)
        rt = rotation.T.astype(np.float32)
        off = (offset * inv).astype(np.float32)
        px = xs * (rt[0, 0] * inv[0]) + (ys * (rt[0, 1] * inv[0]) - off[0])
        py = xs * (rt[1, 0] * inv[1]) + (ys * (rt[1, 1] * inv[1]) - off[1])
        pz = xs * (rt[2, 0] * inv[2]) + (ys * (rt[2, 1] * inv[2]) - off[2])
        d = rt[:, 2] * inv
        a = float(d @ d)
        b = px * d[0] + py * d[1] + pz * d[2]
        disc = b * b - a * (px * px + py * py + pz * pz - 1.0)
        # disc / a is about twice the distance to the outline in radii: an analytic AA edge.
        edge = 0.5 * px_per_unit * float(axes[:2].mean()) / a
        self.coverage = np.clip(disc * edge + 0.5, 0.0, 1.0)
        root = np.sqrt(np.maximum(disc, 0.0))
        t = (root - b) * (1.0 / a)
        self.front = (px + t * d[0], py + t * d[1], pz + t * d[2])
        if back:
            t = (-root - b) * (1.0 / a)
            self.back = (px + t * d[0], py + t * d[1], pz + t * d[2])
        # The normal of the unit-sphere point u is u / axes in head space; light in head space.
        u, v, w = self.front
        lh = (rt @ light_dir.astype(np.float32)) * inv
        n2 = (u * inv[0]) ** 2 + (v * inv[1]) ** 2 + (w * inv[2]) ** 2
        self.light = np.clip((u * lh[0] + v * lh[1] + w * lh[2]) / np.sqrt(n2 + 1e-6), 0.0, 1.0)

    def coverage_of(self, alpha: np.ndarray) -> Coverage:
        """A :class:`Coverage` over this shell's box from an ``(h, w)`` alpha map."""
        return Coverage(alpha.astype(np.float32, copy=False), self.box[0], self.box[1])


def region_alpha(distance: np.ndarray, px_per_unit: float) -> np.ndarray:
    """Anti-aliased step: 1 where ``distance`` (head units, positive inside) > half a pixel."""
    return np.clip(0.5 + distance * px_per_unit, 0.0, 1.0)
