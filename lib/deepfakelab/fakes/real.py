"""The real-face training set: real people's videos and photos, split by person, and their fakes.

Who each file shows and each person's split come from a roster (:mod:`.roster`): a
``persons.csv`` in the folder (``--persons`` for another path), or, for the kit's shared
``../shared/data/real``, the roster shipped with the package. Several folders (e.g.
``../shared/data/faces`` and ``../shared/data/real``) are read together, each with its roster.

Every real frame is cropped as the deployed detector crops it (MTCNN box, 30 % margin,
:class:`~deepfakelab.faces.cropper.FaceCropper`), at a working size of 256 px where its face
mesh is read and the fakes are made (:mod:`.mesh_fakes`); crops and change masks are then
shrunk to the detector's size, so the resize softens the traces as it does at inference time.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from tqdm.auto import tqdm

from ..errors import DataError, DeepfakeLabError
from ..faces.boxes import crop
from ..faces.cropper import FaceCropper, margin_box
from ..faces.mesh import ROI_SCALE, FaceMesh, Roi
from ..media.files import IMAGE_SUFFIXES, is_image_path
from ..media.frames import extract_frames
from ..media.video import probe_video
from .faceset import FaceSet, no_points
from .mesh_fakes import MeshFace, mesh_face_swap, mesh_reenact, mesh_self_blend, mesh_warp_fake
from .roster import SPLITS, Roster, merged_roster

#: The crop side at which meshes are read and fakes made, before shrinking to the detector's size.
WORK_SIZE = 256


@dataclass
class RealFace:
    """One real frame's face: the 256 px working crop with its mesh, and where it came from."""

    face: MeshFace
    file: str
    person: str
    index: int


class FaceReader:
    """Frames -> :class:`RealFace`: the deployed detector's crop, then the face mesh inside it.

    The mesh's region of interest starts as the crop's centre (the MTCNN box fills
    1 / 1.6 of the crop) and is refined twice from the mesh's own points, so no second face
    detector runs.
    """

    def __init__(self, device: str = "cpu"):
        self.cropper = FaceCropper(size=WORK_SIZE, device=device)
        self.mesh = FaceMesh(device=device)

    def read(self, frame: np.ndarray) -> MeshFace | None:
        found = self.cropper.detect(frame)
        if found is None:
            return None
        image = crop(frame, margin_box(found[0], frame.shape), WORK_SIZE)
        roi = Roi((WORK_SIZE / 2, WORK_SIZE / 2), ROI_SCALE * WORK_SIZE / 1.6, 0.0)
        for _ in range(3):
            mesh = self.mesh.mesh_in(image, roi)
            if mesh.score < self.mesh.min_presence:
                return None
            roi = Roi.from_points(mesh.points)
        return MeshFace(image, mesh.points[:, :2])


def read_real_faces(
    root: str | Path,
    files: list[str],
    frames_per_video: int,
    reader: FaceReader,
    progress: bool = True,
    persons: dict[str, str] | None = None,
) -> tuple[list[RealFace], list[str]]:
    """Faces of ``frames_per_video`` evenly spread frames of each file (one for a photo), and
    the problems met (missing files, frames without a face), one line each. ``persons``: who
    each file shows (default: the shared roster, :meth:`Roster.shared`)."""
    persons = Roster.shared().persons if persons is None else persons
    root, faces, problems = Path(root), [], []
    for name in tqdm(files, desc="reading real faces", unit="file", disable=not progress):
        path = root / name
        try:
            count = (
                1
                if path.suffix.lower() in IMAGE_SUFFIXES
                else min(frames_per_video, probe_video(path).frame_count)
            )
            _, frames = extract_frames(path, count=count)
        except DeepfakeLabError as exc:
            problems.append(str(exc))
            continue
        missing = 0
        for index in sorted(frames):
            face = reader.read(frames[index])
            if face is None:
                missing += 1
                continue
            faces.append(RealFace(face, name, persons[name], index))
        if missing:
            problems.append(f"{path}: no face (or no mesh) in {missing} of {len(frames)} frames")
    return faces, problems


def _shrink(image: np.ndarray, size: int) -> np.ndarray:
    return cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)


def build_real_faceset(
    faces: list[RealFace],
    size: int = 128,
    seed: int = 0,
    blends: int = 1,
    swaps: int = 1,
    reenactments: int = 1,
    photo_repeats: int = 4,
    progress: bool = True,
    roster: Roster | None = None,
) -> FaceSet:
    """Real crops and, per real crop, ``blends`` self-blends, ``swaps`` face swaps and
    ``reenactments`` landmark reenactments and as many mesh-warp reenactments (photos get
    ``photo_repeats`` times as many). Real rows keep their mesh points for training-time blends.

    Swap donors and reenactment drivers are other people's videos of the same split only (a
    reenactment needs a driver's frames in sequence), so no test person's face appears in a
    training fake. Each fake kind of each file is its own "video" (``<file>/<kind>``), as
    FaceForensics++ gives each method its own videos. Every row records its person's split
    (``roster``, default the shared roster), so training splits the set as it was built.
    """
    roster = roster or Roster.shared()
    rng = np.random.default_rng(seed)
    rows = _FaceSetRows(size, roster)
    by_split: dict[str, list[RealFace]] = {}
    for f in faces:
        by_split.setdefault(roster.split_of(f.person), []).append(f)
    unchanged = 0
    for real in tqdm(faces, desc="making fakes of real faces", unit="face", disable=not progress):
        others = [
            f
            for f in by_split[roster.split_of(real.person)]
            if f.person != real.person and not is_image_path(f.file)
        ]
        rows.add(real.face.image, np.zeros((WORK_SIZE, WORK_SIZE), np.uint8), 0, "real", real.file, real)
        k = photo_repeats if is_image_path(real.file) else 1
        jobs = ["self_blend"] * (blends * k) + (
            ["face_swap"] * (swaps * k) + ["reenact", "mesh_warp"] * (reenactments * k) if others else []
        )
        for kind in jobs:
            fake = _make_fake(kind, real, others, rng)
            mask = (fake.mask * 255).astype(np.uint8)
            if _shrink(mask, size).max() < 128:  # nothing visible changed: not a fake
                unchanged += 1
                continue
            rows.add(fake.image, mask, 1, fake.kind, f"{real.file}/{fake.kind}", real)
    if unchanged and progress:
        print(f"{unchanged} manipulated faces changed nothing visible and were left out")
    return rows.faceset()


