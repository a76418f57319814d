"""Who each real file shows and which split each person is in: the person-disjoint split.

A roster is a ``persons.csv``: a header ``file,person,split``, then one row per file, naming
the person it shows and that person's split (``train``, ``val`` or ``test``; lines starting
with ``#`` are comments). A course with more real people (consenting students, staff, a
licensed data set) puts one in their folder (``--persons`` for another path); so does
``../shared/data/faces``. The kit's shared real videos and photos (``../shared/data/real``)
have theirs inside the package, :data:`SHARED_ROSTER` (its comments say why the split is
written, not drawn), used when that folder has no ``persons.csv`` of its own.

Face sets record each real row's split; :func:`person_splits` turns that (and, for groups
without one, a random draw by group: :func:`split_groups`) into the masks training and
evaluation use.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from ..errors import DataError
from .faceset import FaceSet, no_split

SPLITS = ("train", "val", "test")
#: The roster file looked for in a folder of real videos and photos.
ROSTER_NAME = "persons.csv"
#: The roster of ``../shared/data/real``, shipped with the package (same format as any roster).
SHARED_ROSTER = Path(__file__).resolve().parent / "shared_real_persons.csv"


@cache
def _shared() -> "Roster":
    return Roster.read(SHARED_ROSTER)


@dataclass(frozen=True)
class Roster:
    """Who each file shows and which split each person is in: the one thing a person-disjoint
    split needs. Split by person, never by file, so that no face of a test person is trained on
    (two clips of one person are one person)."""

    persons: dict[str, str]  # file (relative to the folder) -> person
    splits: dict[str, str]  # person -> "train", "val" or "test"

    def split_of(self, person: str) -> str:
        return self.splits[person]

    def files_of(self, split: str) -> list[str]:
        return [f for f, p in self.persons.items() if self.splits[p] == split]

    @classmethod
    def shared(cls) -> "Roster":
        """The roster of ``../shared/data/real``: :data:`SHARED_ROSTER`, read as any roster is
        (``Roster.shared().persons`` names every shared file used)."""
        found = _shared()
        return cls(dict(found.persons), dict(found.splits))

    @classmethod
    def read(cls, path: str | Path) -> "Roster":
        """A ``file,person,split`` CSV (a header row, then one row per file); every mistake in it
        is one line of :class:`DataError` naming the file and the row."""
        path = Path(path)
        try:
            with path.open(newline="", encoding="utf-8-sig") as f:
                rows = list(csv.reader(f))
        except (OSError, UnicodeDecodeError) as exc:
            raise DataError(f"{path}: cannot read the roster ({exc.__class__.__name__}: {exc})") from None
        rows = [r for r in rows if any(c.strip() for c in r) and not r[0].lstrip().startswith("#")]
        if not rows or [c.strip().lower() for c in rows[0]] != ["file", "person", "split"]:
            raise DataError(
                f"{path}: a roster starts with the header 'file,person,split' "
                f"(found {','.join(rows[0]) if rows else 'an empty file'!r})"
            )
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
                raise DataError(
                    f"{path}, row {line}: person {person!r} is in both {splits[person]} and {split}; "
                    "a person's files all go in one split"
                )
            persons[file] = person
        missing = [s for s in SPLITS if s not in splits.values()]
        if missing:
            raise DataError(
                f"{path}: no person in {' or '.join(missing)}: training needs train persons, "
                "calibration val persons and the evaluation test persons"
            )
        return cls(persons, splits)

    @classmethod
    def for_folder(cls, root: str | Path, roster: str | Path | None = None) -> "Roster":
        """``roster`` if given, else ``root/persons.csv``, else the shared roster when ``root`` is
        the shared folder; the files it lists must be in ``root`` (checked before any work)."""
        root = Path(root)
        if roster is None and (root / ROSTER_NAME).is_file():
            roster = root / ROSTER_NAME
        if roster is not None:
            found = cls.read(roster)
            absent = [f for f in found.persons if not (root / f).is_file()]
            if absent:
                raise DataError(
                    f"{roster}: {len(absent)} listed file(s) not in {root}: {', '.join(absent[:5])}"
                    + (", ..." if len(absent) > 5 else "")
                )
            return found
        if not any((root / f).is_file() for f in cls.shared().persons):
            raise DataError(
                f"{root}: no {ROSTER_NAME} and none of the shared real files; write {root / ROSTER_NAME} "
                "(rows 'file,person,split'; the course website's Instructors page, 'A detector "
                "trained on your own people')"
            )
        return cls.shared()


def merged_roster(rosters: list[Roster], roots: list[Path]) -> Roster:
    """One roster for several folders (a course's own people beside the shared photos and
    videos): a file or a person named in two folders' rosters is refused, since a person in two
    splits would leak test faces into training."""
    persons: dict[str, str] = {}
    splits: dict[str, str] = {}
    for roster, root in zip(rosters, roots):
        for file, person in roster.persons.items():
            if file in persons:
                raise DataError(
                    f"{root}: {file} is also listed in another folder's roster; give the folders' "
                    "files distinct paths"
                )
            persons[file] = person
        for person, split in roster.splits.items():
            if person in splits:
                raise DataError(
                    f"{root}: person {person!r} is also in another folder's roster; "
                    "name each person once across folders"
                )
            splits[person] = split
    return Roster(persons, splits)


def split_groups(groups, fractions=(0.7, 0.15, 0.15), seed: int = 0) -> dict[str, np.ndarray]:
    """Boolean masks ``{"train", "val", "test"}`` that never put one group in two splits.

    Splitting by identity (or source video) matters: frames of one video are near-duplicates,
    so a frame-level split measures memory, not detection.
    """
    groups = np.asarray(groups)
    unique = np.array(sorted(set(groups.tolist())))
    if len(unique) < 3:
        raise DataError(f"need at least 3 identities/videos to split, found {len(unique)}")
    rng = np.random.default_rng(seed)
    order = rng.permutation(unique)
    n_val = max(1, int(round(fractions[1] * len(unique))))
    n_test = max(1, int(round(fractions[2] * len(unique))))
    named = {"val": order[:n_val], "test": order[n_val : n_val + n_test], "train": order[n_val + n_test :]}
    return {name: np.isin(groups, members) for name, members in named.items()}


def _shared_people(groups: np.ndarray, split: np.ndarray) -> np.ndarray:
    """Rows of the shared roster's people with no split of their own: a face set saved before rosters."""
    return (split == "") & np.isin(groups, list(_shared().splits))


