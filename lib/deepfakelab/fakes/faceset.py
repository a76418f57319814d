"""A set of labelled face crops on disk: :class:`FaceSet`, the container every fake-maker fills.

One ``.npz`` file holds everything a training run needs, built once (by
:mod:`~deepfakelab.fakes.synthetic` from the kit's synthetic heads, :mod:`~deepfakelab.fakes.real`
from real people's videos and photos, or :mod:`~deepfakelab.fakes.folders` from a user's
``real/`` and ``fake/`` video folders):

====================  =====================  =============================================
array                 shape, dtype           meaning
====================  =====================  =============================================
``images``            (N, S, S, 3) uint8     RGB face crops, S = the detector's input size
``labels``            (N,) int64             0 real, 1 fake
``masks``             (N, S, S) uint8        changed region of a fake (255), 0 elsewhere/unknown
``has_mask``          (N,) bool              whether ``masks`` is the truth for that crop
``kind``              (N,) str               ``real`` or the manipulation's name
``video``             (N,) str               the video a crop comes from (video AUC groups by it)
``group``             (N,) str               the split key: identity, or source video
``source``            (N,) str               the real frame a crop shows or was made from
``points``            (N, 468, 2) float16    a real crop's face-mesh points in its pixels (NaN:
                                             none), for self-blends made afresh each epoch
``split``             (N,) str               a real person's split from the roster the set was
                                             built with (``train``, ``val``, ``test``); empty
                                             where the split is drawn by group (synthetic heads,
                                             users' ``real/`` and ``fake/`` folders)
====================  =====================  =============================================

Face sets saved before ``points`` existed load with every point NaN; those saved before
``split`` with every split empty (:func:`~.roster.person_splits` then knows the shared real
people by the kit's own roster). How the network sees a face set in training (tensors,
augmentations) is :mod:`deepfakelab.detect.dataset`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..errors import DataError

FIELDS = ("images", "labels", "masks", "has_mask", "kind", "video", "group", "source", "points", "split")
#: Fields a face set made by an earlier version may lack, and what they load as.
OPTIONAL = ("points", "split")
#: Points per face in ``points``: MediaPipe's face mesh (:mod:`deepfakelab.faces.mesh_model`).
MESH_POINTS = 468


def no_points(n: int) -> np.ndarray:
    """``(n, 468, 2)`` NaN: crops whose mesh is unknown (fakes, synthetic heads, users' videos)."""
    return np.full((n, MESH_POINTS, 2), np.nan, np.float16)


def no_split(n: int) -> np.ndarray:
    """``(n,)`` empty strings: crops whose split is drawn by group, not given by a roster."""
    return np.full(n, "", dtype="<U5")


@dataclass
class FaceSet:
    """The arrays of the table above, kept together so that indexing keeps them aligned."""

    images: np.ndarray
    labels: np.ndarray
    masks: np.ndarray
    has_mask: np.ndarray
    kind: np.ndarray
    video: np.ndarray
    group: np.ndarray
    source: np.ndarray
    points: np.ndarray | None = None
    split: np.ndarray | None = None

    def __post_init__(self):
        if self.points is None:
            self.points = no_points(len(self.labels))
        if self.split is None:
            self.split = no_split(len(self.labels))

    @classmethod
    def from_rows(cls, rows: dict[str, list]) -> "FaceSet":
        """A face set from per-crop lists, as the builders collect them (one list per field, one item
        per crop, in order); ``points`` and ``split`` only when the builder has them."""
        optional = {}
        if rows.get("points"):
            optional["points"] = np.stack(rows["points"])
        if rows.get("split"):
            optional["split"] = np.array(rows["split"], "<U5")
        return cls(
            images=np.stack(rows["images"]),
            labels=np.array(rows["labels"], np.int64),
            masks=np.stack(rows["masks"]).astype(np.uint8),
            has_mask=np.array(rows["has_mask"]),
            kind=np.array(rows["kind"]),
            video=np.array(rows["video"]),
            group=np.array(rows["group"]),
            source=np.array(rows["source"]),
            **optional,
        )

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, selector) -> "FaceSet":
        return FaceSet(*(getattr(self, f)[selector] for f in FIELDS))

    def resized(self, size: int) -> "FaceSet":
        """The same crops, masks and mesh points at ``size`` px (area-averaged when shrinking),
        so a detector trained at another input size is measured on the same faces."""
        side = self.images.shape[1]
        if size == side:
            return self
        how = cv2.INTER_AREA if size < side else cv2.INTER_LINEAR
        images = np.stack([cv2.resize(im, (size, size), interpolation=how) for im in self.images])
        masks = np.stack([cv2.resize(m, (size, size), interpolation=how) for m in self.masks])
        points = (self.points.astype(np.float32) * (size / side)).astype(np.float16)
        return FaceSet(
            images,
            self.labels,
            masks,
            self.has_mask,
            self.kind,
            self.video,
            self.group,
            self.source,
            points,
            self.split,
        )

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, **{f: getattr(self, f) for f in FIELDS})
        return path

    @classmethod
    def load(cls, path: str | Path) -> "FaceSet":
        path = Path(path)
        if not path.is_file():
            raise DataError(f"{path}: no such face set (build one with 'deepfakelab detect-data')")
        try:
            with np.load(path, allow_pickle=False) as data:
                return cls(
                    *(data[f] for f in FIELDS if f not in OPTIONAL),
                    **{f: data[f] if f in data.files else None for f in OPTIONAL},
                )
        except KeyError as exc:
            raise DataError(f"{path}: not a deepfakelab face set (no field {exc})") from None
        except (ValueError, OSError, EOFError):  # numpy's own text would advise loading pickles
            raise DataError(
                f"{path}: not a deepfakelab face set (not an .npz made by 'deepfakelab detect-data')"
            ) from None

    @classmethod
    def concatenate(cls, parts: list["FaceSet"]) -> "FaceSet":
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in FIELDS))
