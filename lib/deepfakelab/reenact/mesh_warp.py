"""Reenactment without a trained generator: move the source's face mesh, warp the photo along.

The 468-point mesh (:mod:`deepfakelab.faces.mesh`) of the source photo and of each driving frame
drive a piecewise-affine warp of the photo:

1. **Motion, as FOMM's relative mode, in 3-D.** The driving face's change since its initial frame
   is split into head pose, a 3-D similarity ``S_t`` (scale, rotation, shift) fitted on points
   that expressions do not move (forehead, temples, nose bridge, eye corners) with their depth,
   and expression, the residual per-point motion ``r_t = S_t^-1(D_t) - D_0``. The source's own
   3-D mesh turns by the same rotation, its centre shifts by the driver's shift scaled to its
   size, and the residual is added turned and scaled from the initial driving face to the source
   (:func:`transfer_motion`): a turned head's far side narrows and its near side widens as the
   source's own face says. (Meshes without depth: the same with a 2-D similarity,
   ``target_t = Q S_t Q^-1 (source + A r_t)``.)
2. **Warp, in two layers that meet at the face oval.** The face: the mesh's triangles inside the
   face oval (Delaunay on the face seen from the front, so they lie on its surface), drawn far to
   near by the moved mesh's depth, so where a turned head folds the mesh over itself the near
   cheek wins. Around it, the support: the oval, three rings of points (the oval pushed out 1.35,
   1.9 and 2.6 times from its centre) and fixed points on the image border. The rings follow the
   head's pose as seen at the head's centre behind the face (fully, by half, not at all), not the
   face's: a turning face slides across the head while the head's outline, hair and ears stay
   nearly put. Each ring point also follows a share (0.3, 0.1, 0) of its own oval point's motion
   beyond that pose, so hair, ears and neck move smoothly with the face's edge. A support
   triangle that would still flip (its signed area changing sign against the source's: the
   saw-tooth of stretched triangles a turning head used to tear) has its ring points pulled back,
   halfway per round, towards where their oval point's motion takes them (or, beside the fixed
   border, towards where they were); one still flipped after 10 rounds is not drawn and its
   pixels take their neighbours' map. The face's triangulation keeps every edge of the oval
   (:func:`face_triangles`), so the two layers share it and no pixel between them is left
   uncovered (where it did not, a turning face's edge showed notches). Each output pixel is looked
   up in the source through its triangle's affine map; the background beyond the last ring stays
   still, and so does the background nearer the head: the photo's person (GrabCut seeded by the
   mesh) is warped over a still **background plate**, the photo with the person inpainted from
   its surroundings (:mod:`.background`), so where the head moves off, the photo's own background
   fills in instead of the head's side stretched after it.
3. **Eyes and mouth.** The eyelid and lip points move with the driver's, so the mouth opens and
   smiles when the driver's does. Each eye's opening is then set to the source's times the
   driver's openness: a shut driving eye brings the upper lid onto the lower one and the lid's
   skin covers the eye (moving the lid points alone narrows the eye but leaves the eyeball in
   view). An opening mouth would stretch a line of lip pixels into the opening: instead the
   opening is filled. What the source shows inside its own mouth (teeth, tongue) is kept at its
   size and carried by the upper lip, as teeth move with the upper jaw. The rest comes from the
   **driver's own mouth** when its frames are given (:func:`reenact_photo`, :func:`mesh_reenact`
   with ``driving_frames``): the driver's inner mouth, teeth and tongue, warped triangle by
   triangle from its inner-lip outline onto the moved source's (a strip of triangles between the
   upper and the lower lip, corner to corner), and moved into the source's colour and light by a
   mean and standard deviation transfer in Lab from the driver's skin around the mouth to the
   source's (Reinhard et al. 2001). It fades in as the mouth opens past a closed mouth's gap.
   Without driving frames (callers that pass points only), the opening is **painted** where it is
   wider than the source's: the photo's own lip colour darkened to a quarter, darkest under the
   upper lip, a faint band of upper teeth and a lighter tongue at the bottom, fading in with how
   much wider the mouth is than the source's.
4. **Colours.** Every output pixel is one of the photo's own, except the mouth's inside (the
   driver's, colour-matched, or painted from the photo's lips) and the background a moving head
   uncovers (inpainted from the photo's), so the face and its surroundings match by construction;
   the mouth's edge is feathered.

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
from .background import background_plate, person_matte
from .landmark_warp import fill_missing

#: Points expressions do not move: forehead and temples, nose bridge, eye corners.
RIGID_POINTS = (
    10,
    338,
    297,
    332,
    284,
    251,
    389,
    356,
    127,
    162,
    21,
    54,
    103,
    67,
    109,
    168,
    6,
    197,
    195,
    5,
    33,
    133,
    263,
    362,
)
#: Rings of support points around the face: (distance from the face centre in face-oval radii,
#: how much of the head pose they follow, how much of their own face-oval point's motion beyond
#: that pose they follow). Beyond the last one nothing moves.
RINGS = ((1.35, 1.0, 0.3), (1.9, 0.5, 0.1), (2.6, 0.0, 0.0))
#: Depth of the head's centre, which the rings follow, behind the face oval's deepest point (the
#: oval's sides, in front of the ears), in face widths. Chosen on 4 synthetic heads turning up
#: to 35 degrees either way (seam-band L1 0.105 at -0.1, 0.096 at 0, 0.086 at 0.15, 0.088 at
#: 0.3, 0.092 at 0.5; folds from 0.8 on).
HEAD_CENTRE_DEPTH = 0.2
#: At most this many rounds of pulling support points out of flipped triangles.
UNFOLD_ROUNDS = 10
#: Fixed points per image side, pinning the background.
BORDER_POINTS_PER_SIDE = 6
#: Each eye's upper-lid contour points paired with the lower-lid point below them, from the outer
#: corner's side to the inner corner's; the first and last pairs' upper points span the eye.
EYELID_PAIRS = (
    ((246, 161, 160, 159, 158, 157, 173), (7, 163, 144, 145, 153, 154, 155)),  # left, as seen
    ((466, 388, 387, 386, 385, 384, 398), (249, 390, 373, 374, 380, 381, 382)),  # right, as seen
)
#: Largest lid gap over the upper lid's span of a shut eye, as the mesh measures it: 0.15-0.21 on
#: the synthetic heads with blink=1 (open: 0.38-0.43; the astronaut 0.40). At or below it an eye
#: counts as shut.
SHUT_EYE_RATIO = 0.2
#: Extra mouth opening (inner-lip gap over mouth width) over the source's at which the opening
#: is fully filled (from the driver's mouth, or painted); it fades in from zero.
CAVITY_FULL_AT = 0.08
#: With the driver's frame, the opening is filled wherever the mouth opens past this (inner-lip
#: gap over mouth width; closed lips measure 0-0.05), also where it is narrower than the source's:
#: the source's own teeth stay with the upper lip instead of being squeezed with the opening.
DRIVER_FILL_FROM = 0.05
#: The inner edges of the upper and the lower lip, each from the left corner (78) to the right (308).
UPPER_INNER_EDGE = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308)
LOWER_INNER_EDGE = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308)
#: The skin whose colour is matched: between the outer lips grown 1.25 and 2.0 times about their centre.
SKIN_RING = (1.25, 2.0)
#: At most about this many of its pixels are read (evenly spaced).
SKIN_SAMPLES = 1500
#: The Lab contrast ratio of the colour match (source skin's spread over the driver's) is kept in here.
CONTRAST_RANGE = (0.5, 2.0)


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
    scale = float(np.trace(np.diag(singular) @ d) / max((s**2).sum() / len(source), 1e-12))
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
    pose change of each frame in the source's pixels, fitted on the face (``Q S_t Q^-1``);
    ``depth (N, 468)``, the driving mesh's depth of each point (larger: farther), which orders the
    triangles where a turned head folds the mesh over itself; and ``head (N, 2, 3)``, the same pose
    change as seen at the head's centre (what the rings around the face follow; see
    :func:`head_pose`). ``head`` is ``pose`` where the driving meshes have no depth."""

    targets: np.ndarray
    pose: np.ndarray
    depth: np.ndarray
    head: np.ndarray | None = None