def real_rows(faces: FaceSet) -> np.ndarray:
    """Which rows show real people (of a roster, or of the shared roster in a face set saved
    before rosters), as against synthetic heads: bool ``(N,)``."""
    return (faces.split != "") | _shared_people(faces.group, faces.split)


def person_splits(groups, seed: int = 0, split=None) -> dict[str, np.ndarray]:
    """Split masks for a face set mixing real people and synthetic heads.

    Real people go where their roster put them (``split``, the face set's field of that name);
    in a face set saved before rosters, the shared people (:meth:`Roster.shared`) go where
    the shared roster puts them. Every other group (synthetic identities, users' ``real/`` and
    ``fake/`` videos) is split at random by group, 70/15/15 (:func:`split_groups`).
    """
    shared_splits = _shared().splits
    groups = np.asarray(groups)
    split = no_split(len(groups)) if split is None else np.asarray(split)
    given = split != ""
    shared = _shared_people(groups, split)
    is_real = given | shared
    out = {name: np.zeros(len(groups), bool) for name in SPLITS}
    for name in out:
        out[name][given] = split[given] == name
        out[name][shared] = [shared_splits[g] == name for g in groups[shared]]
    if (~is_real).any():
        rest = split_groups(groups[~is_real], seed=seed)
        for name in out:
            out[name][~is_real] = rest[name]
    return out
