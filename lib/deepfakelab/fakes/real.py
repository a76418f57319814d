"""The real-face training set: the shared real videos and photos, split by person, and their fakes.

The split is written here, not drawn: with 18 people a random draw could put the two clips of
one person (K: ``hdtf_aoc.mp4`` and ``retalk_3.mp4``) on both sides, or leave the test split
without a man or without a woman. Test and validation persons come from the video-retalking,
HDTF-style and DPE clips; the photos come from the same source (LivePortrait) as the ``d*`` and
``s*`` videos, whose people they may show, so all photos and LivePortrait videos are training
data.

======  ==============================================================================
split   files (person)
======  ==============================================================================
train   d0 (A), d10 (B), d12 (C), d13 (D), d18 (E), s18 (G), s20 (H), s29 (I),
        hdtf_aoc + retalk_3 (K), vox_dpe_d (Q); photos s12, d8, d19, d12-photo, s1, s11
val     d20 (F), s32 (J), retalk_2 (N)
test    hdtf_kh (L), retalk_1 (M), retalk_4 (O), retalk_5 (P), vox_dpe_s (R)
======  ==============================================================================

A course with more real people (consenting students, staff, a licensed data set) trains on
them with a roster: ``persons.csv`` in their folder, one row per file, naming its person and
that person's split (:class:`Roster`; ``--persons`` for another path). The table above is the
roster of ``../shared/data/real``, used when its folder has no ``persons.csv``.

Every real frame is cropped as the deployed detector crops it (MTCNN box, 30 % margin,
:class:`~deepfakelab.faces.cropper.FaceCropper`), at a working size of 256 px where its face mesh is read and the
fakes are made (:mod:`.realfakes`); crops and change masks are then shrunk to the detector's
size, so the resize softens the traces as it does at inference time.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from ..errors import DataError, DeepfakeLabError
from ..faces.boxes import crop
from ..faces.cropper import FaceCropper, margin_box
from ..media.files import IMAGE_SUFFIXES, is_image_path
from ..media.frames import extract_frames
from ..media.video import probe_video
from .faceset import FaceSet, no_points, no_split
from .realfakes import MeshFace, mesh_face_swap, mesh_reenact, mesh_self_blend, mesh_warp_fake

#: file -> person, for every file used (paintings, statue and animals are not used).
PERSONS = {
    "d0.mp4": "A", "d10.mp4": "B", "d12.mp4": "C", "d13.mp4": "D", "d18.mp4": "E", "d20.mp4": "F",
    "s18.mp4": "G", "s20.mp4": "H", "s29.mp4": "I", "s32.mp4": "J", "hdtf_aoc.mp4": "K",
    "retalk_3.mp4": "K", "hdtf_kh.mp4": "L", "retalk_1.mp4": "M", "retalk_2.mp4": "N",
    "retalk_4.mp4": "O", "retalk_5.mp4": "P", "vox_dpe_d.mp4": "Q", "vox_dpe_s.mp4": "R",
    # photos: people unknown, possibly some of A-J; each its own group, all in training
    "s12.jpg": "photo-s12", "d8.jpg": "photo-d8", "d19.jpg": "photo-d19",
    "d12-photo.jpg": "photo-d12", "s1.jpg": "photo-s1", "s11.jpg": "photo-s11",
}
VAL_PERSONS = ("F", "J", "N")
TEST_PERSONS = ("L", "M", "O", "P", "R")
#: The crop side at which meshes are read and fakes made, before shrinking to the detector's size.
WORK_SIZE = 256
SPLITS = ("train", "val", "test")
#: The roster file looked for in a folder of real videos and photos.
ROSTER_NAME = "persons.csv"


def split_of(person: str) -> str:
    """``"train"``, ``"val"`` or ``"test"`` for a person of :data:`PERSONS`."""
    return "test" if person in TEST_PERSONS else "val" if person in VAL_PERSONS else "train"


def files_of(split: str) -> list[str]:
    return [f for f, p in PERSONS.items() if split_of(p) == split]


@dataclass(frozen=True)
class Roster:
    """Who each file shows and which split each person is in: the one thing a person-disjoint
    split needs. Split by person, never by file, so that no face of a test person is trained on
    (two clips of one person are one person)."""

    persons: dict[str, str]  # file (relative to the folder) -> person
    splits: dict[str, str]   # person -> "train", "val" or "test"

    def split_of(self, person: str) -> str:
        return self.splits[person]

    def files_of(self, split: str) -> list[str]:
        return [f for f, p in self.persons.items() if self.splits[p] == split]

    @classmethod
    def shared(cls) -> "Roster":
        """The table of this module's docstring: ``../shared/data/real``."""
        return cls(dict(PERSONS), {p: split_of(p) for p in PERSONS.values()})

    @classmethod
    def read(cls, path: str | Path) -> "Roster":
        """A ``file,person,split`` CSV (a header row, then one row per file); every mistake in it
        is one line of :class:`DataError` naming the file and the row."""
        import csv

        path = Path(path)
        try:
            with path.open(newline="", encoding="utf-8-sig") as f:
                rows = list(csv.reader(f))
        except (OSError, UnicodeDecodeError) as exc:
            raise DataError(f"{path}: cannot read the roster ({exc.__class__.__name__}: {exc})") from None
        rows = [r for r in rows if any(c.strip() for c in r) and not r[0].lstrip().startswith("#")]
        if not rows or [c.strip().lower() for c in rows[0]] != ["file", "person", "split"]:
            raise DataError(f"{path}: a roster starts with the header 'file,person,split' "
                            f"(found {','.join(rows[0]) if rows else 'an empty file'!r})")
        persons, splits = {}, {}
        for line, row in enumerate(rows[1:], start=2):
            if len(row) != 3 or not all(c.strip() for c in row):
                raise DataError(f"{path}, row {line}: expected 'file,person,split', found {','.join(row)!r}")
            file, person, split = (c.strip() for c in row)
            if split not in SPLITS:
                raise DataError(f"{path}, row {line}: split {split!r} is not one of train, val, test")
            if file in persons:
                raise DataError(f"{path}, row {line}: {file} is listed twice")
            if splits.setdefault(person, split) != split:
                raise DataError(f"{path}, row {line}: person {person!r} is in both {splits[person]} and {split}; "
                                "a person's files all go in one split")
            persons[file] = person
        missing = [s for s in SPLITS if s not in splits.values()]
        if missing:
            raise DataError(f"{path}: no person in {' or '.join(missing)}: training needs train persons, "
                            "calibration val persons and the evaluation test persons")
        return cls(persons, splits)

    @classmethod
    def for_folder(cls, root: str | Path, roster: str | Path | None = None) -> "Roster":
        """``roster`` if given, else ``root/persons.csv``, else the shared table when ``root`` is
        the shared folder; the files it lists must be in ``root`` (checked before any work)."""
        root = Path(root)
        if roster is None and (root / ROSTER_NAME).is_file():
            roster = root / ROSTER_NAME
        if roster is not None:
            found = cls.read(roster)
            absent = [f for f in found.persons if not (root / f).is_file()]
            if absent:
                raise DataError(f"{roster}: {len(absent)} listed file(s) not in {root}: {', '.join(absent[:5])}"
                                + (", ..." if len(absent) > 5 else ""))
            return found
        if not any((root / f).is_file() for f in PERSONS):
            raise DataError(f"{root}: no {ROSTER_NAME} and none of the shared real files; write {root / ROSTER_NAME} "
                            "(rows 'file,person,split', see the README's 'Training on your own people')")
        return cls.shared()


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
        from ..faces.mesh import FaceMesh

        self.cropper = FaceCropper(size=WORK_SIZE, device=device)
        self.mesh = FaceMesh(device=device)

    def read(self, frame: np.ndarray) -> MeshFace | None:
        from ..faces.mesh import ROI_SCALE, Roi

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


