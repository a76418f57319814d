"""A set of labelled face crops on disk, its splits, and the training-time augmentations.

One ``.npz`` file holds everything a training run needs, built once (by
:mod:`deepfakelab.detect.trainingdata` from the kit's synthetic heads, or from a user's
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
``split`` with every split empty (:func:`~.realdata.person_splits` then knows the shared real
people by the kit's own table).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from ..errors import DataError
from .model import to_tensor

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
        return FaceSet(images, self.labels, masks, self.has_mask, self.kind, self.video, self.group,
                       self.source, points, self.split)

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
                return cls(*(data[f] for f in FIELDS if f not in OPTIONAL),
                           **{f: data[f] if f in data.files else None for f in OPTIONAL})
        except KeyError as exc:
            raise DataError(f"{path}: not a deepfakelab face set (no field {exc})") from None
        except (ValueError, OSError, EOFError):  # numpy's own text would advise loading pickles
            raise DataError(f"{path}: not a deepfakelab face set (not an .npz made by 'deepfakelab detect-data')") from None

    @classmethod
    def concatenate(cls, parts: list["FaceSet"]) -> "FaceSet":
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in FIELDS))


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
    named = {"val": order[:n_val], "test": order[n_val:n_val + n_test], "train": order[n_val + n_test:]}
    return {name: np.isin(groups, members) for name, members in named.items()}


class PairedBatches:
    """Batches that hold whole families: a real frame together with every fake made from it.

    The self-blended-images recipe (Shiohara & Yamasaki, 2022) trains on a frame and its fake
    side by side, so the only difference the network can use is the manipulation itself, not
    the identity or the lighting. Crops without relatives (a user's videos) are batched as usual.
    The order is drawn from ``generator`` when the sampler is made (one sampler per epoch).
    """

    def __init__(self, sources, batch_size: int, generator: torch.Generator):
        families: dict = {}
        for i, key in enumerate(np.asarray(sources).tolist()):
            families.setdefault(key, []).append(i)
        members = list(families.values())
        self.batches: list[list[int]] = []
        current: list[int] = []
        for f in torch.randperm(len(members), generator=generator).tolist():
            current.extend(members[f])
            if len(current) >= batch_size:
                self.batches.append(current)
                current = []
        if current:
            self.batches.append(current)

    def __iter__(self):
        return iter(self.batches)

    def __len__(self) -> int:
        return len(self.batches)


def jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    """Re-encode an RGB uint8 image as JPEG at ``quality`` (1-100) and decode it again."""
    ok, buf = cv2.imencode(".jpg", image[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1].copy()


def augment(image: np.ndarray, mask: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """What a real pipeline does to a face before the detector sees it.

    Horizontal flip (p 0.5, mask flipped too), colour jitter (brightness, contrast, saturation),
    a shrink and re-enlarge to 35-100 % of the side (p 0.3: a small face in a big frame),
    Gaussian blur (p 0.2, sigma 0.3-1.5), sensor noise (p 0.2, sigma 2-8 levels) and JPEG
    re-compression at quality 30-95 (p 0.5).
    """
    if rng.random() < 0.5:
        image, mask = image[:, ::-1], mask[:, ::-1]
    out = image.astype(np.float32)
    out = (out - 128.0) * rng.uniform(0.8, 1.2) + 128.0 + rng.uniform(-20, 20)
    grey = out.mean(axis=-1, keepdims=True)
    out = grey + (out - grey) * rng.uniform(0.7, 1.3)
    out = np.clip(out, 0, 255).astype(np.uint8)
    if rng.random() < 0.3:
        side = out.shape[0]
        small = max(8, int(round(side * rng.uniform(0.35, 1.0))))
        out = cv2.resize(cv2.resize(out, (small, small), interpolation=cv2.INTER_AREA), (side, side),
                         interpolation=cv2.INTER_LINEAR)
    if rng.random() < 0.2:
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.3, 1.5))
    if rng.random() < 0.2:
        noisy = out.astype(np.float32) + rng.normal(0, rng.uniform(2, 8), out.shape)
        out = np.clip(noisy, 0, 255).astype(np.uint8)
    if rng.random() < 0.5:
        out = jpeg(out, int(rng.integers(30, 96)))
    return np.ascontiguousarray(out), np.ascontiguousarray(mask)


class FaceTensors(Dataset):
    """A :class:`FaceSet` as tensors: ``(image (3, S, S) normalised, label, mask (S, S) in [0, 1],
    mask_known)``; the mask is known for reals (nothing changed) and for fakes with ``has_mask``.

    With ``online_blends`` (training only), every real crop with mesh points also yields a
    self-blended fake drawn afresh each epoch (indices ``len(faces)`` and up, in
    :attr:`blendable` order), as in Shiohara and Yamasaki's recipe: a fixed set of fakes lets
    the network remember the few hundred real frames it saw instead of learning the blend's
    traces (the first real-face detector scored its training reals 0.15-0.34 and new people's
    0.63-0.93).
    """

    def __init__(self, faces: FaceSet, train: bool, seed: int = 0, jpeg_quality: int | None = None,
                 online_blends: bool = False):
        self.faces, self.train, self.seed, self.jpeg_quality = faces, train, seed, jpeg_quality
        self.epoch = 0
        has_points = ~np.isnan(faces.points[:, 0, 0].astype(np.float32))
        self.blendable = np.nonzero(has_points & (faces.labels == 0))[0] if online_blends and train else \
            np.zeros(0, np.int64)

    def __len__(self) -> int:
        return len(self.faces) + len(self.blendable)

    @property
    def labels(self) -> np.ndarray:
        """Every item's label, the online blends' (fake) included."""
        return np.concatenate([self.faces.labels, np.ones(len(self.blendable), np.int64)])

    @property
    def sources(self) -> np.ndarray:
        """Every item's real frame: an online blend belongs to its real crop's family."""
        return np.concatenate([self.faces.source, self.faces.source[self.blendable]])

    def _online_blend(self, i: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        from .realfakes import MeshFace, mesh_self_blend

        r = self.blendable[i - len(self.faces)]
        face = MeshFace(self.faces.images[r], self.faces.points[r].astype(np.float32))
        for _ in range(3):  # a blend that changed nothing visible is not a fake: draw again
            fake = mesh_self_blend(face, rng)
            if fake.mask.max() >= 0.5:
                break
        return fake.image, (fake.mask * 255).astype(np.uint8)

    def __getitem__(self, i: int):
        if i >= len(self.faces):
            rng = np.random.default_rng((self.seed, self.epoch, i))
            image, mask = self._online_blend(i, rng)
            image, mask = augment(image, mask, rng)
            return (to_tensor([image])[0], torch.tensor(1), torch.from_numpy(mask.astype(np.float32) / 255.0),
                    torch.tensor(True))
        image, mask = self.faces.images[i], self.faces.masks[i]
        if self.train:
            rng = np.random.default_rng((self.seed, self.epoch, i))
            image, mask = augment(image, mask, rng)
        elif self.jpeg_quality:
            image = jpeg(image, self.jpeg_quality)
        label = int(self.faces.labels[i])
        return (to_tensor([image])[0], torch.tensor(label),
                torch.from_numpy(mask.astype(np.float32) / 255.0),
                torch.tensor(label == 0 or bool(self.faces.has_mask[i])))