def _rigid_fit_3d(source: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Scale, rotation ``(3, 3)`` and translation ``(3,)`` taking ``source (P, 3)`` closest to
    ``target (P, 3)`` in least squares (Umeyama 1991; no reflection)."""
    mu_s, mu_t = source.mean(axis=0), target.mean(axis=0)
    s, t = source - mu_s, target - mu_t
    u, singular, vt = np.linalg.svd(t.T @ s / len(source))
    d = np.array([1.0, 1.0, np.sign(np.linalg.det(u @ vt)) or 1.0])
    rotation = u @ np.diag(d) @ vt
    scale = float((singular * d).sum() / max((s**2).sum() / len(source), 1e-12))
    return scale, rotation, mu_t - scale * rotation @ mu_s


def _roll_similarity(scale: float, rotation: np.ndarray) -> np.ndarray:
    """``(2, 2)``: ``scale`` times the in-plane part (roll) of a 3-D ``rotation``."""
    roll = np.arctan2(rotation[1, 0] - rotation[0, 1], rotation[0, 0] + rotation[1, 1])
    return scale * np.array([[np.cos(roll), -np.sin(roll)], [np.sin(roll), np.cos(roll)]])


def head_centre(points: np.ndarray) -> np.ndarray:
    """``(3,)``: the centre the head turns about, for a mesh ``(468, 3)``: behind the face oval's
    middle, at the depth of the oval's deepest point plus :data:`HEAD_CENTRE_DEPTH` face widths."""
    oval = np.asarray(points, np.float64)[list(FACE_OVAL)]
    return np.array([*oval[:, :2].mean(axis=0), oval[:, 2].max() + HEAD_CENTRE_DEPTH * np.ptp(oval[:, 0])])


def _transfer_2d(source: np.ndarray, driving: np.ndarray, initial: int) -> MeshMotion:
    """:func:`transfer_motion` for meshes without depth: pose and expression in the image plane."""
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
    poses = np.stack(poses)
    return MeshMotion(np.stack(targets), poses, np.zeros(driving.shape[:2]), poses)


def transfer_motion(source_points: np.ndarray, driving_points: np.ndarray, initial: int = 0) -> MeshMotion:
    """Relative motion transfer (module docstring, 1) from ``driving_points (N, 468, 2 or 3)`` to
    ``source_points (468, 2+)``, all in pixels (depth in the same units); frame ``initial`` of the
    driving video is the reference pose and expression. Then each eye's opening follows the
    driver's (:func:`_close_eyes`).

    With depth in both, in 3-D: each driving frame's head pose is a 3-D similarity ``(s_t, R_t,
    t_t)`` fitted on :data:`RIGID_POINTS`, its expression the residual ``r_t = S_t^-1(D_t) - D_0``.
    The source turns by the same rotation about its own face (a turned head's far side narrows and
    its near side widens as the source's own shape says, not as the driver's does), its centre
    moves by the driver's shift scaled to its size, and the residual is added turned into the
    source's orientation and scaled to its size (``k R_q``, the 3-D similarity from the initial
    driving face to the source). ``depth`` is then the moved source's, and ``head`` the pose as
    seen at the head's centre (:func:`head_centre`). Without depth, the same in the image plane
    (``target_t = Q S_t Q^-1 (source + A r_t)``) and ``head`` is ``pose``.
    """
    source_all = np.asarray(source_points, np.float64)
    driving_all = np.asarray(driving_points, np.float64)
    source, driving = source_all[:, :2], driving_all[..., :2]
    if (
        source_all.shape[-1] < 3
        or driving_all.shape[-1] < 3
        or not (np.ptp(driving_all[initial, :, 2]) > 0 and np.ptp(source_all[:, 2]) > 0)
    ):
        return _transfer_2d(source, driving, initial)
    source_3d, reference_3d = source_all[:, :3], driving_all[initial, :, :3]
    rigid = list(RIGID_POINTS)
    size, turn, _ = _rigid_fit_3d(reference_3d[rigid], source_3d[rigid])  # k, R_q
    centre_driving, centre_source = reference_3d[rigid].mean(axis=0), source_3d[rigid].mean(axis=0)
    head = head_centre(source_3d)
    targets, poses, depths, heads = [], [], [], []
    for frame_3d in driving_all[..., :3]:
        scale, rotation, shift = _rigid_fit_3d(reference_3d[rigid], frame_3d[rigid])
        residual = (frame_3d - shift) @ rotation / scale - reference_3d  # r_t, in the initial frame
        moved_centre = centre_source + size * (scale * rotation @ centre_driving + shift - centre_driving)
        target_3d = moved_centre + scale * (source_3d + size * residual @ turn.T - centre_source) @ rotation.T
        head_moved = moved_centre + scale * (head - centre_source) @ rotation.T
        target = _close_eyes(target_3d[:, :2], source, frame_3d[:, :2], reference_3d[:, :2])
        linear = _roll_similarity(scale, rotation)
        targets.append(target)
        poses.append(similarity_fit(source[rigid], target[rigid]))
        depths.append(target_3d[:, 2])
        heads.append(np.hstack([linear, (head_moved[:2] - linear @ head[:2])[:, None]]))
    return MeshMotion(np.stack(targets), np.stack(poses), np.stack(depths), np.stack(heads))


def _close_eyes(
    target: np.ndarray, source: np.ndarray, driving: np.ndarray, reference: np.ndarray
) -> np.ndarray:
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
            _eye_ratio(reference, upper, lower) - SHUT_EYE_RATIO, 1e-3
        )
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
    """The support rings: the face oval pushed out from the face centre. Ring point ``i`` of each
    ring lies beyond face-oval point ``FACE_OVAL[i]``, its own."""
    oval = points[list(FACE_OVAL)]
    centre = oval.mean(axis=0)
    return [centre + ring[0] * (oval - centre) for ring in RINGS]