def read_real_faces(root: str | Path, files: list[str], frames_per_video: int, reader: FaceReader,
                    progress: bool = True, persons: dict[str, str] | None = None) -> tuple[list[RealFace], list[str]]:
    """Faces of ``frames_per_video`` evenly spread frames of each file (one for a photo), and
    the problems met (missing files, frames without a face), one line each. ``persons``: who
    each file shows (default: the shared table, :data:`PERSONS`)."""
    persons = PERSONS if persons is None else persons
    root, faces, problems = Path(root), [], []
    for name in tqdm(files, desc="reading real faces", unit="file", disable=not progress):
        path = root / name
        try:
            count = 1 if path.suffix.lower() in IMAGE_SUFFIXES else min(frames_per_video, probe_video(path).frame_count)
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
    import cv2

    return cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)


def build_real_faceset(faces: list[RealFace], size: int = 128, seed: int = 0, blends: int = 1,
                       swaps: int = 1, reenactments: int = 1, photo_repeats: int = 4,
                       progress: bool = True, roster: Roster | None = None) -> FaceSet:
    """Real crops and, per real crop, ``blends`` self-blends, ``swaps`` face swaps and
    ``reenactments`` landmark reenactments and as many mesh-warp reenactments (photos get
    ``photo_repeats`` times as many). Real rows keep their mesh points for training-time blends.

    Swap donors and reenactment drivers are other people's videos of the same split only (a
    reenactment needs a driver's frames in sequence), so no test person's face appears in a
    training fake. Each fake kind of each file is its own "video" (``<file>/<kind>``), as
    FaceForensics++ gives each method its own videos. Every row records its person's split
    (``roster``, default the shared table), so training splits the set as it was built.
    """
    roster = roster or Roster.shared()
    rng = np.random.default_rng(seed)
    rows: dict[str, list] = {k: [] for k in ("images", "labels", "masks", "has_mask", "kind", "video", "group",
                                             "source", "points", "split")}
    unknown = no_points(1)[0]

    def add(image, mask, label, kind, video, real: RealFace):
        # a real crop keeps its mesh (scaled to the crop's size) for training-time self-blends
        rows["points"].append((real.face.points * (size / WORK_SIZE)).astype(np.float16) if label == 0
                              else unknown)
        rows["images"].append(_shrink(image, size))
        rows["masks"].append(_shrink(mask, size))
        rows["labels"].append(label)
        rows["has_mask"].append(True)
        rows["kind"].append(kind)
        rows["video"].append(video)
        rows["group"].append(real.person)
        rows["source"].append(f"{real.file}#{real.index}")
        rows["split"].append(roster.split_of(real.person))

    by_split: dict[str, list[RealFace]] = {}
    for f in faces:
        by_split.setdefault(roster.split_of(f.person), []).append(f)
    unchanged = 0
    for real in tqdm(faces, desc="making fakes of real faces", unit="face", disable=not progress):
        others = [f for f in by_split[roster.split_of(real.person)] if f.person != real.person
                  and not is_image_path(f.file)]
        add(real.face.image, np.zeros((WORK_SIZE, WORK_SIZE), np.uint8), 0, "real", real.file, real)
        k = photo_repeats if is_image_path(real.file) else 1
        jobs = ["self_blend"] * (blends * k) + (["face_swap"] * (swaps * k) + ["reenact", "mesh_warp"] * (reenactments * k)
                                                if others else [])
        for kind in jobs:
            if kind == "self_blend":
                fake = mesh_self_blend(real.face, rng)
            else:
                other = others[rng.integers(len(others))]
                if kind == "face_swap":
                    fake = mesh_face_swap(real.face, other.face, rng)
                else:
                    same = [f for f in others if f.file == other.file]
                    start = same[rng.integers(len(same))]
                    reenact = mesh_reenact if kind == "reenact" else mesh_warp_fake
                    fake = reenact(real.face, start.face.points, other.face.points, rng)
            mask = (fake.mask * 255).astype(np.uint8)
            if _shrink(mask, size).max() < 128:  # nothing visible changed: not a fake
                unchanged += 1
                continue
            add(fake.image, mask, 1, fake.kind, f"{real.file}/{fake.kind}", real)
    if unchanged and progress:
        print(f"{unchanged} manipulated faces changed nothing visible and were left out")
    if not rows["images"]:
        raise DataError("no real faces were read: nothing to build a face set from")
    return FaceSet(
        images=np.stack(rows["images"]), labels=np.array(rows["labels"], np.int64),
        masks=np.stack(rows["masks"]).astype(np.uint8), has_mask=np.array(rows["has_mask"]),
        kind=np.array(rows["kind"]), video=np.array(rows["video"]), group=np.array(rows["group"]),
        source=np.array(rows["source"]), points=np.stack(rows["points"]), split=np.array(rows["split"], "<U5"))


