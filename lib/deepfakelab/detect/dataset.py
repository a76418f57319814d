"""A face set as the network sees it in training: tensors, augmentations, paired batches.

:class:`FaceTensors` turns a :class:`~deepfakelab.fakes.faceset.FaceSet` into a torch dataset
(augmented in training, optionally with self-blends made afresh each epoch by
:mod:`deepfakelab.fakes.mesh_fakes`); :class:`PairedBatches` batches each real frame with its
fakes; :func:`augment` is what a deployed pipeline does to a face before the detector sees it.
Training-time only: scoring a video never imports this module.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from ..fakes.faceset import FaceSet
from ..fakes.mesh_fakes import MeshFace, mesh_self_blend
from ..media.h264 import CRF_RANGE, h264_round_trip
from .model import to_tensor


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


def augment(
    image: np.ndarray, mask: np.ndarray, rng: np.random.Generator, h264: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """What a real pipeline does to a face before the detector sees it.

    Horizontal flip (p 0.5, mask flipped too), colour jitter (brightness, contrast, saturation),
    a shrink and re-enlarge to 35-100 % of the side (p 0.3: a small face in a big frame),
    Gaussian blur (p 0.2, sigma 0.3-1.5), sensor noise (p 0.2, sigma 2-8 levels), with
    probability ``h264`` a video codec's damage (:func:`~deepfakelab.media.h264.h264_round_trip`,
    CRF 18-35), and JPEG re-compression at quality 30-95 (p 0.5).
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
        out = cv2.resize(
            cv2.resize(out, (small, small), interpolation=cv2.INTER_AREA),
            (side, side),
            interpolation=cv2.INTER_LINEAR,
        )
    if rng.random() < 0.2:
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.3, 1.5))
    if rng.random() < 0.2:
        noisy = out.astype(np.float32) + rng.normal(0, rng.uniform(2, 8), out.shape)
        out = np.clip(noisy, 0, 255).astype(np.uint8)
    if h264 and rng.random() < h264:
        out = h264_round_trip(out, int(rng.integers(*CRF_RANGE)))
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

    def __init__(
        self,
        faces: FaceSet,
        train: bool,
        seed: int = 0,
        jpeg_quality: int | None = None,
        online_blends: bool = False,
        h264: float = 0.0,
    ):
        self.faces, self.train, self.seed, self.jpeg_quality = faces, train, seed, jpeg_quality
        self.h264 = h264
        self.epoch = 0
        has_points = ~np.isnan(faces.points[:, 0, 0].astype(np.float32))
        self.blendable = (
            np.nonzero(has_points & (faces.labels == 0))[0]
            if online_blends and train
            else np.zeros(0, np.int64)
        )

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
            image, mask = augment(image, mask, rng, self.h264)
            return (
                to_tensor([image])[0],
                torch.tensor(1),
                torch.from_numpy(mask.astype(np.float32) / 255.0),
                torch.tensor(True),
            )
        image, mask = self.faces.images[i], self.faces.masks[i]
        if self.train:
            rng = np.random.default_rng((self.seed, self.epoch, i))
            image, mask = augment(image, mask, rng, self.h264)
        elif self.jpeg_quality:
            image = jpeg(image, self.jpeg_quality)
        label = int(self.faces.labels[i])
        return (
            to_tensor([image])[0],
            torch.tensor(label),
            torch.from_numpy(mask.astype(np.float32) / 255.0),
            torch.tensor(label == 0 or bool(self.faces.has_mask[i])),
        )