def _border_points(height: int, width: int) -> np.ndarray:
    xs = np.linspace(0, width - 1, BORDER_POINTS_PER_SIDE)
    ys = np.linspace(0, height - 1, BORDER_POINTS_PER_SIDE)
    top = np.stack([xs, np.zeros_like(xs)], 1)
    bottom = np.stack([xs, np.full_like(xs, height - 1)], 1)
    left = np.stack([np.zeros_like(ys[1:-1]), ys[1:-1]], 1)
    right = np.stack([np.full_like(ys[1:-1], width - 1), ys[1:-1]], 1)
    return np.vstack([top, bottom, left, right])


def signed_areas(triangles: np.ndarray) -> np.ndarray:
    """Twice the signed area of each triangle ``(T, 3, 2)``: its sign is the triangle's orientation."""
    a, b, c = triangles[:, 0], triangles[:, 1], triangles[:, 2]
    return (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])


def _inside(points: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """``(P,)`` bool: which ``points (P, 2)`` lie inside ``polygon (K, 2)`` (even-odd rule)."""
    x, y = points[:, 0:1], points[:, 1:2]
    ax, ay = polygon[:, 0], polygon[:, 1]
    bx, by = np.roll(ax, -1), np.roll(ay, -1)
    crosses = ((ay > y) != (by > y)) & (x < ax + (y - ay) * (bx - ax) / np.where(by == ay, 1e-12, by - ay))
    return crosses.sum(axis=1) % 2 == 1


def face_triangles(points: np.ndarray) -> np.ndarray:
    """``(T, 3)`` triangles of the mesh ``points (468, 2 or 3)`` inside its face oval: Delaunay on
    the face seen from the front (the points on their two main axes; with no depth, as they are),
    so the triangles lie on the face's surface even where the photo shows it turned and one
    side's points crowd together. Every edge of the face oval is an edge of a triangle
    (:func:`_with_edges`), so the face layer ends exactly where the support layer begins: where a
    Delaunay edge cut across the oval instead, a sliver between the two layers was covered by
    neither, and took a neighbour's map: the notches on a turning face's edge."""
    points = np.asarray(points, np.float64)
    layout = points[:, :2]
    if points.shape[-1] > 2 and np.ptp(points[:, 2]) > 0:
        centred = points[:, :3] - points[:, :3].mean(axis=0)
        layout = centred @ np.linalg.svd(centred, full_matrices=False)[2][:2].T
    oval = list(FACE_OVAL)
    triangles = _with_edges(Delaunay(layout).simplices, layout, list(zip(oval, oval[1:] + oval[:1])))
    return triangles[_inside(layout[triangles].mean(axis=1), layout[oval])]


def _crosses(p: np.ndarray, q: np.ndarray, r: np.ndarray, s: np.ndarray) -> bool:
    """Whether the segments ``p-q`` and ``r-s`` cross at a point inside both."""

    def side(a, b, c):
        return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])

    return side(p, q, r) * side(p, q, s) < 0 and side(r, s, p) * side(r, s, q) < 0