def merged_roster(rosters: list[Roster], roots: list[Path]) -> Roster:
    """One roster for several folders (a course's own people beside the shared photos and
    videos): a file or a person named in two folders' rosters is refused, since a person in two
    splits would leak test faces into training."""
    persons: dict[str, str] = {}
    splits: dict[str, str] = {}
    for roster, root in zip(rosters, roots):
        for file, person in roster.persons.items():
            if file in persons:
                raise DataError(f"{root}: {file} is also listed in another folder's roster; give the folders' "
                                "files distinct paths")
            persons[file] = person
        for person, split in roster.splits.items():
            if person in splits:
                raise DataError(f"{root}: person {person!r} is also in another folder's roster; "
                                "name each person once across folders")
            splits[person] = split
    return Roster(persons, splits)


def build_real(root: str | Path | list, out: str | Path, size: int = 128, frames: dict[str, int] | None = None,
               seed: int = 0, synthetic: str | Path | None = None, device: str = "cpu",
               progress: bool = True, roster: str | Path | None = None, photo_repeats: int = 4) -> Path:
    """The whole real face set (train, val and test persons) saved to ``out``, optionally
    concatenated with a synthetic-heads face set (``detect-data`` without ``--real``).

    ``root``: one folder, or several (e.g. ``../shared/data/faces`` and ``../shared/data/real``),
    each with its own roster; photos of one folder are reenacted and swapped with the videos of
    any folder, within their split. ``frames``: frames per video by split (default train 96,
    val 24, test 32). ``roster``: a ``file,person,split`` CSV for a single folder (default
    ``root/persons.csv``, else the shared table). ``photo_repeats``: fakes of each kind per
    photo (a video frame gets one of each).
    """
    frames = {"train": 96, "val": 24, "test": 32, **(frames or {})}
    roots = [Path(r) for r in (root if isinstance(root, (list, tuple)) else [root])]
    if roster is not None and len(roots) > 1:
        raise DataError("--persons names the roster of one folder; with several folders give each its persons.csv")
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
    parts = [build_real_faceset(faces, size, seed, photo_repeats=photo_repeats, progress=progress, roster=who)]
    if heads is not None:
        parts.append(heads)
    return FaceSet.concatenate(parts).save(out)


