"""Reenactment without a trained generator: move the source's face mesh, warp the photo along.

The 468-point mesh (:mod:`deepfakelab.faces.mesh`) of the source photo and of each driving frame
drive a piecewise-affine warp of the photo:

1. **Motion, as FOMM's relative mode.** The driving face's change since its initial frame is
   split into head pose, a similarity transform ``S_t`` fitted on points that expressions do not
   move (forehead, temples, nose bridge, eye corners), and expression, the residual per-point
   motion ``r_t = S_t^-1(D_t) - D_0``. The similarity ``Q`` that takes the initial driving face
   onto the source face carries both into the source's frame, scaled to its size:
   ``target_t = Q S_t Q^-1 (source + A r_t)``, with ``A`` the rotation and scale of ``Q``.
2. **Warp.** The source points, three rings of points around the face (the face oval pushed out
   1.35, 1.9 and 2.6 times from its centre; they follow the head pose fully, by half, not at
   all) and fixed points on the image border are triangulated once (Delaunay on the source).
   Each output pixel inside a moved triangle is looked up in the source through that triangle's
   affine map: the face moves with the mesh, hair, ears and neck follow smoothly, and the
   background stays still. Triangles are drawn far to near by the driving mesh's depth, so where
   a turned head folds the mesh over itself the near cheek wins.
3. **Eyes and mouth.** The eyelid and lip points move with the driver's, so the mouth opens and
   smiles when the driver's does. Each eye's opening is then set to the source's times the
   driver's openness: a shut driving eye brings the upper lid onto the lower one and the lid's
   skin covers the eye (moving the lid points alone narrows the eye but leaves the eyeball in
   view). Where the mouth opens wider than the source's, the warp would stretch a line of lip
   pixels into the opening: instead the opening is filled. What the source shows inside its own
   mouth (teeth, tongue) is kept at its size and carried by the upper lip, as teeth move with the
   upper jaw; around it the cavity is painted: the photo's own lip colour darkened to a quarter,
   darkest under the upper lip, a faint band of upper teeth and a lighter tongue at the bottom.
   It fades in with how much wider the mouth is than the source's.
4. **Colours.** Every output pixel is one of the photo's own (or the cavity, tinted from its
   lips), so the face and its surroundings match by construction; the cavity's edge is feathered.

``method="landmark-warp"`` (:mod:`.landmark_warp`, MTCNN's five points) is the baseline: five
points cannot close an eye or open a mouth.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy.ndimage import distance_transform_edt
from scipy.spatial import Delaunay

from ..faces.detection import NoFaceError
from ..faces.mesh import FaceMesh
from ..faces.mesh_model import NUM_POINTS
from ..faces.regions import FACE_OVAL, INNER_LIPS, LOWER_LIP_INNER, OUTER_LIPS, UPPER_LIP_INNER, mouth_opening
from .landmark_warp import fill_missing

#: Points expressions do not move: forehead and temples, nose bridge, eye corners.
RIGID_POINTS = (10, 338, 297, 332, 284, 251, 389, 356, 127, 162, 21, 54, 103, 67, 109,
                168, 6, 197, 195, 5, 33, 133, 263, 362)
#: Rings of support points around the face: (distance from the face centre in face-oval radii,
#: how much of the head pose they follow). Beyond the last one nothing moves.
RINGS = ((1.35, 1.0), (1.9, 0.5), (2.6, 0.0))
#: Fixed points per image side, pinning the background.
BORDER_POINTS_PER_SIDE = 6
#: Each eye's upper-lid contour points paired with the lower-lid point below them, from the outer
#: corner's side to the inner corner's; the first and last pairs' upper points span the eye.
EYELID_PAIRS = (
    ((246, 161, 160, 159, 158, 157, 173), (7, 163, 144, 145, 153, 154, 155)),    # left, as seen
    ((466, 388, 387, 386, 385, 384, 398), (249, 390, 373, 374, 380, 381, 382)),  # right, as seen
)
#: Largest lid gap over the upper lid's span of a shut eye, as the mesh measures it: 0.15-0.21 on
#: the synthetic heads with blink=1 (open: 0.38-0.43; the astronaut 0.40). At or below it an eye
#: counts as shut.
SHUT_EYE_RATIO = 0.2
#: Extra mouth opening (inner-lip gap over mouth width) over the source's at which the cavity
#: is fully painted; it fades in from zero.
CAVITY_FULL_AT = 0.08


def similarity_fit(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The 2x3 similarity (rotation, uniform scale, translation) taking ``source (P, 2)`` closest to
    ``target (P, 2)`` in least squares (Umeyama 1991; no reflection)."""
    mu_s, mu_t = source.mean(axis=0), target.mean(axis=0)
    s, t = source - mu_s, target - mu_t
    covariance = t.T @ s / len(source)
    u, singular, vt = np.linalg.svd(covariance)
    sign = np.sign(np.linalg.det(u @ vt)) or 1.0
    d = np.diag([1.0, sign])
    rotation = u @ d @ vt
    scale = float(np.trace(np.diag(singular) @ d) / max((s ** 2).sum() / len(source), 1e-12))
    linear = scale * rotation
    return np.hstack([linear, (mu_t - linear @ mu_s)[:, None]])