def _with_edges(
    triangles: np.ndarray, layout: np.ndarray, edges: list[tuple[int, int]], rounds: int = 100
) -> np.ndarray:
    """``triangles (T, 3)`` of ``layout (P, 2)`` with each of ``edges`` made an edge of two of them,
    by flipping the edges that cross it (Sloan 1993): a triangulation constrained to those edges.
    An edge that cannot be made in ``rounds`` flips stays as it was."""
    triangles = [tuple(int(i) for i in t) for t in triangles]
    for a, b in edges:
        for _ in range(rounds):
            owners: dict[frozenset, list[int]] = {}
            for k, t in enumerate(triangles):
                for u, v in ((t[0], t[1]), (t[1], t[2]), (t[2], t[0])):
                    owners.setdefault(frozenset((u, v)), []).append(k)
            if frozenset((a, b)) in owners:
                break
            flipped = False
            for edge, pair in owners.items():
                if len(pair) != 2 or a in edge or b in edge:
                    continue
                c, e = tuple(edge)
                if not _crosses(layout[a], layout[b], layout[c], layout[e]):
                    continue
                x, y = (next(i for i in triangles[k] if i not in edge) for k in pair)
                if not _crosses(layout[x], layout[y], layout[c], layout[e]):  # not a convex quad
                    continue
                triangles = [t for k, t in enumerate(triangles) if k not in pair] + [(x, y, c), (y, x, e)]
                flipped = True
                break
            if not flipped:
                break
    return np.array(triangles, np.int64)