def _shared_people(groups: np.ndarray, split: np.ndarray) -> np.ndarray:
    """Rows of the shared table's people with no split of their own: a face set saved before rosters."""
    return (split == "") & np.isin(groups, list(set(PERSONS.values())))


def real_rows(faces: FaceSet) -> np.ndarray:
    """Which rows show real people (of a roster, or of the shared table in a face set saved
    before rosters), as against synthetic heads: bool ``(N,)``."""
    return (faces.split != "") | _shared_people(faces.group, faces.split)


def person_splits(groups, seed: int = 0, split=None) -> dict[str, np.ndarray]:
    """Split masks for a face set mixing real people and synthetic heads.

    Real people go where their roster put them (``split``, the face set's field of that name);
    in a face set saved before rosters, the shared people (:data:`PERSONS`' groups) go where
    the table above puts them. Every other group (synthetic identities, users' ``real/`` and
    ``fake/`` videos) is split at random by group, 70/15/15 (:func:`~.faceset.split_groups`).
    """
    from .faceset import split_groups

    groups = np.asarray(groups)
    split = no_split(len(groups)) if split is None else np.asarray(split)
    given = split != ""
    shared = _shared_people(groups, split)
    is_real = given | shared
    out = {name: np.zeros(len(groups), bool) for name in SPLITS}
    for name in out:
        out[name][given] = split[given] == name
        out[name][shared] = [split_of(g) == name for g in groups[shared]]
    if (~is_real).any():
        rest = split_groups(groups[~is_real], seed=seed)
        for name in out:
            out[name][~is_real] = rest[name]
    return out