def _apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    return points @ matrix[:, :2].T + matrix[:, 2]


def _compose(outer: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """``outer`` after ``inner``, both 2x3."""
    full = lambda m: np.vstack([m, [0.0, 0.0, 1.0]])  # noqa: E731
    return (full(outer) @ full(inner))[:2]


def _invert(matrix: np.ndarray) -> np.ndarray:
    return cv2.invertAffineTransform(matrix.astype(np.float64))


@dataclass(frozen=True)
class MeshMotion:
    """Where the source's points go: ``targets (N, 468, 2)`` pixels; ``pose (N, 2, 3)``, the head
    pose change of each frame in the source's pixels (what the rings around the face follow); and
    ``depth (N, 468)``, the driving mesh's depth of each point (larger: farther), which orders the
    triangles where a turned head folds the mesh over itself."""

    targets: np.ndarray
    pose: np.ndarray
    depth: np.ndarray


def transfer_motion(source_points: np.ndarray, driving_points: np.ndarray, initial: int = 0) -> MeshMotion:
    """Relative motion transfer (see the module docstring) from ``driving_points (N, 468, 2 or 3)``
    to ``source_points (468, 2+)``, all in pixels; frame ``initial`` of the driving video is the
    reference pose and expression. Then each eye's opening follows the driver's (:func:`_close_eyes`)."""
    source = np.asarray(source_points, np.float64)[:, :2]
    driving_all = np.asarray(driving_points, np.float64)
    driving = driving_all[..., :2]
    rigid = list(RIGID_POINTS)
    reference = driving[initial]
    to_source = similarity_fit(reference[rigid], source[rigid])  # Q
    from_source = _invert(to_source)
    linear = to_source[:, :2]  # A
    targets, poses = [], []
    for frame in driving:
        pose_driving = similarity_fit(reference[rigid], frame[rigid])  # S_t
        residual = _apply(_invert(pose_driving), frame) - reference  # r_t, in the initial frame
        pose = _compose(to_source, _compose(pose_driving, from_source))  # Q S_t Q^-1
        target = _apply(pose, source + residual @ linear.T)
        targets.append(_close_eyes(target, source, frame, reference))
        poses.append(pose)
    depth = driving_all[..., 2] if driving_all.shape[-1] > 2 else np.zeros(driving.shape[:2])
    return MeshMotion(np.stack(targets), np.stack(poses), depth)


def _close_eyes(target: np.ndarray, source: np.ndarray, driving: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Set each eye's opening (lid gap over eye width) to the source's times the driver's
    openness, ``(ratio_t - SHUT) / (ratio_initial - SHUT)``.

    Moving the lid points by the driver's motion alone narrows the eye but leaves the eyeball in
    view: the mesh's lid contour sits a little outside the lid margin, and a shut eye still
    measures about :data:`SHUT_EYE_RATIO`. Here a shut driving eye brings the upper lid down onto
    the lower one, so the lid's skin (stretched from above) covers the eye.
    """
    target = target.copy()
    for upper, lower in EYELID_PAIRS:
        openness = (_eye_ratio(driving, upper, lower) - SHUT_EYE_RATIO) / max(
            _eye_ratio(reference, upper, lower) - SHUT_EYE_RATIO, 1e-3)
        wanted = np.clip(openness, 0.0, 1.3) * _eye_ratio(source, upper, lower)
        now = _eye_ratio(target, upper, lower)
        gap = target[list(upper)] - target[list(lower)]
        target[list(upper)] = target[list(lower)] + gap * (wanted / max(now, 1e-3))
    return target


def _eye_ratio(points: np.ndarray, upper: tuple[int, ...], lower: tuple[int, ...]) -> float:
    gaps = np.linalg.norm(points[list(upper)] - points[list(lower)], axis=1)
    width = np.linalg.norm(points[upper[0]] - points[upper[-1]]) + 1e-6
    return float(gaps.max() / width)


def _ring_points(points: np.ndarray) -> list[np.ndarray]:
    """The support rings: the face oval pushed out from the face centre."""
    oval = points[list(FACE_OVAL)]
    centre = oval.mean(axis=0)
    return [centre + radius * (oval - centre) for radius, _ in RINGS]


def _border_points(height: int, width: int) -> np.ndarray:
    xs = np.linspace(0, width - 1, BORDER_POINTS_PER_SIDE)
    ys = np.linspace(0, height - 1, BORDER_POINTS_PER_SIDE)
    top = np.stack([xs, np.zeros_like(xs)], 1)
    bottom = np.stack([xs, np.full_like(xs, height - 1)], 1)
    left = np.stack([np.zeros_like(ys[1:-1]), ys[1:-1]], 1)
    right = np.stack([np.full_like(ys[1:-1], width - 1), ys[1:-1]], 1)
    return np.vstack([top, bottom, left, right])


class MeshWarper:
    """Warps one source photo to any target position of its mesh.

    ``source (H, W, 3)`` uint8 RGB and its ``source_points (468, 2+)`` pixels. The triangulation
    (mesh points, support rings, border) is made once, on the source.
    """

    def __init__(self, source: np.ndarray, source_points: np.ndarray, fill_mouth: bool = True):
        self.source = np.ascontiguousarray(source)
        self.height, self.width = source.shape[:2]
        self.points = np.asarray(source_points, np.float64)[:, :2]
        self.fill_mouth = fill_mouth
        rings = _ring_points(self.points)
        inside = [np.all((ring >= 0) & (ring <= [self.width - 1, self.height - 1]), axis=1) for ring in rings]
        self._ring_keep = inside
        border = _border_points(self.height, self.width)
        self._control = np.vstack([self.points] + [ring[keep] for ring, keep in zip(rings, inside)] + [border])
        self._border = border
        self.triangles = Delaunay(self._control).simplices.astype(np.int32)
        self._source_opening = mouth_opening(self.points)
        self._cavity_colour = self._lip_colour()
        inner = np.zeros((self.height, self.width), np.uint8)
        cv2.fillPoly(inner, [np.round(self.points[list(INNER_LIPS)] * 16).astype(np.int32)], 1, shift=4)
        self._inner_mask = cv2.GaussianBlur(cv2.erode(inner, np.ones((3, 3), np.uint8)).astype(np.float32), (0, 0), 0.7)
        ys, xs = np.mgrid[0:self.height, 0:self.width]
        self._grid = np.stack([xs, ys, np.ones_like(xs)], axis=-1).astype(np.float32)

    def _lip_colour(self) -> np.ndarray:
        mask = np.zeros((self.height, self.width), np.uint8)
        cv2.fillPoly(mask, [np.round(self.points[list(OUTER_LIPS)]).astype(np.int32)], 1)
        cv2.fillPoly(mask, [np.round(self.points[list(INNER_LIPS)]).astype(np.int32)], 0)
        if mask.sum() == 0:
            return np.array([120.0, 50.0, 50.0])
        return self.source[mask.astype(bool)].reshape(-1, 3).mean(axis=0)

    def control_targets(self, targets: np.ndarray, pose: np.ndarray) -> np.ndarray:
        """Where every control point goes: the mesh to ``targets``, each ring by its share of
        ``pose`` (2x3), the border nowhere."""
        moved = [np.asarray(targets, np.float64)[:, :2]]
        identity = np.array([[1.0, 0, 0], [0, 1.0, 0]])
        for (_, follow), ring, keep in zip(RINGS, _ring_points(self.points), self._ring_keep):
            partial = (1 - follow) * identity + follow * pose
            moved.append(_apply(partial, ring[keep]))
        moved.append(self._border)
        return np.vstack(moved)

    def backward_map(self, control_targets: np.ndarray, depth: np.ndarray | None = None) -> np.ndarray:
        """``(H, W, 2)`` float32: for each output pixel, the source pixel ``(x, y)`` it shows.

        Triangles are drawn far to near by ``depth (468,)`` (larger: farther; the support rings
        and border lie behind the face), so where a turned head folds the mesh, the near side
        wins. A pixel no triangle covers takes its nearest covered neighbour's triangle.
        """
        source_tri = self._control[self.triangles].astype(np.float32)   # (T, 3, 2)
        target_tri = control_targets[self.triangles].astype(np.float32)
        # affine map of each triangle, target -> source: solve [x y 1] M = source
        ones = np.ones((len(self.triangles), 3, 1), np.float32)
        target_h = np.concatenate([target_tri, ones], axis=2)            # (T, 3, 3)
        ok = np.abs(np.linalg.det(target_h)) > 1e-6
        matrices = np.zeros((len(self.triangles), 3, 2), np.float32)
        matrices[ok] = np.linalg.solve(target_h[ok], source_tri[ok])
        point_depth = np.full(len(self._control), np.inf)
        point_depth[:NUM_POINTS] = 0.0 if depth is None else np.asarray(depth, np.float64)
        triangle_depth = point_depth[self.triangles].max(axis=1)
        index = np.full((self.height, self.width), -1, np.int32)
        shift = 4
        scaled = np.round(target_tri * (1 << shift)).astype(np.int32)
        drawable = np.flatnonzero(ok)
        for k in drawable[np.argsort(-triangle_depth[drawable], kind="stable")]:
            cv2.fillConvexPoly(index, scaled[k], int(k), lineType=cv2.LINE_8, shift=shift)
        holes = index < 0
        if holes.any():
            nearest = distance_transform_edt(holes, return_distances=False, return_indices=True)
            index = index[nearest[0], nearest[1]]
        picked = matrices[index]                                           # (H, W, 3, 2)
        return np.einsum("hwi,hwij->hwj", self._grid, picked)

    def warp(self, targets: np.ndarray, pose: np.ndarray, depth: np.ndarray | None = None) -> np.ndarray:
        """The source warped so its mesh lands on ``targets (468, 2)``, head pose ``pose (2, 3)``;
        ``depth (468,)`` orders folded triangles (see :meth:`backward_map`)."""
        mapping = self.backward_map(self.control_targets(targets, pose), depth)
        out = cv2.remap(self.source, mapping[..., 0], mapping[..., 1], interpolation=cv2.INTER_LINEAR,
                        borderMode=cv2.BORDER_REFLECT)
        if self.fill_mouth:
            out = self._paint_cavity(out, np.asarray(targets)[:, :2], pose)
        return out

    def _paint_cavity(self, image: np.ndarray, targets: np.ndarray, pose: np.ndarray) -> np.ndarray:
        """Fill the opening of the mouth where it is wider than the source's (module docstring, 3).

        What the source shows inside its own mouth (teeth, tongue) is kept, unstretched and moved
        with the upper lip, as teeth move with the upper jaw; the rest is the painted cavity.
        """
        strength = (mouth_opening(targets) - self._source_opening) / CAVITY_FULL_AT
        strength = float(np.clip(strength, 0.0, 1.0))
        if strength <= 0:
            return image
        polygon = targets[list(INNER_LIPS)]
        x0, y0 = np.floor(polygon.min(axis=0)).astype(int) - 3
        x1, y1 = np.ceil(polygon.max(axis=0)).astype(int) + 4
        x0, y0 = max(x0, 0), max(y0, 0)
        x1, y1 = min(x1, self.width), min(y1, self.height)
        if x1 <= x0 or y1 <= y0:
            return image
        local = polygon - [x0, y0]
        h, w = y1 - y0, x1 - x0
        mask = np.zeros((h, w), np.float32)
        cv2.fillPoly(mask, [np.round(local * 16).astype(np.int32)], 1.0, lineType=cv2.LINE_AA, shift=4)
        mask = cv2.GaussianBlur(mask, (0, 0), 0.8)
        # vertical position inside the opening: 0 at the upper lip's inner edge, 1 at the lower's
        top, bottom = local[INNER_LIPS.index(UPPER_LIP_INNER), 1], local[INNER_LIPS.index(LOWER_LIP_INNER), 1]
        rows = (np.arange(h, dtype=np.float32)[:, None] - top) / max(bottom - top, 1.0)
        rows = np.clip(rows, 0, 1) * np.ones((1, w), np.float32)
        dark = self._cavity_colour * 0.25
        cavity = dark[None, None] * (0.45 + 0.55 * rows[..., None])          # darkest under the upper lip
        teeth = np.clip(1 - rows / 0.16, 0, 1)[..., None] * 0.55           # a faint band of upper teeth
        cavity = cavity * (1 - teeth) + teeth * np.array([200.0, 190.0, 180.0]) * 0.75
        tongue = np.clip((rows - 0.7) / 0.3, 0, 1)[..., None] * 0.5          # a lighter tongue at the bottom
        cavity = cavity * (1 - tongue) + tongue * self._cavity_colour * 0.6
        # the source's own mouth interior, carried rigidly by the upper lip (pose's rotation and scale)
        upper = UPPER_LIP_INNER
        inverse = np.linalg.inv(pose[:, :2])
        ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        offset = np.stack([xs - targets[upper, 0], ys - targets[upper, 1]], axis=-1) @ inverse.T
        lookup = (offset + self.points[upper]).astype(np.float32)
        inside = cv2.remap(self._inner_mask, lookup[..., 0], lookup[..., 1], cv2.INTER_LINEAR, borderValue=0)
        teeth_and_tongue = cv2.remap(self.source, lookup[..., 0], lookup[..., 1], cv2.INTER_LINEAR,
                                     borderMode=cv2.BORDER_REFLECT).astype(np.float32)
        cavity = inside[..., None] * teeth_and_tongue + (1 - inside[..., None]) * cavity
        alpha = (strength * mask)[..., None]
        region = image[y0:y1, x0:x1].astype(np.float32)
        image = image.copy()
        image[y0:y1, x0:x1] = np.clip(alpha * cavity + (1 - alpha) * region + 0.5, 0, 255).astype(np.uint8)
        return image


def mesh_reenact(source: np.ndarray, source_points: np.ndarray, driving_points: np.ndarray,
                 initial: int = 0, fill_mouth: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Animate ``source (H, W, 3)`` uint8 RGB with the driving meshes.

    ``source_points (468, 2+)`` are the source's mesh in its pixels; ``driving_points (N, 468, 2+)``
    the driving video's meshes in its pixels (frames without a face: fill them first, e.g. with
    :func:`~deepfakelab.reenact.landmark_warp.fill_missing`). Returns the frames ``(N, H, W, 3)``
    uint8 and where the source's points went ``(N, 468, 2)``.
    """
    motion = transfer_motion(source_points, driving_points, initial)
    warper = MeshWarper(source, source_points, fill_mouth=fill_mouth)
    frames = np.stack([warper.warp(target, pose, depth)
                       for target, pose, depth in zip(motion.targets, motion.pose, motion.depth)])
    return frames, motion.targets


@dataclass
class MeshReenactment:
    """A photo animated by :func:`reenact_photo`: ``frames (N, H, W, 3)`` uint8 at the photo's size,
    the source mesh ``(468, 3)``, the driving meshes ``(N, 468, 3)`` (interpolated where a frame had
    no face), where the source's points went ``(N, 468, 2)``, the initial driving frame, and notes."""

    frames: np.ndarray
    source_points: np.ndarray
    driving_points: np.ndarray
    moved_points: np.ndarray
    initial: int
    notes: list[str]


def best_frame_by_mesh(source_points: np.ndarray, driving_points: np.ndarray, found) -> int:
    """The driving frame (with a face) whose mesh, brought onto the source's by a similarity, is
    closest to it: the pose and expression most like the photo's (FOMM's ``--find_best_frame``)."""
    source = np.asarray(source_points, np.float64)[:, :2]
    distances = []
    for frame, has_face in zip(np.asarray(driving_points, np.float64)[..., :2], found):
        if not has_face:
            distances.append(np.inf)
            continue
        aligned = _apply(similarity_fit(frame, source), frame)
        distances.append(float(np.linalg.norm(aligned - source, axis=1).mean()))
    return int(np.argmin(distances))


def reenact_photo(photo: np.ndarray, driving_frames, fps: float = 25.0, face_mesh: FaceMesh | None = None,
                  name: str = "photo", driving_name: str = "driving video", fill_mouth: bool = True,
                  best_frame: int | str | None = None) -> MeshReenactment:
    """Animate the largest face of ``photo (H, W, 3)`` uint8 RGB with the face of ``driving_frames``.

    The photo's mesh comes from :meth:`FaceMesh.detect`, the driving meshes from
    :meth:`FaceMesh.track` (smoothed). The initial driving frame (the reference of the relative
    motion) is ``best_frame``: ``None`` for the first frame with a face, a frame number, or
    ``"auto"`` for :func:`best_frame_by_mesh`. Frames without a face get meshes interpolated from
    their neighbours, and a note says how many. No face in the photo, or in no driving frame, is a
    :class:`~deepfakelab.faces.detection.NoFaceError` naming the file.
    """
    face_mesh = face_mesh or FaceMesh()
    source = face_mesh.detect(photo, name)
    tracked = face_mesh.track(driving_frames, fps=fps)
    found = [mesh is not None for mesh in tracked]
    if not any(found):
        raise NoFaceError(f"{driving_name}: no face found in any of its {len(tracked)} frames")
    notes = []
    if not all(found):
        notes.append(f"{driving_name}: no face in {found.count(False)} of {len(found)} frames; "
                     "the mesh was interpolated there")
    driving = fill_missing([mesh.points if mesh is not None else None for mesh in tracked])
    if best_frame == "auto":
        initial = best_frame_by_mesh(source.points, driving, found)
    elif best_frame is None:
        initial = found.index(True)
    else:
        initial = int(best_frame)
    frames, moved = mesh_reenact(photo, source.points, driving, initial=initial, fill_mouth=fill_mouth)
    return MeshReenactment(frames, source.points, driving, moved, initial, notes)
