"""How well does a reenactment reproduce a real face? The FOMM paper's reconstruction protocol on real videos.

Each real talking-head video is cropped square around its face (one box for the whole clip, from
the face mesh over the clip, :data:`CROP_SCALE` times its extent, kept inside the frame by
:func:`~deepfakelab.faces.crop_box`) and resized to :data:`CROP_SIZE` px. Frame 0 is the source
photo, the same video drives it, and every output frame is compared with the true frame (frame 0
itself, trivially equal, is left out):

- **L1**: mean absolute difference in [0, 1] inside the true face (its mesh's face oval, grown 2 px).
- **AKD**: mean distance in pixels (at 256 px) between the 468 mesh points read off the output and
  those of the true frame (both read by the kit's face mesh from the true frame's ROI, twice: the
  second time from the ROI of the first reading, as tracking does).
- **AED**: identity distance of the output's face to the source's (dlib's ResNet embedding,
  :mod:`deepfakelab.faces.identity`; the face box is the true frame's mesh box). Absent when the
  optional extra is not installed.
- **Mouth L1**: L1 inside the true frame's open inner lips (:func:`mouth_region`), over the frames
  whose mouth is open (inner-lip gap at least :data:`MOUTH_OPEN` of the mouth's width and
  :data:`MOUTH_MIN_PIXELS` inside): where a warp must show teeth and tongue it was never given.
  None for a clip whose mouth never opens.
- **Seam L1**: L1 in the band around the true face oval (:func:`seam_band`: the oval shrunk to
  :data:`SEAM_BAND` [0] and grown to [1] times about its centre): the face's edge, hair, ears, neck
  and the background next to them, where a warp that tears shows it.

AKD with the mesh as its own yardstick favours the mesh warp (it moves exactly those points); L1
and AED have no such bias. Zero motion's AED is near 0 (its output is the source, read in each true
frame's box).

Rows: ``zero-motion`` (the output is the source), ``landmark-warp`` (MTCNN's five points, thin-plate
spline), ``mesh-warp`` (:mod:`.mesh_warp`) and ``fomm`` with a checkpoint (absolute motion, as the
paper's reconstruction; run at the model's own side and resized back to 256 px).

:func:`identity_ranges` measures what AED means: distances between real frames of one person (the
same clip; and other clips of the same person when named) and between different persons.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import cv2
import numpy as np
from tqdm.auto import tqdm

from ..faces.boxes import crop, crop_box, square_box
from ..faces.detection import NoFaceError
from ..faces.identity import FaceIdentity, identity_distance
from ..faces.mesh import FaceMesh, Mesh, Roi
from ..faces.regions import FACE_OVAL, INNER_LIPS, mouth_opening, region_mask
from ..media.video import iter_frames
from .methods import reenactor

#: Side of the scored crops, in pixels (AKD is in pixels at this side).
CROP_SIZE = 256
#: Crop side over the larger side of the box around every mesh point of the clip.
CROP_SCALE = 1.6
#: The rows, in the order they are printed.
METHODS = ("zero-motion", "landmark-warp", "mesh-warp", "fomm")
#: A true frame's mouth counts as open from this inner-lip gap over mouth width
#: (:func:`~deepfakelab.faces.regions.mouth_opening`; closed lips measure 0-0.05) ...
MOUTH_OPEN = 0.1
#: ... and with at least this many pixels inside its inner lips (at 256 px).
MOUTH_MIN_PIXELS = 30
#: The seam band: between the face oval shrunk to the first and grown to the second factor about
#: its centre (the mesh warp's first support ring lies at 1.35).
SEAM_BAND = (0.85, 1.35)


def mouth_region(points: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """``(H, W)`` bool: inside the inner lips of ``points (468, 2+)``, 1 px in from their edge."""
    mask = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(np.asarray(points)[list(INNER_LIPS), :2] * 16).astype(np.int32)], 1, shift=4)
    return cv2.erode(mask, np.ones((3, 3), np.uint8)) > 0


def seam_band(
    points: np.ndarray, shape: tuple[int, int], band: tuple[float, float] = SEAM_BAND
) -> np.ndarray:
    """``(H, W)`` bool: the band around the face oval of ``points (468, 2+)`` (:data:`SEAM_BAND`)."""
    oval = np.asarray(points, np.float64)[list(FACE_OVAL), :2]
    centre = oval.mean(axis=0)
    mask = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round((centre + band[1] * (oval - centre)) * 16).astype(np.int32)], 1, shift=4)
    cv2.fillPoly(mask, [np.round((centre + band[0] * (oval - centre)) * 16).astype(np.int32)], 0, shift=4)
    return mask > 0


def open_mouth(points: np.ndarray, shape: tuple[int, int]) -> np.ndarray | None:
    """:func:`mouth_region` where the mouth of ``points`` is open (:data:`MOUTH_OPEN`,
    :data:`MOUTH_MIN_PIXELS`), else None."""
    if mouth_opening(points) < MOUTH_OPEN:
        return None
    region = mouth_region(points, shape)
    return region if region.sum() >= MOUTH_MIN_PIXELS else None


@dataclass
class RealClip:
    """One scored clip: ``crops (T, 256, 256, 3)`` uint8 and the true meshes (unsmoothed) of each crop."""

    name: str
    crops: np.ndarray
    truth: list[Mesh]


@dataclass
class ClipScores:
    """Per method ``{"l1", "akd_px", "aed", "mouth_l1", "seam_l1"}`` (aed None without the identity
    extra, mouth_l1 None when the clip's mouth never opens), and the
    identity distances of the true frames to frame 0 (same person, same clip)."""

    name: str
    frames: int
    methods: dict[str, dict[str, float | None]]
    same_clip_distances: list[float] = field(default_factory=list)
    source_embedding: np.ndarray | None = None


def crop_clip(name: str, frames: list[np.ndarray], face_mesh: FaceMesh) -> tuple[RealClip | None, str]:
    """The clip's crops and true meshes, or ``(None, why it is skipped)``."""
    meshes = [m for m in face_mesh.track(frames) if m is not None]
    if len(meshes) < max(len(frames) // 2, 1):
        return None, f"a face in fewer than half of its first {len(frames)} frames"
    xy = np.concatenate([m.xy for m in meshes])
    box = crop_box(square_box([*xy.min(axis=0), *xy.max(axis=0)], CROP_SCALE), frames[0].shape)
    crops = np.stack([crop(frame, box, CROP_SIZE) for frame in frames])
    truth = face_mesh.track(crops, smooth=False)
    if any(m is None for m in truth):
        return None, "a crop without a face"
    return RealClip(name, crops, truth), ""


def read_mesh(face_mesh: FaceMesh, image: np.ndarray, roi: Roi) -> np.ndarray:
    """``(468, 2)``: the mesh of ``image`` read from ``roi``, then from that mesh's own ROI."""
    first = face_mesh.mesh_in(image, roi)
    return face_mesh.mesh_in(image, Roi.from_points(first.points)).points[:, :2]


def mesh_box(mesh: Mesh) -> np.ndarray:
    """The box ``(x0, y0, x1, y1)`` around a mesh's points."""
    return np.concatenate([mesh.xy.min(axis=0), mesh.xy.max(axis=0)])


def score_outputs(
    outputs: np.ndarray,
    clip: RealClip,
    face_mesh: FaceMesh,
    identity: FaceIdentity | None,
    source_embedding: np.ndarray | None,
) -> dict[str, float | None]:
    """L1, AKD, AED, mouth L1 and seam L1 of ``outputs (T, 256, 256, 3)`` uint8 against the clip's
    true frames 1..T-1 (module docstring)."""
    l1, akd, aed, mouth, seam = [], [], [], [], []
    grow = np.ones((5, 5), np.uint8)
    shape = (CROP_SIZE, CROP_SIZE)
    for output, frame, mesh in zip(outputs[1:], clip.crops[1:], clip.truth[1:]):
        face = cv2.dilate((region_mask(mesh.points, "face_oval", shape) > 0.5).astype(np.uint8), grow) > 0
        error = np.abs(output.astype(np.float64) - frame).mean(axis=2) / 255
        l1.append(error[face].mean())
        seam.append(error[seam_band(mesh.points, shape)].mean())
        inside = open_mouth(mesh.points, shape)
        if inside is not None:
            mouth.append(error[inside].mean())
        akd.append(np.linalg.norm(read_mesh(face_mesh, output, mesh.roi) - mesh.xy, axis=1).mean())
        if identity is not None:
            aed.append(identity_distance(identity.embed(output, mesh_box(mesh)), source_embedding))
    return {
        "l1": float(np.mean(l1)),
        "akd_px": float(np.mean(akd)),
        "aed": float(np.mean(aed)) if aed else None,
        "mouth_l1": float(np.mean(mouth)) if mouth else None,
        "mouth_frames": len(mouth),
        "seam_l1": float(np.mean(seam)),
    }


def reenact_clip(
    clip: RealClip, method: str, face_mesh: FaceMesh, model=None, fomm_size: int = 256
) -> np.ndarray:
    """Frame 0 of the clip animated by the whole clip with ``method``: ``(T, 256, 256, 3)`` uint8.

    A warp (:mod:`.methods`) is given the clip's own points, tracked once over the clip (frame 0's
    are the source's); when they miss the source, nothing moves. FOMM runs at ``fomm_size``
    (its model's side) with absolute motion, as the paper's reconstruction does.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; expected one of {', '.join(METHODS)}")
    crops = clip.crops
    still = np.repeat(crops[:1], len(crops), axis=0)
    if method == "zero-motion":
        return still
    reenact = reenactor(method, model=model, face_mesh=face_mesh, side=fomm_size, relative=False)
    if reenact.points == "keypoints":
        return reenact(crops[0], crops).frames
    try:
        tracked = reenact.track(crops)
    except NoFaceError:
        return still
    if not tracked.found[0]:
        return still  # MTCNN misses the source: nothing moves
    points = tracked.points
    return reenact(crops[0], crops, source_points=points[0], driving_points=points, initial=0).frames


def evaluate_clip(
    clip: RealClip,
    face_mesh: FaceMesh,
    identity: FaceIdentity | None = None,
    model=None,
    fomm_size: int = 256,
    methods: Iterable[str] = METHODS,
) -> ClipScores:
    """Every method's scores on one clip (``fomm`` only with a ``model``)."""
    source_embedding = (
        identity.embed(clip.crops[0], mesh_box(clip.truth[0])) if identity is not None else None
    )
    same = (
        []
        if identity is None
        else [
            identity_distance(identity.embed(frame, mesh_box(mesh)), source_embedding)
            for frame, mesh in zip(clip.crops[1:], clip.truth[1:])
        ]
    )
    scores = {}
    for method in methods:
        if method == "fomm" and model is None:
            continue
        outputs = reenact_clip(clip, method, face_mesh, model, fomm_size)
        scores[method] = score_outputs(outputs, clip, face_mesh, identity, source_embedding)
    return ClipScores(clip.name, len(clip.crops), scores, same, source_embedding)


def real_videos(folder: str | Path) -> list[Path]:
    """The ``.mp4`` files of ``folder``, sorted by name."""
    return sorted(Path(folder).glob("*.mp4"))


def evaluate_real_videos(
    paths: Iterable[str | Path],
    frames: int = 30,
    model=None,
    fomm_size: int = 256,
    identity: FaceIdentity | None = None,
    face_mesh: FaceMesh | None = None,
    progress: bool = True,
) -> tuple[list[ClipScores], list[str]]:
    """Score every video's first ``frames`` frames; returns the clips' scores and notes on skipped ones."""
    face_mesh = face_mesh or FaceMesh()
    clips, notes = [], []
    for path in tqdm(list(paths), desc="real videos", unit="video", disable=not progress):
        path = Path(path)
        decoded = [frame for _, frame in iter_frames(path, set(range(frames)))]
        clip, why = crop_clip(path.name, decoded, face_mesh)
        if clip is None:
            notes.append(f"{path.name}: skipped, {why}")
            continue
        clips.append(evaluate_clip(clip, face_mesh, identity, model, fomm_size))
    return clips, notes


def summarize(clips: list[ClipScores]) -> dict[str, dict[str, float | None]]:
    """Each method's scores averaged over clips (every clip weighs the same, as per-video means)."""
    summary = {}
    for method in METHODS:
        rows = [clip.methods[method] for clip in clips if method in clip.methods]
        if not rows:
            continue
        aed = [row["aed"] for row in rows if row["aed"] is not None]
        mouth = [row["mouth_l1"] for row in rows if row.get("mouth_l1") is not None]
        seam = [row["seam_l1"] for row in rows if row.get("seam_l1") is not None]
        summary[method] = {
            "l1": float(np.mean([row["l1"] for row in rows])),
            "akd_px": float(np.mean([row["akd_px"] for row in rows])),
            "aed": float(np.mean(aed)) if aed else None,
            "mouth_l1": float(np.mean(mouth)) if mouth else None,
            "mouth_videos": len(mouth),
            "seam_l1": float(np.mean(seam)) if seam else None,
            "videos": len(rows),
        }
    return summary


def identity_ranges(
    clips: list[ClipScores], same_person: Iterable[Iterable[str]] = ()
) -> dict[str, dict[str, float]]:
    """What an identity distance means on these videos: ``{"same clip", "same person, other clip",
    "different persons"}`` -> min, median, max (and pairs) of the distances.

    Same clip: each true frame against frame 0. Other pairs: frame 0 of one clip against frame 0 of
    another; ``same_person`` lists groups of clip names showing one person (README of the data),
    every other pair counts as different persons.
    """
    groups = [set(group) for group in same_person]

    def together(a: str, b: str) -> bool:
        return any(a in group and b in group for group in groups)

    distances: dict[str, list[float]] = {
        "same clip": [d for clip in clips for d in clip.same_clip_distances],
        "same person, other clip": [],
        "different persons": [],
    }
    embedded = [clip for clip in clips if clip.source_embedding is not None]
    for i, a in enumerate(embedded):
        for b in embedded[i + 1 :]:
            key = "same person, other clip" if together(a.name, b.name) else "different persons"
            distances[key].append(identity_distance(a.source_embedding, b.source_embedding))
    return {
        key: {
            "min": float(np.min(values)),
            "median": float(np.median(values)),
            "max": float(np.max(values)),
            "pairs": len(values),
        }
        for key, values in distances.items()
        if values
    }