def _make_fake(kind: str, real: RealFace, others: list[RealFace], rng: np.random.Generator):
    """One fake of ``real`` of ``kind``: a self-blend, or a swap or reenactment with a random one
    of ``others`` (a reenactment starts from a random frame of that driver's video)."""
    if kind == "self_blend":
        return mesh_self_blend(real.face, rng)
    other = others[rng.integers(len(others))]
    if kind == "face_swap":
        return mesh_face_swap(real.face, other.face, rng)
    same = [f for f in others if f.file == other.file]
    start = same[rng.integers(len(same))]
    reenact = mesh_reenact if kind == "reenact" else mesh_warp_fake
    return reenact(real.face, start.face.points, other.face.points, rng)


class _FaceSetRows:
    """The columns of a face set as :func:`build_real_faceset` adds its rows, crops shrunk to ``size``."""

    def __init__(self, size: int, roster: Roster):
        self.size, self.roster = size, roster
        self.columns: dict[str, list] = {
            k: []
            for k in (
                "images",
                "labels",
                "masks",
                "has_mask",
                "kind",
                "video",
                "group",
                "source",
                "points",
                "split",
            )
        }
        self.unknown = no_points(1)[0]

    def add(self, image, mask, label, kind, video, real: RealFace) -> None:
        rows, size = self.columns, self.size
        # a real crop keeps its mesh (scaled to the crop's size) for training-time self-blends
        rows["points"].append(
            (real.face.points * (size / WORK_SIZE)).astype(np.float16) if label == 0 else self.unknown
        )
        rows["images"].append(_shrink(image, size))
        rows["masks"].append(_shrink(mask, size))
        rows["labels"].append(label)
        rows["has_mask"].append(True)
        rows["kind"].append(kind)
        rows["video"].append(video)
        rows["group"].append(real.person)
        rows["source"].append(f"{real.file}#{real.index}")
        rows["split"].append(self.roster.split_of(real.person))

    def faceset(self) -> FaceSet:
        """The rows as a :class:`FaceSet`; an error if there are none."""
        rows = self.columns
        if not rows["images"]:
            raise DataError("no real faces were read: nothing to build a face set from")
        return FaceSet.from_rows(rows)


def build_real(
    root: str | Path | list,
    out: str | Path,
    size: int = 128,
    frames: dict[str, int] | None = None,
    seed: int = 0,
    synthetic: str | Path | None = None,
    device: str = "cpu",
    progress: bool = True,
    roster: str | Path | None = None,
    photo_repeats: int = 4,
) -> Path:
    """The whole real face set (train, val and test persons) saved to ``out``, optionally
    concatenated with a synthetic-heads face set (``detect-data`` without ``--real``).

    ``root``: one folder, or several (e.g. ``../shared/data/faces`` and ``../shared/data/real``),
    each with its own roster; photos of one folder are reenacted and swapped with the videos of
    any folder, within their split. ``frames``: frames per video by split (default train 96,
    val 24, test 32). ``roster``: a ``file,person,split`` CSV for a single folder (default
    ``root/persons.csv``, else the shared roster). ``photo_repeats``: fakes of each kind per
    photo (a video frame gets one of each).
    """
    frames = {"train": 96, "val": 24, "test": 32, **(frames or {})}
    roots = [Path(r) for r in (root if isinstance(root, (list, tuple)) else [root])]
    if roster is not None and len(roots) > 1:
        raise DataError(
            "--persons names the roster of one folder; with several folders give each its persons.csv"
        )
    for r in roots:
        if not r.is_dir():
            raise DataError(f"{r}: no such folder (expected real videos and photos, see its README)")
    rosters = [Roster.for_folder(r, roster) for r in roots]
    who = merged_roster(rosters, roots)
    heads = None
    if synthetic:  # checked before the long work, not after it
        heads = FaceSet.load(synthetic)
        if heads.images.shape[1] != size:
            raise DataError(f"{synthetic}: crops are {heads.images.shape[1]} px, the real ones {size} px")
    reader = FaceReader(device)
    faces, problems = [], []
    for r, own in zip(roots, rosters):
        for split in SPLITS:
            got, bad = read_real_faces(r, own.files_of(split), frames[split], reader, progress, own.persons)
            faces += got
            problems += bad
    for line in problems:
        print(f"warning: {line}")
    parts = [
        build_real_faceset(faces, size, seed, photo_repeats=photo_repeats, progress=progress, roster=who)
    ]
    if heads is not None:
        parts.append(heads)
    return FaceSet.concatenate(parts).save(out)