def _triangle_maps(target: np.ndarray, source: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The affine map of each triangle, ``target (T, 3, 2)`` -> ``source (T, 3, 2)``: ``(T, 3, 2)``
    matrices ``M`` with ``[x y 1] M = source position``, and which triangles have one (not flat)."""
    ones = np.ones((len(target), 3, 1), np.float32)
    target_h = np.concatenate([target.astype(np.float32), ones], axis=2)
    ok = np.abs(np.linalg.det(target_h)) > 1e-6
    matrices = np.zeros((len(target), 3, 2), np.float32)
    matrices[ok] = np.linalg.solve(target_h[ok], source[ok].astype(np.float32))
    return matrices, ok


def _fill_holes(index: np.ndarray) -> np.ndarray:
    """Each pixel with index -1 takes its nearest neighbour's index."""
    holes = index < 0
    if holes.any() and not holes.all():
        nearest = distance_transform_edt(holes, return_distances=False, return_indices=True)
        index = index[nearest[0], nearest[1]]
    return index


def _mouth_triangles() -> np.ndarray:
    """``(18, 3)`` mesh indices: a strip of triangles between the upper and the lower lip's inner
    edges, corner to corner, so the inside of one mouth maps onto another's, upper teeth under
    the upper lip."""
    triangles = []
    for u0, u1, l0, l1 in zip(UPPER_INNER_EDGE, UPPER_INNER_EDGE[1:], LOWER_INNER_EDGE, LOWER_INNER_EDGE[1:]):
        if u0 == l0:
            triangles.append((u0, u1, l1))
        elif u1 == l1:
            triangles.append((u0, u1, l0))
        else:
            triangles += [(u0, u1, l1), (u0, l1, l0)]
    return np.array(triangles, np.int32)


def skin_colour(image: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Mean and standard deviation ``(3,)`` in Lab (OpenCV's float ranges: L 0-100) of the skin
    around the mouth: the ring between the outer lips grown :data:`SKIN_RING` [0] and [1] times
    about their centre. None where too little of it lies in the image."""
    lips = np.asarray(points, np.float64)[list(OUTER_LIPS), :2]
    centre = lips.mean(axis=0)
    outer = centre + SKIN_RING[1] * (lips - centre)
    height, width = image.shape[:2]
    x0, y0 = np.maximum(np.floor(outer.min(axis=0)).astype(int), 0)
    x1, y1 = np.minimum(np.ceil(outer.max(axis=0)).astype(int) + 1, [width, height])
    if x1 - x0 < 4 or y1 - y0 < 4:
        return None
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillPoly(mask, [np.round((outer - [x0, y0]) * 16).astype(np.int32)], 1, shift=4)
    cv2.fillPoly(
        mask,
        [np.round((centre + SKIN_RING[0] * (lips - centre) - [x0, y0]) * 16).astype(np.int32)],
        0,
        shift=4,
    )
    pixels = image[y0:y1, x0:x1][mask.astype(bool)]
    if len(pixels) < 20:
        return None
    pixels = pixels[:: max(len(pixels) // SKIN_SAMPLES, 1)]
    lab = cv2.cvtColor(pixels[:, None].astype(np.float32) / 255, cv2.COLOR_RGB2Lab)[:, 0]
    return lab.mean(axis=0), lab.std(axis=0) + 1e-3


def match_colour(pixels: np.ndarray, from_skin, to_skin) -> np.ndarray:
    """``pixels (..., 3)`` float RGB 0-255 moved from one face's colour and light to another's: the
    mean and standard deviation transfer in Lab (Reinhard et al. 2001) from the skin statistics
    ``from_skin`` to ``to_skin`` (:func:`skin_colour`), the contrast ratio kept within
    :data:`CONTRAST_RANGE`. Unchanged when either is None."""
    if from_skin is None or to_skin is None:
        return pixels
    lab = cv2.cvtColor(np.clip(pixels, 0, 255).astype(np.float32) / 255, cv2.COLOR_RGB2Lab)
    ratio = np.clip(to_skin[1] / from_skin[1], *CONTRAST_RANGE)
    lab = (lab - from_skin[0]) * ratio + to_skin[0]
    lab[..., 0] = np.clip(lab[..., 0], 0, 100)
    return cv2.cvtColor(lab.astype(np.float32), cv2.COLOR_Lab2RGB) * 255


class MeshWarper:
    """Warps one source photo to any target position of its mesh.

    ``source (H, W, 3)`` uint8 RGB and its ``source_points (468, 2+)`` pixels (with depth, the
    face's triangles follow its surface: :func:`face_triangles`). Two triangulations are made once,
    on the source, and meet at the face oval: the face's, of the mesh points inside the oval, and
    the support's, of the oval, the support rings and the border, outside it. ``triangles`` holds
    both (the face's first); ``support`` says which are the support's. ``unfold=False`` leaves
    flipped support triangles as they are (to measure what unfolding does); ``background=False``
    warps the background along with the person, as before the background layer (to measure it).
    """

    def __init__(
        self,
        source: np.ndarray,
        source_points: np.ndarray,
        fill_mouth: bool = True,
        unfold: bool = True,
        background: bool = True,
    ):
        self.source = np.ascontiguousarray(source)
        self.unfold = unfold
        self.height, self.width = source.shape[:2]
        self.points = np.asarray(source_points, np.float64)[:, :2]
        self.fill_mouth = fill_mouth
        self._rings = _ring_points(self.points)
        inside = [
            np.all((ring >= 0) & (ring <= [self.width - 1, self.height - 1]), axis=1) for ring in self._rings
        ]
        self._ring_keep = inside
        border = _border_points(self.height, self.width)
        rings = np.vstack([ring[keep] for ring, keep in zip(self._rings, inside)])
        self._control = np.vstack([self.points, rings, border])
        self._border = border
        #: the face-oval point each kept ring point belongs to; ring points are controls _rings_at
        self._owner = np.concatenate([np.asarray(FACE_OVAL)[keep] for keep in inside])
        self._rings_at = slice(NUM_POINTS, NUM_POINTS + len(rings))
        face = face_triangles(source_points)
        oval = np.asarray(FACE_OVAL)
        around = np.concatenate([oval, np.arange(NUM_POINTS, len(self._control))])
        support = around[Delaunay(self._control[around]).simplices]
        support = support[
            ~_inside(self._control[support].mean(axis=1), self.points[oval])
        ]  # inside: the face's
        self.triangles = np.vstack([face, support]).astype(np.int32)
        self.support = np.arange(len(self.triangles)) >= len(face)
        self._orientation = np.sign(signed_areas(self._control[self.triangles]))
        self._source_opening = mouth_opening(self.points)
        self._cavity_colour = self._lip_colour()
        self._skin = skin_colour(self.source, self.points)
        inner = np.zeros((self.height, self.width), np.uint8)
        cv2.fillPoly(inner, [np.round(self.points[list(INNER_LIPS)] * 16).astype(np.int32)], 1, shift=4)
        self._inner_mask = cv2.GaussianBlur(
            cv2.erode(inner, np.ones((3, 3), np.uint8)).astype(np.float32), (0, 0), 0.7
        )
        ys, xs = np.mgrid[0 : self.height, 0 : self.width]
        self._grid = np.stack([xs, ys, np.ones_like(xs)], axis=-1).astype(np.float32)
        self._matte = person_matte(self.source, self.points) if background else None
        self._plate = (
            None
            if self._matte is None
            else background_plate(self.source, self._matte, self.points).astype(np.float32)
        )

    def _lip_colour(self) -> np.ndarray:
        mask = np.zeros((self.height, self.width), np.uint8)
        cv2.fillPoly(mask, [np.round(self.points[list(OUTER_LIPS)]).astype(np.int32)], 1)
        cv2.fillPoly(mask, [np.round(self.points[list(INNER_LIPS)]).astype(np.int32)], 0)
        if mask.sum() == 0:
            return np.array([120.0, 50.0, 50.0])
        return self.source[mask.astype(bool)].reshape(-1, 3).mean(axis=0)

    def control_targets(self, targets: np.ndarray, pose: np.ndarray) -> np.ndarray:
        """Where every control point goes: the mesh to ``targets``; each ring by its share of the
        head pose ``pose`` (2x3; :attr:`MeshMotion.head`) plus its share of its own face-oval
        point's motion beyond that pose (:data:`RINGS`); the border nowhere. Then support points
        of triangles that would flip are pulled back (:meth:`_unfold`)."""
        targets = np.asarray(targets, np.float64)[:, :2]
        oval = list(FACE_OVAL)
        beyond = targets[oval] - _apply(pose, self.points[oval])
        identity = np.array([[1.0, 0, 0], [0, 1.0, 0]])
        moved = [targets]
        for (_, follow, own), ring, keep in zip(RINGS, self._rings, self._ring_keep):
            partial = (1 - follow) * identity + follow * pose
            moved.append((_apply(partial, ring) + own * beyond)[keep])
        moved.append(self._border)
        control = np.vstack(moved)
        return self._unfold(control, targets) if self.unfold else control

    def flipped(self, control_targets: np.ndarray) -> np.ndarray:
        """``(T,)`` bool: the support triangles whose orientation at ``control_targets`` is not the
        source's (a fold: the picture there would be drawn mirrored over its neighbours). The face
        mesh's own folds, where a turned head hides part of itself, are not counted: there the
        triangles are drawn far to near."""
        now = signed_areas(control_targets[self.triangles])
        return self.support & (now * self._orientation <= 0)

    def _unfold(self, control: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """Pull the ring points of flipped support triangles back, in :data:`UNFOLD_ROUNDS` rounds
        at most, each halfway: where their own face-oval point's motion would take them (the ring
        then moves with the face beside it, as a stiff band), or, for triangles with a fixed
        border point, where they were."""
        triangles = self.triangles[self.support]
        orientation = self._orientation[self.support]
        at_border = (triangles >= self._rings_at.stop).any(axis=1)
        rings = np.arange(self._rings_at.start, self._rings_at.stop)
        with_oval = self._control[rings] + targets[self._owner] - self.points[self._owner]
        for _ in range(UNFOLD_ROUNDS):
            flipped = signed_areas(control[triangles]) * orientation <= 0
            if not flipped.any():
                break
            for near_border, goal in ((False, with_oval), (True, self._control[rings])):
                chosen = np.unique(triangles[flipped & (at_border == near_border)])
                chosen = chosen[(chosen >= self._rings_at.start) & (chosen < self._rings_at.stop)]
                control[chosen] = 0.5 * control[chosen] + 0.5 * goal[chosen - self._rings_at.start]
        return control

    def backward_map(self, control_targets: np.ndarray, depth: np.ndarray | None = None) -> np.ndarray:
        """``(H, W, 2)`` float32: for each output pixel, the source pixel ``(x, y)`` it shows.

        The support triangles are drawn first, except those still flipped (:meth:`flipped`), then
        the face's, far to near by ``depth (468,)`` (larger: farther), so where a turned head
        folds the mesh, the near side wins. A pixel no triangle covers takes its nearest covered
        neighbour's triangle.
        """
        index, matrices = self._index_map(control_targets, depth)
        picked = matrices[_fill_holes(index)]  # (H, W, 3, 2)
        return np.einsum("hwi,hwij->hwj", self._grid, picked)

    def _index_map(
        self, control_targets: np.ndarray, depth: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(H, W)`` int32, the triangle each output pixel is drawn from (-1: none), and each
        triangle's affine map ``(T, 3, 2)`` (:meth:`backward_map`)."""
        source_tri = self._control[self.triangles].astype(np.float32)  # (T, 3, 2)
        target_tri = control_targets[self.triangles].astype(np.float32)
        matrices, ok = _triangle_maps(target_tri, source_tri)
        if self.unfold:
            ok &= ~self.flipped(control_targets)
        point_depth = np.full(len(self._control), np.inf)
        point_depth[:NUM_POINTS] = 0.0 if depth is None else np.asarray(depth, np.float64)
        triangle_depth = point_depth[self.triangles].max(axis=1)
        index = np.full((self.height, self.width), -1, np.int32)
        shift = 4
        scaled = np.round(target_tri * (1 << shift)).astype(np.int32)
        drawable = np.flatnonzero(ok)
        for k in drawable[np.argsort(-triangle_depth[drawable], kind="stable")]:
            cv2.fillConvexPoly(index, scaled[k], int(k), lineType=cv2.LINE_8, shift=shift)
        return index, matrices

    def uncovered(self, control_targets: np.ndarray, depth: np.ndarray | None = None) -> int:
        """How many output pixels no drawn triangle covers at ``control_targets``: each takes its
        nearest neighbour's map, a notch where the face layer meets the support (0 is the goal)."""
        return int((self._index_map(control_targets, depth)[0] < 0).sum())

    def warp(
        self,
        targets: np.ndarray,
        pose: np.ndarray,
        depth: np.ndarray | None = None,
        head: np.ndarray | None = None,
        driving: np.ndarray | None = None,
        driving_points: np.ndarray | None = None,
    ) -> np.ndarray:
        """The source warped so its mesh lands on ``targets (468, 2)``, face pose ``pose (2, 3)``;
        ``depth (468,)`` orders folded triangles (see :meth:`backward_map`); the rings follow
        ``head (2, 3)`` (:attr:`MeshMotion.head`; default ``pose``). With the driving frame
        ``driving (h, w, 3)`` uint8 and its mesh ``driving_points (468, 2+)`` (its pixels), an
        opening mouth is filled from the driver's own (:meth:`_fill_mouth`); without, painted."""
        mapping = self.backward_map(self.control_targets(targets, pose if head is None else head), depth)
        out = cv2.remap(
            self.source,
            mapping[..., 0],
            mapping[..., 1],
            interpolation=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REFLECT,
        )
        if self._matte is not None:
            out = self._over_background(out, mapping)
        if self.fill_mouth:
            out = self._fill_mouth(out, np.asarray(targets)[:, :2], pose, driving, driving_points)
        return out

    def _over_background(self, warped: np.ndarray, mapping: np.ndarray) -> np.ndarray:
        """``warped`` with its background kept still (:mod:`.background`). Seen as layers, the photo
        is the person ``F`` over the background plate ``B`` through the matte ``m``; the warp moves
        all three. Where the warped matte ``W(m)`` says background, the moved plate ``W(B)`` is
        swapped for the still one: ``warped + (1 - W(m)) (B - W(B))``. Where the head moved off,
        that is the plate's fill; where nothing moved, exactly ``warped``."""

        def moved(image):
            return cv2.remap(
                image, mapping[..., 0], mapping[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
            )

        alpha = moved(self._matte)[..., None]
        out = warped.astype(np.float32) + (1 - alpha) * (self._plate - moved(self._plate))
        return np.clip(out + 0.5, 0, 255).astype(np.uint8)

    def _driver_mouth(
        self, local: np.ndarray, size: tuple[int, int], driving: np.ndarray, driving_points: np.ndarray
    ) -> np.ndarray:
        """``(h, w, 3)`` float: the driver's inner mouth warped into the target mouth ``local (468, 2)``
        (pixels of the ``size`` box), triangle by triangle (:func:`_mouth_triangles`), in the
        source's skin colour and light (:func:`match_colour`)."""
        triangles = _mouth_triangles()
        driving_points = np.asarray(driving_points, np.float64)[:, :2]
        matrices, ok = _triangle_maps(local[triangles], driving_points[triangles])
        index = np.full(size, -1, np.int32)
        for k in np.flatnonzero(ok):
            cv2.fillConvexPoly(index, np.round(local[triangles[k]] * 16).astype(np.int32), int(k), shift=4)
        if (index < 0).all():
            return np.zeros((*size, 3), np.float32)
        ys, xs = np.mgrid[0 : size[0], 0 : size[1]].astype(np.float32)
        grid = np.stack([xs, ys, np.ones_like(xs)], axis=-1)
        lookup = np.einsum("hwi,hwij->hwj", grid, matrices[_fill_holes(index)])
        pixels = cv2.remap(
            np.ascontiguousarray(driving),
            lookup[..., 0],
            lookup[..., 1],
            cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REFLECT,
        ).astype(np.float32)
        return match_colour(pixels, skin_colour(driving, driving_points), self._skin)

    def _painted_cavity(self, rows: np.ndarray) -> np.ndarray:
        """The painted cavity, ``rows (h, w)`` in [0, 1] from the upper lip's inner edge down to the
        lower's: the lips' colour darkened to a quarter, darkest under the upper lip, a faint band
        of upper teeth, a lighter tongue at the bottom."""
        dark = self._cavity_colour * 0.25
        cavity = dark[None, None] * (0.45 + 0.55 * rows[..., None])  # darkest under the upper lip
        teeth = np.clip(1 - rows / 0.16, 0, 1)[..., None] * 0.55  # a faint band of upper teeth
        cavity = cavity * (1 - teeth) + teeth * np.array([200.0, 190.0, 180.0]) * 0.75
        tongue = np.clip((rows - 0.7) / 0.3, 0, 1)[..., None] * 0.5  # a lighter tongue at the bottom
        return cavity * (1 - tongue) + tongue * self._cavity_colour * 0.6

    def _fill_mouth(
        self,
        image: np.ndarray,
        targets: np.ndarray,
        pose: np.ndarray,
        driving: np.ndarray | None = None,
        driving_points: np.ndarray | None = None,
    ) -> np.ndarray:
        """Fill the opening of the mouth where it is wider than the source's (module docstring, 3).

        What the source shows inside its own mouth (teeth, tongue) is kept, unstretched and moved
        with the upper lip, as teeth move with the upper jaw; the rest is the driver's own inner
        mouth when its frame is given, else the painted cavity.
        """
        with_driver = driving is not None and driving_points is not None
        opening = mouth_opening(targets) - (DRIVER_FILL_FROM if with_driver else self._source_opening)
        strength = float(np.clip(opening / CAVITY_FULL_AT, 0.0, 1.0))
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
        if with_driver:
            cavity = self._driver_mouth(targets - [x0, y0], (h, w), driving, driving_points)
        else:
            # vertical position inside the opening: 0 at the upper lip's inner edge, 1 at the lower's
            top = local[INNER_LIPS.index(UPPER_LIP_INNER), 1]
            bottom = local[INNER_LIPS.index(LOWER_LIP_INNER), 1]
            rows = (np.arange(h, dtype=np.float32)[:, None] - top) / max(bottom - top, 1.0)
            cavity = self._painted_cavity(np.clip(rows, 0, 1) * np.ones((1, w), np.float32))
        # the source's own mouth interior, carried rigidly by the upper lip (pose's rotation and scale)
        upper = UPPER_LIP_INNER
        inverse = np.linalg.inv(pose[:, :2])
        ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        offset = np.stack([xs - targets[upper, 0], ys - targets[upper, 1]], axis=-1) @ inverse.T
        lookup = (offset + self.points[upper]).astype(np.float32)
        inside = cv2.remap(self._inner_mask, lookup[..., 0], lookup[..., 1], cv2.INTER_LINEAR, borderValue=0)
        teeth_and_tongue = cv2.remap(
            self.source, lookup[..., 0], lookup[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
        ).astype(np.float32)
        cavity = inside[..., None] * teeth_and_tongue + (1 - inside[..., None]) * cavity
        alpha = (strength * mask)[..., None]
        region = image[y0:y1, x0:x1].astype(np.float32)
        image = image.copy()
        image[y0:y1, x0:x1] = np.clip(alpha * cavity + (1 - alpha) * region + 0.5, 0, 255).astype(np.uint8)
        return image


def mesh_reenact(
    source: np.ndarray,
    source_points: np.ndarray,
    driving_points: np.ndarray,
    initial: int = 0,
    fill_mouth: bool = True,
    driving_frames=None,
) -> tuple[np.ndarray, np.ndarray]:
    """Animate ``source (H, W, 3)`` uint8 RGB with the driving meshes.

    ``source_points (468, 2+)`` are the source's mesh in its pixels; ``driving_points (N, 468, 2+)``
    the driving video's meshes in its pixels (frames without a face: fill them first, e.g. with
    :func:`~deepfakelab.reenact.landmark_warp.fill_missing`). ``driving_frames`` (N frames
    ``(h, w, 3)`` uint8, the pixels those meshes are in), when given, fill an opening mouth with
    the driver's own teeth and tongue; without them it is painted. Returns the frames
    ``(N, H, W, 3)`` uint8 and where the source's points went ``(N, 468, 2)``.
    """
    motion = transfer_motion(source_points, driving_points, initial)
    warper = MeshWarper(source, source_points, fill_mouth=fill_mouth)
    driving_points = np.asarray(driving_points)
    frames = [None] * len(motion.targets) if driving_frames is None else driving_frames
    if len(frames) != len(motion.targets):
        raise ValueError(f"{len(frames)} driving frames for {len(motion.targets)} driving meshes")
    out = np.stack(
        [
            warper.warp(target, pose, depth, head, frame, None if frame is None else points)
            for target, pose, depth, head, frame, points in zip(
                motion.targets, motion.pose, motion.depth, motion.head, frames, driving_points
            )
        ]
    )
    return out, motion.targets


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


def reenact_photo(
    photo: np.ndarray,
    driving_frames,
    fps: float = 25.0,
    face_mesh: FaceMesh | None = None,
    name: str = "photo",
    driving_name: str = "driving video",
    fill_mouth: bool = True,
    best_frame: int | str | None = None,
) -> MeshReenactment:
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
    driving_frames = driving_frames if isinstance(driving_frames, np.ndarray) else list(driving_frames)
    tracked = face_mesh.track(driving_frames, fps=fps)
    found = [mesh is not None for mesh in tracked]
    if not any(found):
        raise NoFaceError(f"{driving_name}: no face found in any of its {len(tracked)} frames")
    notes = []
    if not all(found):
        notes.append(
            f"{driving_name}: no face in {found.count(False)} of {len(found)} frames; "
            "the mesh was interpolated there"
        )
    driving = fill_missing([mesh.points if mesh is not None else None for mesh in tracked])
    if best_frame == "auto":
        initial = best_frame_by_mesh(source.points, driving, found)
    elif best_frame is None:
        initial = found.index(True)
    else:
        initial = int(best_frame)
    frames, moved = mesh_reenact(
        photo, source.points, driving, initial=initial, fill_mouth=fill_mouth, driving_frames=driving_frames
    )
    return MeshReenactment(frames, source.points, driving, moved, initial, notes)
